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

from autoinformer.speech.money import read_currency
from autoinformer.speech.wording import (
    CASES,
    GENDERS,
    LanguageNotSupported,
    base_lang,
    cardinal,
    cardinal_words,
    clean,
    n2w,
    normalise_lang,
    noun_form,
)
from autoinformer.speech.wording import locale as _locale

__all__ = [
    "Amount",
    "LanguageNotSupported",
    "currency_code",
    "fragment_chunks",
    "gender_before",
    "is_currency_word",
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

# Written currency markers that are not ISO codes; ISO codes are checked with babel. Russian
# lists write the unit after the amount in any of its forms ("525,19 рублей", "100 грн").
_CURRENCY_SYMBOLS = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "CNY",
    "₽": "RUB",
    "₴": "UAH",
    "₸": "KZT",
    "rp": "IDR",
    "rp.": "IDR",
    "rub": "RUB",
    "rur": "RUB",  # the pre-1998 code, still in bank exports: the rouble, not the 1991 one
    "yuan": "CNY",
    "rmb": "CNY",
    "rupiah": "IDR",
    "р": "RUB",
    "р.": "RUB",
    "руб": "RUB",
    "руб.": "RUB",
    "рубль": "RUB",
    "рубля": "RUB",
    "рублей": "RUB",
    "грн": "UAH",
    "грн.": "UAH",
    "гривна": "UAH",
    "гривны": "UAH",
    "гривен": "UAH",
    "тенге": "KZT",
    "тг": "KZT",
    "тг.": "KZT",
    "доллар": "USD",
    "доллара": "USD",
    "долларов": "USD",
    "долл": "USD",
    "долл.": "USD",
    "евро": "EUR",
    "юань": "CNY",
    "юаня": "CNY",
    "юаней": "CNY",
    "сум": "UZS",
    "сума": "UZS",
    "сумов": "UZS",
}

# --------------------------------------------------------------------------------- parsing


_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# "150.000" where "." groups thousands (id, de): a digit other than a leading 0, then groups of 3.
_DOT_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(\.\d{3})+")
_NOT_NUMERIC = re.compile(r"[^0-9.,+\-'\u2019]")  # what may remain of a written number
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
    decimal separator (``"12,5"``). Spaces (also no-break ones) group thousands. Exponents
    (``"1e3"``), brackets and letters are refused: nobody writes a balance that way, and an
    exponent would let one cell ask num2words for a number of a billion digits.

    Args:
        text: the written number.
        lang: the language the list is written in (``"en"``, ``"ru"``, ``"id"``); None reads
            only the language-neutral forms above.

    Raises:
        ValueError: the text is not a number.
    """
    raw = text.strip().translate(_SPACES_IN_NUMBERS)
    if _NOT_NUMERIC.search(raw):  # "1,5e3", "N/A", "(68.27)": babel would take exponents
        raise ValueError(f"expected a number like 525.19, got {text.strip()!r}")
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


def is_currency_word(token: str) -> bool:
    """True when ``token`` is a written currency word or symbol (``руб.``, ``₽``, ``rupiah``),
    not an ISO code."""
    return token.lower() in _CURRENCY_SYMBOLS


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


_cardinal = cardinal_words  # the cached reading (benchmarks clear its cache)


def _case_code(case: str) -> str:
    """num2words' code for a case name (``"genitive"`` -> ``"g"``); ``""`` is nominative."""
    if not case:
        return ""
    try:
        return CASES[case]
    except KeyError:
        raise ValueError(f"unknown case {case!r}: expected one of {', '.join(CASES)}") from None


def read_number(
    value: decimal.Decimal | int, lang: str, *, gender: str = "", case: str = ""
) -> str:
    """A number in words: ``1234.5`` -> "one thousand two hundred and thirty-four point five".

    Args:
        value: the number.
        lang: the language.
        gender: ``"m"`` (the counting form, default), ``"f"`` or ``"n"``: Russian "одна",
            "две" before a feminine noun (``<number gender="f">``).
        case: a case name from :data:`~autoinformer.speech.wording.CASES` (``"genitive"``).

    Raises:
        ValueError: an unknown gender or case, or a number num2words cannot read.
    """
    if gender and gender not in GENDERS:
        raise ValueError(f"unknown gender {gender!r}: expected one of {', '.join(GENDERS)}")
    return cardinal(decimal.Decimal(value), lang, gender, _case_code(case))


