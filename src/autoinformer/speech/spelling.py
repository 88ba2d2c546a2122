"""Letters an engine says as letters: the written form that goes to the engine.

Engines guess how to read a short upper-case token, and guess wrong in the places that matter:
espeak-ng reads a lone "AM" as the word "am", and a spelled-out "A M" as "uh em" (the article,
then the letter). Joined by hyphens ("A-M", "V-I-P") the same letters are read as letter names
by espeak-ng (checked against its phonemes in ``tests/speech/test_breath.py``) and by the cloud
engines, in every language, with no pause between them.

This runs on the text sent to the engine (sentence units and fragments alike), after the
template has read the values, so previews and ``SpeechPlan.text`` keep the written form.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["speakable"]

_UPPER = "A-Z\u0410-\u042f\u0401"  # Latin and Cyrillic capitals (Ё included)
_LETTER = rf"(?<![\w-])[{_UPPER}](?![\w-])"
# Two or more single capitals in a row: "A M", "V I P" (read_letters' spaced-out letters).
_RUN = re.compile(rf"{_LETTER}(?: {_LETTER})+")
# A lone two-capital token: "AM", "PM", "ИП" (three or more could be a name in capitals).
_PAIR = re.compile(rf"(?<![\w-])([{_UPPER}])([{_UPPER}])(?![\w-])")


@lru_cache(maxsize=8192)
def speakable(text: str) -> str:
    """``text`` with spaced-out capitals and two-letter capital tokens joined by hyphens.

    >>> speakable("ten AM, code A M")
    'ten A-M, code A-M'
    """
    text = _RUN.sub(lambda m: m.group(0).replace(" ", "-"), text)
    return _PAIR.sub(r"\1-\2", text)
