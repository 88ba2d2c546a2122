"""The sans-IO dialer core: ``commands = core.handle(now, event)``.

Every decision a dialer makes lives here, as a pure function of its state, the event and the
time passed in: who to call next and on which number, with which caller ID, whether the window,
the limits and the do-not-call list allow it, how many calls to launch (the pacing policy under
the line limit), what the script does next, which operator gets an answered call, what the
attempt's outcome is, whether and when to retry, which SMS to send. Nothing here reads a clock,
sleeps, or touches a socket or a file; the runtime (anyio) and the simulator (virtual time)
carry the commands out. See ``docs/outcomes.md`` for the outcome rules.

This module holds the state, dialling, the end of calls and the timers; the pieces with a job
of their own live beside it: :mod:`.gates` (may this number be called now), :mod:`.intake`
(contacts in), :mod:`.answered` (an answered call's script), :mod:`.operators` (transfers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
from collections.abc import Callable
from typing import Protocol

import attrs

from autoinformer.backends.base import (
    BackendGap,
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    MachineDetected,
    PlaybackFinished,
)
from autoinformer.campaign import Campaign
from autoinformer.core import answered, gates, intake, release
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard, default_pacing
from autoinformer.core.answered import PLAYBACK_SETTLE
from autoinformer.core.book import ContactBook, Slot
from autoinformer.core.calls import Call, Stage
from autoinformer.core.operators import OperatorDesk
from autoinformer.core.sms import sms_for
from autoinformer.outcomes import (
    ContactState,
    HangupCause,
    Outcome,
    outcome_for_unanswered,
)
from autoinformer.pacing.base import (
    Observation,
    PacingObservation,
    PacingPolicy,
    PacingView,
    release_after,
)
from autoinformer.policy.callerid import CallerIdCarousel
from autoinformer.policy.retry import RetryDecision
from autoinformer.records import AttemptRecord
from autoinformer.speech import Template

__all__ = ["NOT_PLACED", "DialerCore", "DoNotCall", "is_not_placed"]

_REACHED = frozenset({Outcome.DELIVERED, Outcome.TRANSFERRED, Outcome.OPTED_OUT})
_CALLER_ID_RETRY = 30.0
_PACING_POLL = 1.0
MAX_BACKOFF = 60.0
"""Longest pause in dialling after the switch refused originates in a row (1, 2, 4... s)."""
MAX_PROBE_INTERVAL = 30.0
"""Longest pause between two probes of a switch that could not be reached (1, 2, 4... s)."""
NOT_PLACED = "not placed: the switch could not be reached"
"""How the ``detail`` of an attempt that never went out (the switch was unreachable) starts:
such an attempt is journaled (``failed``, cause 38) but not counted against the budget."""
SWITCH_GRACE = 30.0
"""Seconds the core waits for the switch to report a call's end it expects (after our ring
timeout, after our hang-up) before it ends the call itself: nothing waits forever."""


class DoNotCall(Protocol):
    """A do-not-call list as the core uses it (``autoinformer.contacts.DoNotCallList``)."""

    def blocks(self, number: str) -> bool:
        """True when ``number`` must not be called."""
        ...


_SWITCH_CALL_EVENTS = (CallProgress, CallAnswered, MachineDetected, CallEnded)


def is_not_placed(record: AttemptRecord) -> bool:
    """True for an attempt journaled as never placed (the switch could not be reached)."""
    return (
        record.outcome is Outcome.FAILED
        and record.answered_at is None
        and record.detail.startswith(NOT_PLACED)
    )


def utc(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(now, tz=dt.UTC)


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


@attrs.define(kw_only=True)
class DialerCore:
    """The dialer's decisions for one campaign. Feed it events; carry out its commands.

    Args:
        campaign: the validated settings.
        pacing: how many calls to launch (default: progressive when the script can transfer
            to operators, else broadcast; see :func:`~autoinformer.core.abandon_guard.
            default_pacing`); the campaign's ``lines`` is a hard cap over it. When the script
            can transfer, the policy is wrapped in an
            :class:`~autoinformer.core.abandon_guard.AbandonGuard` holding it to the
            campaign's ``abandon_cap`` over the campaign and its ``abandon_window``
            (``abandon_cap=1.0`` is the explicit opt-out).
        dnc: a do-not-call list (an object with ``blocks(number)``, or a callable), consulted
            at dial time for every number. A list that raises blocks the number for now (fail
            safe); ``dnc_errors`` counts such failures and ``dnc_last_error`` says the last.
        id_salt: mixed into every call id (see :func:`call_id_for`); the runtime passes the
            store's own id so ids never collide across stores. Empty in the simulator.

    When the switch refuses an originate, dialling pauses and then *probes*: one call at a
    time, the next only after the switch reported something about the last one (or a
    ``BackendGap`` said it reconnected), with a back-off between refusals. A switch that could
    not be reached at all (``CommandFailed(unreachable=True)``) costs no attempt: the attempt
    is journaled as not placed (:data:`NOT_PLACED`, not counted against the budget) and the
    contact is the first called when the switch is back (:attr:`switch_down` meanwhile).
    """

    campaign: Campaign
    pacing: PacingPolicy = attrs.field(
        default=attrs.Factory(lambda self: default_pacing(self.campaign), takes_self=True)
    )
    dnc: DoNotCall | Callable[[str], bool] | None = None
    id_salt: str = ""
    book: ContactBook = attrs.field(factory=ContactBook, init=False)
    calls: dict[str, Call] = attrs.field(factory=dict, init=False)
    legs: dict[str, str] = attrs.field(factory=dict, init=False)
    ringing: dict[str, Call] = attrs.field(factory=dict, init=False)
    _desk: OperatorDesk = attrs.field(init=False)
    carousel: CallerIdCarousel | None = attrs.field(init=False, default=None)
    _templates: dict[str, Template] = attrs.field(factory=dict, init=False)
    _opted_out: set[str] = attrs.field(factory=set, init=False)
    numbers: dict[str, str] = attrs.field(factory=dict, init=False)
    """Each number of the campaign's contacts -> the contact that has it (intake skips or
    trims a later contact with the same number, so nobody is called twice for one list)."""
    _timers: list[tuple[float, int, str, str, int]] = attrs.field(factory=list, init=False)
    _seq: int = attrs.field(default=0, init=False)
    _paused: bool = attrs.field(default=False, init=False)
    _stopping: bool = attrs.field(default=False, init=False)
    _done_sent: bool = attrs.field(default=False, init=False)
    _stop_sent: bool = attrs.field(default=False, init=False)
    _now: float = attrs.field(default=0.0, init=False)
    _backoff: float = attrs.field(default=0.0, init=False)
    _last_wake: float | None = attrs.field(default=None, init=False)
    _hold_until: float = attrs.field(default=0.0, init=False)
    _dialing: int = attrs.field(default=0, init=False)
    _blocks: Callable[[str], bool] | None = attrs.field(default=None, init=False)
    _release_after: float | None = attrs.field(default=None, init=False)
    dnc_errors: int = attrs.field(default=0, init=False)
    dnc_last_error: str = attrs.field(default="", init=False)
    _probing: bool = attrs.field(default=False, init=False)
    _probe: str | None = attrs.field(default=None, init=False)
    _switch_down: bool = attrs.field(default=False, init=False)
    _probe_backoff: float = attrs.field(default=0.0, init=False)
    _unplaced: dict[str, int] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        self._desk = OperatorDesk.from_settings(self.campaign.queues)
        if self.campaign.caller_ids is not None:
            self.carousel = CallerIdCarousel(self.campaign.caller_ids)
        texts = [*self.campaign.script.templates(), self.campaign.sms.on_hangup]
        texts.append(self.campaign.sms.on_missed)
        for text in texts:
            if text is not None and text not in self._templates:
                self._templates[text] = Template.parse(text)
        guarded = self.campaign.script.queues() and self.campaign.abandon_cap < 1.0
        if guarded and not isinstance(self.pacing, AbandonGuard):
            self.pacing = AbandonGuard(
                inner=self.pacing,
                cap=self.campaign.abandon_cap,
                window_seconds=self.campaign.abandon_window,
            )
        self._release_after = release_after(self.pacing)  # validated: >= 15 s or None
        if self.dnc is not None:
            blocks = getattr(self.dnc, "blocks", None)
            self._blocks = blocks if callable(blocks) else self.dnc  # type: ignore[assignment]

    # --- the one way in ------------------------------------------------------------------

    def handle(self, now: float, event: e.Event) -> list[c.Command]:
        """Take one event at time ``now`` (POSIX seconds) and return the commands to run."""
        out: list[c.Command] = []
        self._now = now
        probe = self._probe
        if probe is not None and isinstance(event, _SWITCH_CALL_EVENTS) and event.call_id == probe:
            self._switch_back()  # the switch took the probe and reports on it
        if isinstance(event, CallEnded):
            self._on_ended(now, event, out)
        elif isinstance(event, CallAnswered):
            self._on_answered(now, event, out)
        elif isinstance(event, PlaybackFinished):
            answered.playback_finished(self, now, event, out)
        elif isinstance(event, DigitReceived):
            call = self.calls.get(event.call_id)
            if call is not None and call.run is not None and call.stage is Stage.SCRIPT:
                answered.run_script(self, now, call, call.run.digit(event.digit, now), out)
        elif isinstance(event, MachineDetected):
            answered.machine_detected(self, now, event, out)
        elif isinstance(event, Bridged):
            self._on_bridged(now, event, out)
        elif isinstance(event, CallProgress):
            call = self.ringing.get(event.call_id)
            if call is not None and call.ringing_at is None and event.state == "ringing":
                # the phone rings from now (release counts this); early media may come first
                call.ringing_at = now
        elif isinstance(event, BackendGap):
            # The gap may have hidden answers (the switch reports them right after it): a
            # call ringing across it is never released, so an answered call is never cut.
            self.ringing.clear()
            # Calls lost in the gap ended at its start at the latest: the outage is not talk.
            started = now - max(0.0, event.seconds)
            for call_id in event.lost:
                lost = self.calls.get(call_id)
                if lost is not None and lost.lost_at is None:
                    lost.lost_at = started
            self._switch_back()  # reconnected
        elif isinstance(event, e.Tick):
            pass
        elif isinstance(event, e.ContactsAdded):
            intake.add_contacts(self, event.contacts, out)
        elif isinstance(event, e.ContactsRestored):
            self.restored_unplaced(event)
            intake.restore_contacts(self, now, event, out)
            self._forget_unplaced_history(event)
        elif isinstance(event, e.ContactCancelled):
            intake.cancel_contact(self, event, out)
        elif isinstance(event, e.CallbackDone):
            answered.callback_done(self, now, event.call_id, event.result, out)
        elif isinstance(event, e.CommandFailed):
            self._on_failed(now, event, out)
        elif isinstance(event, e.Pause):
            self._paused = True
        elif isinstance(event, e.Resume):
            self._paused = False
        elif isinstance(event, e.Abort):
            self._abort(now, event.reason, out)
        elif isinstance(event, e.Stop):
            self._stopping = True
            if event.hangup:
                for call in list(self.calls.values()):
                    self.hangup_call(call, out)
        self._fire_timers(now, out)
        view = None
        if self._release_after is not None and self._dialing > 0:
            view = release.release_due(self, now, self._release_after, out)
        self._dial(now, out, view)
        self._finish(now, out)
        return out

    @property
    def release_after(self) -> float | None:
        """Seconds a call must ring before the pacing may have it released (None: never)."""
        return self._release_after

    @property
    def paused(self) -> bool:
        """True after Pause until Resume."""
        return self._paused

    @property
    def switch_down(self) -> bool:
        """True while the switch could not be reached: no call is placed but one probe at a
        time, until the switch reports on a probe or reconnects (``BackendGap``)."""
        return self._switch_down

    @property
    def probe(self) -> str | None:
        """The call id of the probe in flight while :attr:`switch_down` (None: none)."""
        return self._probe

    def unplaced(self, contact_id: str) -> int:
        """Attempts of this contact that never went out (the switch was unreachable)."""
        return self._unplaced.get(contact_id, 0)

    def counts(self) -> dict[str, int]:
        """How many contacts are in each state (for progress displays)."""
        out = {s.value: 0 for s in ContactState}
        for slot in self.book.slots.values():
            out[slot.state.value] += 1
        return out

    # --- contacts ------------------------------------------------------------------------

    def close_contact(
        self, slot: Slot, state: ContactState, reason: str, out: list[c.Command]
    ) -> None:
        """Move a contact to a final state (with the reason) and save it."""
        self.book.set_state(slot, state, reason)
        if self.carousel is not None:
            self.carousel.forget(slot.contact.id)
        out.append(c.SaveProgress(slot.progress()))

    def _decide(self, slot: Slot, outcome: Outcome, now: float) -> RetryDecision:
        phones = max(1, len(slot.contact.phones))
        index = min(slot.number_index, phones - 1)
        made = slot.attempts - self._unplaced.get(slot.contact.id, 0)  # placed ones only
        return self.campaign.retry.decide(outcome, made, index, phones, utc(now))

    def _after_attempt(
        self, now: float, slot: Slot, outcome: Outcome | None, out: list[c.Command]
    ) -> bool:
        """Decide the contact's next state after an attempt; True when it will be retried."""
        slot.call_id = None
        outcome = outcome or Outcome.UNKNOWN
        if slot.cancel_after_call:
            self.close_contact(slot, ContactState.CANCELLED, slot.reason or "cancelled", out)
            return False
        decision = self._decide(slot, outcome, now)
        if decision.retry and decision.at is not None:
            slot.number_index = decision.number_index
            self.book.set_state(slot, ContactState.SCHEDULED, decision.reason)
            self.book.wait_until(slot, decision.at.timestamp())
            out.append(c.SaveProgress(slot.progress()))
            return True
        if outcome in _REACHED:
            state = ContactState.DONE
        elif outcome is Outcome.INVALID_NUMBER:
            state = ContactState.SKIPPED
        else:
            state = ContactState.EXHAUSTED
        self.close_contact(slot, state, decision.reason, out)
        return False

    # --- dialling ------------------------------------------------------------------------

    def _view(self, now: float) -> PacingView:
        desk = self._desk.view(now)
        return PacingView(
            now=now,
            lines_free=self.campaign.lines - len(self.calls),
            dialing=self._dialing,
            waiting=desk.waiting,
            agents_logged_in=desk.logged_in,
            agents_idle=desk.idle,
            agents_wrapup=desk.wrapup,
            agents_talking=desk.talking,
        )

    def _dial(self, now: float, out: list[c.Command], view: PacingView | None = None) -> None:
        """Launch what the pacing wants (``view``: the one the release decision just used,
        still true now; else it is computed)."""
        if self._paused or self._stopping or now < self._hold_until:
            return
        lines_free = self.campaign.lines - len(self.calls)
        if lines_free <= 0:
            return
        if not self.book.has_ready():
            nxt = self.book.next_time()
            if nxt is None or nxt > now:
                return
        if self._probing and self._probe is not None:
            return  # the switch has not answered for the last probe yet
        if view is None:
            view = self._view(now)
        wanted = min(self.pacing.calls_to_launch(view), lines_free)
        if self._probing:
            wanted = min(wanted, 1)  # after refusals: one call at a time, not a batch
        while wanted > 0:
            slot = self.book.next_due(now)
            if slot is None:
                return
            placed = self._try_dial(now, slot, out)
            if placed is None:
                return
            if placed and self._probing:
                self._probe = slot.call_id
            wanted -= int(placed)

    def blocked(self, number: str) -> bool:
        """True when ``number`` must not be called now: on the do-not-call list, opted out in
        this run, or the list could not answer (fail safe)."""
        return self.dnc_verdict(number) is not None

    def dnc_verdict(self, number: str) -> str | None:
        """Why ``number`` must not be called now (None: it may be).

        ``"do-not-call list"`` when it is listed or opted out; a reason starting with
        ``"do-not-call list unavailable"`` when the list raised (a file that cannot be read,
        a :class:`~autoinformer.errors.PolicyError`, anything a user's list raises): the number
        is blocked for now, never called on a guess, and the failure is counted in
        ``dnc_errors`` (``dnc_last_error`` says what it was, for the runtime's log).
        """
        if number in self._opted_out:
            return "do-not-call list"
        if self._blocks is None:
            return None
        try:
            listed = bool(self._blocks(number))
        except Exception as exc:  # any list, the user's own too: whatever it raises, fail safe
            self.dnc_errors += 1
            self.dnc_last_error = f"{type(exc).__name__}: {exc}"
            return f"do-not-call list unavailable ({self.dnc_last_error})"
        return "do-not-call list" if listed else None

    def _try_dial(self, now: float, slot: Slot, out: list[c.Command]) -> bool | None:
        """Gate and place one call; False: the contact was deferred or closed; None: stop
        dialling for now (no caller ID free)."""
        contact, campaign = slot.contact, self.campaign
        gated = gates.check(self, now, slot, out)
        if gated is None:
            return False
        index, number, at = gated
        caller_id: str | None = None
        if self.carousel is not None:
            caller_id = self.carousel.pick(number, contact.id, at)
            if caller_id is None:
                self.book.push_front(slot)
                nxt_free = self.carousel.next_available(at)
                self._hold_until = (
                    nxt_free.timestamp() if nxt_free is not None else now + _CALLER_ID_RETRY
                )
                return None
        slot.number_index = index
        slot.attempts += 1
        slot.history.append(at)
        call_id = call_id_for(campaign.name, contact.id, slot.attempts, self.id_salt)
        record = AttemptRecord(
            attempt_id=call_id,
            campaign=campaign.name,
            contact_id=contact.id,
            attempt_no=slot.attempts,
            number=number,
            caller_id=caller_id,
            started_at=now,
        )
        call = Call(call_id=call_id, slot=slot, record=record)
        self.calls[call_id] = call
        self.ringing[call_id] = call  # in the order placed: the oldest first
        slot.call_id = call_id
        self._dialing += 1
        self.book.set_state(slot, ContactState.IN_CALL)
        slot.next_at = None
        out.append(c.Journal(record, begin=True))
        out.append(c.SaveProgress(slot.progress()))
        out.append(
            c.Originate(
                call_id=call_id,
                number=number,
                caller_id=caller_id,
                ring_timeout=campaign.retry.ring_timeout_for(),
                variables={
                    "AUTOINFORMER_CAMPAIGN": campaign.name,
                    "AUTOINFORMER_CONTACT": contact.id,
                    "AUTOINFORMER_ATTEMPT": str(slot.attempts),
                },
                detect_machine=campaign.machine_detection,
            )
        )
        self.pacing.observe(PacingObservation(Observation.DIALED, now))
        ring = campaign.retry.ring_timeout_for()
        self.set_timer(now + ring + SWITCH_GRACE, call, "ring")
        return True

    # --- call events ---------------------------------------------------------------------

    def _on_answered(self, now: float, event: CallAnswered, out: list[c.Command]) -> None:
        leg_of = self.legs.get(event.call_id)
        if leg_of is not None:
            self._desk.leg_answered(now, self, event.call_id, leg_of, out)
            return
        call = self.calls.get(event.call_id)
        if call is None or call.stage is not Stage.DIALING:
            return
        call.answered_at = now
        self.ringing.pop(call.call_id, None)
        self._backoff = 0.0
        self.set_timer(now + self.campaign.max_call_seconds, call, "max")
        self._dialing -= 1
        self.pacing.observe(
            PacingObservation(Observation.ANSWERED, now, now - call.record.started_at)
        )
        answered.answered(self, now, call, event.machine, out)

    def _on_bridged(self, now: float, event: Bridged, out: list[c.Command]) -> None:
        call = self.calls.get(event.call_id)
        if call is not None:
            self._desk.bridged(now, self, call, out)

    def _on_failed(self, now: float, event: e.CommandFailed, out: list[c.Command]) -> None:
        if event.call_id in self.legs:
            self._desk.leg_ended(now, self, event.call_id, out, f"refused: {event.detail}")
            return
        call = self.calls.get(event.call_id)
        if call is None:
            return
        if event.originate and event.unreachable:
            self._not_placed(now, call, event.detail, out)
        elif event.originate:
            # the switch refuses calls (overloaded): back off instead of burning the list, and
            # probe with one call at a time until the switch takes one
            self._probing = True
            if self._probe == call.call_id:
                self._probe = None
            self._backoff = min(MAX_BACKOFF, max(1.0, self._backoff * 2))
            self._hold_until = max(self._hold_until, now + self._backoff)
            ended = CallEnded(
                call.call_id, HangupCause.NORMAL_TEMPORARY_FAILURE, detail=event.detail
            )
            self._on_ended(now, ended, out)
        elif call.answered_at is None or call.stage is Stage.ENDING:
            return
        elif call.stage is Stage.BRIDGING:
            self._desk.bridge_failed(now, self, call, event.detail, out)
        elif event.gone:
            # "No such channel": the callee has just hung up. Its CallEnded is on the way and
            # decides the outcome (judged at this moment at the latest); if it never comes,
            # the "gone" timer ends the call after the grace period.
            if call.gone_at is None:
                call.gone_at = now
                if call.run is not None:
                    call.run.stop()
                self.set_timer(now + SWITCH_GRACE, call, "gone")
        elif call.stage in (Stage.QUEUED, Stage.OPERATOR_RINGING):
            call.aux_playback = None  # the hold music could not play: the callee waits on
        elif call.failure is None:
            # Refused on a call that exists: our fault (``failed``), unless the callee was just
            # leaving (ARI 409 as the channel leaves Stasis): a CallEnded within
            # PLAYBACK_SETTLE decides from the hang-up instead; then the "failed" timer.
            call.failure = event.detail
            if call.run is not None:
                call.run.stop()
            self.set_timer(now + PLAYBACK_SETTLE, call, "failed")

    def _not_placed(self, now: float, call: Call, detail: str, out: list[c.Command]) -> None:
        """The originate never reached the switch: journal the attempt as not placed (it does
        not count against the budget), put the contact first in line and pause dialling; the
        next call is a single probe after a back-off (1, 2, 4... up to 30 s)."""
        self.calls.pop(call.call_id, None)
        self.ringing.pop(call.call_id, None)
        self._dialing -= 1
        self.pacing.observe(PacingObservation(Observation.RELEASED, now, 0.0))
        slot = call.slot
        cause = int(HangupCause.NETWORK_OUT_OF_ORDER)
        record = call.finished(now, Outcome.FAILED, cause, f"{NOT_PLACED} ({detail})")
        out += [c.Journal(record, begin=False), c.Notify(record)]
        cid = slot.contact.id
        self._unplaced[cid] = self._unplaced.get(cid, 0) + 1
        if slot.history:
            slot.history.pop()  # no call went out: frequency limits do not count it
        slot.call_id = None
        if slot.cancel_after_call:
            self.close_contact(slot, ContactState.CANCELLED, slot.reason or "cancelled", out)
        else:
            self.book.set_state(slot, ContactState.PENDING)
            slot.next_at = None
            self.book.requeue(slot)
            out.append(c.SaveProgress(slot.progress()))
        if self._probe == call.call_id or not self._switch_down:
            self._probe_backoff = min(MAX_PROBE_INTERVAL, max(1.0, self._probe_backoff * 2))
            self._hold_until = max(self._hold_until, now + self._probe_backoff)
        if self._probe == call.call_id:
            self._probe = None
        self._switch_down = self._probing = True

    def _abort(self, now: float, reason: str, out: list[c.Command]) -> None:
        """Hang every call up and record it now (see :class:`~.events.Abort`)."""
        self._stopping = True
        for call in list(self.calls.values()):
            detail = f"hung up: the run stopped ({reason})"
            answered_call = call.answered_at is not None
            if answered_call:  # judged as it stands, before the hang-up changes its stage
                outcome = call.answered_outcome(now, self.campaign.min_delivered_seconds)
                if outcome is Outcome.HUNG_UP_EARLY:
                    outcome = Outcome.FAILED  # we cut it, not the callee
                    call.detail = call.detail or detail
                call.outcome = outcome
            self.hangup_call(call, out)
            ended = CallEnded(
                call.call_id,
                HangupCause.NORMAL_TEMPORARY_FAILURE,
                answered=answered_call,
                detail=detail,
            )
            self._on_ended(now, ended, out)
        for leg in list(self.legs):
            out.append(c.Hangup(leg, HangupCause.NORMAL_CLEARING))

    def _switch_back(self) -> None:
        """The switch took a probe (or reconnected): dial as the pacing wants again."""
        if self._probing:
            self._probing = self._switch_down = False
            self._probe = None
            self._probe_backoff = 0.0
            self._hold_until = 0.0

    def _forget_unplaced_history(self, event: e.ContactsRestored) -> None:
        """Frequency limits count calls that went out: drop the not-placed attempts' start
        times from the restored history."""
        for entry in event.entries:
            unplaced = {utc(r.started_at) for r in entry.attempts if is_not_placed(r)}
            slot = self.book.slots.get(entry.contact.id)
            if unplaced and slot is not None:
                slot.history = [t for t in slot.history if t not in unplaced]

    def restored_unplaced(self, event: e.ContactsRestored) -> None:
        """Count the not-placed attempts of restored contacts (before intake decides on them:
        they stay out of the budget after a restart too)."""
        for entry in event.entries:
            n = sum(1 for r in entry.attempts if is_not_placed(r))
            if n:
                self._unplaced[entry.contact.id] = n

    def _on_ended(self, now: float, event: CallEnded, out: list[c.Command]) -> None:
        if event.call_id in self.legs:
            self._desk.leg_ended(now, self, event.call_id, out, event.cause.name.lower())
            return
        call = self.calls.pop(event.call_id, None)
        if call is None:
            return
        self.ringing.pop(event.call_id, None)
        if call.run is not None:
            call.run.stop()
        cause = event.cause
        end = now  # when the call ended: at the start of an outage it was lost in
        if call.lost_at is not None:
            end = min(now, max(call.lost_at, call.answered_at or call.record.started_at))
        if call.released is not None:  # the pacing heard of it when we released it
            outcome, cause = Outcome.NO_ANSWER, release.RELEASE_CAUSE
        elif call.answered_at is None:
            self._dialing -= 1
            outcome = outcome_for_unanswered(event.cause)
            self.pacing.observe(
                PacingObservation(Observation.NOT_ANSWERED, now, now - call.record.started_at)
            )
        else:
            outcome = call.answered_outcome(end, self.campaign.min_delivered_seconds)
            if call.lost_at is not None and outcome is Outcome.HUNG_UP_EARLY:
                # the switch cut the call, not the callee: a fault, retried by policy
                outcome = Outcome.FAILED
                call.detail = call.detail or (
                    f"lost in a switch outage {now - end:.0f} s long, "
                    f"{end - call.answered_at:.0f} s after the answer"
                )
            if call.connected_at is None:  # a connected call's end is its operator's (the desk)
                self.pacing.observe(
                    PacingObservation(Observation.ENDED, now, end - call.answered_at)
                )
        self._desk.customer_gone(now, self, call, out)
        record = call.finished(end, outcome, int(cause), event.detail)
        out += [c.Journal(record, begin=False), c.Notify(record)]
        retried = self._after_attempt(now, call.slot, outcome, out)
        sms = sms_for(self.campaign, self._templates, call.slot.contact, record.number, outcome)
        due = sms is not None and (
            sms.rule == "on_hangup" or self.campaign.sms.missed_when == "every" or not retried
        )
        if sms is not None and due and not self.blocked(record.number):
            out.append(sms)

    def hangup_call(
        self, call: Call, out: list[c.Command], cause: HangupCause = HangupCause.NORMAL_CLEARING
    ) -> None:
        """Hang the customer's call up (once)."""
        if call.stage is Stage.ENDING:
            return
        call.stage = Stage.ENDING
        self.ringing.pop(call.call_id, None)
        out.append(c.Hangup(call.call_id, cause))
        self.set_timer(self._now + SWITCH_GRACE, call, "gone")

    def stop_dialing(self, call: Call) -> None:
        """A ringing call no longer counts as dialling for the pacing (released)."""
        if call.stage is Stage.DIALING and call.answered_at is None:
            self._dialing -= 1

    # --- timers --------------------------------------------------------------------------

    def set_timer(self, at: float, call: Call, kind: str) -> None:
        """Arm timer ``kind`` of ``call`` for ``at`` (an earlier one of that kind is void)."""
        token = call.tokens.get(kind, 0) + 1
        call.tokens[kind] = token
        self._seq += 1
        heapq.heappush(self._timers, (at, self._seq, call.call_id, kind, token))

    def _fire_timers(self, now: float, out: list[c.Command]) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, _, call_id, kind, token = heapq.heappop(timers)
            call = self.calls.get(call_id)
            if call is None or call.tokens.get(kind) != token:
                continue
            if kind in answered.TIMERS or kind.startswith("menu:"):
                answered.timer_fired(self, now, call, kind, out)
            elif kind == "failed":  # a command failed and the call did not end meanwhile
                call.detail = call.failure or call.detail
                if call.outcome is None:
                    call.outcome = Outcome.FAILED  # we could not play the message: our fault
                self.hangup_call(call, out)
            elif kind == "queue":
                self._desk.wait_expired(now, self, call, out)
            elif kind == "ring" and call.stage is Stage.DIALING:
                call.detail = "the switch never reported the end of ringing"
                self.hangup_call(call, out)
            elif kind == "max":
                call.detail = "longer than the campaign's max_call_seconds"
                self.hangup_call(call, out)
            elif kind == "gone":  # no CallEnded after our hangup: end it ourselves
                detail = "the switch never confirmed the hang-up"
                if call.gone_at is not None:
                    detail = "the switch said the call was gone but never reported its end"
                ended = CallEnded(
                    call_id,
                    HangupCause.NORMAL_TEMPORARY_FAILURE,
                    answered=call.answered_at is not None,
                    detail=detail,
                )
                self._on_ended(now, ended, out)
        self._desk.serve(now, self, out)

    def _next_wake(self, now: float) -> float | None:
        times: list[float] = []
        timers = self._timers
        while timers:
            _, _, call_id, kind, token = timers[0]
            call = self.calls.get(call_id)
            if call is not None and call.tokens.get(kind) == token:
                times.append(timers[0][0])
                break
            heapq.heappop(timers)
        if not self._paused and not self._stopping and len(self.calls) < self.campaign.lines:
            nxt = self.book.next_time()
            if nxt is not None and nxt <= now:
                nxt = now + _PACING_POLL  # due but held back by pacing: ask again soon
            if nxt is not None:
                times.append(max(nxt, self._hold_until))
            elif self.book.has_ready():  # fresh contacts held back (by a hold, or the pacing)
                hold = self._hold_until
                times.append(hold if hold > now else now + _PACING_POLL)
        desk = self._desk.next_time()
        if desk is not None:
            times.append(desk)
        if self._release_after is not None and self._dialing > 0:
            due = release.next_time(self, now, self._release_after, _PACING_POLL)
            if due is not None:
                times.append(due)
        return min(times) if times else None

    def _finish(self, now: float, out: list[c.Command]) -> None:
        wake = self._next_wake(now)
        if wake is not None and wake != self._last_wake:
            self._last_wake = wake
            out.append(c.WakeAt(max(wake, now)))
        if self.calls:
            return
        if self._stopping:
            if not self._stop_sent:
                self._stop_sent = True
                out.append(c.Done("stopped"))
        elif not self._paused and not self._done_sent and self.book.open_count == 0:
            self._done_sent = True
            out.append(c.Done("finished"))
