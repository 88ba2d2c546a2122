"""Live counters of one campaign, moved by each finished attempt (no store read per request).

A dashboard asks for a campaign's figures several times a second while it runs; counting them
from the store each time would read every attempt again. These counters are filled once from
the store, then moved by each result the runtime reports (``Runtime.on_result``). The figures
mean what :class:`~autoinformer.stats.CampaignStats` says they mean (``abandon_rate``:
abandoned / live answers); pure code, no clock, no I/O.
"""

from __future__ import annotations

import collections
import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

import attrs

from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord

__all__ = ["LiveCounters"]


@attrs.define(kw_only=True)
class LiveCounters:
    """Finished attempts per outcome, live answers, abandons and calls per hour.

    Args:
        timezone: the zone hours are counted in (the campaign's; UTC when it names none).
    """

    timezone: str = "UTC"
    attempts: int = 0
    outcomes: dict[str, int] = attrs.field(factory=lambda: {o.value: 0 for o in Outcome})
    answered: int = 0
    machines: int = 0
    by_hour: collections.Counter[str] = attrs.field(factory=collections.Counter)
    _zone: dt.tzinfo = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._zone = zoneinfo.ZoneInfo(self.timezone)

    def add(self, record: AttemptRecord) -> None:
        """Count one attempt (one without an outcome, still in flight, is not counted)."""
        outcome = record.outcome
        if outcome is None:
            return
        self.attempts += 1
        self.outcomes[outcome.value] += 1
        if outcome.answered or record.answered_at is not None:
            self.answered += 1
            if record.machine or outcome is Outcome.MACHINE:
                self.machines += 1
        start = dt.datetime.fromtimestamp(record.started_at, self._zone)
        self.by_hour[start.replace(minute=0, second=0, microsecond=0).isoformat()] += 1

    def add_all(self, records: Iterable[AttemptRecord]) -> LiveCounters:
        """Count every record (returns self)."""
        for record in records:
            self.add(record)
        return self

    @property
    def abandon_rate(self) -> float | None:
        """Abandoned / live (non-machine) answers; None before the first live answer."""
        live = self.answered - self.machines
        return round(self.outcomes[Outcome.ABANDONED.value] / live, 4) if live else None

    def calls_per_hour(self) -> list[dict[str, Any]]:
        """``[{"hour": ISO 8601 local hour, "attempts": n}]``, oldest first."""
        return [{"hour": h, "attempts": n} for h, n in sorted(self.by_hour.items())]
