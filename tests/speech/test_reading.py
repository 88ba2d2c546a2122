"""Read-as rules as a demanding user hears them: locale-aware numbers, Russian agreement,
currencies num2words lacks, natural English times, spreadsheet dates, valid SSML."""

from __future__ import annotations

import decimal
import xml.etree.ElementTree as ET

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.errors import TemplateError
from autoinformer.speech import Template
from autoinformer.speech.plan import SSML_NAMESPACE, Synth
from autoinformer.speech.readas import parse_amount, parse_decimal


def say(source: str, lang: str = "en", **variables: str) -> str:
    contact = Contact(id="c1", name="Ann", phones=("+79508881234",), variables=variables)
    return Template.parse(source).render_text(contact, lang)


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("-525.19", "en", "-525.19"),  # machine form reads the same everywhere
        ("-525.19", "ru", "-525.19"),
        ("525.19", "id", "525.19"),
        ("1,234", "en", "1234"),  # English: a comma groups thousands
        ("1,234", "ru", "1.234"),  # Russian and Indonesian: it is the decimal separator
        ("1,234", "id", "1.234"),
        ("1,234,567", "en", "1234567"),
        ("1,234,567", "ru", "1234567"),  # several commas can only group
        ("1,5", "en", "1.5"),  # not English grouping: falls back to a decimal comma
        ("12,50", "en", "12.50"),
        ("1.234,56", "en", "1234.56"),  # both marks: the last one is the decimal separator
        ("1.234,56", "id", "1234.56"),
        ("1,234.56", "ru", "1234.56"),
        ("-1 234,56", "ru", "-1234.56"),
        ("1\u00a0234,56", "ru", "1234.56"),
        ("\u22121,234.50", "en", "-1234.50"),
        ("150.000", "id", "150000"),  # "." groups thousands in Indonesian ...
        ("150.000", "en", "150.000"),  # ... not in English
        ("0.125", "id", "0.125"),  # a leading zero is never a group
        ("1.234.567", "id", "1234567"),
        ("1,234", None, "1.234"),  # no language: the neutral reading
    ],
)
def test_parse_decimal_is_locale_aware(text: str, lang: str | None, expected: str) -> None:
    assert parse_decimal(text, lang) == decimal.Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3x", "--1", "1.2.3,4,5"])
def test_parse_decimal_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected a number like 525\.19"):
        parse_decimal(text, "en")


def test_thousands_read_in_the_contacts_language() -> None:
    assert say("<number>{B}</number>", "en", B="1,234") == (
        "one thousand two hundred and thirty-four"
    )
    assert say("Debt {B|abs} RUB", "en", B="-1,234") == (
        "Debt one thousand two hundred and thirty-four roubles"
    )
    assert say("<currency>{B|abs} RUB</currency>", "ru", B="-1,5") == (
        "один рубль пятьдесят копеек"
    )
    assert say("<currency>{B} IDR</currency>", "id", B="150.000") == (
        "seratus lima puluh ribu rupiah"
    )
    assert parse_amount("1,234 USD", "en").value == decimal.Decimal(1234)


def test_abs_keeps_the_written_form() -> None:
    # 1.234 in Indonesian is "one point two three four"; |abs must not turn it into 1234.
    assert say("<number>{B|abs}</number>", "id", B="-1,234") == "satu koma dua tiga empat"
    assert say("<number>{B|abs}</number>", "ru", B="\u22121 234,5") == (
        "одна тысяча двести тридцать четыре целых пять десятых"
    )


@pytest.mark.parametrize(
    ("balance", "expected"),
    [
        ("1", "один рубль"),
        ("2", "два рубля"),
        ("5", "пять рублей"),
        ("21", "двадцать один рубль"),
        ("22.02", "двадцать два рубля две копейки"),
        ("11.11", "одиннадцать рублей одиннадцать копеек"),
        ("0.01", "одна копейка"),  # no "ноль рублей" in front of the kopecks
        ("-0.01", "одна копейка"),
        ("0", "ноль рублей"),
        ("1000000", "один миллион рублей"),
    ],
)
def test_russian_roubles_agree_in_number_and_gender(balance: str, expected: str) -> None:
    assert say("<currency>{B|abs} RUB</currency>", "ru", B=balance) == expected


@pytest.mark.parametrize(
    ("source", "lang", "expected"),
    [
        ("<currency>0.01 USD</currency>", "en", "one cent"),
        ("<currency>2 CNY</currency>", "ru", "два юаня"),  # few, not many
        ("<currency>5 CNY</currency>", "ru", "пять юаней"),
        ("<currency>2.5 CNY</currency>", "ru", "два юаня пятьдесят фэней"),
        ("<currency>2.5 CNY</currency>", "en", "two yuan fifty fen"),
        ("<currency>1500.75 IDR</currency>", "en",
         "one thousand five hundred rupiah seventy-five sen"),  # not "cents"
        ("<currency>0.5 IDR</currency>", "id", "lima puluh sen"),
        ("<currency>{B} rupiah</currency>", "id", "seratus lima puluh ribu rupiah"),
        ("<currency>3 JPY</currency>", "en", "three yen"),
        ("<currency>3 KZT</currency>", "ru", "три тенге"),
        # Feminine currency names take feminine numbers: "две иены", "двадцать одна крона".
        ("<currency>2 JPY</currency>", "ru", "две иены"),
        ("<currency>21 SEK</currency>", "ru", "двадцать одна шведская крона"),
        ("<currency>150001 IDR</currency>", "ru", "сто пятьдесят тысяч одна рупия"),
        ("<currency>2 CHF</currency>", "ru", "два франка"),
        ("<currency>2.5 JPY</currency>", "ru", "две иены пятьдесят сенов"),
        # No name for the minor unit in the language: read as a decimal, not with a wrong unit.
        ("<currency>2.5 SEK</currency>", "ru", "две целых пять десятых шведской кроны"),
    ],
)  # fmt: skip
def test_currencies_num2words_lacks(source: str, lang: str, expected: str) -> None:
    assert say(source, lang, B="150000") == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("14:30", "two thirty PM"),
        ("9:05", "nine oh five AM"),
        ("14:00", "two PM"),
        ("12:00", "noon"),
        ("0:00", "midnight"),
        ("0:15", "twelve fifteen AM"),
        ("12:30", "twelve thirty PM"),
        ("14:30:00", "two thirty PM"),  # a spreadsheet time cell
        ("2026-01-16 08:45:00", "eight forty-five AM"),
    ],
)
def test_english_times_read_naturally(written: str, expected: str) -> None:
    assert say(f"<time>{written}</time>") == expected


