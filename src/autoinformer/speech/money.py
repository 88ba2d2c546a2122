"""Amounts of money as a person says them: major and minor units, agreed with the number.

A debt call names the sum in the callee's language with both units: "один фунт стерлингов
один пенс", "two yuan fifty fen", "seratus rupiah lima puluh sen". CLDR (babel) has the
currencies' *display* names ("британский фунт стерлингов", "Chinese yuan") but no minor units
and no words people say, so the currencies a call from Russia, the CIS or Indonesia would name
are spelled here: nominative forms by CLDR plural category (which form a count takes is
babel's plural rule, not ours) and, for Russian, the grammatical gender the number agrees
with ("одна гривна", "две иены", but "два миллиона гривен": see
:func:`~autoinformer.speech.wording.cardinal`). Every currency here has 100 minor units.

Other currencies are read by num2words where it knows them in the language, else with
babel's display name (:func:`autoinformer.speech.readas.read_currency`).
"""

from __future__ import annotations

import decimal
from functools import lru_cache

import attrs
import babel.numbers

from autoinformer.speech.wording import (
    base_lang,
    cardinal,
    clean,
    locale,
    n2w,
    noun_form,
    plural,
)

__all__ = ["CURRENCY_WORDS", "Unit", "Words", "read_currency", "units_of"]


@attrs.frozen
class Unit:
    """A currency unit's words.

    Attributes:
        forms: the noun by CLDR plural category (``one``, ``few``, ``many``, ``other``).
        gender: the gender a Russian number before it takes (``m``, ``f``, ``n``).
    """

    forms: dict[str, str]
    gender: str = "m"


@attrs.frozen
class Words:
    """A currency's major and minor unit in one language."""

    major: Unit
    minor: Unit


def _ru(one: str, few: str, many: str, gender: str = "m") -> Unit:
    return Unit({"one": one, "few": few, "many": many, "other": few}, gender)


def _en(one: str, other: str) -> Unit:
    return Unit({"one": one, "other": other})


def _id(word: str) -> Unit:
    return Unit({"other": word})


_KOPEYKA = _ru("копейка", "копейки", "копеек", "f")
_CENT_RU = _ru("цент", "цента", "центов")
_SEN_RU = _ru("сен", "сена", "сенов")
_TIYIN_RU = _ru("тийин", "тийина", "тийинов")

