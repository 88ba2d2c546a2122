"""Campaign statistics computed from call records, in one pass, with no I/O.

Everything here is a pure function of :class:`~autoinformer.records.AttemptRecord` rows (as
``Store.attempts(campaign)`` yields them: one row per attempt), so the numbers a live dashboard
shows, the ones the simulator reports and the ones an export carries are the same numbers.

Definitions (the vocabulary of ``docs/outcomes.md``):

- ``answer_rate``: answered attempts (a person or a machine picked up) / finished attempts.
- ``delivery_rate``: contacts reached (at least one ``delivered`` or ``transferred`` attempt) /
  contacts that were called. What a business asks: "how many people got the message?"
- ``transfer_rate``: ``transferred`` / attempts that asked for an operator (``transferred`` +
  ``abandoned`` + ``agent_error``).
- ``abandon_rate``: ``abandoned`` / live answers (answered attempts that were not machines):
  the ratio the predictive-dialing cap (3 %) is stated in.
- Talk time: answer to end of every answered attempt (machines included: the line was up).
- Billing (seed 003, "1.8 rub. per minute of conversation"): each answered attempt is billed
  its talk time rounded *up* to ``billing_increment`` seconds (60: per started minute; 1: per
  second), times ``rate_per_minute``. Cost is an exact :class:`~decimal.Decimal`.
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import math
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from autoinformer.errors import SettingsError
from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord

__all__ = ["CampaignStats", "billed_seconds"]

_REACHED = frozenset({Outcome.DELIVERED, Outcome.TRANSFERRED})
_OPERATOR_WANTED = frozenset({Outcome.TRANSFERRED, Outcome.ABANDONED, Outcome.AGENT_ERROR})


def billed_seconds(talk_seconds: float, increment: int) -> int:
    """Seconds billed for one call: talk time rounded up to whole ``increment`` seconds.

    Talk time is first rounded to the millisecond so that float noise (``60.0000001``) does not
    bill a whole extra increment.
    """
    talk_ms = round(talk_seconds * 1000)
    if talk_ms <= 0:
        return 0
    return math.ceil(talk_ms / (increment * 1000)) * increment


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _decimal(field: str, value: decimal.Decimal | int | float | str) -> decimal.Decimal:
    try:
        result = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise SettingsError(field, f"expected a number, got {value!r}") from None
    if not result.is_finite() or result < 0:
        raise SettingsError(field, f"expected a finite number >= 0, got {value!r}")
    return result


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError("timezone", f"unknown IANA time zone {name!r}") from None


@attrs.frozen(kw_only=True)
class CampaignStats:
    """Counters of one campaign (or any set of attempts). Build with :meth:`from_records`.

    Attributes:
        attempts: finished attempts (with an outcome).
        in_flight: attempts journaled without an outcome yet (calls in progress, or in flight
            at a crash and not yet reconciled).
        contacts: distinct contacts among the attempts.
        contacts_reached: contacts with at least one delivered or transferred attempt.
        by_outcome: finished attempts per outcome (every outcome present, zeros included).
        by_hour: per hour of the start time (ISO 8601 in ``timezone``, e.g.
            ``2026-01-16T10:00:00+03:00``), attempts per outcome (non-zero only), sorted.
        answered: answered attempts (people and machines).
        machines: attempts answered by a machine.
        digits: how many times each DTMF digit was pressed.
        digit_entries: how many attempts entered each whole digit string (``"1"``, ``"12#"``).
        by_operator: transferred attempts per operator.
        by_caller_id: per caller ID presented, ``{"attempts": n, "answered": m}`` (a number
            whose answer rate drops may be labelled as spam by the networks).
        talk_seconds: total answer-to-end seconds of answered attempts.
        billed_seconds: total seconds billed (see :func:`billed_seconds`).
        rate_per_minute: the price of a billed minute.
        billing_increment: seconds a call is rounded up to.
        cost: ``billed_seconds / 60 * rate_per_minute``, exact.
    """

    attempts: int
    in_flight: int
    contacts: int
    contacts_reached: int
    by_outcome: Mapping[Outcome, int]
    by_hour: Mapping[str, Mapping[Outcome, int]]
    answered: int
    machines: int
    digits: Mapping[str, int]
    digit_entries: Mapping[str, int]
    by_operator: Mapping[str, int]
    by_caller_id: Mapping[str, Mapping[str, int]]
    talk_seconds: float
    billed_seconds: int
    rate_per_minute: decimal.Decimal
    billing_increment: int
    cost: decimal.Decimal

    @classmethod
    def from_records(
        cls,
        records: Iterable[AttemptRecord],
        *,
        rate_per_minute: decimal.Decimal | int | float | str = 0,
        billing_increment: int = 60,
        timezone: str = "UTC",
    ) -> CampaignStats:
        """Count ``records`` (one per attempt) in a single pass.

        Args:
            records: call records, e.g. ``store.attempts(campaign)``; may be a generator.
            rate_per_minute: price of one billed minute (a Decimal, or a number / string that
                converts to one exactly: ``"1.8"``).
            billing_increment: seconds each call's talk time is rounded up to (1-3600).
            timezone: IANA zone in which hours are counted (the campaign's zone).

        Returns:
            The statistics.

        Raises:
            SettingsError: a negative or non-numeric rate, an increment out of range, an
                unknown time zone (the error names the argument).
        """
        rate = _decimal("rate_per_minute", rate_per_minute)
        if isinstance(billing_increment, bool) or not isinstance(billing_increment, int):
            raise SettingsError(
                "billing_increment", f"expected whole seconds, got {billing_increment!r}"
            )
        if not 1 <= billing_increment <= 3600:
            raise SettingsError(
                "billing_increment", f"expected 1 to 3600 seconds, got {billing_increment}"
            )
        zone = _zone(timezone)

        by_outcome: collections.Counter[Outcome] = collections.Counter()
        by_hour: dict[str, collections.Counter[Outcome]] = {}
        hours: dict[int, str] = {}  # quarter-hour index -> local hour label (a cache)
        digits: collections.Counter[str] = collections.Counter()
        digit_entries: collections.Counter[str] = collections.Counter()
        by_operator: collections.Counter[str] = collections.Counter()
        by_caller_id: dict[str, dict[str, int]] = {}
        contacts: set[str] = set()
        reached: set[str] = set()
        in_flight = answered = machines = billed = 0
        talk = 0.0
        for record in records:
            contacts.add(record.contact_id)
            outcome = record.outcome
            if outcome is None:
                in_flight += 1
                continue
            by_outcome[outcome] += 1
            quarter = int(record.started_at // 900)  # every UTC offset is whole quarters
            hour = hours.get(quarter)
            if hour is None:
                hour = hours[quarter] = (
                    dt.datetime.fromtimestamp(quarter * 900, zone)
                    .replace(minute=0, second=0, microsecond=0)
                    .isoformat()
                )
            by_hour.setdefault(hour, collections.Counter())[outcome] += 1
            if outcome in _REACHED:
                reached.add(record.contact_id)
            caller = by_caller_id.setdefault(record.caller_id or "", {"attempts": 0, "answered": 0})
            caller["attempts"] += 1
            if outcome is Outcome.TRANSFERRED and record.operator:
                by_operator[record.operator] += 1
            if record.digits:
                digits.update(record.digits)
                digit_entries[record.digits] += 1
            if outcome.answered or record.answered_at is not None:
                answered += 1
                caller["answered"] += 1
                if record.machine or outcome is Outcome.MACHINE:
                    machines += 1
                talk += record.talk_seconds
                billed += billed_seconds(record.talk_seconds, billing_increment)
        return cls(
            attempts=sum(by_outcome.values()),
            in_flight=in_flight,
            contacts=len(contacts),
            contacts_reached=len(reached),
            by_outcome={o: by_outcome[o] for o in Outcome},
            by_hour={h: dict(by_hour[h]) for h in sorted(by_hour)},
            answered=answered,
            machines=machines,
            digits=dict(sorted(digits.items())),
            digit_entries=dict(sorted(digit_entries.items())),
            by_operator=dict(sorted(by_operator.items())),
            by_caller_id=dict(sorted(by_caller_id.items())),
            talk_seconds=talk,
            billed_seconds=billed,
            rate_per_minute=rate,
            billing_increment=billing_increment,
            cost=decimal.Decimal(billed) / 60 * rate,
        )

    # --- derived figures ------------------------------------------------------------------

    @property
    def answer_rate(self) -> float | None:
        """Answered / finished attempts (None when nothing finished)."""
        return _ratio(self.answered, self.attempts)

    @property
    def delivery_rate(self) -> float | None:
        """Contacts reached / contacts called (None when no contact)."""
        return _ratio(self.contacts_reached, self.contacts)

    @property
    def transfer_rate(self) -> float | None:
        """Transferred / attempts that wanted an operator (None when none did)."""
        wanted = sum(self.by_outcome[o] for o in _OPERATOR_WANTED)
        return _ratio(self.by_outcome[Outcome.TRANSFERRED], wanted)

    @property
    def abandon_rate(self) -> float | None:
        """Abandoned / live (non-machine) answers (None when no live answer)."""
        return _ratio(self.by_outcome[Outcome.ABANDONED], self.answered - self.machines)

    @property
    def talk_minutes(self) -> float:
        """Total talk time in minutes."""
        return self.talk_seconds / 60

    @property
    def billed_minutes(self) -> decimal.Decimal:
        """Billed time in minutes (exact)."""
        return decimal.Decimal(self.billed_seconds) / 60

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (outcomes by their vocabulary words; money as strings)."""

        def rate(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "attempts": self.attempts,
            "in_flight": self.in_flight,
            "contacts": self.contacts,
            "contacts_reached": self.contacts_reached,
            "answered": self.answered,
            "machines": self.machines,
            "by_outcome": {o.value: n for o, n in self.by_outcome.items()},
            "by_hour": {h: {o.value: n for o, n in c.items()} for h, c in self.by_hour.items()},
            "rates": {
                "answer": rate(self.answer_rate),
                "delivery": rate(self.delivery_rate),
                "transfer": rate(self.transfer_rate),
                "abandon": rate(self.abandon_rate),
            },
            "digits": dict(self.digits),
            "digit_entries": dict(self.digit_entries),
            "by_operator": dict(self.by_operator),
            "by_caller_id": {k: dict(v) for k, v in self.by_caller_id.items()},
            "talk_minutes": round(self.talk_minutes, 2),
            "billed_minutes": str(self.billed_minutes.quantize(decimal.Decimal("0.01"))),
            "rate_per_minute": str(self.rate_per_minute),
            "billing_increment": self.billing_increment,
            "cost": str(self.cost.quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_UP)),
        }
