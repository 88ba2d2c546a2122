"""The template language: parsing, errors with positions, variables, rendering to text/SSML."""

from __future__ import annotations

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.errors import InputError, TemplateError
from autoinformer.speech import Pause, Play, Say, Template
from autoinformer.speech.plan import Silence, Synth

DEBT = "Hello {NAME}, your debt is <currency>{BALANCE|abs} RUB</currency>.<stop:1s> Press 1."


def contact(**variables: str) -> Contact:
    return Contact(id="c1", name="Igor", phones=("+79508881234",), variables=variables)


def test_issue_example_in_english() -> None:
    t = Template.parse(DEBT)
    text = t.render_text(contact(NAME="Ilya", BALANCE="-525.19"), "en")
    assert text == (
        "Hello Ilya, your debt is five hundred and twenty-five roubles nineteen kopeks. Press one."
    )


def test_issue_example_in_russian_agrees_case() -> None:
    t = Template.parse("Ваш долг <currency>{BALANCE|abs} RUB</currency>.")
    assert t.render_text(contact(BALANCE="-525.19"), "ru") == (
        "Ваш долг пятьсот двадцать пять рублей девятнадцать копеек."
    )
    assert t.render_text(contact(BALANCE="-68.27"), "ru") == (
        "Ваш долг шестьдесят восемь рублей двадцать семь копеек."
    )
    assert t.render_text(contact(BALANCE="1"), "ru") == "Ваш долг один рубль."


def test_indonesian() -> None:
    t = Template.parse("Tagihan Anda <currency>{B} IDR</currency> pada <date>2026-01-16</date>.")
    assert t.render_text(contact(B="150000"), "id") == (
        "Tagihan Anda seratus lima puluh ribu rupiah pada enam belas Januari dua ribu dua puluh "
        "enam."
    )


def test_without_abs_a_debt_reads_minus() -> None:
    t = Template.parse("<currency>{BALANCE} RUB</currency>")
    assert t.render_text(contact(BALANCE="-68.27"), "en").startswith("minus sixty-eight roubles")


@pytest.mark.parametrize(
    ("source", "lang", "expected"),
    [
        (
            "<digits>13800138000</digits>",
            "en",
            "one three eight zero zero one three eight zero zero zero",
        ),
        ("<letters>VIP</letters>", "en", "V I P"),
        ("<date>2026-01-16</date>", "en", "January sixteenth twenty twenty-six"),
        ("<date>16.01.2026</date>", "ru", "шестнадцатое января две тысячи двадцать шестого года"),
        ("<currency>199 CNY</currency>", "en", "one hundred and ninety-nine yuan"),
        ("<currency>199 CNY</currency>", "ru", "сто девяносто девять юаней"),
        ("<number>1234</number>", "en", "one thousand two hundred and thirty-four"),
        ("<time>14:30</time>", "en", "two thirty PM"),
        ("<time>14:30</time>", "ru", "четырнадцать часов тридцать минут"),
        ("<time>9:05</time>", "id", "pukul sembilan lewat lima menit"),
    ],
)
def test_read_as_spans(source: str, lang: str, expected: str) -> None:
    assert Template.parse(source).render_text(contact(), lang) == expected


def test_seed_spellings_are_the_same_variable() -> None:
    a = Template.parse("Debt %VAR:BALANCE% rub, {{NAME}} {stop:1s} done")
    assert a.variables == frozenset({"BALANCE", "NAME"})
    plan = a.plan(contact(BALANCE="5", NAME="Ann"))
    assert Pause(1000) in plan.pieces
    assert plan.text() == "Debt five roubles, Ann done"  # seed 001: "rub" after a number


def test_builtins_and_case_insensitive_lookup() -> None:
    t = Template.parse("Hello {name}, {phone}, {balance}")
    text = t.render_text(contact(BALANCE="2"), "en")
    assert text == "Hello Igor, seven nine five zero eight eight eight one two three four, two"
    assert t.missing(contact(BALANCE="2")) == []