def test_am_pm_stay_whole_words_in_fragment_mode() -> None:
    plan = Template.parse("<time>{T}</time>").plan(Contact(id="1", variables={"T": "14:30"}))
    assert [u.text for u in plan.units("fragment") if isinstance(u, Synth)] == [
        "two",
        "thirty",
        "PM",
    ]


@pytest.mark.parametrize(
    ("written", "lang", "expected"),
    [
        ("2026-01-01", "en", "January first twenty twenty-six"),
        ("2026-01-22", "en", "January twenty-second twenty twenty-six"),
        ("2026-03-03", "en", "March third twenty twenty-six"),
        ("2026-01-16 00:00:00", "en", "January sixteenth twenty twenty-six"),  # XLSX date cell
        ("2026-03-31", "ru", "тридцать первое марта две тысячи двадцать шестого года"),
        ("31.03.2026", "id", "tiga puluh satu Maret dua ribu dua puluh enam"),
    ],
)
def test_dates_with_ordinals_and_spreadsheet_cells(written: str, lang: str, expected: str) -> None:
    assert say("<date>{D}</date>", lang, D=written) == expected


def test_bad_time_in_a_variable_names_the_contact_and_variable() -> None:
    t = Template.parse("<time>{T}</time>")
    (reason,) = t.check(Contact(id="c9", variables={"T": "25:00"}))
    assert reason == (
        "column 'T' = '25:00': cannot be read as <time>: expected a time like 14:30, got '25:00'"
    )


@pytest.mark.parametrize("lang", ["en", "ru", "id", "pt_BR"])
def test_ssml_is_well_formed_in_the_ssml_namespace(lang: str) -> None:
    source = (
        "Hi {N} <stop:1s><letters>{L}</letters> <digits>{P}</digits> "
        '<currency>{B|abs} RUB</currency><audio:a&b "1".wav>'
    )
    contact = Contact(id="1", variables={"N": '<Tom & "Jerry">', "L": "A&B", "P": "12", "B": "-5"})
    ssml = Template.parse(source).render_ssml(contact, lang)
    root = ET.fromstring(ssml)
    ns = f"{{{SSML_NAMESPACE}}}"
    assert root.tag == f"{ns}speak"
    assert root.get("version") == "1.1"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == lang.replace("_", "-")
    assert root.text is not None
    assert root.text.startswith('Hi <Tom & "Jerry">')
    (pause,) = root.iter(f"{ns}break")
    assert pause.get("time") == "1000ms"
    assert not list(root.iter(f"{ns}say-as"))  # read-as spans are written out in words
    assert "A B" in "".join(root.itertext())
    (audio,) = root.iter(f"{ns}audio")
    assert audio.get("src") == 'a&b "1".wav'


def test_currency_code_from_a_list_column() -> None:
    t = Template.parse("<currency>{B|abs} {CUR}</currency>")  # passes the parse-time check
    assert say(t.source, "ru", B="-2", CUR="CNY") == "два юаня"
    assert say(t.source, "en", B="3", CUR="$") == "three dollars"
    (reason,) = t.check(Contact(id="c3", variables={"B": "3", "CUR": "XYZ"}))
    assert "column 'B' = '3', column 'CUR' = 'XYZ'" in reason
    assert "expected an ISO 4217 currency code" in reason
    with pytest.raises(TemplateError, match="ISO 4217") as info:
        Template.parse("Due <currency>{B} XYZ</currency>")
    assert info.value.position == 14


@pytest.mark.parametrize(
    ("source", "lang", "expected"),
    [
        ("Pay by 16.01.2026.", "en", "Pay by January sixteenth twenty twenty-six."),
        ("Pay by 2026-01-16, thanks", "ru",
         "Pay by шестнадцатое января две тысячи двадцать шестого года, thanks"),
        ("Come at 14:30 today", "en", "Come at two thirty PM today"),
        ("Come at 9:05", "id", "Come at pukul sembilan lewat lima menit"),
        ("Pay 1,500 now", "en", "Pay one thousand five hundred now"),
        ("Pay 1,234,567", "en",
         "Pay one million two hundred and thirty-four thousand five hundred and sixty-seven"),
        ("Bayar 150.000 sekarang", "id", "Bayar seratus lima puluh ribu sekarang"),
        ("Press 1, 2 or 3.", "en", "Press one, two or three."),
        ("Code 25:99", "en", "Code twenty-five ninety-nine"),  # not a time: just numbers
        ("Due {D} at {T}", "en",
         "Due January sixteenth twenty twenty-six at nine thirty AM"),  # variables too
    ],
)  # fmt: skip
def test_dates_times_and_grouped_numbers_in_running_text(
    source: str, lang: str, expected: str
) -> None:
    assert say(source, lang, D="2026-01-16", T="9:30") == expected