CURRENCY_WORDS: dict[str, dict[str, Words]] = {
    "ru": {
        "RUB": Words(_ru("рубль", "рубля", "рублей"), _KOPEYKA),
        "USD": Words(_ru("доллар", "доллара", "долларов"), _CENT_RU),
        "EUR": Words(_ru("евро", "евро", "евро"), _CENT_RU),
        "GBP": Words(
            _ru("фунт стерлингов", "фунта стерлингов", "фунтов стерлингов"),
            _ru("пенс", "пенса", "пенсов"),
        ),
        "CNY": Words(_ru("юань", "юаня", "юаней"), _ru("фэнь", "фэня", "фэней")),
        "KZT": Words(_ru("тенге", "тенге", "тенге"), _ru("тиын", "тиына", "тиынов")),
        "UAH": Words(_ru("гривна", "гривны", "гривен", "f"), _KOPEYKA),
        "BYN": Words(_ru("белорусский рубль", "белорусских рубля", "белорусских рублей"), _KOPEYKA),
        "UZS": Words(_ru("сум", "сума", "сумов"), _TIYIN_RU),
        "IDR": Words(_ru("рупия", "рупии", "рупий", "f"), _SEN_RU),
        "JPY": Words(_ru("иена", "иены", "иен", "f"), _SEN_RU),
        "KGS": Words(_ru("сом", "сома", "сомов"), _ru("тыйын", "тыйына", "тыйынов")),
        "TJS": Words(_ru("сомони", "сомони", "сомони"), _ru("дирам", "дирама", "дирамов")),
        "AMD": Words(_ru("драм", "драма", "драмов"), _ru("лума", "лумы", "лум", "f")),
        "AZN": Words(_ru("манат", "маната", "манатов"), _ru("гяпик", "гяпика", "гяпиков")),
        "GEL": Words(_ru("лари", "лари", "лари"), _ru("тетри", "тетри", "тетри")),
        "MDL": Words(_ru("лей", "лея", "леев"), _ru("бан", "бана", "банов")),
        "TRY": Words(_ru("лира", "лиры", "лир", "f"), _ru("куруш", "куруша", "курушей")),
        "INR": Words(_ru("рупия", "рупии", "рупий", "f"), _ru("пайса", "пайсы", "пайс", "f")),
        "CHF": Words(_ru("франк", "франка", "франков"), _ru("сантим", "сантима", "сантимов")),
        "PLN": Words(_ru("злотый", "злотых", "злотых"), _ru("грош", "гроша", "грошей")),
        "SGD": Words(
            _ru("сингапурский доллар", "сингапурских доллара", "сингапурских долларов"),
            _CENT_RU,
        ),
        "MYR": Words(_ru("ринггит", "ринггита", "ринггитов"), _SEN_RU),
    },
    "en": {
        "RUB": Words(_en("rouble", "roubles"), _en("kopek", "kopeks")),
        "USD": Words(_en("dollar", "dollars"), _en("cent", "cents")),
        "EUR": Words(_en("euro", "euros"), _en("cent", "cents")),
        "GBP": Words(_en("pound", "pounds"), _en("penny", "pence")),
        "CNY": Words(_en("yuan", "yuan"), _en("fen", "fen")),
        "KZT": Words(_en("tenge", "tenge"), _en("tiyn", "tiyn")),
        "UAH": Words(_en("hryvnia", "hryvnias"), _en("kopiyka", "kopiykas")),
        "BYN": Words(_en("Belarusian rouble", "Belarusian roubles"), _en("kopek", "kopeks")),
        "UZS": Words(_en("sum", "sums"), _en("tiyin", "tiyins")),
        "IDR": Words(_en("rupiah", "rupiah"), _en("sen", "sen")),
        "JPY": Words(_en("yen", "yen"), _en("sen", "sen")),
        "KGS": Words(_en("som", "soms"), _en("tyiyn", "tyiyns")),
        "TJS": Words(_en("somoni", "somoni"), _en("diram", "dirams")),
        "AMD": Words(_en("dram", "drams"), _en("luma", "luma")),
        "AZN": Words(_en("manat", "manats"), _en("qapik", "qapiks")),
        "GEL": Words(_en("lari", "lari"), _en("tetri", "tetri")),
        "MDL": Words(_en("leu", "lei"), _en("ban", "bani")),
        "TRY": Words(_en("lira", "liras"), _en("kurus", "kurus")),
        "INR": Words(_en("rupee", "rupees"), _en("paisa", "paise")),
        "CHF": Words(_en("franc", "francs"), _en("centime", "centimes")),
        "PLN": Words(_en("zloty", "zlotys"), _en("grosz", "groszy")),
        "SGD": Words(_en("Singapore dollar", "Singapore dollars"), _en("cent", "cents")),
        "MYR": Words(_en("ringgit", "ringgit"), _en("sen", "sen")),
    },
    "id": {
        "RUB": Words(_id("rubel"), _id("kopek")),
        "USD": Words(_id("dolar"), _id("sen")),
        "EUR": Words(_id("euro"), _id("sen")),
        "GBP": Words(_id("pound sterling"), _id("penny")),
        "CNY": Words(_id("yuan"), _id("fen")),
        "KZT": Words(_id("tenge"), _id("tiyn")),
        "UAH": Words(_id("hryvnia"), _id("kopiyka")),
        "BYN": Words(_id("rubel Belarus"), _id("kopek")),
        "UZS": Words(_id("som"), _id("tiyin")),
        "IDR": Words(_id("rupiah"), _id("sen")),
        "JPY": Words(_id("yen"), _id("sen")),
        "KGS": Words(_id("som"), _id("tyiyn")),
        "TJS": Words(_id("somoni"), _id("diram")),
        "AMD": Words(_id("dram"), _id("luma")),
        "AZN": Words(_id("manat"), _id("qapik")),
        "GEL": Words(_id("lari"), _id("tetri")),
        "MDL": Words(_id("leu"), _id("ban")),
        "TRY": Words(_id("lira"), _id("kurus")),
        "INR": Words(_id("rupee"), _id("paisa")),
        "CHF": Words(_id("franc"), _id("sen")),
        "PLN": Words(_id("zloty"), _id("grosz")),
        "SGD": Words(_id("dolar Singapura"), _id("sen")),
        "MYR": Words(_id("ringgit"), _id("sen")),
    },
}
"""The currencies read with both units, by language and ISO 4217 code."""


def units_of(currency: str, lang: str) -> Words | None:
    """The major and minor unit words of ``currency`` in ``lang`` (its base language), or
    None when the currency is not in :data:`CURRENCY_WORDS` for the language."""
    return CURRENCY_WORDS.get(lang, {}).get(currency)


# How a currency is called in running speech when neither money.CURRENCY_WORDS nor num2words
# has it and babel's display name is a label rather than a word people say, by CLDR plural
# category ("other" is the fallback; Russian fractions take "other", the genitive).
_SPOKEN_CURRENCY: dict[tuple[str, str], dict[str, str]] = {}

# Minor units for the generic path, per (language, currency), then per language ("*").
# Where none is known the amount is read as a decimal number ("две целых пять десятых кроны")
# rather than with a wrong unit.
_MINOR_UNIT: dict[tuple[str, str], dict[str, str]] = {
    ("en", "*"): {"one": "cent", "other": "cents"},
    ("id", "*"): {"other": "sen"},
}


