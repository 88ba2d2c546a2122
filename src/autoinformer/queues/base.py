"""Operators and queues: the contract the dialer core uses to hand an answered call over.

Pure state: every method takes the time; nothing here reads a clock. The distribution strategy
(which idle operator gets the call) is a plug-in; see ``autoinformer.queues.strategies``.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

import attrs

from autoinformer.errors import SettingsError

__all__ = [
    "DistributionStrategy",
    "FirstIdle",
    "Operator",
    "OperatorQueue",
    "OperatorState",
    "OperatorStatus",
]


class OperatorState(enum.StrEnum):
    """An operator's state (seed 003: logged in, in a call, after-call work, paused)."""

    LOGGED_OUT = "logged_out"
    IDLE = "idle"
    RINGING = "ringing"
    TALKING = "talking"
    WRAPUP = "wrapup"
    PAUSED = "paused"


@attrs.frozen
class Operator:
    """An operator: ``endpoint`` is what the switch dials (``PJSIP/101``, ``user/1001``).

    Raises:
        SettingsError: an empty id or endpoint, or a weight or penalty that is no whole
            number >= 0.
    """

    id: str
    endpoint: str
    weight: int = 1
    penalty: int = 0

    def __attrs_post_init__(self) -> None:
        for field in ("id", "endpoint"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise SettingsError(field, f"expected non-empty text, got {value!r}")
        for field, low in (("weight", 0), ("penalty", 0)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SettingsError(field, f"expected a whole number >= {low}, got {value!r}")

    @classmethod
    def coerce(cls, value: object, field: str = "operators") -> Operator:
        """An operator from an :class:`Operator` or a table like a campaign file's
        ``[[operators]]`` entry (``{"id": "anna", "endpoint": "PJSIP/101"}``).

        Raises:
            SettingsError: anything else (a bare name has no endpoint to dial), naming
                ``field``.
        """
        if isinstance(value, Operator):
            return value
        if isinstance(value, Mapping):
            unknown = set(value) - {"id", "endpoint", "weight", "penalty"}
            if unknown:
                raise SettingsError(field, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
            try:
                return cls(**value)
            except TypeError:
                raise SettingsError(field, "needs an id and an endpoint") from None
            except SettingsError as exc:
                raise SettingsError(f"{field}.{exc.field}", exc.message) from None
        raise SettingsError(
            field,
            f"expected an Operator('anna', 'PJSIP/101') or {{'id': ..., 'endpoint': ...}}, "
            f"got {value!r}",
        )


@attrs.define(kw_only=True)
class OperatorStatus:
    """An operator's live state and statistics inside a queue (``position``: member order)."""

    operator: Operator
    position: int = 0
    state: OperatorState = OperatorState.IDLE
    since: float = 0.0
    calls: int = 0
    talk_seconds: float = 0.0
    last_call_end: float = 0.0
    wrapup_until: float = 0.0


class DistributionStrategy(Protocol):
    """Which operators to ring for a call, in order (ring-all returns them all at once)."""

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        """Order the idle operators to ring; the first is rung first."""
        ...


@attrs.define(kw_only=True)
class FirstIdle:
    """The simplest strategy: the first idle operator in member order (linear)."""

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        return list(idle[:1])


@attrs.define(kw_only=True)
class OperatorQueue:
    """A queue of operators that answered calls are handed to.

    Attributes:
        name: the queue's name (``transfer:operators`` in a script).
        members: the operators, in member order.
        strategy: which idle operator gets the next call.
        max_wait: seconds an answered caller may wait before the call counts as abandoned.
        wrapup: seconds of after-call work before an operator is idle again.
        hold_music: media played while the caller waits (None: silence).
    """

    name: str
    members: list[OperatorStatus] = attrs.field(factory=list)
    strategy: DistributionStrategy = attrs.field(factory=FirstIdle)
    max_wait: float = 2.0
    wrapup: float = 10.0
    hold_music: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.max_wait < 0:
            raise SettingsError("queue.max_wait", "must be >= 0 seconds")
        if self.wrapup < 0:
            raise SettingsError("queue.wrapup", "must be >= 0 seconds")
        for i, m in enumerate(self.members):  # strategies read member order from here
            m.position = i

    @classmethod
    def of(cls, name: str, operators: Sequence[Operator], **kwargs: object) -> OperatorQueue:
        """A queue with these operators, all idle."""
        members = [OperatorStatus(operator=op, position=i) for i, op in enumerate(operators)]
        return cls(name=name, members=members, **kwargs)  # type: ignore[arg-type]

    def _refresh(self, now: float) -> None:
        for m in self.members:
            if m.state is OperatorState.WRAPUP and m.wrapup_until <= now:
                m.state, m.since = OperatorState.IDLE, m.wrapup_until

    def idle(self, now: float) -> list[OperatorStatus]:
        """Operators ready for a call now."""
        self._refresh(now)
        return [m for m in self.members if m.state is OperatorState.IDLE]

    def pick(self, now: float) -> Operator | None:
        """The operator who should get the next call, by the strategy (None: nobody idle)."""
        ordered = self.strategy.choose(self.idle(now), now)
        return ordered[0].operator if ordered else None

    def to_ring(self, now: float, exclude: Collection[str] = ()) -> list[Operator]:
        """The operators to ring for one call now, leaving out the ids in ``exclude`` (those
        who already failed this caller: app_queue skips them for the caller).

        A strategy with a true ``rings_all`` attribute (:class:`~.strategies.RingAll`) gets
        every idle operator it orders, rung at once; any other strategy gets its first choice.
        """
        idle = [m for m in self.idle(now) if m.operator.id not in exclude]
        if not idle:
            return []
        ordered = self.strategy.choose(idle, now)
        if getattr(self.strategy, "rings_all", False):
            return [m.operator for m in ordered]
        return [ordered[0].operator] if ordered else []

    def status(self, operator_id: str) -> OperatorStatus:
        """The live status of one member."""
        for m in self.members:
            if m.operator.id == operator_id:
                return m
        raise KeyError(f"queue {self.name!r} has no operator {operator_id!r}")

    def ringing(self, operator_id: str, now: float) -> None:
        """The operator's phone is ringing with a call for them."""
        m = self.status(operator_id)
        m.state, m.since = OperatorState.RINGING, now

    def talking(self, operator_id: str, now: float) -> None:
        """The operator answered and is bridged to the caller."""
        m = self.status(operator_id)
        m.state, m.since = OperatorState.TALKING, now
        m.calls += 1

    def call_ended(self, operator_id: str, now: float, *, talked: bool = True) -> None:
        """The call ended: wrap-up if they talked, straight back to idle if the leg failed."""
        m = self.status(operator_id)
        if talked and m.state is OperatorState.TALKING:
            m.talk_seconds += max(0.0, now - m.since)
            m.last_call_end = now
            m.state, m.since, m.wrapup_until = OperatorState.WRAPUP, now, now + self.wrapup
        else:
            m.state, m.since = OperatorState.IDLE, now
        self._refresh(now)

    def pause(self, operator_id: str, now: float, paused: bool = True) -> None:
        """Pause (or unpause) an operator; a paused operator gets no calls."""
        m = self.status(operator_id)
        m.state, m.since = (OperatorState.PAUSED if paused else OperatorState.IDLE), now
