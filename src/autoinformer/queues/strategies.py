"""Distribution strategies: which idle operator gets the next answered call.

The semantics follow Asterisk's app_queue (``strategy=``) and FreeSWITCH's mod_callcenter
(``strategy``); the names of both are accepted by :func:`strategy_named`.

=====================  ===========================  =====================================
ours                   Asterisk app_queue           FreeSWITCH mod_callcenter
=====================  ===========================  =====================================
:class:`RingAll`       ringall                      ring-all
:class:`LongestIdle`   leastrecent                  longest-idle-agent
:class:`FewestCalls`   fewestcalls                  agent-with-fewest-calls
:class:`LeastTalkTime` (none)                       agent-with-least-talk-time
:class:`RandomOrder`   random                       random
:class:`RoundRobin`    rrmemory                     round-robin
:class:`Linear`        linear                       top-down / sequentially-by-agent-order
:class:`RoundRobinOrdered` rrordered                (none)
:class:`WeightedRandom` wrandom                     (none)
=====================  ===========================  =====================================

Every strategy orders the idle operators (the first is rung first; ring-all rings them all at
once) and, like app_queue, rings operators with the lowest ``penalty`` before the others. The
random ones hold their own seeded generator, so a run is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import ClassVar

import attrs

from autoinformer.errors import SettingsError
from autoinformer.queues.base import DistributionStrategy, OperatorStatus

__all__ = [
    "STRATEGIES",
    "FewestCalls",
    "LeastTalkTime",
    "Linear",
    "LongestIdle",
    "RandomOrder",
    "RingAll",
    "RoundRobin",
    "RoundRobinOrdered",
    "WeightedRandom",
    "strategy_named",
]


def _by_penalty(idle: Sequence[OperatorStatus]) -> list[OperatorStatus]:
    """Only the idle operators with the lowest penalty (app_queue rings those first)."""
    if not idle:
        return []
    best = min(m.operator.penalty for m in idle)
    return [m for m in idle if m.operator.penalty == best]


@attrs.define(kw_only=True)
class RingAll:
    """Ring every idle operator at once; the first to answer takes the call."""

    rings_all: ClassVar[bool] = True
    """The dialer core rings every operator this strategy returns at once."""

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        return sorted(_by_penalty(idle), key=lambda m: m.position)


@attrs.define(kw_only=True)
class LongestIdle:
    """The operator whose last call ended longest ago (``leastrecent``)."""

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        return sorted(_by_penalty(idle), key=lambda m: (m.last_call_end, m.position))


@attrs.define(kw_only=True)
class FewestCalls:
    """The operator who has taken the fewest calls."""

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        return sorted(_by_penalty(idle), key=lambda m: (m.calls, m.position))


@attrs.define(kw_only=True)
class LeastTalkTime:
    """The operator with the least total talk time."""

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        return sorted(_by_penalty(idle), key=lambda m: (m.talk_seconds, m.position))


@attrs.define(kw_only=True)
class Linear:
    """Always from the first member in order (``linear``, ``top-down``)."""

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        return sorted(_by_penalty(idle), key=lambda m: m.position)


@attrs.define(kw_only=True)
class RoundRobin:
    """Round robin with memory (``rrmemory``): start after the operator rung last time."""

    _last: int = attrs.field(init=False, default=-1)

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        members = sorted(_by_penalty(idle), key=lambda m: m.position)
        if not members:
            return []
        after = [m for m in members if m.position > self._last]
        before = [m for m in members if m.position <= self._last]
        ordered = after + before
        self._last = ordered[0].position
        return ordered


@attrs.define(kw_only=True)
class RoundRobinOrdered(RoundRobin):
    """``rrordered``: round robin with memory that keeps the configured member order.

    Our member order is always the configured one, so this is :class:`RoundRobin` under
    Asterisk's other name.
    """


@attrs.define(kw_only=True)
class RandomOrder:
    """A random order (seeded: the same seed gives the same sequence of choices)."""

    seed: int | None = None
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        members = sorted(_by_penalty(idle), key=lambda m: m.position)
        self._rng.shuffle(members)
        return members


@attrs.define(kw_only=True)
class WeightedRandom:
    """A random order weighted by each operator's ``weight`` (``wrandom``).

    The first operator is chosen with probability proportional to its weight, the next among
    the rest likewise (Efraimidis-Spirakis keys); weight 0 puts an operator last.
    """

    seed: int | None = None
    _rng: random.Random = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def choose(self, idle: Sequence[OperatorStatus], now: float) -> list[OperatorStatus]:
        members = sorted(_by_penalty(idle), key=lambda m: m.position)
        rand = self._rng.random

        def key(m: OperatorStatus) -> float:
            w = m.operator.weight
            return rand() ** (1.0 / w) if w > 0 else -1.0

        return sorted(members, key=key, reverse=True)


#: Every strategy by its Asterisk and FreeSWITCH names.
STRATEGIES: dict[str, Callable[[], DistributionStrategy]] = {
    "ringall": RingAll,
    "ring-all": RingAll,
    "leastrecent": LongestIdle,
    "longest-idle-agent": LongestIdle,
    "fewestcalls": FewestCalls,
    "agent-with-fewest-calls": FewestCalls,
    "agent-with-least-talk-time": LeastTalkTime,
    "random": RandomOrder,
    "rrmemory": RoundRobin,
    "round-robin": RoundRobin,
    "linear": Linear,
    "top-down": Linear,
    "sequentially-by-agent-order": Linear,
    "rrordered": RoundRobinOrdered,
    "wrandom": WeightedRandom,
}


def strategy_named(name: str) -> DistributionStrategy:
    """A strategy from its app_queue or mod_callcenter name.

    Raises:
        SettingsError: the name is not one of :data:`STRATEGIES`.
    """
    try:
        return STRATEGIES[name.strip().lower()]()
    except KeyError:
        known = ", ".join(sorted(STRATEGIES))
        raise SettingsError(
            "queue.strategy", f"unknown strategy {name!r}; known: {known}"
        ) from None
