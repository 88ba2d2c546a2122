"""#15 item 2: amounts read with major and minor units, agreed with their numbers; the
currency's gender never reaches миллион/миллиард; property-tested against num2words' words."""

from __future__ import annotations

import decimal
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from num2words import num2words

from autoinformer.contacts.model import Contact
from autoinformer.speech import Template
from autoinformer.speech.money import CURRENCY_WORDS
from autoinformer.speech.readas import read_currency
from autoinformer.speech.wording import plural

D = decimal.Decimal
LANGS = ("en", "ru", "id")
# The currencies a debt call from Russia, the CIS or Indonesia names.
DEBT_CURRENCIES = ("RUB", "USD", "EUR", "GBP", "CNY", "KZT", "UAH", "BYN", "UZS", "IDR", "JPY")


def say(source: str, lang: str, **variables: str) -> str:
    return Template.parse(source).render_text(Contact(id="c", variables=variables), lang)


def words(n: int, lang: str, **kwargs: str) -> str:
    return re.sub(r"\s+", " ", str(num2words(n, lang=lang, **kwargs)).replace(",", " ")).strip()


@pytest.mark.parametrize(
    ("source", "lang", "expected"),
    [
        # the issue's examples: before -> after
        ("<currency>1000000 UAH</currency>", "ru", "один миллион гривен"),  # was "одна миллион"
        ("<currency>2000000 UAH</currency>", "ru", "два миллиона гривен"),  # was "две миллиона"
        ("<currency>2000002 UAH</currency>", "ru", "два миллиона две гривны"),
        ("<currency>1000000 JPY</currency>", "ru", "один миллион иен"),
        ("<currency>2000000000 IDR</currency>", "ru", "два миллиарда рупий"),
        ("<currency>1.01 GBP</currency>", "ru", "один фунт стерлингов один пенс"),
        ("<currency>1.01 GBP</currency>", "en", "one pound one penny"),
        ("<currency>2.50 GBP</currency>", "en", "two pounds fifty pence"),
        ("<currency>3.05 JPY</currency>", "en", "three yen five sen"),
        ("<currency>1500.75 IDR</currency>", "id", "seribu lima ratus rupiah tujuh puluh lima sen"),
        ("<currency>21.21 UAH</currency>", "ru", "двадцать одна гривна двадцать одна копейка"),
        ("<currency>2.02 KZT</currency>", "ru", "два тенге два тиына"),
        ("<currency>5 RUR</currency>", "ru", "пять рублей"),  # not "российских рублей (1991)"
        ("<currency>5 RUR</currency>", "en", "five roubles"),
    ],
)  # fmt: skip
def test_issue_examples(source: str, lang: str, expected: str) -> None:
    assert say(source, lang) == expected


@pytest.mark.parametrize("lang", LANGS)
def test_every_debt_currency_has_both_units_in_every_language(lang: str) -> None:
    for code in DEBT_CURRENCIES:
        assert code in CURRENCY_WORDS[lang], (lang, code)
        text = read_currency(D("2.50"), code, lang)
        words_ = CURRENCY_WORDS[lang][code]
        assert any(f in text for f in words_.minor.forms.values()), (code, text)
        assert not re.search(r"целых|point|koma", text)  # not read as a decimal


@st.composite
def amounts(draw: st.DrawFn) -> tuple[str, str, int, int]:
    lang = draw(st.sampled_from(LANGS))
    code = draw(st.sampled_from(sorted(CURRENCY_WORDS[lang])))
    whole = draw(st.integers(0, 10**12 - 1) | st.sampled_from([1, 2, 5, 11, 21, 1000, 10**6]))
    cents = draw(st.integers(0, 99))
    return lang, code, whole, cents


def unit_words(n: int, lang: str, gender: str) -> str:
    """num2words' own words for ``n``; in Russian the unit's gender reaches the last three
    digits only (thousands are feminine, millions masculine whatever is counted)."""
    if lang != "ru" or gender == "m":
        return words(n, lang)
    high, low = n - n % 1000, n % 1000
    parts = [words(high, "ru")] if high else []
    if low or not high:
        parts.append(words(low, "ru", gender=gender))
    return " ".join(parts)


@settings(max_examples=400, deadline=None)
@given(amounts())
def test_amounts_read_as_num2words_counts_with_cldr_plural_forms(
    case: tuple[str, str, int, int],
) -> None:
    lang, code, whole, cents = case
    units = CURRENCY_WORDS[lang][code]
    text = read_currency(D(whole) + D(cents) / 100, code, lang)
    expected = []
    if whole or not cents:
        form = units.major.forms.get(plural(lang, whole)) or units.major.forms["other"]
        expected.append(f"{unit_words(whole, lang, units.major.gender)} {form}")
    if cents:
        form = units.minor.forms.get(plural(lang, cents)) or units.minor.forms["other"]
        expected.append(f"{unit_words(cents, lang, units.minor.gender)} {form}")
    assert text == " ".join(expected)
    # No gender leaks onto the big units: "одна миллион", "две миллиарда" never appear.
    assert not re.search(r"\b(одна|две|одно) (тысяч[аи]? )?(миллион|миллиард)", text)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([("ru", "RUB"), ("ru", "USD"), ("ru", "KZT"), ("ru", "UZS"), ("en", "USD"),
                     ("en", "RUB"), ("en", "UZS")]),
    st.integers(1, 10**9),
    st.integers(1, 99),
)  # fmt: skip
def test_same_words_as_num2words_where_it_knows_the_currency(
    where: tuple[str, str], whole: int, cents: int
) -> None:
    lang, code = where
    amount = D(whole) + D(cents) / 100
    theirs = words(amount, lang, to="currency", currency=code)  # type: ignore[arg-type]
    assert read_currency(amount, code, lang) == theirs


@pytest.mark.parametrize(
    ("source", "value", "expected"),
    [
        ("{B} рублей", "-68.27", "минус шестьдесят восемь рублей двадцать семь копеек"),
        ("{B|debt} рублей", "-68.27", "шестьдесят восемь рублей двадцать семь копеек"),
        ("{B} руб.", "2", "два рубля."),
        ("{B} ₽", "21", "двадцать один рубль"),
        ("{B} грн", "1", "одна гривна"),
        ("{B} ₸", "5", "пять тенге"),
        ("{B} тенге", "1.5", "один тенге пятьдесят тиынов"),
        ("{B} долларов", "21", "двадцать один доллар"),
        ("{B} RUR", "3", "три рубля"),
    ],
)
def test_russian_currency_words_after_a_variable(source: str, value: str, expected: str) -> None:
    assert say(source, "ru", B=value) == expected
