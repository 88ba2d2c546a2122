"""Validators for pacing and simulator settings: a bad value fails at construction, naming the
field (:class:`~autoinformer.errors.SettingsError`)."""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

from autoinformer.errors import SettingsError

__all__ = ["check_window_seconds", "fraction", "non_negative", "positive"]

Check = Callable[[object, "attrs.Attribute[float]", float], None]


def _check(field: str, ok: Callable[[float], bool], expected: str) -> Check:
    def check(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
        if not ok(value):
            raise SettingsError(field, f"must be {expected}, got {value}")

    return check


def fraction(field: str) -> Check:
    """A share strictly between 0 and 1 (a rate cap, an aim)."""
    return _check(field, lambda v: 0.0 < v < 1.0, "between 0 and 1 (exclusive)")


def non_negative(field: str) -> Check:
    """Zero or more (a duration that may be nil, a gain)."""
    return _check(field, lambda v: v >= 0.0, ">= 0")


def positive(field: str) -> Check:
    """More than zero (a duration that must pass)."""
    return _check(field, lambda v: v > 0.0, "> 0")


def check_window_seconds(field: str, value: object) -> None:
    """An abandon-cap window: a finite number of seconds above 0, or None (no window).

    One check for the campaign's ``abandon_window`` and the guard's ``window_seconds``, so a
    value one accepts the other never refuses.
    """
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise SettingsError(
            field, f"expected seconds > 0 (or None: the campaign budget only), got {value!r}"
        )
