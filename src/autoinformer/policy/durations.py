"""Durations as people write them in campaign files: ``"20m"``, ``"1h30m"``, ``"500ms"``, ``90``.

One parser for every duration setting (retry delays, intervals, cool-downs, ring timeouts), so a
campaign file and the Python API accept exactly the same spellings and reject garbage with the
same message, naming the field.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from autoinformer.errors import SettingsError

__all__ = ["DurationLike", "format_duration", "parse_duration"]

DurationLike = str | int | float | dt.timedelta
"""What a duration setting accepts: a string with units, seconds as a number, or a timedelta."""

_UNITS: dict[str, dt.timedelta] = {
    "ms": dt.timedelta(milliseconds=1),
    "s": dt.timedelta(seconds=1),
    "sec": dt.timedelta(seconds=1),
    "m": dt.timedelta(minutes=1),
    "min": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
    "w": dt.timedelta(weeks=1),
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d|w)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(value: DurationLike, field: str = "duration") -> dt.timedelta:
    """A non-negative duration from a string with units, a number of seconds or a timedelta.

    Accepted: ``"500ms"``, ``"5s"``, ``"20m"``, ``"1h30m"``, ``"1d"``, ``"2w"``, ``"1.5h"``,
    ``"90"`` and ``90`` (seconds), ``timedelta(minutes=20)``. Units are ms, s (sec), m (min), h,
    d, w; parts may be separated by spaces (``"1h 30m"``).

    Args:
        value: what the user wrote.
        field: the setting's name, used in the error message.

    Returns:
        The duration.

    Raises:
        SettingsError: the value is empty, negative, not finite or has an unknown unit.
    """
    if isinstance(value, dt.timedelta):
        if value < dt.timedelta(0):
            raise SettingsError(field, f"must not be negative, got {value}")
        return value
    if isinstance(value, bool):
        raise SettingsError(field, f"expected a duration like '20m' or seconds, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise SettingsError(field, f"expected a non-negative number of seconds, got {value!r}")
        return _bounded(
            dt.timedelta(seconds=value) if value <= _MAX_SECONDS else None, value, field
        )
    if not isinstance(value, str):
        raise SettingsError(
            field, f"expected a duration like '20m', '1h30m' or seconds, got {type(value).__name__}"
        )
    text = value.strip()
    if _NUMBER.fullmatch(text):
        seconds = float(text)
        return _bounded(
            dt.timedelta(seconds=seconds) if seconds <= _MAX_SECONDS else None, value, field
        )
    total = dt.timedelta(0)
    pos = 0
    compact = text.replace(" ", "")
    if not compact:
        raise SettingsError(field, "expected a duration like '20m', '1h30m' or '500ms', got ''")
    while pos < len(compact):
        match = _PART.match(compact, pos)
        if match is None:
            raise SettingsError(
                field, f"expected a duration like '20m', '1h30m' or '500ms', got {value!r}"
            )
        amount = float(match.group(1))
        unit = _UNITS[match.group(2).lower()]
        if amount * unit.total_seconds() > _MAX_SECONDS:
            return _bounded(None, value, field)
        total += amount * unit
        pos = match.end()
    return _bounded(total if total.total_seconds() <= _MAX_SECONDS else None, value, field)


_MAX_SECONDS = 10 * 366 * 86400.0
"""No duration a dialer needs is longer than ten years; past it a typo (``1e20``) would
overflow ``timedelta``."""


def _bounded(total: dt.timedelta | None, value: object, field: str) -> dt.timedelta:
    if total is None:
        raise SettingsError(field, f"expected a duration of at most ten years, got {value!r}")
    return total


def format_duration(value: dt.timedelta) -> str:
    """The shortest spelling :func:`parse_duration` reads back (``"1h30m"``, ``"500ms"``)."""
    micros = value // dt.timedelta(microseconds=1)
    if micros == 0:
        return "0s"
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    parts: list[str] = []
    for unit, size in (("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000)):
        count, micros = divmod(micros, size)
        if count:
            parts.append(f"{count}{unit}")
    seconds, micros = divmod(micros, 1_000_000)
    if seconds:
        parts.append(f"{seconds}s")
    if micros:
        parts.append(f"{micros // 1000}ms" if micros % 1000 == 0 else f"{micros / 1000:g}ms")
    return sign + "".join(parts)