def _form(forms: dict[str, str], lang: str, n: int | decimal.Decimal) -> str:
    return forms.get(plural(lang, n), forms["other"])


def _generic_currency_name(code: str, lang: str, n: int | decimal.Decimal) -> str:
    forms = _SPOKEN_CURRENCY.get((base_lang(lang), code))
    if forms is not None:
        return _form(forms, lang, n)
    count = n if isinstance(n, int) else float(n)
    return str(babel.numbers.get_currency_name(code, count=count, locale=locale(lang))).lower()


@lru_cache(maxsize=256)
def _currency_gender(code: str, lang: str) -> str:
    """``"f"`` when the number before the currency must be feminine (Russian "две кроны":
    names ending in -а/-я are feminine), else ``""``."""
    if base_lang(lang) != "ru":
        return ""
    return "f" if _generic_currency_name(code, lang, 1).endswith(("а", "я")) else ""


def _with_unit(n: int, unit: Unit, lang: str) -> str:
    words = cardinal(decimal.Decimal(n), lang, unit.gender)
    return f"{words} {noun_form(unit.forms, None, lang, n)}"


@lru_cache(maxsize=65536)
def read_currency(value: decimal.Decimal, currency: str, lang: str) -> str:
    """An amount of money in words, with the grammatical agreement of the language.

    The currencies of :data:`~autoinformer.speech.money.CURRENCY_WORDS` are read with both
    units, each agreed with its number ("один фунт стерлингов один пенс", "два миллиона
    гривен"). Otherwise ``num2words`` does the reading when it knows the currency in that
    language; failing that the integer part is read as a cardinal followed by the currency's
    spoken name (babel, with babel's plural rules), and the minor units, when not zero, as a
    cardinal followed by the minor unit's name. Zero minor units are not read, and neither is
    a zero major part when there are minor units (0.01 RUB is "одна копейка"). When the minor
    unit has no known name in the language, the amount is read as a decimal number followed
    by the currency's name ("две целых пять десятых шведской кроны").
    """
    # Precision for every digit: the default context (28 digits) cannot quantize a 27-digit
    # amount to cents (decimal.InvalidOperation).
    wide = decimal.Context(prec=max(decimal.getcontext().prec, value.adjusted() + 4))
    try:
        value = value.quantize(
            decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP, context=wide
        )
    except decimal.InvalidOperation:  # infinity, NaN
        raise ValueError(f"{value} is not an amount") from None
    negative = value < 0
    magnitude = -value if negative else value
    whole = int(magnitude)
    cents = int((magnitude - whole) * 100)
    base = base_lang(lang)
    words = units_of(currency, base)
    if words is not None:
        parts = []
        if whole or not cents:
            parts.append(_with_unit(whole, words.major, lang))
        if cents:
            parts.append(_with_unit(cents, words.minor, lang))
        text = " ".join(parts)
    else:
        text = _other_currency(magnitude, whole, cents, currency, lang)
    if negative:
        text = f"{_minus(lang)} {text}"
    return clean(text)


def _other_currency(
    magnitude: decimal.Decimal, whole: int, cents: int, currency: str, lang: str
) -> str:
    base = base_lang(lang)
    try:
        words = n2w(magnitude, lang, to="currency", currency=currency, separator="|")
        major, _, minor = words.partition("|")
        if cents == 0:
            return major
        if whole == 0 and minor.strip():
            return minor
        return f"{major} {minor}"
    except ValueError:  # num2words has no forms for this currency in this language
        pass
    minor_forms = _MINOR_UNIT.get((base, currency)) or _MINOR_UNIT.get((base, "*"))
    gender = _currency_gender(currency, lang)
    if cents and minor_forms is None:
        number = magnitude.normalize()
        name = _generic_currency_name(currency, lang, number)
        return f"{cardinal(number, lang, gender)} {name}"
    parts = []
    if whole or not cents:
        name = _generic_currency_name(currency, lang, whole)
        parts.append(f"{cardinal(decimal.Decimal(whole), lang, gender)} {name}")
    if cents and minor_forms is not None:
        minor_word = _form(minor_forms, lang, cents)
        parts.append(f"{cardinal(decimal.Decimal(cents), lang)} {minor_word}")
    return " ".join(parts)


@lru_cache(maxsize=64)
def _minus(lang: str) -> str:
    """The language's word for minus, as num2words says it ("minus", "минус", "min")."""
    try:
        words = cardinal(decimal.Decimal(-1), lang)
    except ValueError:
        return "minus"
    one = cardinal(decimal.Decimal(1), lang)
    return words.replace(one, "").strip(" -()") or "minus"
