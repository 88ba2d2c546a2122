"""Read-as rules: how digits, letters, dates, amounts, numbers and times sound in a language.

Every function here is pure (no I/O, no clock): it takes a value and a language code and returns
the words a person should hear, as plain text. The heavy lifting is done by ``num2words``
(cardinals, ordinals, currency with grammatical agreement: Russian reads 525.19 RUB as
"пятьсот двадцать пять рублей девятнадцать копеек") and ``babel`` (month names in the right
grammatical case, currency names, plural categories). This module only decides which of their
functions to call and glues the results, so that adding a language is mostly free.

Parsing of the *written* form (``"2026-01-16"``, ``"199 CNY"``, ``"14:30"``) also lives here:
:func:`parse_amount`, :func:`parse_date` and :func:`parse_time` raise :class:`ValueError` with a
message that says what was expected; the template parser turns it into a positioned error.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from functools import lru_cache

import attrs
import babel
import babel.dates
import babel.numbers
from num2words import CONVERTER_CLASSES, num2words

__all__ = [
    "Amount",
    "LanguageNotSupported",
    "currency_code",
    "fragment_chunks",
    "normalise_lang",
    "parse_amount",
    "parse_date",
    "parse_decimal",
    "parse_time",
    "read_currency",
    "read_date",
    "read_digits",
    "read_letters",
    "read_number",
    "read_time",
    "spell_numbers_in",
]

# Written currency markers that are not ISO codes; ISO codes are checked with babel.
_CURRENCY_SYMBOLS = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "CNY",
    "₽": "RUB",
    "rp": "IDR",
    "руб": "RUB",
    "руб.": "RUB",
    "р.": "RUB",
    "rub": "RUB",
    "yuan": "CNY",
    "rmb": "CNY",
    "rupiah": "IDR",
}

# How a currency is called in running speech when num2words does not know it and babel's
# display name is a label rather than a word people say ("Chinese yuan" -> "yuan"), by CLDR
# plural category ("other" is the fallback; Russian fractions take "other", the genitive).
_SPOKEN_CURRENCY: dict[tuple[str, str], dict[str, str]] = {
    ("en", "CNY"): {"other": "yuan"},
    ("en", "IDR"): {"other": "rupiah"},
    ("en", "JPY"): {"other": "yen"},
    ("id", "IDR"): {"other": "rupiah"},
    ("id", "RUB"): {"other": "rubel"},
    ("id", "USD"): {"other": "dolar"},
    ("id", "EUR"): {"other": "euro"},
    ("id", "CNY"): {"other": "yuan"},
    ("ru", "CNY"): {"one": "юань", "few": "юаня", "many": "юаней", "other": "юаня"},
    ("ru", "IDR"): {"one": "рупия", "few": "рупии", "many": "рупий", "other": "рупии"},
}

# Minor units for the generic path, per (language, currency), then per language ("*").
# Where none is known the amount is read as a decimal number ("две целых пять десятых юаня")
# rather than with a wrong unit.
_MINOR_UNIT: dict[tuple[str, str], dict[str, str]] = {
    ("en", "CNY"): {"other": "fen"},
    ("en", "IDR"): {"other": "sen"},
    ("en", "JPY"): {"other": "sen"},
    ("ru", "CNY"): {"one": "фэнь", "few": "фэня", "many": "фэней", "other": "фэня"},
    ("en", "*"): {"one": "cent", "other": "cents"},
    ("id", "*"): {"other": "sen"},
}


class LanguageNotSupported(ValueError):
    """Neither num2words nor babel can read numbers in this language."""


@lru_cache(maxsize=64)
def normalise_lang(lang: str) -> str:
    """The num2words language code for ``lang`` (``"en-US"`` -> ``"en"``, ``"pt_BR"`` kept).

    Raises:
        LanguageNotSupported: num2words has no converter for the language.
    """
    code = lang.strip().replace("-", "_")
    if not code:
        raise LanguageNotSupported("expected a language code such as 'en', 'ru' or 'id'")
    parts = code.split("_")
    full = parts[0].lower() + ("_" + parts[1].upper() if len(parts) > 1 else "")
    if full in CONVERTER_CLASSES:
        return full
    if parts[0].lower() in CONVERTER_CLASSES:
        return parts[0].lower()
    raise LanguageNotSupported(f"language {lang!r} is not supported for reading numbers")


@lru_cache(maxsize=64)
def _locale(lang: str) -> babel.Locale:
    try:
        return babel.Locale.parse(normalise_lang(lang))
    except (ValueError, babel.UnknownLocaleError):
        raise LanguageNotSupported(f"babel has no locale data for {lang!r}") from None


def _base(lang: str) -> str:
    return normalise_lang(lang).split("_")[0]


# --------------------------------------------------------------------------------- parsing


_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# "150.000" where "." groups thousands (id, de): a digit other than a leading 0, then groups of 3.
_DOT_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+")
_SPACES_IN_NUMBERS = str.maketrans({" ": None, "\u00a0": None, "\u202f": None, "\u2212": "-"})


@lru_cache(maxsize=64)
def _locale_or_none(lang: str | None) -> babel.Locale | None:
    if lang is None:
        return None
    try:
        return _locale(lang)
    except LanguageNotSupported:
        return None


@lru_cache(maxsize=64)
def _groups_with_dot(locale: babel.Locale) -> bool:
    return str(babel.numbers.get_group_symbol(locale=locale)) == "."


def parse_decimal(text: str, lang: str | None = None) -> decimal.Decimal:
    """A written number as an exact decimal, read the way the language writes numbers.

    Machine form (``"-525.19"``, ``"150000"``) reads the same everywhere. A comma is read with
    the language's own conventions (babel's ``parse_decimal`` for the locale, strict about
    grouping): ``"1,234"`` is one thousand two hundred and thirty-four in English but 1.234 in
    Russian and Indonesian, where the comma is the decimal separator. Where ``"."`` groups
    thousands (Indonesian, German), ``"150.000"`` is a hundred and fifty thousand, while
    ``"525.19"`` and ``"0.125"`` stay decimals. When the locale does not accept the text, or
    no language is given: with both ``.`` and ``,`` the last one is the decimal separator
    (``"1.234,56"``, ``"1,234.56"``); several commas group thousands; a single comma is a
    decimal separator (``"12,5"``). Spaces (also no-break ones) group thousands.

    Args:
        text: the written number.
        lang: the language the list is written in (``"en"``, ``"ru"``, ``"id"``); None reads
            only the language-neutral forms above.

    Raises:
        ValueError: the text is not a number.
    """
    raw = text.strip().translate(_SPACES_IN_NUMBERS)
    plain = _PLAIN.fullmatch(raw) is not None
    locale = _locale_or_none(lang)
    if locale is not None and (
        ("," in raw and not plain)
        or (_groups_with_dot(locale) and _DOT_GROUPED.fullmatch(raw) is not None)
    ):
        try:
            return decimal.Decimal(babel.numbers.parse_decimal(raw, locale=locale, strict=True))
        except (babel.numbers.NumberFormatError, decimal.InvalidOperation):
            pass
    if not plain:
        if "," in raw and "." in raw:
            grouping = "," if raw.rfind(",") < raw.rfind(".") else "."
            raw = raw.replace(grouping, "").replace(",", ".")
        elif raw.count(",") > 1 or raw.count(".") > 1:
            raw = raw.replace(",", "") if raw.count(",") > 1 else raw.replace(".", "")
        else:
            raw = raw.replace(",", ".")
    if not _PLAIN.fullmatch(raw):
        raise ValueError(f"expected a number like 525.19, got {text.strip()!r}")
    return decimal.Decimal(raw)


@lru_cache(maxsize=4096)
def currency_code(token: str) -> str | None:
    """The ISO 4217 code a written marker stands for (``"rub"``, ``"₽"``, ``"CNY"``), or None."""
    lowered = token.lower()
    if lowered in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS[lowered]
    if re.fullmatch(r"[A-Za-z]{3}", token) and babel.numbers.is_currency(token.upper()):
        return token.upper()
    return None


@attrs.frozen
class Amount:
    """An amount of money.

    Attributes:
        value: the amount (may be negative).
        currency: the ISO 4217 code (``"RUB"``).
    """

    value: decimal.Decimal
    currency: str


_AMOUNT = re.compile(
    r"^\s*(?:(?P<pre>[^\d\s+\-\u2212.,]+)\s*)?(?P<num>[+\-\u2212]?[\d\s\u00a0.,]*\d[\d.,]*)"
    r"\s*(?P<post>\S+)?\s*$"
)


def parse_amount(text: str, lang: str | None = None) -> Amount:
    """A written amount: ``"199 CNY"``, ``"-525.19 RUB"``, ``"$5"``, ``"525,19 руб."``.

    The number is read as :func:`parse_decimal` reads it in ``lang``.

    Raises:
        ValueError: no number, or no known currency (ISO code or a common symbol).
    """
    m = _AMOUNT.match(text)
    if m is None:
        raise ValueError(f"expected an amount and a currency like '199 CNY', got {text.strip()!r}")
    marker = m.group("pre") or m.group("post")
    if marker is None or (m.group("pre") and m.group("post")):
        raise ValueError(
            f"expected an amount with one currency code like '199 CNY', got {text.strip()!r}"
        )
    code = currency_code(marker)
    if code is None:
        raise ValueError(
            f"expected an ISO 4217 currency code (RUB, USD, CNY, IDR...), got {marker!r}"
        )
    return Amount(parse_decimal(m.group("num"), lang), code)


def parse_date(text: str) -> dt.date:
    """A written date: ISO ``2026-01-16``, ``16.01.2026`` / ``16/01/2026``, or a date-time
    such as ``2026-01-16 00:00:00`` (how a spreadsheet date cell reads; the time is ignored).

    Raises:
        ValueError: not one of those forms, or not a real day.
    """
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    if len(raw) > 10:
        try:
            return dt.datetime.fromisoformat(raw).date()
        except ValueError:
            pass
    raise ValueError(f"expected a date like 2026-01-16, got {raw!r}")


_TIME = re.compile(r"(?:\d{4}-\d{2}-\d{2}[ T])?(\d{1,2})[:.](\d{2})(?::(\d{2})(?:\.\d+)?)?")


def parse_time(text: str) -> dt.time:
    """A written time of day: ``14:30``, ``9:05``, ``14:30:00`` or a date-time such as
    ``2026-01-16 14:30:00`` (how a spreadsheet cell reads; seconds are not read aloud).

    Raises:
        ValueError: not HH:MM, or out of range.
    """
    raw = text.strip()
    m = _TIME.fullmatch(raw)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3) or 0) > 59:
        raise ValueError(f"expected a time like 14:30, got {raw!r}")
    return dt.time(int(m.group(1)), int(m.group(2)))


# --------------------------------------------------------------------------------- reading


def _clean(words: str) -> str:
    return re.sub(r"\s+", " ", words.replace(",", " ")).strip()


def _n2w(value: decimal.Decimal | int, lang: str, **kwargs: str) -> str:
    """num2words, with its assorted failures (TypeError, KeyError, IndexError... from
    converters that do not cover a case) turned into one ValueError that says what failed."""
    try:
        return str(num2words(value, lang=normalise_lang(lang), **kwargs))
    except LanguageNotSupported:
        raise
    except Exception as exc:  # third-party converters raise anything
        how = kwargs.get("to", "cardinal")
        raise ValueError(
            f"num2words cannot read {value} as {how} in {lang!r} ({type(exc).__name__})"
        ) from None


@lru_cache(maxsize=65536)
def _cardinal(value: decimal.Decimal, lang: str, gender: str = "") -> str:
    if gender:
        try:
            return _clean(_n2w(value, lang, gender=gender))
        except ValueError:
            pass
    return _clean(_n2w(value, lang))


def read_number(value: decimal.Decimal | int, lang: str) -> str:
    """A number in words: ``1234.5`` -> "one thousand two hundred and thirty-four point five"."""
    return _cardinal(decimal.Decimal(value), lang)


def read_digits(text: str, lang: str) -> str:
    """Digit by digit (seed 004's "Read Digit by Digit"): ``"138"`` -> "one three eight".

    Characters other than digits (``+``, spaces, dashes) are dropped.

    Raises:
        ValueError: there is no digit in ``text``.
    """
    digits = [c for c in text if c.isdigit()]
    if not digits:
        raise ValueError(f"expected digits, got {text.strip()!r}")
    return " ".join(_cardinal(decimal.Decimal(int(d)), lang) for d in digits)


def read_letters(text: str, lang: str) -> str:
    """Letter by letter (seed 004's "Read Letter by Letter"): ``"VIP"`` -> "V I P".

    Engines pronounce a lone letter by its name, so the letters are only spaced out; digits in
    between are read as digits.

    Raises:
        ValueError: there is no letter or digit in ``text``.
    """
    out = []
    for c in text:
        if c.isalpha():
            out.append(c.upper())
        elif c.isdigit():
            out.append(_cardinal(decimal.Decimal(int(c)), lang))
    if not out:
        raise ValueError(f"expected letters, got {text.strip()!r}")
    return " ".join(out)


def _month(date: dt.date, lang: str) -> str:
    names = babel.dates.get_month_names("wide", context="format", locale=_locale(lang))
    return str(names[date.month])


def read_date(date: dt.date, lang: str) -> str:
    """A date as spoken: en "January sixteenth twenty twenty-six", ru "шестнадцатое января
    две тысячи двадцать шестого года", id "enam belas Januari dua ribu dua puluh enam".

    Other languages: day and year as cardinals around babel's month name in the genitive
    ("format") form, in the order of the locale's long date pattern.
    """
    base = _base(lang)
    if base == "en":
        day = _n2w(date.day, lang, to="ordinal")
        year = _n2w(date.year, lang, to="year")
        return _clean(f"{_month(date, lang)} {day} {year}")
    if base == "ru":
        day = _n2w(date.day, lang, to="ordinal", gender="n")
        year = _n2w(date.year, lang, to="ordinal", case="g")
        return _clean(f"{day} {_month(date, lang)} {year} года")
    day_words = _cardinal(decimal.Decimal(date.day), lang)
    year_words = _cardinal(decimal.Decimal(date.year), lang)
    pattern = str(babel.dates.get_date_format("long", locale=_locale(lang)).pattern)
    order = sorted(
        [("d", pattern.find("d")), ("M", pattern.find("M")), ("y", pattern.find("y"))],
        key=lambda item: item[1],
    )
    parts = {"d": day_words, "M": _month(date, lang), "y": year_words}
    return _clean(" ".join(parts[key] for key, _ in order))


def _plural(lang: str, n: int | decimal.Decimal) -> str:
    return str(_locale(lang).plural_form(n))


def _form(forms: dict[str, str], lang: str, n: int | decimal.Decimal) -> str:
    return forms.get(_plural(lang, n), forms["other"])


def _generic_currency_name(code: str, lang: str, n: int | decimal.Decimal) -> str:
    forms = _SPOKEN_CURRENCY.get((_base(lang), code))
    if forms is not None:
        return _form(forms, lang, n)
    count = n if isinstance(n, int) else float(n)
    return str(babel.numbers.get_currency_name(code, count=count, locale=_locale(lang))).lower()


@lru_cache(maxsize=256)
def _currency_gender(code: str, lang: str) -> str:
    """``"f"`` when the number before the currency must be feminine (Russian "две иены",
    "одна рупия": names ending in -а/-я are feminine), else ``""``."""
    if _base(lang) != "ru":
        return ""
    return "f" if _generic_currency_name(code, lang, 1).endswith(("а", "я")) else ""


@lru_cache(maxsize=65536)
def read_currency(value: decimal.Decimal, currency: str, lang: str) -> str:
    """An amount of money in words, with the grammatical agreement of the language.

    ``num2words`` does the reading when it knows the currency in that language (it agrees
    "рубль / рубля / рублей"); otherwise the integer part is read as a cardinal followed by the
    currency's spoken name (babel, with babel's plural rules), and the minor units, when not
    zero, as a cardinal followed by the minor unit's name. Zero minor units are not read, and
    neither is a zero major part when there are minor units (0.01 RUB is "одна копейка"). When
    the minor unit has no known name in the language, the amount is read as a decimal number
    followed by the currency's name ("две целых пять десятых юаня").
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
    base = _base(lang)
    try:
        words = _n2w(magnitude, lang, to="currency", currency=currency, separator="|")
        major, _, minor = words.partition("|")
        if cents == 0:
            text = major
        elif whole == 0 and minor.strip():
            text = minor
        else:
            text = f"{major} {minor}"
    except ValueError:  # num2words has no forms for this currency in this language
        minor_forms = _MINOR_UNIT.get((base, currency)) or _MINOR_UNIT.get((base, "*"))
        gender = _currency_gender(currency, lang)
        if cents and minor_forms is None:
            number = magnitude.normalize()
            name = _generic_currency_name(currency, lang, number)
            text = f"{_cardinal(number, lang, gender)} {name}"
        else:
            parts = []
            if whole or not cents:
                name = _generic_currency_name(currency, lang, whole)
                parts.append(f"{_cardinal(decimal.Decimal(whole), lang, gender)} {name}")
            if cents and minor_forms is not None:
                minor_word = _form(minor_forms, lang, cents)
                parts.append(f"{_cardinal(decimal.Decimal(cents), lang)} {minor_word}")
            text = " ".join(parts)
    if negative:
        text = f"{_minus(lang)} {text}"
    return _clean(text)


@lru_cache(maxsize=64)
def _minus(lang: str) -> str:
    """The language's word for minus, as num2words says it ("minus", "минус", "min")."""
    try:
        words = _cardinal(decimal.Decimal(-1), lang)
    except ValueError:
        return "minus"
    one = _cardinal(decimal.Decimal(1), lang)
    return words.replace(one, "").strip(" -()") or "minus"


def read_time(time: dt.time, lang: str) -> str:
    """A time of day: en "two thirty PM", "nine oh five AM", "two PM", "noon", "midnight";
    ru "четырнадцать часов тридцать минут"; id "pukul empat belas lewat tiga puluh menit";
    other languages "HOURS MINUTES".

    English says "AM"/"PM" in capitals: engines read them as the abbreviations (espeak-ng
    says "p.m." as one word-like unit), and the word stays whole in fragment mode.
    """
    base = _base(lang)
    h, m = time.hour, time.minute
    if base == "en":
        if m == 0 and h in (0, 12):
            return "midnight" if h == 0 else "noon"
        hour12 = h % 12 or 12
        suffix = "AM" if h < 12 else "PM"
        if m == 0:
            return _clean(f"{read_number(hour12, lang)} {suffix}")
        minutes = f"oh {read_number(m, lang)}" if m < 10 else read_number(m, lang)
        return _clean(f"{read_number(hour12, lang)} {minutes} {suffix}")
    if base == "ru":
        hour_word = {"one": "час", "few": "часа"}.get(_plural(lang, h), "часов")
        text = f"{_cardinal(decimal.Decimal(h), lang)} {hour_word}"
        if m:
            minute_word = {"one": "минута", "few": "минуты"}.get(_plural(lang, m), "минут")
            text += f" {_cardinal(decimal.Decimal(m), lang, 'f')} {minute_word}"
        return _clean(text)
    if base == "id":
        text = f"pukul {read_number(h, lang)}"
        if m:
            text += f" lewat {read_number(m, lang)} menit"
        return _clean(text)
    text = read_number(h, lang)
    if m:
        text += " " + read_number(m, lang)
    return _clean(text)


_NUMBER_IN_TEXT = re.compile(
    r"(?<![\w.])[+\-\u2212]?(?:\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\w])"
)
# Dates and times written in running text ("Pay by 16.01.2026", "at 14:30"): read as such,
# not as "sixteen point zero one" or "fourteen:thirty".
_DATE_IN_TEXT = re.compile(
    r"(?<![\w.,/-])(?:\d{4}-\d{2}-\d{2}|\d{1,2}([./])\d{1,2}\1\d{4})(?![\w])"
)
_TIME_IN_TEXT = re.compile(r"(?<![\w.,:])\d{1,2}:\d{2}(?![\w:])")


@lru_cache(maxsize=4096)
def spell_numbers_in(text: str, lang: str) -> str:
    """Spell out the written numbers in running text ("Press 1" -> "Press one").

    Dates (``2026-01-16``, ``16.01.2026``) and times (``14:30``) are read as in ``<date>``
    and ``<time>``; grouped thousands (``1,500`` in English, ``150.000`` in Indonesian) as
    :func:`parse_decimal` reads them in ``lang``. Long digit strings (7 digits or more, or
    starting with 0: phone numbers, account numbers) are read digit by digit, as a person
    would read them.
    """

    def date(m: re.Match[str]) -> str:
        try:
            return read_date(parse_date(m.group(0)), lang)
        except ValueError:  # not a real day: read the numbers
            return m.group(0).replace(".", " ").replace("/", " ").replace("-", " ")

    def time(m: re.Match[str]) -> str:
        try:
            return read_time(parse_time(m.group(0)), lang)
        except ValueError:  # 25:99 is not a time: read the numbers
            return m.group(0).replace(":", " ")

    def number(m: re.Match[str]) -> str:
        token = m.group(0)
        digits = token.lstrip("+-\u2212")
        if digits.isdigit() and (len(digits) >= 7 or (len(digits) > 1 and digits[0] == "0")):
            return read_digits(digits, lang)
        try:
            return read_number(parse_decimal(token, lang), lang)
        except ValueError:  # grouping the language does not use ("1.500" in English)
            return " ".join(read_number(int(part), lang) for part in re.findall(r"\d+", token))

    text = _DATE_IN_TEXT.sub(date, text)
    text = _TIME_IN_TEXT.sub(time, text)
    return _NUMBER_IN_TEXT.sub(number, text)


# Words that are spoken as one unit with the word before them ("five hundred", "dua puluh",
# "пять тысяч"). Fragments joined there sound like one phrase, and the number of distinct
# fragments stays small: a digit word times a handful of multipliers.
_ATTACH = {
    "en": frozenset({"hundred", "thousand", "million", "billion"}),
    "id": frozenset({"puluh", "ratus", "belas", "ribu", "juta", "miliar"}),
    "ru": frozenset({"тысяча", "тысячи", "тысяч", "миллион", "миллиона", "миллионов"}),
}


def fragment_chunks(words: str, lang: str) -> tuple[str, ...]:
    """Split read-out personal data into cacheable fragments.

    One word per fragment, except that multiplier words stay with the word before them, so
    "five hundred and twenty-five roubles" gives "five hundred", "and", "twenty-five",
    "roubles". Languages without rules here split into words.
    """
    attach = _ATTACH.get(_base(lang), frozenset())
    chunks: list[str] = []
    for word in words.split():
        if chunks and word.lower().strip(",.") in attach:
            chunks[-1] = f"{chunks[-1]} {word}"
        else:
            chunks.append(word)
    return tuple(chunks)
