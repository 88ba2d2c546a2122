"""Numbers as words with grammar: the language code, plural category, gender and case.

The shared ground of :mod:`~autoinformer.speech.readas` (dates, times, numbers) and
:mod:`~autoinformer.speech.money` (amounts): ``num2words`` reads the numbers, ``babel`` (CLDR)
says which plural form a count takes. This module adds the little grammar num2words gets wrong
or leaves to the caller:

- a gender asked of a Russian number applies to its last word only: "одна тысяча один
  миллион" is wrong, the millions keep their own (masculine) gender, so 1,000,000 feminine
  roubles... hryvnias are "один миллион гривен" and 2,000,001 is "два миллиона одна гривна";
- grammatical case by name (``"genitive"``: "до восемнадцати часов"), and the accusative of
  things (inanimate: "две минуты", not the animate "двух");
- nouns after a number in an oblique case: singular after a last digit 1 ("двадцати одного
  часа"), plural otherwise ("восемнадцати часов").

Pure functions, cached: the same few hundred numbers repeat across a campaign.
"""

from __future__ import annotations

import decimal
import re
from functools import lru_cache

import babel
from num2words import CONVERTER_CLASSES, num2words

__all__ = [
    "CASES",
    "GENDERS",
    "LanguageNotSupported",
    "base_lang",
    "cardinal",
    "cardinal_words",
    "clean",
    "locale",
    "n2w",
    "normalise_lang",
    "noun_form",
    "plural",
]

CASES = {
    "nominative": "n",
    "genitive": "g",
    "dative": "d",
    "accusative": "a",
    "instrumental": "i",
    "prepositional": "p",
}
"""Grammatical cases a template may ask for (``<date case="genitive">``), by their names in
templates, to num2words' codes. Languages without case (English, Indonesian) read them all the
same."""

GENDERS = {"m": "m", "f": "f", "n": "n"}
"""Genders a template may ask of a number (``<number gender="f">``): masculine (the counting
form), feminine, neuter."""


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
def locale(lang: str) -> babel.Locale:
    """babel's locale for ``lang`` (plural rules, month and currency names)."""
    try:
        return babel.Locale.parse(normalise_lang(lang))
    except (ValueError, babel.UnknownLocaleError):
        raise LanguageNotSupported(f"babel has no locale data for {lang!r}") from None


def base_lang(lang: str) -> str:
    """The language without its region: ``"ru"`` for ``"ru_RU"``."""
    return normalise_lang(lang).split("_")[0]


def clean(words: str) -> str:
    """num2words' output as running words: commas dropped, single spaces."""
    return re.sub(r"\s+", " ", words.replace(",", " ")).strip()


def n2w(value: decimal.Decimal | int, lang: str, **kwargs: object) -> str:
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


def plural(lang: str, n: int | decimal.Decimal) -> str:
    """The CLDR plural category of ``n`` in ``lang`` (``one``, ``few``, ``many``, ``other``)."""
    return str(locale(lang).plural_form(n))


def _ru_grammar(gender: str, case: str) -> dict[str, object]:
    kwargs: dict[str, object] = {}
    if gender:
        kwargs["gender"] = gender
    if case and case != "n":
        kwargs["case"] = case
        if case == "a":  # things are counted, not people: "две минуты", not "двух"
            kwargs["animate"] = False
    return kwargs


def cardinal(value: decimal.Decimal, lang: str, gender: str = "", case: str = "") -> str:
    """A number in words, in ``gender`` (``m``/``f``/``n``) and ``case`` (num2words' code)
    where the language has them, in counting form (masculine, nominative) otherwise.

    In Russian the gender and case of a whole number reach its last three digits only: the
    thousands are feminine and the millions masculine whatever is counted (num2words would
    say "одна миллион" for a feminine million).
    """
    # Cached by the written value: 1234.5 and 1234.50 are equal Decimals but read apart
    # ("пять десятых", "пятьдесят сотых").
    return cardinal_words(str(value), lang, gender, case)


@lru_cache(maxsize=65536)
def cardinal_words(written: str, lang: str, gender: str = "", case: str = "") -> str:
    """:func:`cardinal` of a number written as ``str(Decimal)``, cached."""
    value = decimal.Decimal(written)
    if _base_or_empty(lang) == "ru" and (gender or case) and value == value.to_integral_value():
        n = int(value)
        grammar = _ru_grammar(gender, case)
        sign, n = ("минус ", -n) if n < 0 else ("", n)
        high, low = n - n % 1000, n % 1000
        words = []
        if high:
            words.append(n2w(high, lang, **_ru_grammar("", case)))
        if low or not high:
            words.append(n2w(low, lang, **grammar))
        return clean(sign + " ".join(words))
    if gender or case:
        try:
            return clean(n2w(value, lang, **_ru_grammar(gender, case)))
        except ValueError:
            pass
    return clean(n2w(value, lang))


def _base_or_empty(lang: str) -> str:
    try:
        return base_lang(lang)
    except LanguageNotSupported:
        return ""


def noun_form(
    forms: dict[str, str], oblique: dict[str, str] | None, lang: str, n: int, case: str = ""
) -> str:
    """The form of a noun after the number ``n``.

    Args:
        forms: nominative forms by CLDR plural category (``{"one": "час", "few": "часа",
            "many": "часов"}``); ``"other"`` or the last given is the fallback.
        oblique: for Russian oblique cases, ``{"g1": "часа", "g": "часов", "d1": ...}``:
            the singular (after a last digit 1, not 11) and the plural of each case.
        lang: the language.
        n: the number before the noun.
        case: num2words' case code; empty or ``"n"`` is the nominative.
    """
    if case and case != "n" and oblique is not None:
        one = n % 10 == 1 and n % 100 != 11
        key = case + ("1" if one else "")
        if key in oblique:
            return oblique[key]
        if case == "a" and not one:  # the accusative of things is the nominative
            return forms.get(plural(lang, n), forms.get("other", ""))
    category = plural(lang, n)
    return forms.get(category) or forms.get("other") or next(iter(forms.values()))
