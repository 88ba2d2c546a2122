"""The calls in progress, as the dialer core tracks them: each call, and the table of them.

A part of the sans-IO core with no policy of its own: :class:`Call` is one customer's call
(its stage, timers' tokens, operator leg, what goes into its record), :class:`CallTable` the
calls in progress, the ones still ringing (in the order placed) and how many of them the
pacing counts as dialling, and :func:`call_id_for` our id for each attempt's call. Operator
legs are the desk's (:mod:`.operators`), not this table's.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator

import attrs

from autoinformer.core.book import Slot
from autoinformer.outcomes import Outcome
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.script.machine import ScriptRun

__all__ = ["SWITCH_GRACE", "Call", "CallTable", "Stage", "call_id_for"]

SWITCH_GRACE = 30.0
"""Seconds the core waits for the switch to report a call's end it expects (after our ring
timeout, after our hang-up) before it ends the call itself: nothing waits forever."""


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


def call_id_for(campaign: str, contact_id: str, attempt_no: int, salt: str = "") -> str:
    """Our id for one attempt's call: stable, unique per (campaign, contact, attempt, salt).

    ``salt`` is the store's own random id for the campaign (the runtime keeps it in the
    store's meta): a second store running a campaign of the same name must not reuse the ids
    of calls the first may still have on the switch (Asterisk answers ``409 Channel with given
    unique ID already exists``), while one store keeps its ids stable for reconciliation.
    """
    raw = f"{campaign}\0{contact_id}\0{attempt_no}".encode()
    if salt:
        raw += b"\0" + salt.encode()
    return "ai-" + hashlib.blake2s(raw, digest_size=10).hexdigest()


@attrs.define
class CallTable:
    """The customer calls in progress, by call id.

    ``ringing`` holds the calls not answered yet in the order they were placed (the oldest
    first; the release valve reads it so); ``dialing`` is how many calls the pacing counts as
    dialling: placed and neither answered, ended unanswered nor released.
    """

    calls: dict[str, Call] = attrs.field(factory=dict)
    ringing: dict[str, Call] = attrs.field(factory=dict)
    dialing: int = 0

    def __len__(self) -> int:
        return len(self.calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(list(self.calls.values()))

    def get(self, call_id: str) -> Call | None:
        """The call with this id (None: not in progress)."""
        return self.calls.get(call_id)

    def placed(self, call: Call) -> None:
        """A call was originated: it rings (and counts as dialling) until answered or ended."""
        self.calls[call.call_id] = call
        self.ringing[call.call_id] = call
        self.dialing += 1

    def answered(self, call: Call) -> None:
        """The callee picked up: no longer ringing, no longer dialling."""
        self.ringing.pop(call.call_id, None)
        self.dialing -= 1

    def remove(self, call_id: str) -> Call | None:
        """The call ended: forget it (returns it; None when it was not in progress)."""
        call = self.calls.pop(call_id, None)
        if call is not None:
            self.ringing.pop(call_id, None)
        return call

    def stop_dialing(self, call: Call) -> None:
        """A ringing call no longer counts as dialling for the pacing (released, or ended
        unanswered)."""
        if call.stage is Stage.DIALING and call.answered_at is None:
            self.dialing -= 1

    def not_ringing(self, call: Call) -> None:
        """The call no longer rings for the release valve (we hung it up)."""
        self.ringing.pop(call.call_id, None)