def test_missing_names_absent_and_blank_variables() -> None:
    t = Template.parse(DEBT)
    assert t.variables == frozenset({"NAME", "BALANCE"})
    assert t.missing(contact(NAME="Ilya")) == ["BALANCE"]
    assert t.missing(contact(NAME="  ", BALANCE="1")) == ["NAME"]
    with pytest.raises(InputError, match="'BALANCE'"):
        t.render_text(contact(NAME="Ilya"))


def test_check_reports_values_that_do_not_read() -> None:
    t = Template.parse(DEBT)
    assert t.check(contact(NAME="A", BALANCE="1")) == []
    (reason,) = t.check(contact(NAME="A", BALANCE="lots"))
    assert "BALANCE" in reason
    assert "number" in reason
    assert t.check(contact()) == ["missing variable 'BALANCE'"]  # NAME falls back to the name
    bare = Contact(id="c2")
    assert t.check(bare) == ["missing variable 'BALANCE'", "missing variable 'NAME'"]


def test_unknown_variables_against_list_columns() -> None:
    t = Template.parse("{NAME} {Balance} {phone} {DUE}")
    assert t.unknown(["name", "BALANCE"]) == ["DUE"]


def test_warns_above_120_characters() -> None:
    assert Template.parse("x" * 120).warnings == []
    (warning,) = Template.parse("x" * 121).warnings
    assert "121 characters" in warning


@pytest.mark.parametrize(
    ("source", "position", "expected"),
    [
        ("Hello {", 7, "expected a variable name"),
        ("Hello {NAME", 11, "expected '}'"),
        ("{NAME|foo}", 6, "unknown filter 'foo'"),
        ("<stop:2x>", 6, "expected a duration"),
        ("<stop:11s>", 6, "between 1ms and 10s"),
        ("<digits>12", 10, "never closed"),
        ("<date>2026-13-01</date>", 6, "expected a date like 2026-01-16"),
        ("<currency>199</currency>", 10, "currency code"),
        ("<currency>{X} XYZ</currency>", 10, "ISO 4217"),
        ("a <b>c</b>", 2, "unknown tag"),
        ("<digits><letters>a</letters></digits>", 8, "cannot go inside <digits>"),
        ("</digits>", 0, "unexpected </digits>"),
        ("x }", 2, "unexpected '}'"),
        ("<digits>1<stop:1s></digits>", 9, "pause or recording cannot go inside"),
        ("<digits></digits>", 0, "is empty"),
        ("%VAR:%", 5, "expected a variable name"),
        ("Hi <Digits>1</Digits>", 3, "tags are written in lower case: expected <digits>"),
        ("Hi <STOP:1s>", 3, "tags are written in lower case: expected <stop:...>"),
        ("<digits>1</digits", 17, "expected '>' to close </digits>"),
        ("<digits 1</digits>", 7, "expected '>' to close <digits>"),
        ("Hi {{NAME}", 9, "expected '}}' to close the variable 'NAME'"),
        ("Hi <stop:1s", 11, "expected '>' to close the pause"),
        ("<date>x</time>", 7, "unexpected </time>: expected </date>"),
        ("<audio:>", 7, "expected a file path"),
    ],
)
def test_syntax_errors_point_at_the_problem(source: str, position: int, expected: str) -> None:
    with pytest.raises(TemplateError, match=expected) as info:
        Template.parse(source)
    assert info.value.position == position
    assert info.value.pointer().splitlines()[1] == " " * position + "^"


def test_literal_less_than_and_percent_are_text() -> None:
    t = Template.parse("Save 5% if 3 < 4")
    assert t.render_text(contact()) == "Save five% if three < four"


