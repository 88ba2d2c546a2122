"""#13 item 7 (template half): ``Template.check`` remembers the value classes that read fine,
and the class never lets a value through that a full reading refuses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.contacts.model import Contact
from autoinformer.speech import Template, checking
from autoinformer.speech.checking import EXACT, NUMERIC, PLAIN, value_class

TEMPLATES = (
    "Ваш долг %VAR:B|debt% rub",
    'Долг <currency>{B|abs} RUB</currency>, до <date case="genitive">{D}</date>',
    '<number gender="f">{B}</number> минуты; код <digits>{D}</digits>',
    "Hello {B}, {D} ₽ <letters>{B}</letters>",
    "Pay {B} USD by <time>{D}</time>",
    "{B}, {D}",
    "Hi {phone} {B|abs} {D} all",
)

# Values that are numbers or nearly: the cases where one digit more or less, a separator or a
# letter decides whether a value reads.
_CHARS = "0123456789" * 3 + "-+.,() eE/NAаР₽:"
values = st.text(alphabet=_CHARS, min_size=1, max_size=14) | st.sampled_from(
    ["-68.27", "15.00", "0", "-0.00", "1,234.50", "1.234,5", "150.000", "2026-12-07",
     "2026-02-30", "18:00", "25:00", "1e3", "(68.27)", "N/A", "-68.27р", "Ivan Petrov",
     "12345678901234567890123456789012", "0,123", "1,5e3", "1,5e99", "-1 234,56"]
)  # fmt: skip


def variants(value: str, data: st.DataObject) -> list[str]:
    """``value`` with its non-zero digits replaced by other non-zero digits: same class."""
    out = []
    for _ in range(3):
        out.append(
            "".join(
                data.draw(st.sampled_from("123456789")) if c in "123456789" else c for c in value
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(TEMPLATES),
    st.sampled_from(["en", "ru", "id"]),
    st.lists(st.tuples(values, values), min_size=1, max_size=6),
    st.data(),
)
def test_the_memo_agrees_with_a_full_reading_on_every_value(
    source: str, lang: str, pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    memo = Template.parse(source)  # its memo fills as the values go by
    for b, d in pairs:
        for b2, d2 in zip([b, *variants(b, data)], [d, *variants(d, data)], strict=True):
            c = Contact(id="x", phones=("+79500000001",), variables={"B": b2, "D": d2})
            assert memo.check(c, lang) == Template.parse(source).check_uncached(c, lang), (b2, d2)


def test_distinct_balances_share_a_few_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    t = Template.parse("Ваш долг <currency>{B|debt} RUB</currency>")
    reads = 0
    original = Template.check_uncached

    def counting(self: Template, contact: Contact, lang: str = "en") -> list[str]:
        nonlocal reads
        reads += 1
        return original(self, contact, lang)

    monkeypatch.setattr(Template, "check_uncached", counting)
    balances = [f"-{n // 100}.{n % 100:02d}" for n in range(1, 20_000, 7)]
    assert all(t.check(Contact(id="x", variables={"B": b}), "ru") == [] for b in balances)
    assert len(balances) > 2_800
    assert reads <= 40  # classes like -9.99, -99.09, -999.90: not one reading per balance


def test_units_and_levels_follow_where_a_variable_is_read() -> None:
    t = Template.parse("{A} {B|abs} <date>{C}</date> {D} rub <digits>{E}</digits> <time>{A}</time>")
    assert checking.check_units(t.nodes) == (
        (0, (("A", PLAIN),)),
        (2, (("B", NUMERIC),)),
        (4, (("C", EXACT),)),
        (6, (("D", NUMERIC),)),
        (8, (("E", NUMERIC),)),
        (10, (("A", EXACT),)),
    )
    spans = Template.parse("<currency>{B} {CUR}</currency>")
    assert checking.check_units(spans.nodes) == ((0, (("B", NUMERIC), ("CUR", NUMERIC))),)


def test_an_unsupported_language_is_never_remembered_as_fine() -> None:
    t = Template.parse("Hello")
    assert t.check(Contact(id="x"), "en") == []
    assert t.check(Contact(id="x"), "xx") == ["language 'xx' is not supported for reading numbers"]


@pytest.mark.parametrize(
    ("value", "level", "expected"),
    [
        ("-68.27", NUMERIC, "-99.99"),
        ("-0.00", NUMERIC, "-0.00"),
        ("2026-12-07", EXACT, "2026-12-07"),
        ("Ivan Petrov", PLAIN, ("text", "a a")),
        ("Ivan Petrov 12", PLAIN, ("text", "a a 99")),
        ("1,5e3", PLAIN, ("text", "9,9a9")),
        ("-1 234,56", PLAIN, ("number", "-9 999,99")),
    ],
)
def test_value_classes(value: str, level: int, expected: object) -> None:
    assert value_class(value, level, "ru") == expected
