"""The pacing contract: how many calls to launch now.

A pacing policy is pure: it sees a :class:`PacingView` (passed in by the core or the simulator,
with the time) and learns from :class:`PacingObservation` events. The same policy object runs in
the runtime against a real switch and in the simulator in virtual time.
"""

from __future__ import annotations

import enum
from typing import Protocol

import attrs

__all__ = ["BroadcastPacing", "Observation", "PacingObservation", "PacingPolicy", "PacingView"]


@attrs.frozen
class PacingView:
    """What the policy may look at when asked how many calls to launch.

    Attributes:
        now: current time, POSIX seconds (virtual in the simulator).
        lines_free: campaign line limit minus calls in progress (a hard ceiling).
        dialing: calls launched and not yet answered or failed.
        waiting: answered calls waiting for an operator.
        agents_logged_in: operators logged in (0 for a broadcast campaign).
        agents_idle: operators ready to take a call now.
        agents_wrapup: operators in wrap-up (about to become idle).
        agents_talking: operators in a call.
    """

    now: float
    lines_free: int
    dialing: int = 0
    waiting: int = 0
    agents_logged_in: int = 0
    agents_idle: int = 0
    agents_wrapup: int = 0
    agents_talking: int = 0


class Observation(enum.Enum):
    """What happened to a launched call, as far as pacing cares."""

    DIALED = "dialed"
    ANSWERED = "answered"
    NOT_ANSWERED = "not_answered"
    CONNECTED = "connected"
    ABANDONED = "abandoned"
    TALK_ENDED = "talk_ended"


@attrs.frozen
class PacingObservation:
    """One observation: ``seconds`` is the ring time (ANSWERED / NOT_ANSWERED), the talk time
    (TALK_ENDED) or the wait for an operator (CONNECTED / ABANDONED); 0 otherwise."""

    kind: Observation
    now: float
    seconds: float = 0.0


class PacingPolicy(Protocol):
    """A pacing policy (broadcast, progressive, power, predictive, baselines)."""

    def calls_to_launch(self, view: PacingView) -> int:
        """How many new calls to launch now (never more than ``view.lines_free``)."""
        ...

    def observe(self, observation: PacingObservation) -> None:
        """Learn from what happened to a call."""
        ...


@attrs.define(kw_only=True)
class BroadcastPacing:
    """No operators: keep every free line busy (voice broadcast)."""

    def calls_to_launch(self, view: PacingView) -> int:
        return max(0, view.lines_free)

    def observe(self, observation: PacingObservation) -> None:
        """Broadcast learns nothing."""
