"""How fast calls may be placed on a switch: a limit on originates per second.

FreeSWITCH refuses new sessions beyond its ``sessions-per-second`` (30 in the vanilla
``switch.conf.xml``) with cause 27, DESTINATION_OUT_OF_ORDER, which the dialer could only record
as ``unreachable``: the callee's phone was never tried. Measured on the test PBX
(``benchmarks/real_switches.py``): 200 originates sent at once, about half refused. SIP trunks
have calls-per-second limits of their own. The pacer spaces originates so a burst (a campaign's
start, a predictive surge) reaches the switch at a rate it accepts; the dialer core still
decides how many calls to place, the backend only times the requests.
"""

from __future__ import annotations

import math
from typing import Any

import anyio
import attrs

from autoinformer.errors import SettingsError

__all__ = ["OriginatePacer", "check_rate", "rate_or_none"]


def rate_or_none(value: Any) -> Any:
    """A campaign file's ``false`` (TOML has no null) means no limit."""
    return None if value is False else value


def check_rate(field: str, value: object) -> None:
    """Refuse a rate that is not None or a finite number > 0 (``field`` names the key)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(field, f"expected calls per second (a number > 0), got {value!r}")
    if not (value > 0 and math.isfinite(value)):
        raise SettingsError(field, f"expected calls per second (a number > 0), got {value!r}")


@attrs.define
class OriginatePacer:
    """At most ``rate`` originates per second (None: no limit), first come first served.

    Each caller takes the next free slot (``1/rate`` after the previous one) and sleeps until
    it: no bursts beyond one call, no drift, cheap for thousands of waiting calls.
    """

    rate: float | None
    _next: float = attrs.field(default=-math.inf, init=False)

    async def wait(self) -> None:
        """Return when the next originate may go out."""
        if self.rate is None:
            return
        now = anyio.current_time()
        slot = max(now, self._next)
        self._next = slot + 1.0 / self.rate
        if slot > now:
            await anyio.sleep(slot - now)
