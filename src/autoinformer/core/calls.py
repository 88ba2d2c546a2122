"""One call in progress, as the dialer core tracks it."""

from __future__ import annotations

import enum

import attrs

from autoinformer.core.book import Slot
from autoinformer.outcomes import Outcome
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.script.machine import ScriptRun

__all__ = ["Call", "Stage"]


class Stage(enum.Enum):
    """Where a customer's call stands."""

    DIALING = "dialing"
    """Originated, not answered yet."""
    DETECTING = "detecting"
    """Answered; waiting for answering-machine detection."""
    BEEP = "beep"
    """An answering machine; waiting for the beep to leave the message."""
    SCRIPT = "script"
    """The script runs."""
    QUEUED = "queued"
    """Waiting for an operator to become free."""
    OPERATOR_RINGING = "operator_ringing"
    """An operator's phone rings for this call."""
    BRIDGING = "bridging"
    """The operator answered; the bridge is being made."""
    BRIDGED = "bridged"
    """The callee talks to the operator."""
    ABANDON_MESSAGE = "abandon_message"
    """No operator: the identification message plays before hanging up."""
    ENDING = "ending"
    """We hung up; waiting for the switch to confirm."""


@attrs.define(kw_only=True)
class Call:
    """A customer's call: its attempt record (as journaled before the originate), script run,
    operator leg, timers, and what will go into the final record.

    Operator fields: ``ringing`` holds the operator legs ringing for the call now (several at
    once for a ring-all queue); ``op_leg``/``operator`` the leg that answered; ``tried`` the
    operators whose leg failed for this call (id -> why), who are not rung again for it.
    ``gone_at`` is when the switch said the call no longer exists (a play answered "no such
    channel"): the callee had hung up by then, so the outcome is judged at that time.
    ``stalled`` is a script playback that ended unfinished without our asking, held for a
    moment before the script goes on (see ``PLAYBACK_SETTLE``); ``failure`` likewise holds a
    failed command's detail for a moment before the call is recorded as ``failed``.
    ``ringing_at`` is when the switch first reported the callee's phone ringing (``"ringing"``
    progress; early media does not count, see :mod:`autoinformer.core.release`); ``released``
    is how long the call had rung since then when the dialer released it at the pacing's
    request; None for a call not released.
    ``connected_at`` is when the bridge with an operator held (the pacing heard CONNECTED): the
    desk reports the end of that talk (TALK_ENDED), so the call's own end reports nothing more;
    an answered call never connected reports ENDED when it ends.
    ``lost_at`` is the start of a switch outage the call was lost in (a ``BackendGap`` listed
    it): the call's end is taken there, never after the outage.
    """

    call_id: str
    slot: Slot
    record: AttemptRecord
    stage: Stage = Stage.DIALING
    answered_at: float | None = None
    run: ScriptRun | None = None
    machine: bool = False
    outcome: Outcome | None = None
    tokens: dict[str, int] = attrs.field(factory=dict)
    queue: str | None = None
    op_leg: str | None = None
    operator: Operator | None = None
    legs: int = 0
    ringing: list[str] = attrs.field(factory=list)
    tried: dict[str, str] = attrs.field(factory=dict)
    hold_started: float = 0.0
    gone_at: float | None = None
    stalled: str | None = None
    failure: str | None = None
    wait_started: float = 0.0
    aux_playback: str | None = None
    operator_id: str | None = None
    callback_result: str | None = None
    ringing_at: float | None = None
    released: float | None = None
    connected_at: float | None = None
    lost_at: float | None = None
    detail: str = ""

    def answered_outcome(self, now: float, min_delivered_seconds: float) -> Outcome:
        """The outcome of this answered call as it ends at ``now`` (see docs/outcomes.md)."""
        if self.outcome is not None:
            return self.outcome
        if self.stage in (Stage.QUEUED, Stage.OPERATOR_RINGING, Stage.BRIDGING):
            return Outcome.ABANDONED  # the callee did not wait for the operator
        if self.machine:
            return Outcome.MACHINE
        assert self.answered_at is not None
        if self.gone_at is not None:
            now = min(now, self.gone_at)  # the callee had left when the switch said so
        heard = self.run is not None and self.run.reached_end
        if heard or now - self.answered_at >= min_delivered_seconds:
            return Outcome.DELIVERED
        return Outcome.HUNG_UP_EARLY

    def finished(self, now: float, outcome: Outcome, cause: int, detail: str) -> AttemptRecord:
        """The attempt's record with its result (built once: records are frozen values)."""
        r = self.record
        return AttemptRecord(
            attempt_id=r.attempt_id,
            campaign=r.campaign,
            contact_id=r.contact_id,
            attempt_no=r.attempt_no,
            number=r.number,
            caller_id=r.caller_id,
            started_at=r.started_at,
            answered_at=self.answered_at,
            ended_at=now,
            outcome=outcome,
            cause=cause,
            digits=self.run.digits if self.run is not None else "",
            operator=self.operator_id,
            machine=self.machine,
            detail=self.detail or detail,
            callback_result=self.callback_result,
        )