# What may stand between the digits of a phone or account number read digit by digit.
_DIGIT_SEPARATORS = frozenset(" \u00a0+-\u2212()./#*")


def read_digits(text: str, lang: str) -> str:
    """Digit by digit (seed 004's "Read Digit by Digit"): ``"138"`` -> "one three eight".

    Separators between digits (``+``, spaces, dashes, brackets, dots) are dropped.

    Raises:
        ValueError: there is no digit in ``text``, or a letter or other sign is among the
            digits (``"N/A"``, ``"-68.27р"``): what was meant cannot be told.
    """
    digits = [c for c in text if c.isdigit()]
    stray = [c for c in text if not c.isdigit() and c not in _DIGIT_SEPARATORS]
    if not digits or stray:
        raise ValueError(
            f"expected digits (separated by spaces, + - ( ) or dots), got {text.strip()!r}"
        )
    return " ".join(cardinal(decimal.Decimal(int(d)), lang) for d in digits)


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
            out.append(cardinal(decimal.Decimal(int(c)), lang))
    if not out:
        raise ValueError(f"expected letters, got {text.strip()!r}")
    return " ".join(out)


def _month(date: dt.date, lang: str) -> str:
    names = babel.dates.get_month_names("wide", context="format", locale=_locale(lang))
    return str(names[date.month])


def read_date(date: dt.date, lang: str, *, case: str = "") -> str:
    """A date as spoken: en "January sixteenth twenty twenty-six", ru "шестнадцатое января
    две тысячи двадцать шестого года", id "enam belas Januari dua ribu dua puluh enam".

    Args:
        date: the day.
        lang: the language.
        case: a case name (``"genitive"``): Russian "до седьмого декабря" asks the day in
            the genitive; the month and year are in the genitive anyway. Languages without
            case ignore it.

    Other languages: day and year as cardinals around babel's month name in the genitive
    ("format") form, in the order of the locale's long date pattern.
    """
    base = base_lang(lang)
    code = _case_code(case) or "n"
    if base == "en":
        day = n2w(date.day, lang, to="ordinal")
        year = n2w(date.year, lang, to="year")
        return clean(f"{_month(date, lang)} {day} {year}")
    if base == "ru":
        day = n2w(date.day, lang, to="ordinal", gender="n", case=code)
        year = n2w(date.year, lang, to="ordinal", case="g")
        return clean(f"{day} {_month(date, lang)} {year} года")
    day_words = cardinal(decimal.Decimal(date.day), lang)
    year_words = cardinal(decimal.Decimal(date.year), lang)
    pattern = str(babel.dates.get_date_format("long", locale=_locale(lang)).pattern)
    order = sorted(
        [("d", pattern.find("d")), ("M", pattern.find("M")), ("y", pattern.find("y"))],
        key=lambda item: item[1],
    )
    parts = {"d": day_words, "M": _month(date, lang), "y": year_words}
    return clean(" ".join(parts[key] for key, _ in order))


# Russian hours and minutes after a number: nominative forms by plural category, and the
# oblique cases' singular (after a last digit 1: "двадцати одного часа") and plural.
_HOUR = {"one": "час", "few": "часа", "many": "часов", "other": "часа"}
_HOUR_OBLIQUE = {
    "g1": "часа", "g": "часов", "d1": "часу", "d": "часам", "a1": "час",
    "i1": "часом", "i": "часами", "p1": "часе", "p": "часах",
}  # fmt: skip
_MINUTE = {"one": "минута", "few": "минуты", "many": "минут", "other": "минуты"}
_MINUTE_OBLIQUE = {
    "g1": "минуты", "g": "минут", "d1": "минуте", "d": "минутам", "a1": "минуту",
    "i1": "минутой", "i": "минутами", "p1": "минуте", "p": "минутах",
}  # fmt: skip


