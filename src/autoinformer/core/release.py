"""Releasing calls still ringing, when the pacing asks (a predictive dialer's valve).

A part of the sans-IO dialer core: pure functions over the ringing calls (the call table's
``ringing``, in the order placed) that say which calls may be released and when to look again;
the core asks the policy how many, hangs them up and tells the policy. A pacing
policy that implements :class:`~autoinformer.pacing.base.ReleasingPolicy` may find more answers
coming than operators to take them; instead of letting the surplus be answered and abandoned,
it asks the dialer to hang up some calls that are still ringing. The rules (47 CFR
64.1200(a)(6), Ofcom; the contract in :mod:`autoinformer.pacing.base`):

- only calls that have rung at least the policy's ``release_after`` (never under
  :data:`~autoinformer.pacing.base.MIN_RELEASE_AFTER`, 15 s) may be released, the ring counted
  from the switch's first ``CallProgress`` in state ``"ringing"`` (SIP 180), not from the
  originate: call set-up takes a second or more on a real network, and the rules count what
  the callee's phone rang. Early media (``"early_media"``, SIP 183) does not start the count:
  a carrier may send it before the phone rings, so the real ring could be under 15 s. A call
  with early media only is never released (safe: on a carrier that sends only 183 the valve
  never acts). A call whose ringing was never reported is never released, nor is one that was
  ringing across a :class:`~autoinformer.backends.base.BackendGap` (the switch reports the
  answers the gap hid after the gap: the core forgets those calls' ringing);
- among those, the ones that have rung the *shortest* time go first (the likeliest still to
  answer: the fewest missed calls per expected answer removed);
- an answered call is never released: a call whose answer the core has seen is not ringing.
  An answer that races the hang-up (the switch reports it after our hang-up went out) loses:
  the call stays released;
- each release is reported to the policy at once (``Observation.RELEASED`` with the seconds
  since the launch, the clock ``ANSWERED``'s ring time runs on, so the policy can match it to
  its own launches), and the call leaves the pacing's ``dialing`` count then, not when the
  switch confirms.

The released attempt is ``no_answer`` (the callee did not pick up in the time we gave), cause
16 (NORMAL_CLEARING: what ARI's and FreeSWITCH's cancel of a ringing channel, ORIGINATOR_CANCEL,
map to), with a detail saying the dialer released it and after how long; the retry policy
treats it like any ``no_answer`` and the store journals it like any result.
"""

from __future__ import annotations

from collections.abc import Iterable

from autoinformer.core.calls import Call
from autoinformer.outcomes import HangupCause, Outcome
from autoinformer.pacing.base import Observation, PacingObservation

__all__ = ["RELEASE_CAUSE", "eligible", "next_time", "release", "released_detail"]

RELEASE_CAUSE = HangupCause.NORMAL_CLEARING
"""The cause we hang a released call up with, and record: 16, a normal clearing before answer
(``no_answer`` in :func:`~autoinformer.outcomes.outcome_for_unanswered`)."""


def eligible(ringing: Iterable[Call], now: float, after: float) -> list[Call]:
    """The ringing calls whose phone has rung at least ``after`` seconds, shortest ring first.

    ``ringing`` holds the calls not answered yet in the order they were placed (the oldest
    first). A call's phone rings only after its originate, so only the head placed at least
    ``after`` seconds ago can qualify: only it is looked at.
    """
    calls: list[Call] = []
    for call in ringing:
        if now - call.record.started_at < after:
            break
        if call.ringing_at is not None and now - call.ringing_at >= after:
            calls.append(call)
    calls.sort(key=_ringing_since, reverse=True)
    return calls


def _ringing_since(call: Call) -> float:
    assert call.ringing_at is not None
    return call.ringing_at


def released_detail(rang: float, after: float) -> str:
    """The attempt's detail for a call the dialer released."""
    return (
        f"released by the dialer after {rang:.1f} s of ringing "
        f"(the pacing's release_after: {after:g} s)"
    )


def release(call: Call, now: float, after: float) -> PacingObservation:
    """Mark an eligible ``call`` released at ``now`` (``no_answer``, with the detail saying
    so): the caller hangs it up with :data:`RELEASE_CAUSE` and tells the policy what this
    returns (``RELEASED``, with the seconds since the launch: the clock ``ANSWERED``'s ring
    time runs on)."""
    assert call.ringing_at is not None
    rang = now - call.ringing_at
    call.released = rang
    call.outcome = Outcome.NO_ANSWER
    call.detail = released_detail(rang, after)
    return PacingObservation(Observation.RELEASED, now, now - call.record.started_at)


def next_time(ringing: Iterable[Call], now: float, after: float, poll: float) -> float | None:
    """When the core should ask again: ``now + poll`` while some ringing call is eligible
    (the policy's answer changes as answers and operators come and go), else when the first
    ringing call becomes eligible; None when nothing rings.

    Only the head of the calls (in placing order) can be due before the youngest call placed
    ``after`` seconds ago is; a call whose ringing is not reported yet is skipped (its
    progress event wakes the core anyway).
    """
    first: float | None = None
    for call in ringing:
        at = call.record.started_at + after
        if at > now:  # this call, and every later one, rings long enough only after ``at``
            return at if first is None or at < first else first
        if call.ringing_at is not None:
            at = call.ringing_at + after
            if at <= now:
                return now + poll
            if first is None or at < first:
                first = at
    return first
