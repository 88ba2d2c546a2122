"""Checking a contact's values cheaply: value classes and the currency marker after a variable.

Every contact entering a campaign is checked against its templates
(:meth:`~autoinformer.speech.template.Template.check`) so that a value the template cannot
read (``N/A`` where an amount is read) skips the contact before it is dialled. Reading a
value in words costs num2words about half a millisecond; a million contacts with distinct
balances would spend minutes on it. But whether a value *can* be read depends only on its
shape, not on which digits it has: ``-68.27`` reads as an amount exactly when ``-12.50``
does. So the check reduces each value to a *class* and reads one value per class:

- a value read as a date or a time is its own class (whether 2026-02-30 is a day depends on
  the digits);
- a value read as a number, an amount, digits or letters (inside a read-as span, under
  ``|abs``/``|debt``, or before a currency word) keeps everything but its non-zero digits,
  which all become ``9`` (zeros stay: ``-0.00`` is not a debt, ``0,123`` is not grouped);
- a value read as running text (a name) that is not a number also has each run of letters
  made one ``a``: running text only tells letters, digits and punctuation apart.

The memo is kept per piece of the template (a span, a variable), not per contact: whether
the balance reads does not depend on the due date, so a million contacts with distinct
balances, a month of due dates and distinct names need a few hundred readings, not one per
combination.

The property tests (``tests/speech/test_check_memo.py``) check that a class never lets an
unreadable value through: the memoised check agrees with a full reading on every value.
"""

from __future__ import annotations

import re

from autoinformer.speech import readas
from autoinformer.speech.nodes import Span, Text, Var

__all__ = [
    "EXACT",
    "MAX_CLASSES",
    "NUMERIC",
    "PLAIN",
    "check_units",
    "currency_after",
    "value_class",
]

PLAIN, NUMERIC, EXACT = 0, 1, 2
"""How much of a value its class keeps (see the module's docstring)."""

MAX_CLASSES = 100_000
"""Classes remembered per template before the memo starts again (bounded memory)."""

_FIRST_TOKEN = re.compile(r"\s*(\S+)")
_NINES = str.maketrans("123456789", "999999999")
_NINES_ASCII = bytes.maketrans(b"123456789", b"999999999")  # 4x faster than str.translate
_LETTERS = re.compile(r"[^\W\d_]+")


def currency_after(text: str) -> tuple[str, int, bool] | None:
    """The currency a template's text names right after a variable (seed 001's
    ``%VAR:BALANCE% rub``, ``{B} рублей``, ``{B} ₽``), where its word ends, and whether the
    marker is unmistakable; None when the text does not start with a currency marker.

    A marker is unmistakable when it is a written currency word or symbol, or an ISO code in
    capitals (``RUB``): the variable before it must then hold an amount. A lower-case
    three-letter word that happens to be an ISO code (``all``, ``try``) is taken as a currency
    only when the value is a number.
    """
    m = _FIRST_TOKEN.match(text)
    if m is None:
        return None
    token = m.group(1)
    # Without trailing punctuation first: the dot of "руб." also ends the sentence, and the
    # sentence's pause is kept when the dot stays in the text after the amount.
    for used in (token.rstrip(".,;:!?"), token):
        code = readas.currency_code(used) if used else None
        if code is not None:
            strict = readas.is_currency_word(used) or used.isupper()
            return code, m.start(1) + len(used), strict
    return None


Unit = tuple[int, tuple[tuple[str, int], ...]]
"""A piece of a template read on its own (a read-as span, a variable, a variable and the
currency word after it): its index and its variables with the level each is read at."""


def check_units(nodes: tuple[object, ...]) -> tuple[Unit, ...]:
    """The template's pieces that read variables, each with the level its variables are read
    at. Whether a piece reads depends only on its own variables' values (the template's text
    around it is fixed), so the check remembers the pieces, not whole contacts: a contact
    whose balance and due date and name were each seen in some class before is not read."""
    units: list[Unit] = []
    for index, node in enumerate(nodes):
        if isinstance(node, Span):
            level = EXACT if node.kind in ("date", "time") else NUMERIC
            names = sorted({p.name for p in node.parts if isinstance(p, Var)})
            if names:
                units.append((index, tuple((name, level) for name in names)))
        elif isinstance(node, Var):
            following = nodes[index + 1] if index + 1 < len(nodes) else None
            money = isinstance(following, Text) and currency_after(following.text) is not None
            level = NUMERIC if node.filters or money else PLAIN
            units.append((index, ((node.name, level),)))
    return tuple(units)


def value_class(value: str, level: int, lang: str) -> object:
    """The class of ``value`` read at ``level`` in ``lang``: values of one class read alike
    (both fine, or both not)."""
    if level == EXACT:
        return value
    shape = (
        value.encode().translate(_NINES_ASCII).decode()
        if value.isascii()
        else value.translate(_NINES)
    )
    if level == NUMERIC:
        return shape
    try:
        readas.parse_decimal(value.strip(), lang)
    except ValueError:
        return ("text", _LETTERS.sub("a", shape))
    return ("number", shape)
