"""Clocks for the edges: the core never reads one, the runtime and SimSwitch do.

Times are POSIX seconds (float). :class:`ScaledClock` runs faster than the wall clock so a
runtime test or demo against the simulated switch covers minutes of call time in a second,
on asyncio and trio alike (trio's MockClock has no asyncio twin).

Several worker processes on one campaign (``autoinformer run --worker``) must agree on the
time: leases expire, retries fall due and calling hours open on it. A fast clock anchored on
its own process's start would put each worker minutes of model time apart, so a shared one is
anchored on the wall clock instead (:class:`ClockAnchor`, kept in the campaign's meta by the
first worker); :func:`shared_anchor` decides, purely, whether a starting worker joins the
anchor it finds or lays a new one.
"""

from __future__ import annotations

import json
import math
import time
from typing import Protocol

import anyio
import attrs

from autoinformer.errors import InputError

__all__ = [
    "DEFAULT_START",
    "Clock",
    "ClockAnchor",
    "ScaledClock",
    "WallClock",
    "shared_anchor",
]

DEFAULT_START = 1_767_261_600.0
"""Where a fast clock starts by default: 2026-01-01 10:00 UTC, inside a working day."""


class Clock(Protocol):
    """Where the edges get the current time and wait for a future one."""

    def now(self) -> float:
        """The current time in POSIX seconds."""
        ...

    async def sleep_until(self, deadline: float) -> None:
        """Return at (or just after) ``deadline``; returns at once if it has passed."""
        ...


@attrs.define(kw_only=True)
class WallClock:
    """The real time."""

    def now(self) -> float:
        return time.time()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.time()
        if delay > 0:
            await anyio.sleep(delay)


@attrs.define(kw_only=True)
class ScaledClock:
    """Model time that runs ``speed`` times faster than real time, from ``start``.

    ``ScaledClock(speed=100)`` turns a 20-second call into 0.2 s of real waiting.

    By default the clock reads ``start`` when it is made (its own process's origin). With
    ``wall``, it reads ``start`` at that wall-clock time (POSIX seconds) instead: every
    process given the same ``start``, ``speed`` and ``wall`` reads the same model time, to
    within their wall clocks' agreement times ``speed`` (see :class:`ClockAnchor`). The wall
    clock is read once, at construction; the clock then runs on the monotonic clock, so a
    wall-clock step (NTP) during a run does not make model time jump.
    """

    speed: float = 100.0
    start: float = DEFAULT_START
    wall: float | None = None
    _origin: float = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        mono = time.monotonic()
        # the monotonic time at which the clock read ``start``
        self._origin = mono if self.wall is None else mono - (time.time() - self.wall)

    def now(self) -> float:
        return self.start + (time.monotonic() - self._origin) * self.speed

    async def sleep_until(self, deadline: float) -> None:
        delay = (deadline - self.now()) / self.speed
        if delay > 0:
            await anyio.sleep(delay)


@attrs.frozen(kw_only=True)
class ClockAnchor:
    """A fast clock several processes share: at wall time ``wall`` it read ``start``, and it
    runs ``speed`` times faster than real time.

    Kept as JSON in the campaign's meta (:meth:`to_text`, :meth:`from_text`) so workers
    started seconds (or hosts) apart read one model time.
    """

    speed: float = attrs.field(validator=attrs.validators.gt(0))
    start: float
    wall: float

    def at(self, wall: float) -> float:
        """The model time at wall-clock time ``wall``."""
        return self.start + (wall - self.wall) * self.speed

    def clock(self) -> ScaledClock:
        """A clock in this process reading the anchor's model time."""
        return ScaledClock(speed=self.speed, start=self.start, wall=self.wall)

    def to_text(self) -> str:
        return json.dumps({"speed": self.speed, "start": self.start, "wall": self.wall})

    @classmethod
    def from_text(cls, text: str | None) -> ClockAnchor | None:
        """The anchor kept in ``text``; None when there is none or it cannot be read (a new
        one is laid then)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            values = [float(data[key]) for key in ("speed", "start", "wall")]
        except (ValueError, KeyError, TypeError):
            return None
        if not all(math.isfinite(v) for v in values) or values[0] <= 0:
            return None
        return cls(speed=values[0], start=values[1], wall=values[2])


def shared_anchor(
    stored: ClockAnchor | None,
    *,
    speed: float,
    wall: float,
    seen: float | None,
    latest: float | None,
    stale: float,
) -> ClockAnchor:
    """The anchor a worker starting at wall time ``wall`` runs on (pure: times passed in).

    A worker joins the ``stored`` anchor while the fleet using it is alive: another worker
    said so (``seen``, the wall time of the latest heartbeat) within ``stale`` seconds. A
    campaign started afresh, or carried on after every worker stopped, gets a new anchor
    starting where the old one had got to and after the latest time the store mentions
    (``latest``), like a single process's resumed clock: a campaign carried on a day later
    does not jump a hundred model days ahead, nor back in time.

    Raises:
        InputError: a live fleet runs at another speed (its workers would disagree on the
            time: leases, retries and calling hours would break).
    """
    if speed <= 0:
        raise ValueError("shared_anchor: speed must be > 0")
    live = stored is not None and seen is not None and wall - seen <= stale
    if stored is not None and live:
        if stored.speed != speed:
            raise InputError(
                f"--speed {speed:g}: the campaign's other workers run at --speed "
                f"{stored.speed:g} (workers must share one clock); start this one with "
                f"--speed {stored.speed:g}, or stop them all first"
            )
        return stored
    start = DEFAULT_START
    if latest is not None:
        start = max(start, latest + 1)
    if stored is not None:  # carry on where the fleet's clock had got to
        start = max(start, stored.at(max(stored.wall, seen if seen is not None else 0.0)) + 1)
    return ClockAnchor(speed=speed, start=start, wall=wall)
