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
- a value read as running text (a name) that is not a number also has its letters made
  ``a``: running text only tells letters, digits and punctuation apart.

The property tests (``tests/speech/test_check_memo.py``) check that a class never lets an
unreadable value through: the memoised check agrees with a full reading on every value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from autoinformer.speech import readas

__all__ = [
    "EXACT",
    "MAX_CLASSES",
    "NUMERIC",
    "PLAIN",
    "currency_after",
    "value_class",
    "variable_levels",
]

PLAIN, NUMERIC, EXACT = 0, 1, 2
"""How much of a value its class keeps (see the module's docstring)."""

MAX_CLASSES = 100_000
"""Classes remembered per template before the memo starts again (bounded memory)."""

_FIRST_TOKEN = re.compile(r"\s*(\S+)")
_NINES = str.maketrans("123456789", "999999999")
_LETTERS = re.compile(r"[^\W\d_]")


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
    for used in (token, token.rstrip(".,;:!?")):
        code = readas.currency_code(used) if used else None
        if code is not None:
            strict = readas.is_currency_word(used) or used.isupper()
            return code, m.start(1) + len(used), strict
    return None


def _vars_of(node: object) -> Iterable[object]:
    from autoinformer.speech.template import Span, Var

    if isinstance(node, Var):
        yield node
    elif isinstance(node, Span):
        yield from (p for p in node.parts if isinstance(p, Var))


def variable_levels(nodes: tuple[object, ...]) -> tuple[tuple[str, int], ...]:
    """Each variable of a template (by name, sorted) with how much of its value the check's
    class must keep: the strictest of every place it is read."""
    from autoinformer.speech.template import Span, Text, Var

    levels: dict[str, int] = {}

    def need(name: str, level: int) -> None:
        levels[name] = max(levels.get(name, PLAIN), level)

    for index, node in enumerate(nodes):
        if isinstance(node, Span):
            level = EXACT if node.kind in ("date", "time") else NUMERIC
            for var in _vars_of(node):
                assert isinstance(var, Var)
                need(var.name, level)
        elif isinstance(node, Var):
            following = nodes[index + 1] if index + 1 < len(nodes) else None
            money = isinstance(following, Text) and currency_after(following.text) is not None
            need(node.name, NUMERIC if node.filters or money else PLAIN)
    return tuple(sorted(levels.items()))


def value_class(value: str, level: int, lang: str) -> object:
    """The class of ``value`` read at ``level`` in ``lang``: values of one class read alike
    (both fine, or both not)."""
    if level == EXACT:
        return value
    shape = value.translate(_NINES)
    if level == NUMERIC:
        return shape
    try:
        readas.parse_decimal(value.strip(), lang)
    except ValueError:
        return ("text", _LETTERS.sub("a", shape))
    return ("number", shape)
