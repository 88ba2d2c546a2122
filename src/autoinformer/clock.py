"""Clocks for the edges: the core never reads one, the runtime and SimSwitch do.

Times are POSIX seconds (float). :class:`ScaledClock` runs faster than the wall clock so a
runtime test or demo against the simulated switch covers minutes of call time in a second,
on asyncio and trio alike (trio's MockClock has no asyncio twin).
"""

from __future__ import annotations

import time
from typing import Protocol

import anyio
import attrs

__all__ = ["Clock", "ScaledClock", "WallClock"]


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
    """

    speed: float = 100.0
    start: float = 1_767_261_600.0  # 2026-01-01 10:00 UTC, inside a working day
    _origin: float = attrs.field(init=False, factory=time.monotonic)

    def now(self) -> float:
        return self.start + (time.monotonic() - self._origin) * self.speed

    async def sleep_until(self, deadline: float) -> None:
        delay = (deadline - self.now()) / self.speed
        if delay > 0:
            await anyio.sleep(delay)
