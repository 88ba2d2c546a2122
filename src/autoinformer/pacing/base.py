"""The pacing contract: how many calls to launch now.

A pacing policy is pure: it sees a :class:`PacingView` (passed in by the core or the simulator,
with the time) and learns from :class:`PacingObservation` events. The same policy object runs in
the runtime against a real switch and in the simulator in virtual time.
"""

from __future__ import annotations

import enum
from typing import Protocol

import attrs

from autoinformer.errors import SettingsError

__all__ = [
    "MIN_RELEASE_AFTER",
    "PACING_POLL",
    "BroadcastPacing",
    "Observation",
    "PacingObservation",
    "PacingPolicy",
    "PacingView",
    "ReleasingPolicy",
    "check_release_after",
    "release_after",
]

#: The shortest ring, in seconds, after which a dialer may hang up an unanswered call: US 47 CFR
#: 64.1200(a)(6) (15 s or four rings) and UK Ofcom's persistent-misuse policy (15 s). Cutting a
#: call sooner is the "ring and hang up" nuisance those rules forbid.
MIN_RELEASE_AFTER = 15.0

#: How often, in seconds, the dialer core asks the pacing again while it holds contacts back
#: (besides every event that changes the state). The launch rule and the release valve move with
#: time alone (the ringing calls' ages), so the cadence is part of the policy's behaviour: the
#: simulator asks at this cadence by default so that its figures are the core's (issue #18,
#: ``benchmarks/pacing/core_agreement.py``).
PACING_POLL = 1.0


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
    """An operator's talk with a callee ended (``seconds``: from its CONNECTED, the talk
    alone): the operator goes to wrap-up. Only a call that was CONNECTED reports it, once,
    when the operator's side ends (the end of that call for pacing)."""
    ENDED = "ended"
    """An answered call ended without a talk with an operator (``seconds``: since its
    ANSWERED): a message-only (broadcast) call, a callee who hung up early or while waiting,
    an abandoned call (after its ABANDONED), a machine, a bridge that failed. No operator
    frees up, so a talk-time estimate must not count it; every answered call ends with
    exactly one TALK_ENDED or ENDED."""
    RELEASED = "released"
    """The dialer hung up a call still ringing (``seconds``: since its launch, as ANSWERED's
    ring time; the dialer core judges the legal floor from the switch's progress report), as a
    :class:`ReleasingPolicy` asked: neither answered nor unanswered, the outcome is unknown."""
    MACHINE = "machine"
    """An answered call turned out to be an answering machine (it was reported ANSWERED first;
    ``seconds``: since that answer, so ``now - seconds`` is when it was heard): not a live
    answer, so the abandon cap's denominator (abandons / live answers, 47 CFR 64.1200(a)(7),
    Ofcom) excludes it, and it never asks for an operator. Reported at most once per call,
    never for a person."""


@attrs.frozen
class PacingObservation:
    """One observation: ``seconds`` is the ring time (ANSWERED / NOT_ANSWERED / RELEASED), the
    operator's talk time (TALK_ENDED), the wait for an operator (CONNECTED / ABANDONED) or the
    time since the answer (MACHINE, ENDED); 0 otherwise. ``now - seconds`` is always when it
    began.

    Each launched call (DIALED) ends once for pacing: NOT_ANSWERED, RELEASED, or after its
    ANSWERED either TALK_ENDED (it was CONNECTED to an operator) or ENDED (it was not)."""

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


class ReleasingPolicy(PacingPolicy, Protocol):
    """A policy that may also ask the dialer to hang up calls still ringing.

    A predictive dialer that finds more answers coming than operators to take them can cut the
    calls that have rung longest enough to be allowed (``release_after`` seconds, never under
    :data:`MIN_RELEASE_AFTER`) instead of letting the surplus be answered and abandoned.

    The driver (the dialer core, the simulator) asks :meth:`calls_to_release` just before
    :meth:`calls_to_launch` at each decision, then hangs up that many ringing calls, choosing
    among those that have rung at least ``release_after`` seconds the ones that have rung the
    *shortest* time first (the likeliest still to answer, so the fewest people get a missed
    call per expected answer removed), and reports each with ``Observation.RELEASED``. It
    never releases more than are eligible, and never a call younger than ``release_after``.
    """

    release_after: float | None
    """Seconds a call must have rung before it may be released; ``None``: never release."""

    def calls_to_release(self, view: PacingView) -> int:
        """How many eligible ringing calls to hang up now (0 for none)."""
        ...


def release_after(policy: object) -> float | None:
    """The policy's release threshold if it may release ringing calls, else ``None``.

    Checks the contract too: a threshold under :data:`MIN_RELEASE_AFTER` is refused.
    """
    after = getattr(policy, "release_after", None)
    if after is None or not callable(getattr(policy, "calls_to_release", None)):
        return None
    check_release_after(after)
    return float(after)


def check_release_after(after: object) -> None:
    """Refuse a release threshold that is not a number of seconds >= :data:`MIN_RELEASE_AFTER`
    (``None``, never release, is the caller's to allow), naming ``pacing.release_after``."""
    number = isinstance(after, int | float) and not isinstance(after, bool)
    if not number or not after >= MIN_RELEASE_AFTER:  # type: ignore[operator]
        raise SettingsError(
            "pacing.release_after",
            f"must be a number of seconds >= {MIN_RELEASE_AFTER:g} (47 CFR 64.1200(a)(6),"
            f" Ofcom), got {after!r}",
        )


@attrs.define(kw_only=True)
class BroadcastPacing:
    """No operators: keep every free line busy (voice broadcast)."""

    def calls_to_launch(self, view: PacingView) -> int:
        return max(0, view.lines_free)

    def observe(self, observation: PacingObservation) -> None:
        """Broadcast learns nothing."""
