"""The sans-IO dialer core: ``commands = core.handle(now, event)``.

Every decision a dialer makes lives here, as a pure function of its state, the event and the
time passed in: who to call next and on which number, with which caller ID, whether the window,
the limits and the do-not-call list allow it, how many calls to launch (the pacing policy under
the line limit), what the script does next, which operator gets an answered call, what the
attempt's outcome is, whether and when to retry, which SMS to send. Nothing here reads a clock,
sleeps, or touches a socket or a file; the runtime (anyio) and the simulator (virtual time)
carry the commands out. See ``docs/outcomes.md`` for the outcome rules.

:class:`DialerCore` composes the parts, each owning its state behind a face that takes values
and returns values; it is the only one that sees them all, and no part knows it:

- :mod:`.calls`: the calls in progress (the call table) and their ids;
- :mod:`.timers`: the calls' timers;
- :mod:`.intake`: the contacts (the book, skip reasons, what follows an attempt);
- :mod:`.gates`: may this number be called now (do-not-call list, window, limits);
- :mod:`.throttle`: back-off and probes when the switch refuses or cannot be reached;
- :mod:`.answered`: an answered call's script;
- :mod:`.operators`: the operator desk (queues, operator legs, transfers);
- :mod:`.release`: the release valve for calls still ringing.

An event goes down once: :meth:`DialerCore.handle` picks its handler by the event's type from
one table, the handler hands it to the part that owns it and applies what the part returns
(commands go out; :mod:`.effects` arm timers, reach the pacing or the desk), then the due
timers fire, the release valve and the dialling run, and the next wake-up is computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from autoinformer.backends.base import (
    BackendGap,
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    LinesAvailable,
    MachineDetected,
    PlaybackFinished,
)
from autoinformer.campaign import Campaign
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core import release
from autoinformer.core.abandon_guard import AbandonGuard, default_pacing
from autoinformer.core.answered import PLAYBACK_SETTLE, TIMERS, ScriptRunner
from autoinformer.core.book import ContactBook, Slot
from autoinformer.core.calls import SWITCH_GRACE, Call, CallTable, Stage, call_id_for
from autoinformer.core.effects import Arm, Effect, Observe, Transfer, hang_up
from autoinformer.core.gates import Close, DoNotCall, Gates, Hold
from autoinformer.core.intake import NOT_PLACED, Intake, guard_history, is_not_placed
from autoinformer.core.operators import OperatorDesk, OperatorSnapshot
from autoinformer.core.shared_guard import SharedAbandonGuard
from autoinformer.core.sms import sms_for
from autoinformer.core.throttle import MAX_BACKOFF, MAX_PROBE_INTERVAL, Throttle
from autoinformer.core.timers import Timers
from autoinformer.outcomes import ContactState, HangupCause, Outcome, outcome_for_unanswered
from autoinformer.pacing.base import (
    PACING_POLL,
    Observation,
    PacingObservation,
    PacingPolicy,
    PacingView,
    release_after,
)
from autoinformer.policy.callerid import CallerIdCarousel
from autoinformer.records import AttemptRecord
from autoinformer.speech import Template


def _utc(at: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, tz=dt.UTC)


__all__ = [
    "MAX_BACKOFF",
    "MAX_PROBE_INTERVAL",
    "NOT_PLACED",
    "PLAYBACK_SETTLE",
    "SWITCH_GRACE",
    "DialerCore",
    "DoNotCall",
    "call_id_for",
    "is_not_placed",
]

_CALLER_ID_RETRY = 30.0
_PACING_POLL = PACING_POLL
_SWITCH_CALL_EVENTS = (CallProgress, CallAnswered, MachineDetected, CallEnded)
_DESK_PLAYBACK = (Stage.ABANDON_MESSAGE, Stage.QUEUED, Stage.OPERATOR_RINGING)


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
    templates: dict[str, Template] = attrs.field(factory=dict, init=False)
    """The campaign's parsed templates, by text (the script's and the SMS rules')."""
    _table: CallTable = attrs.field(factory=CallTable, init=False)
    _timers: Timers = attrs.field(factory=Timers, init=False)
    _intake: Intake = attrs.field(init=False)
    _gates: Gates = attrs.field(init=False)
    _throttle: Throttle = attrs.field(factory=Throttle, init=False)
    _runner: ScriptRunner = attrs.field(init=False)
    _desk: OperatorDesk = attrs.field(init=False)
    _paused: bool = attrs.field(default=False, init=False)
    _stopping: bool = attrs.field(default=False, init=False)
    _done_sent: bool = attrs.field(default=False, init=False)
    _stop_sent: bool = attrs.field(default=False, init=False)
    _now: float = attrs.field(default=0.0, init=False)
    _last_wake: float | None = attrs.field(default=None, init=False)
    _release_after: float | None = attrs.field(default=None, init=False)
    _granted: int | None = attrs.field(default=None, init=False)
    _switch_lines: int | None = attrs.field(default=None, init=False)
    _demand: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        campaign = self.campaign
        texts = [*campaign.script.templates(), campaign.sms.on_hangup, campaign.sms.on_missed]
        for text in texts:
            if text is not None and text not in self.templates:
                self.templates[text] = Template.parse(text)
        self._intake = Intake(campaign, self.templates)
        self._gates = Gates(self.dnc)
        self._runner = ScriptRunner(campaign, self.templates)
        self._desk = OperatorDesk.from_settings(campaign.queues, campaign.abandon_message)
        guarded = campaign.script.queues() and campaign.abandon_cap < 1.0
        if guarded and not isinstance(self.pacing, AbandonGuard):
            self.pacing = AbandonGuard(
                inner=self.pacing,
                cap=campaign.abandon_cap,
                window_seconds=campaign.abandon_window,
            )
        self._release_after = release_after(self.pacing)  # validated: >= 15 s or None

    # --- the one way in ------------------------------------------------------------------

    def handle(self, now: float, event: e.Event) -> list[c.Command]:
        """Take one event at time ``now`` (POSIX seconds) and return the commands to run."""
        out: list[c.Command] = []
        self._now = now
        if self._throttle.probe is not None and isinstance(event, _SWITCH_CALL_EVENTS):
            self._throttle.reported(event.call_id)  # the switch took the probe and reports
        handler = _HANDLERS.get(type(event)) or _handler_for(type(event))
        handler(self, now, event, out)
        self._fire_timers(now, out)
        view = None
        if self._release_after is not None and self._table.dialing > 0:
            view = self._release_due(now, self._release_after, out)
        self._dial(now, out, view)
        self._finish(now, out)
        return out

    # --- what others may read ------------------------------------------------------------

    @property
    def calls(self) -> dict[str, Call]:
        """The customer calls in progress, by call id (read only)."""
        return self._table.calls

    @property
    def ringing(self) -> dict[str, Call]:
        """The calls not answered yet, in the order placed (read only)."""
        return self._table.ringing

    @property
    def legs(self) -> dict[str, str]:
        """The operator legs (ours, until the switch ended them) -> the call each is for."""
        return {leg_id: leg.call_id for leg_id, leg in self._desk.legs.items()}

    def operators(self, now: float | None = None) -> tuple[OperatorSnapshot, ...]:
        """Every operator of every queue with its state, calls taken and current call, as
        copies (:class:`~autoinformer.core.operators.OperatorSnapshot`): what a dashboard
        shows, without reaching into the desk. Empty without queues.

        The desk moves an operator out of wrap-up at its next event; with ``now`` a wrap-up
        that ran out by then already reads ``idle`` (a read: nothing in the core changes)."""
        return self._desk.snapshot(now)

    @property
    def book(self) -> ContactBook:
        """The contacts and their states (read only)."""
        return self._intake.book

    @property
    def numbers(self) -> dict[str, str]:
        """Each number of the campaign's contacts -> the contact that has it."""
        return self._intake.numbers

    @property
    def carousel(self) -> CallerIdCarousel | None:
        """The caller-ID carousel (None: the campaign has no caller-ID pool)."""
        return self._intake.carousel

    @property
    def dnc_errors(self) -> int:
        """How many times the do-not-call list could not answer (the number was blocked)."""
        return self._gates.dnc_errors

    @property
    def dnc_last_error(self) -> str:
        """What the do-not-call list raised the last time it could not answer."""
        return self._gates.dnc_last_error

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
        return self._throttle.switch_down

    @property
    def probe(self) -> str | None:
        """The call id of the probe in flight while :attr:`switch_down` (None: none)."""
        return self._throttle.probe

    @property
    def lines_granted(self) -> int | None:
        """The lines this worker holds (:class:`~.events.LinesGranted`); None: no grant, the
        campaign's ``lines`` is the cap (one process on the campaign)."""
        return self._granted

    @property
    def lines_wanted(self) -> int:
        """With a grant: the lines this worker would use now, its calls in progress plus what
        the pacing asked for at the last dialling (up to the campaign's ``lines``); the
        runtime claims or gives back lines to follow it. Without a grant: the calls."""
        return min(self._lines(), max(self._demand, len(self._table.calls)))

    @property
    def switch_lines(self) -> int | None:
        """The calls the switch says it can carry now (:class:`~autoinformer.backends.base.
        LinesAvailable`: a switch set with members away); None: it has not said."""
        return self._switch_lines

    def _lines(self) -> int:
        """The campaign's lines, within what the switch can carry now."""
        lines = self.campaign.lines
        return lines if self._switch_lines is None else min(lines, self._switch_lines)

    def _line_cap(self) -> int:
        lines = self._lines()
        return lines if self._granted is None else min(lines, self._granted)

    def unplaced(self, contact_id: str) -> int:
        """Attempts of this contact that never went out (the switch was unreachable)."""
        return self._intake.unplaced(contact_id)

    def counts(self) -> dict[str, int]:
        """How many contacts are in each state (for progress displays)."""
        out = {s.value: 0 for s in ContactState}
        for slot in self._intake.book.slots.values():
            out[slot.state.value] += 1
        return out

    def blocked(self, number: str) -> bool:
        """True when ``number`` must not be called now: on the do-not-call list, opted out in
        this run, or the list could not answer (fail safe)."""
        return self._gates.blocked(number)

    def view(self, now: float) -> PacingView:
        """What the pacing policy sees at ``now``: lines, calls dialling, the operators."""
        desk = self._desk.view(now)
        return PacingView(
            now=now,
            lines_free=self.campaign.lines - len(self._table.calls),
            dialing=self._table.dialing,
            waiting=desk.waiting,
            agents_logged_in=desk.logged_in,
            agents_idle=desk.idle,
            agents_wrapup=desk.wrapup,
            agents_talking=desk.talking,
        )

    # --- applying what the parts return ---------------------------------------------------

    def _apply(self, results: Iterable[c.Command | Effect], out: list[c.Command]) -> None:
        """Carry out a part's results in their order: commands go out, effects take effect."""
        for item in results:
            if isinstance(item, Arm):
                self._timers.arm(item.at, item.call, item.kind)
            elif isinstance(item, Observe):
                self.pacing.observe(item.observation)
            elif isinstance(item, Transfer):
                calls = self._table.calls
                self._apply(self._desk.transfer(self._now, calls, item.call, item.queue), out)
            else:
                if isinstance(item, c.AddToDoNotCall):  # the callee opted out: blocked now
                    self._gates.opt_out(item.number)
                out.append(item)

    def _hang_up(
        self, call: Call, out: list[c.Command], cause: HangupCause = HangupCause.NORMAL_CLEARING
    ) -> None:
        """Hang the customer's call up (once); it no longer rings for the release valve."""
        results = hang_up(call, self._now, cause)
        if results:
            self._table.not_ringing(call)
        self._apply(results, out)

    # --- the events, one handler each (the table is below the class) ----------------------

    def _on_answered(self, now: float, event: CallAnswered, out: list[c.Command]) -> None:
        if self._desk.leg_call(event.call_id) is not None:
            self._apply(self._desk.leg_answered(now, self._table.calls, event.call_id), out)
            return
        call = self._table.get(event.call_id)
        if call is None or call.stage is not Stage.DIALING:
            return
        call.answered_at = now
        self._table.answered(call)
        self._throttle.answered()
        self._timers.arm(now + self.campaign.max_call_seconds, call, "max")
        self.pacing.observe(
            PacingObservation(Observation.ANSWERED, now, now - call.record.started_at)
        )
        self._apply(self._runner.answered(now, call, event.machine), out)

    def _on_ended(self, now: float, event: CallEnded, out: list[c.Command]) -> None:
        if self._desk.leg_call(event.call_id) is not None:
            why = event.cause.name.lower()
            self._apply(self._desk.leg_ended(now, self._table.calls, event.call_id, why), out)
            return
        self._end(now, event, out)

    def _on_playback(self, now: float, event: PlaybackFinished, out: list[c.Command]) -> None:
        call = self._table.get(event.call_id)
        if call is None:
            return
        if event.playback_id == call.aux_playback and call.stage in _DESK_PLAYBACK:
            self._apply(self._desk.playback_finished(now, call, event), out)
        else:
            self._apply(self._runner.playback_finished(now, call, event), out)

    def _on_digit(self, now: float, event: DigitReceived, out: list[c.Command]) -> None:
        call = self._table.get(event.call_id)
        if call is not None:
            self._apply(self._runner.digit(now, call, event.digit), out)

    def _on_machine(self, now: float, event: MachineDetected, out: list[c.Command]) -> None:
        call = self._table.get(event.call_id)
        if call is not None:
            self._apply(self._runner.machine_detected(now, call, event), out)

    def _on_callback(self, now: float, event: e.CallbackDone, out: list[c.Command]) -> None:
        call = self._table.get(event.call_id)
        if call is not None:
            self._apply(self._runner.callback_done(now, call, event.result), out)

    def _on_bridged(self, now: float, event: Bridged, out: list[c.Command]) -> None:
        call = self._table.get(event.call_id)
        if call is not None:
            self._apply(self._desk.bridged(now, call), out)

    def _on_progress(self, now: float, event: CallProgress, out: list[c.Command]) -> None:
        call = self._table.ringing.get(event.call_id)
        if call is not None and call.ringing_at is None and event.state == "ringing":
            # the phone rings from now (release counts this); early media may come first
            call.ringing_at = now

    def _on_gap(self, now: float, event: BackendGap, out: list[c.Command]) -> None:
        # The gap may have hidden answers (the switch reports them right after it): a call
        # ringing across it is never released, so an answered call is never cut.
        self._table.ringing.clear()
        # Calls lost in the gap ended at its start at the latest: the outage is not talk.
        started = now - max(0.0, event.seconds)
        for call_id in event.lost:
            lost = self._table.get(call_id)
            if lost is not None and lost.lost_at is None:
                lost.lost_at = started
        self._throttle.back()  # reconnected

    def _on_tick(self, now: float, event: e.Tick, out: list[c.Command]) -> None:
        """Nothing happened: the timers, the valve and the dialling run all the same."""

    def _on_added(self, now: float, event: e.ContactsAdded, out: list[c.Command]) -> None:
        added = self._intake.added
        out += self._intake.add(event.contacts)
        if self._intake.added != added:
            self._done_sent = False

    def _on_restored(self, now: float, event: e.ContactsRestored, out: list[c.Command]) -> None:
        guard = self.pacing
        if isinstance(guard, AbandonGuard):
            guard_history(event).apply(guard, now)
        added = self._intake.added
        out += self._intake.restore(now, event)
        if self._intake.added != added:
            self._done_sent = False

    # --- several workers on one campaign (see autoinformer.workers) -------------------------

    def _on_lines(self, now: float, event: e.LinesGranted, out: list[c.Command]) -> None:
        self._granted = event.count
        if isinstance(self.pacing, SharedAbandonGuard):  # its part of the campaign's budget
            self.pacing.share = min(1.0, event.count / self.campaign.lines)

    def _on_switch_lines(self, now: float, event: LinesAvailable, out: list[c.Command]) -> None:
        """The switch set's members came or went: dial within what it can carry now (the
        calls beyond it would only be refused, each journaled "not placed")."""
        self._switch_lines = event.lines

    def _on_totals(self, now: float, event: e.CampaignTotals, out: list[c.Command]) -> None:
        if isinstance(self.pacing, SharedAbandonGuard):
            self.pacing.others = event

    def _on_refused(self, now: float, event: e.AttemptRefused, out: list[c.Command]) -> None:
        """The store would not journal the attempt: its originate never went out. The call
        goes, the attempt is taken back (budget, frequency limits, caller-ID use); the
        contact leaves (lease lost) or waits first in line (caller ID capped)."""
        call = self._table.remove(event.call_id)
        if call is None:
            return
        self._table.dialing -= 1
        self.pacing.observe(PacingObservation(Observation.RELEASED, now, 0.0))
        slot, intake = call.slot, self._intake
        slot.call_id = None
        slot.attempts -= 1
        if slot.history:
            slot.history.pop()
        carousel, number = intake.carousel, call.record.caller_id
        at = _utc(call.record.started_at)
        if carousel is not None and number is not None:
            carousel.release(number, at)
            if event.caller_id_capped:  # used up across the workers: not again for now
                while carousel.available(number, at):
                    carousel.record(number, at)
        if event.lease_lost or slot.cancel_after_call:
            intake.book.drop(slot.contact.id)
            if carousel is not None:
                carousel.forget(slot.contact.id)
            return
        intake.book.set_state(slot, ContactState.PENDING)
        slot.next_at = None
        intake.book.push_front(slot)

    def _on_released(self, now: float, event: e.ContactsReleased, out: list[c.Command]) -> None:
        book, carousel = self._intake.book, self._intake.carousel
        for contact_id in event.contact_ids:
            slot = book.slots.get(contact_id)
            if slot is None or slot.state is ContactState.IN_CALL:
                continue
            book.drop(contact_id)
            if carousel is not None:
                carousel.forget(contact_id)

    def _on_cancelled(self, now: float, event: e.ContactCancelled, out: list[c.Command]) -> None:
        out += self._intake.cancel(event)

    def _on_failed(self, now: float, event: e.CommandFailed, out: list[c.Command]) -> None:
        if self._desk.leg_call(event.call_id) is not None:
            why = f"refused: {event.detail}"
            self._apply(self._desk.leg_ended(now, self._table.calls, event.call_id, why), out)
            return
        call = self._table.get(event.call_id)
        if call is None:
            return
        if event.originate and event.unreachable:
            self._not_placed(now, call, event.detail, out)
        elif event.originate:
            # the switch refuses calls (overloaded): back off instead of burning the list, and
            # probe with one call at a time until the switch takes one
            self._throttle.refused(now, call.call_id)
            ended = CallEnded(
                call.call_id, HangupCause.NORMAL_TEMPORARY_FAILURE, detail=event.detail
            )
            self._end(now, ended, out)
        elif call.answered_at is None or call.stage is Stage.ENDING:
            return
        elif call.stage is Stage.BRIDGING:
            self._apply(self._desk.bridge_failed(now, call, event.detail), out)
        elif event.gone:
            # "No such channel": the callee has just hung up. Its CallEnded is on the way and
            # decides the outcome (judged at this moment at the latest); if it never comes,
            # the "gone" timer ends the call after the grace period.
            if call.gone_at is None:
                call.gone_at = now
                if call.run is not None:
                    call.run.stop()
                self._timers.arm(now + SWITCH_GRACE, call, "gone")
        elif call.stage in (Stage.QUEUED, Stage.OPERATOR_RINGING):
            call.aux_playback = None  # the hold music could not play: the callee waits on
        elif call.failure is None:
            # Refused on a call that exists: our fault (``failed``), unless the callee was just
            # leaving (ARI 409 as the channel leaves Stasis): a CallEnded within
            # PLAYBACK_SETTLE decides from the hang-up instead; then the "failed" timer.
            call.failure = event.detail
            if call.run is not None:
                call.run.stop()
            self._timers.arm(now + PLAYBACK_SETTLE, call, "failed")

    def _on_pause(self, now: float, event: e.Pause, out: list[c.Command]) -> None:
        self._paused = True

    def _on_resume(self, now: float, event: e.Resume, out: list[c.Command]) -> None:
        self._paused = False

    def _on_abort(self, now: float, event: e.Abort, out: list[c.Command]) -> None:
        """Hang every call up and record it now (see :class:`~.events.Abort`)."""
        self._stopping = True
        for call in self._table:
            detail = f"hung up: the run stopped ({event.reason})"
            answered_call = call.answered_at is not None
            if answered_call:  # judged as it stands, before the hang-up changes its stage
                outcome = call.answered_outcome(now, self.campaign.min_delivered_seconds)
                if outcome is Outcome.HUNG_UP_EARLY:
                    outcome = Outcome.FAILED  # we cut it, not the callee
                    call.detail = call.detail or detail
                call.outcome = outcome
            self._hang_up(call, out)
            ended = CallEnded(
                call.call_id,
                HangupCause.NORMAL_TEMPORARY_FAILURE,
                answered=answered_call,
                detail=detail,
            )
            self._end(now, ended, out)
        for leg in list(self._desk.legs):
            out.append(c.Hangup(leg, HangupCause.NORMAL_CLEARING))

    def _on_stop(self, now: float, event: e.Stop, out: list[c.Command]) -> None:
        self._stopping = True
        if event.hangup:
            for call in self._table:
                self._hang_up(call, out)

    # --- the end of a customer's call ----------------------------------------------------

    def _end(self, now: float, event: CallEnded, out: list[c.Command]) -> None:
        """The customer's call ended: its outcome, record, the contact's next state, an SMS."""
        call = self._table.remove(event.call_id)
        if call is None:
            return
        if call.run is not None:
            call.run.stop()
        cause = event.cause
        end = now  # when the call ended: at the start of an outage it was lost in
        if call.lost_at is not None:
            end = min(now, max(call.lost_at, call.answered_at or call.record.started_at))
        if call.released is not None:  # the pacing heard of it when we released it
            outcome, cause = Outcome.NO_ANSWER, release.RELEASE_CAUSE
        elif call.answered_at is None:
            self._table.dialing -= 1
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
        self._apply(self._desk.customer_gone(now, call), out)
        record = call.finished(end, outcome, int(cause), event.detail)
        out += [c.Journal(record, begin=False), c.Notify(record)]
        retried, commands = self._intake.after_attempt(now, call.slot, outcome)
        out += commands
        sms = sms_for(self.campaign, self.templates, call.slot.contact, record.number, outcome)
        due = sms is not None and (
            sms.rule == "on_hangup" or self.campaign.sms.missed_when == "every" or not retried
        )
        if sms is not None and due and not self._gates.blocked(record.number):
            out.append(sms)

    def _not_placed(self, now: float, call: Call, detail: str, out: list[c.Command]) -> None:
        """The originate never reached the switch: journal the attempt as not placed (it does
        not count against the budget), put the contact first in line and pause dialling; the
        next call is a single probe after a back-off (1, 2, 4... up to 30 s)."""
        self._table.remove(call.call_id)
        self._table.dialing -= 1
        self.pacing.observe(PacingObservation(Observation.RELEASED, now, 0.0))
        cause = int(HangupCause.NETWORK_OUT_OF_ORDER)
        record = call.finished(now, Outcome.FAILED, cause, f"{NOT_PLACED} ({detail})")
        out += [c.Journal(record, begin=False), c.Notify(record)]
        out += self._intake.not_placed(call.slot)
        self._throttle.unreachable(now, call.call_id)

    # --- timers --------------------------------------------------------------------------

    def _fire_timers(self, now: float, out: list[c.Command]) -> None:
        calls = self._table.calls
        for call, kind in self._timers.due(now, calls):
            if kind in TIMERS or kind.startswith("menu:"):
                self._apply(self._runner.timer_fired(now, call, kind), out)
            elif kind == "failed":  # a command failed and the call did not end meanwhile
                call.detail = call.failure or call.detail
                if call.outcome is None:
                    call.outcome = Outcome.FAILED  # we could not play the message: our fault
                self._hang_up(call, out)
            elif kind == "queue":
                self._apply(self._desk.wait_expired(now, call), out)
            elif kind == "ring" and call.stage is Stage.DIALING:
                call.detail = "the switch never reported the end of ringing"
                self._hang_up(call, out)
            elif kind == "max":
                call.detail = "longer than the campaign's max_call_seconds"
                self._hang_up(call, out)
            elif kind == "gone":  # no CallEnded after our hangup: end it ourselves
                detail = "the switch never confirmed the hang-up"
                if call.gone_at is not None:
                    detail = "the switch said the call was gone but never reported its end"
                ended = CallEnded(
                    call.call_id,
                    HangupCause.NORMAL_TEMPORARY_FAILURE,
                    answered=call.answered_at is not None,
                    detail=detail,
                )
                self._end(now, ended, out)
        self._apply(self._desk.serve(now, calls), out)

    # --- the release valve and dialling ----------------------------------------------------

    def _release_due(self, now: float, after: float, out: list[c.Command]) -> PacingView | None:
        """Ask the policy how many eligible ringing calls to release and hang them up.

        The policy is asked only when at least one call is eligible (it could release nothing
        otherwise), and never gets more releases than there are eligible calls.

        Returns:
            The pacing view after the releases (the released calls no longer dialling), for
            the launch decision that follows; None when no view was needed (nothing eligible).
        """
        calls = release.eligible(self._table.ringing.values(), now, after)
        if not calls:
            return None
        view = self.view(now)
        wanted = self.pacing.calls_to_release(view)  # type: ignore[attr-defined]
        count = 0
        for call in calls[: max(0, int(wanted))]:
            observation = release.release(call, now, after)
            self._table.stop_dialing(call)
            self._hang_up(call, out, release.RELEASE_CAUSE)
            self.pacing.observe(observation)
            count += 1
        return attrs.evolve(view, dialing=view.dialing - count) if count else view

    def _dial(self, now: float, out: list[c.Command], view: PacingView | None = None) -> None:
        """Launch what the pacing wants (``view``: the one the release decision just used,
        still true now; else it is computed)."""
        throttle, book = self._throttle, self._intake.book
        granted = self._granted is not None
        if granted:
            self._demand = len(self._table.calls)  # until the pacing says more below
        if self._paused or self._stopping or now < throttle.hold_until:
            return
        lines_free = self._line_cap() - len(self._table.calls)
        if lines_free <= 0 and not granted:
            return
        if not book.has_ready():
            nxt = book.next_time()
            if nxt is None or nxt > now:
                return
        if throttle.waiting():
            return  # the switch has not answered for the last probe yet
        if view is None:
            view = self.view(now)
        asked = self.pacing.calls_to_launch(view)
        wanted = throttle.allowed(min(asked, max(0, lines_free)))
        unmet = max(0, asked - wanted)  # what the grant held back, beyond the throttle's cut
        while wanted > 0:
            slot = book.next_due(now)
            if slot is None:
                unmet = 0
                break
            call = self._try_dial(now, slot, out)
            if call is None:
                unmet = 0
                break
            if isinstance(call, Call):
                throttle.placed(call.call_id)
                wanted -= 1
        if granted:  # the pacing sees the campaign's lines: this worker's want of lines
            due = book.queued() + book.ready()  # about as many as are due (stale ones too)
            nxt = book.next_time()
            if nxt is not None and nxt <= now:
                due += 1  # retries come due wait in their heap until a line takes them
            self._demand = len(self._table.calls) + min(unmet, due)

    def _try_dial(self, now: float, slot: Slot, out: list[c.Command]) -> Call | bool | None:
        """Gate and place one call: the call placed; False: the contact was deferred or
        closed; None: stop dialling for now (no caller ID free)."""
        contact, campaign, intake = slot.contact, self.campaign, self._intake
        verdict = self._gates.check(now, slot, campaign)
        if isinstance(verdict, Hold):
            out += intake.hold(slot, verdict.until, verdict.reason)
            return False
        if isinstance(verdict, Close):
            out += intake.close(slot, verdict.state, verdict.reason)
            return False
        number, at = verdict.number, verdict.at
        caller_id: str | None = None
        carousel = intake.carousel
        if carousel is not None:
            caller_id = carousel.pick(number, contact.id, at)
            if caller_id is None:
                intake.book.push_front(slot)
                nxt_free = carousel.next_available(at)
                self._throttle.hold_until = (
                    nxt_free.timestamp() if nxt_free is not None else now + _CALLER_ID_RETRY
                )
                return None
        attempt_no = intake.begin(slot, verdict.index, at)
        call_id = call_id_for(campaign.name, contact.id, attempt_no, self.id_salt)
        record = AttemptRecord(
            attempt_id=call_id,
            campaign=campaign.name,
            contact_id=contact.id,
            attempt_no=attempt_no,
            number=number,
            caller_id=caller_id,
            started_at=now,
        )
        call = Call(call_id=call_id, slot=slot, record=record)
        self._table.placed(call)
        out.append(c.Journal(record, begin=True))
        out.append(intake.in_call(slot, call_id))
        ring = campaign.retry.ring_timeout_for()
        out.append(
            c.Originate(
                call_id=call_id,
                number=number,
                caller_id=caller_id,
                ring_timeout=ring,
                variables={
                    "AUTOINFORMER_CAMPAIGN": campaign.name,
                    "AUTOINFORMER_CONTACT": contact.id,
                    "AUTOINFORMER_ATTEMPT": str(attempt_no),
                },
                detect_machine=campaign.machine_detection,
            )
        )
        self.pacing.observe(PacingObservation(Observation.DIALED, now))
        self._timers.arm(now + ring + SWITCH_GRACE, call, "ring")
        return call

    # --- when to wake, when done ---------------------------------------------------------

    def _next_wake(self, now: float) -> float | None:
        times: list[float] = []
        timer = self._timers.next_time(self._table.calls)
        if timer is not None:
            times.append(timer)
        book, hold = self._intake.book, self._throttle.hold_until
        if not self._paused and not self._stopping and len(self._table.calls) < self._line_cap():
            nxt = book.next_time()
            if nxt is not None and nxt <= now:
                nxt = now + _PACING_POLL  # due but held back by pacing: ask again soon
            if nxt is not None:
                times.append(max(nxt, hold))
            elif book.has_ready():  # fresh contacts held back (by a hold, or the pacing)
                times.append(hold if hold > now else now + _PACING_POLL)
        desk = self._desk.next_time()
        if desk is not None:
            times.append(desk)
        if self._release_after is not None and self._table.dialing > 0:
            ringing = self._table.ringing.values()
            due = release.next_time(ringing, now, self._release_after, _PACING_POLL)
            if due is not None:
                times.append(due)
        return min(times) if times else None

    def _finish(self, now: float, out: list[c.Command]) -> None:
        wake = self._next_wake(now)
        if wake is not None and wake != self._last_wake:
            self._last_wake = wake
            out.append(c.WakeAt(max(wake, now)))
        if self._table.calls:
            return
        if self._stopping:
            if not self._stop_sent:
                self._stop_sent = True
                out.append(c.Done("stopped"))
        elif not self._paused and not self._done_sent and self._intake.book.open_count == 0:
            self._done_sent = True
            out.append(c.Done("finished"))