def read_time(time: dt.time, lang: str, *, case: str = "") -> str:
    """A time of day: en "two thirty PM", "nine oh five AM", "two PM", "noon", "midnight";
    ru "четырнадцать часов тридцать минут" (``case="genitive"``: "до восемнадцати часов");
    id "pukul empat belas lewat tiga puluh menit"; other languages "HOURS MINUTES".

    English says "AM"/"PM" in capitals: engines read them as the abbreviations (espeak-ng
    says "p.m." as one word-like unit), and the word stays whole in fragment mode.
    """
    base = base_lang(lang)
    code = _case_code(case)
    h, m = time.hour, time.minute
    if base == "en":
        if m == 0 and h in (0, 12):
            return "midnight" if h == 0 else "noon"
        hour12 = h % 12 or 12
        suffix = "AM" if h < 12 else "PM"
        if m == 0:
            return clean(f"{read_number(hour12, lang)} {suffix}")
        minutes = f"oh {read_number(m, lang)}" if m < 10 else read_number(m, lang)
        return clean(f"{read_number(hour12, lang)} {minutes} {suffix}")
    if base == "ru":
        hour_word = noun_form(_HOUR, _HOUR_OBLIQUE, lang, h, code)
        text = f"{cardinal(decimal.Decimal(h), lang, '', code)} {hour_word}"
        if m:
            minute_word = noun_form(_MINUTE, _MINUTE_OBLIQUE, lang, m, code)
            text += f" {cardinal(decimal.Decimal(m), lang, 'f', code)} {minute_word}"
        return clean(text)
    if base == "id":
        text = f"pukul {read_number(h, lang)}"
        if m:
            text += f" lewat {read_number(m, lang)} menit"
        return clean(text)
    text = read_number(h, lang)
    if m:
        text += " " + read_number(m, lang)
    return clean(text)


_NUMBER_IN_TEXT = re.compile(
    r"(?<![\w.])[+\-\u2212]?(?:\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\w])"
)
# Dates and times written in running text ("Pay by 16.01.2026", "at 14:30"): read as such,
# not as "sixteen point zero one" or "fourteen:thirty".
_DATE_IN_TEXT = re.compile(
    r"(?<![\w.,/-])(?:\d{4}-\d{2}-\d{2}|\d{1,2}([./])\d{1,2}\1\d{4})(?![\w])"
)
_TIME_IN_TEXT = re.compile(r"(?<![\w.,:])\d{1,2}:\d{2}(?![\w:])")
# Russian nouns a plain-text number agrees with in gender ("1 минута" is "одна минута", "2
# недели" "две недели"); other numbers are read in counting form (masculine, nominative):
# <number gender="f" case="genitive"> asks for any other form.
_RU_NOUN_GENDER = (
    (re.compile(r"\s*(?:минут|секунд|недел|копе[йе]к|гривн|рупи|иен|попыт|штук|тысяч)", re.I), "f"),
    (re.compile(r"\s*(?:сообщени|уведомлени|письм)", re.I), "n"),
)


def gender_before(text: str, lang: str, at: int = 0) -> str:
    """The gender a number written before ``text[at:]`` takes: ``"f"`` before a common
    Russian feminine noun ("минуты", "недели", "копеек"), ``"n"`` before a neuter one
    ("сообщения"), ``""`` (counting form) otherwise and in other languages."""
    if base_lang(lang) != "ru":
        return ""
    return next((g for p, g in _RU_NOUN_GENDER if p.match(text, at)), "")


@lru_cache(maxsize=4096)
def spell_numbers_in(text: str, lang: str) -> str:
    """Spell out the written numbers in running text ("Press 1" -> "Press one").

    Dates (``2026-01-16``, ``16.01.2026``) and times (``14:30``) are read as in ``<date>``
    and ``<time>``; grouped thousands (``1,500`` in English, ``150.000`` in Indonesian) as
    :func:`parse_decimal` reads them in ``lang``. Long digit strings (7 digits or more, or
    starting with 0: phone numbers, account numbers) are read digit by digit, as a person
    would read them. A Russian whole number before a common feminine or neuter noun agrees
    with it ("1 минута" -> "одна минута", "2 недели" -> "две недели").
    """
    russian = base_lang(lang) == "ru"

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
        gender = ""
        if russian and digits.isdigit():
            gender = gender_before(m.string, lang, m.end())
        try:
            return read_number(parse_decimal(token, lang), lang, gender=gender)
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
    attach = _ATTACH.get(base_lang(lang), frozenset())
    chunks: list[str] = []
    for word in words.split():
        if chunks and word.lower().strip(",.") in attach:
            chunks[-1] = f"{chunks[-1]} {word}"
        else:
            chunks.append(word)
    return tuple(chunks)