def test_ssml_has_breaks_say_as_and_escapes() -> None:
    t = Template.parse("Hi {N} & co<stop:500ms><letters>VIP</letters> <digits>{P}</digits>")
    ssml = t.render_ssml(contact(N="<Ann>", P="123"), "en")
    assert ssml == (
        '<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en">'
        'Hi &lt;Ann&gt; &amp; co <break time="500ms"/> '
        "V I P one two three</speak>"
    )


def test_audio_tag_is_a_recording_in_the_plan() -> None:
    plan = Template.parse("<audio:intro.mp3>Hello").plan(contact())
    assert plan.pieces[0] == Play("intro.mp3")
    assert plan.text() == "Hello"


def test_fragment_units_split_personal_numbers_into_words() -> None:
    plan = Template.parse(DEBT).plan(contact(NAME="Ilya", BALANCE="-525.19"))
    assert plan.units("fragment") == [
        Synth("Hello"),
        Synth("Ilya"),
        Synth("your debt is"),
        Synth("five hundred"),  # multipliers stay with their digit word
        Synth("and"),
        Synth("twenty-five"),
        Synth("roubles"),
        Synth("nineteen"),
        Synth("kopeks"),
        Silence(1000),
        Synth("Press one."),
    ]
    assert plan.units("sentence") == [
        Synth("Hello Ilya, your debt is five hundred and twenty-five roubles nineteen kopeks."),
        Silence(1000),
        Synth("Press one."),
    ]


def test_fixed_text_is_marked_fixed() -> None:
    plan = Template.parse("A {N} <digits>12</digits>").plan(contact(N="x"))
    kinds = [(p.fixed, p.say_as) for p in plan.pieces if isinstance(p, Say)]
    assert kinds == [(True, None), (False, None), (True, None), (True, "digits")]


def test_unsupported_language_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not supported"):
        Template.parse("hi").render_text(contact(), "xx")


def test_preview_shows_placeholders() -> None:
    assert Template.parse("Hello, {phone}, <stop:1s>shipped").preview() == "Hello, {phone}, shipped"


@pytest.mark.parametrize(
    ("lang", "balance", "chunks"),
    [
        ("en", "123456", ["one hundred", "and", "twenty-three thousand", "four hundred", "and",
                          "fifty-six", "roubles"]),
        ("ru", "25000", ["двадцать", "пять тысяч", "рублей"]),
        ("id", "150000", ["seratus", "lima puluh ribu", "rubel"]),
    ],
)  # fmt: skip
def test_fragment_chunks_per_language(lang: str, balance: str, chunks: list[str]) -> None:
    plan = Template.parse("<currency>{B} RUB</currency>").plan(contact(B=balance), lang)
    assert [u.text for u in plan.units("fragment") if isinstance(u, Synth)] == chunks


def test_digits_and_letters_are_one_fragment_per_symbol() -> None:
    plan = Template.parse("<digits>{P}</digits><letters>{L}</letters>").plan(
        contact(P="100", L="ab")
    )
    texts = [u.text for u in plan.units("fragment") if isinstance(u, Synth)]
    assert texts == ["one", "zero", "zero", "A", "B"]


@pytest.mark.parametrize(
    ("source", "lang", "expected"),
    [
        ("Your debt is %VAR:BALANCE% rub.", "en",
         "Your debt is minus sixty-eight roubles twenty-seven kopeks."),
        # the abbreviation's dot also ends the sentence: it stays (and so does its pause)
        ("Долг {BALANCE|abs} руб. Всё", "ru",
         "Долг шестьдесят восемь рублей двадцать семь копеек. Всё"),
        ("Debt {BALANCE|abs} RUB", "en", "Debt sixty-eight roubles twenty-seven kopeks"),
        ("Hi {NAME} usd", "en", "Hi Ann usd"),  # not a number: no amount
    ],
)  # fmt: skip
def test_seed_001_amount_written_after_the_variable(source: str, lang: str, expected: str) -> None:
    t = Template.parse(source)
    assert t.render_text(contact(BALANCE="-68.27", NAME="Ann"), lang) == expected