_Handler = Callable[[DialerCore, float, Any, list[c.Command]], None]

_HANDLERS: dict[type, _Handler] = {
    CallEnded: DialerCore._on_ended,
    CallAnswered: DialerCore._on_answered,
    PlaybackFinished: DialerCore._on_playback,
    DigitReceived: DialerCore._on_digit,
    MachineDetected: DialerCore._on_machine,
    Bridged: DialerCore._on_bridged,
    CallProgress: DialerCore._on_progress,
    BackendGap: DialerCore._on_gap,
    e.Tick: DialerCore._on_tick,
    e.ContactsAdded: DialerCore._on_added,
    e.ContactsRestored: DialerCore._on_restored,
    e.ContactCancelled: DialerCore._on_cancelled,
    e.CallbackDone: DialerCore._on_callback,
    e.CommandFailed: DialerCore._on_failed,
    e.Pause: DialerCore._on_pause,
    e.Resume: DialerCore._on_resume,
    e.Abort: DialerCore._on_abort,
    e.Stop: DialerCore._on_stop,
    e.LinesGranted: DialerCore._on_lines,
    LinesAvailable: DialerCore._on_switch_lines,
    e.CampaignTotals: DialerCore._on_totals,
    e.AttemptRefused: DialerCore._on_refused,
    e.ContactsReleased: DialerCore._on_released,
}
"""Each event type -> the one handler that takes it."""


def _handler_for(kind: type) -> _Handler:
    """The handler of an event type not in the table: its nearest base's, or none at all."""
    for base in kind.__mro__[1:]:
        if base in _HANDLERS:
            return _HANDLERS[base]
    return DialerCore._on_tick
