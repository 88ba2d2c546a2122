"""Fuzzing speech templates: ``Template.parse`` raises only ``TemplateError``, and
``Template.check`` returns the problems of any contact's values instead of raising (issue #14,
item 10: a 27-digit ``<currency>`` value raised ``decimal.InvalidOperation``)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoinformer.contacts.model import Contact
from autoinformer.errors import InputError, TemplateError
from autoinformer.speech import Template

from ._budget import fuzz

LANGS = ["en", "ru", "id"]
TEMPLATES = [
    "<currency>{B} RUB</currency>",
    "<currency>{B|abs} {CUR}</currency>",
    "Your debt is {B} rub.",
    "{B}",
    "<number>{B}</number>",
    "<date>{B}</date>",
    "<time>{B}</time>",
    "<digits>{B}</digits>",
    "<letters>{B}</letters>",
    "%VAR:B% $ and {B|abs} IDR",
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "value",
    ["1" * 27, "9" * 40, "-" + "1" * 30, "1" * 27 + ".5", "1" * 30 + ",25"],
    ids=["27-digits", "40-digits", "negative-30", "27-digits-half", "30-digits-comma"],
)
@pytest.mark.parametrize("template", [TEMPLATES[0], TEMPLATES[2], TEMPLATES[3], TEMPLATES[4]])
def test_huge_amounts_are_problems_or_words(template: str, value: str, lang: str) -> None:
    contact = Contact(id="1", variables={"B": value, "CUR": "RUB"})
    problems = Template.parse(template).check(contact, lang)
    if not problems:
        assert Template.parse(template).render_text(contact, lang)


def test_a_value_no_language_can_read_is_a_problem_not_an_exception() -> None:
    contact = Contact(id="7", variables={"B": "1" * 30 + ".5"})
    (problem,) = Template.parse("{B}").check(contact, "id")
    # the column and the value as written (the campaign keeps the reason per contact)
    assert problem.startswith(f"column 'B' = {'1' * 30 + '.5'!r}: ")


_VALUE = st.one_of(
    st.text(max_size=40),
    st.from_regex(
        r"[-+]?[0-9]{1,45}([.,][0-9]{0,40})?( ?(RUB|USD|IDR|CNY|XYZ|\$|₽))?", fullmatch=True
    ),
    st.from_regex(r"[0-9]{1,4}[-./:][0-9]{1,4}[-./:]?[0-9]{0,6}", fullmatch=True),
    st.sampled_from(
        ["NaN", "Infinity", "-inf", "1e999999", "1E-999999", "0x10", "١٢٣", "12 345,67"]
    ),
)


@fuzz(300)
@given(
    template=st.sampled_from(TEMPLATES),
    value=_VALUE,
    currency=st.sampled_from(["RUB", "USD", "IDR", "JPY", "XXX", "", "$"]),
    lang=st.sampled_from(LANGS),
)
def test_check_never_raises_on_values(template: str, value: str, currency: str, lang: str) -> None:
    contact = Contact(id="1", variables={"B": value, "CUR": currency})
    parsed = Template.parse(template)
    problems = parsed.check(contact, lang)
    assert isinstance(problems, list)
    if not problems:
        parsed.render_text(contact, lang)  # what check accepts renders


_TEMPLATE_TEXT = st.lists(
    st.sampled_from([*"{}<>%:|/ 0123456789abcdeisVAR.", "<stop:", "</", "{{", "<currency>"]),
    max_size=30,
).map("".join)


@fuzz(300)
@given(text=st.one_of(_TEMPLATE_TEXT, st.text(max_size=40)), lang=st.sampled_from(LANGS))
def test_parse_raises_only_template_errors(text: str, lang: str) -> None:
    try:
        template = Template.parse(text)
    except TemplateError:
        return
    contact = Contact(id="1", name="Ann", phones=("+79508881234",), variables={"A": "1"})
    with contextlib.suppress(InputError):
        template.render_text(contact, lang)
