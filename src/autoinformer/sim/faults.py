"""Faults to inject into the simulated switch: refused originates and switch outages.

Like the callee model, every decision here is a pure seeded draw, so the virtual-time driver
and :class:`~autoinformer.backends.sim.SimSwitch` refuse the same originates for the same seed.
Outages the test controls by hand (``SimSwitch.go_away()`` / ``come_back()`` / ``gap()``) live
on the switch; :attr:`Faults.outages` describes planned ones in model time for the driver.
"""

from __future__ import annotations

import math
import re

import attrs

from autoinformer.errors import SettingsError
from autoinformer.sim.model import seeded_random

__all__ = ["Faults"]


def _outages(value: object) -> tuple[tuple[float, float], ...]:
    return tuple((float(a), float(b)) for a, b in value)  # type: ignore[attr-defined]


@attrs.frozen(kw_only=True)
class Faults:
    """Which originates the switch refuses, and when it is away.

    Attributes:
        seed: seeds the refusal draw (independent of the callee model's seed).
        originate_error_rate: fraction of originates refused outright (OriginateError), drawn
            per (number, attempt) so the same attempts fail whatever the call order.
        refuse_pattern: a regular expression; destinations matching it are always refused.
        outages: (start, end) model-time intervals when the switch is unreachable: originates
            raise BackendUnavailable and calls in progress are lost (used by the driver).
    """

    seed: int = 0
    originate_error_rate: float = 0.0
    refuse_pattern: str | None = None
    outages: tuple[tuple[float, float], ...] = attrs.field(default=(), converter=_outages)

    def __attrs_post_init__(self) -> None:
        if not 0.0 <= self.originate_error_rate <= 1.0:
            raise SettingsError(
                "originate_error_rate",
                f"must be a probability in [0, 1], got {self.originate_error_rate!r}",
            )
        if self.refuse_pattern is not None:
            try:
                re.compile(self.refuse_pattern)
            except re.error as exc:
                raise SettingsError("refuse_pattern", f"not a regular expression: {exc}") from None
        for start, end in self.outages:
            if not (math.isfinite(start) and math.isfinite(end) and start < end):
                raise SettingsError("outages", f"expected start < end, got {(start, end)!r}")

    def refuses(self, destination: str, attempt_no: int) -> bool:
        """True when the switch refuses this originate (a pure, seeded decision)."""
        if self.refuse_pattern is not None and re.search(self.refuse_pattern, destination):
            return True
        if self.originate_error_rate <= 0.0:
            return False
        rng = seeded_random(self.seed, "refuse", destination, attempt_no)
        return rng.random() < self.originate_error_rate

    def is_down(self, t: float) -> bool:
        """True when model time ``t`` falls inside a planned outage."""
        return any(start <= t < end for start, end in self.outages)
