"""Letters an engine says as letters: the written form that goes to the engine.

Engines guess how to read a short upper-case token, and guess wrong in the places that matter:
espeak-ng reads a lone "AM" as the word "am", a spelled-out "A M" as "uh em" (the article, then
the letter), and Russian "Б" or "В" inside a sentence as the particle "бы" and the preposition
"в". So the text sent to the engine spells such letters in a form every engine reads as letter
names, with no pause between them:

- Latin letters are joined by hyphens ("A-M", "V-I-P"; a lone "A" inside a sentence is "A-");
- Cyrillic letters are written as their names ("ИП" -> "и пэ", "Б" -> "бэ"), since hyphens do
  not help there ("Б-Б" is read "бы-бы").

Checked against espeak-ng's phonemes in ``tests/speech/test_breath.py``. This runs on the text
sent to the engine (sentence units, fragments and SSML alike), after the template has read the
values, so previews and ``SpeechPlan.text`` keep the written form.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["speakable", "speakable_ssml", "spell_letters"]

_UPPER = "A-Z\u0410-\u042f\u0401"  # Latin and Cyrillic capitals (Ё included)
_LETTER = rf"(?<![\w-])[{_UPPER}](?![\w-])"
# Two or more single capitals in a row: "A M", "V I P" (read_letters' spaced-out letters).
_RUN = re.compile(rf"{_LETTER}(?: {_LETTER})+")
# A lone two-capital token: "AM", "PM", "ИП" (three or more could be a name in capitals).
_PAIR = re.compile(rf"(?<![\w-])[{_UPPER}]{{2}}(?![\w-])")
# Markup, and <say-as> elements whole (the engine spells their content itself).
_MARKUP = re.compile(r"(<say-as\b[^>]*>.*?</say-as>|<[^>]*>)", re.DOTALL)
_LOWER = re.compile(r"[a-z\u0430-\u044f\u0451]")

_NAMES_RU = "а бэ вэ гэ дэ е ё жэ зэ и й ка эль эм эн о пэ эр эс тэ у эф ха цэ че ша ща ъ ы ь э ю я"
_RUSSIAN = dict(zip("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ", _NAMES_RU.split(" "), strict=True))
_RUSSIAN |= {"Й": "и краткое", "Ъ": "твёрдый знак", "Ь": "мягкий знак"}


def spell_letters(letters: str, *, alone: bool = False) -> str:
    """Capital letters in the form engines read as letter names.

    Args:
        letters: the letters, with or without spaces between them (``"AM"``, ``"A M"``).
        alone: the letters are the whole text; a lone Latin letter then needs no hyphen
            (engines say a lone "A" as the letter).
    """
    chars = [c for c in letters if not c.isspace()]
    if chars and all(c in _RUSSIAN for c in chars):
        return " ".join(_RUSSIAN[c] for c in chars)
    if len(chars) == 1 and not alone:
        return f"{chars[0]}-"
    return "-".join(chars)


@lru_cache(maxsize=8192)
def speakable(text: str) -> str:
    """``text`` with spaced-out capitals and two-letter capital tokens spelled as letters.

    Two-letter tokens are left alone in text written all in capitals ("ОПЛАТИТЕ ДО 5
    ДЕКАБРЯ"): there they are words, not abbreviations.

    >>> speakable("ten AM, code A M, ИП Иванов")
    'ten A-M, code A-M, и пэ Иванов'
    """
    text = _RUN.sub(lambda m: spell_letters(m.group(0)), text)
    if _LOWER.search(text) or " " not in text.strip():
        text = _PAIR.sub(lambda m: spell_letters(m.group(0)), text)
    return text


def speakable_ssml(document: str) -> str:
    """An SSML document with :func:`speakable` applied to its text, not to its markup or the
    content of ``<say-as>`` (the engine spells that itself: "A-M" there is read "A hyphen
    M")."""
    parts = _MARKUP.split(document)
    return "".join(p if i % 2 else speakable(p) for i, p in enumerate(parts))
