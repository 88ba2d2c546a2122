"""The discrete-event driver: the dialer core against a seeded model, in virtual time.

A heap of timestamped events replaces the sockets and the clock. The driver plays the switch's
part from the model's draws (:mod:`autoinformer.sim.model`: who answers, after how long, which
digits, when they hang up; how operators answer and talk), feeds the events to the very same
:class:`~autoinformer.core.DialerCore` the runtime uses, and carries its commands out. It holds
no policy of its own. A campaign of thousands of calls runs in well under a second, and the
same seed gives the same campaign to the last attempt.

Switch behaviour it reproduces (as :class:`~autoinformer.backends.sim.SimSwitch` does):
bridging stops the playbacks of both legs; when one side of a bridge hangs up, the other is
hung up too; a callee in a bridge stays until the operator ends the talk; a bridge with a call
that no longer exists fails (``CommandFailed``, as the runtime reports it). Operator legs are
independent calls: several may ring at once (ring-all), each answering, failing (the model's
``OperatorFate``: busy, no answer) or ringing out at the queue's ring timeout on its own; a
leg the core hangs up while it rings never answers. The same holds for a customer's call the
core releases while it rings (a :class:`~autoinformer.pacing.base.ReleasingPolicy` asked): its
drawn answer is void, and it ends at once with our cause, unanswered.

With a store, the campaign's contacts are paged in as the runtime pages them
(:class:`~autoinformer.feed.ContactFeed`: the calls in flight, the first queued and due
pages at start, the next pages as the core's line runs low or retries come due) and a contact
is forgotten once finished (the store keeps it), so a resumed million-contact store starts
calling in under a second. With ``keep_results=False`` (the CLI: the store has them) the
results are not kept in memory either and an ended call is dropped, so a long run's memory
follows the open contacts, not the list. A fresh list gets the decisions of the whole store
read at once; a resumed one too, but for what docs/reliability.md lists (the abandon guard's
history of retries not read yet; the order at the window's opening beyond ``max_loaded``).
"""

from __future__ import annotations

import collections
import heapq
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path

import attrs

from autoinformer.backends.base import (
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    MachineDetected,
    Media,
    PlaybackFinished,
    SwitchEvent,
)
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.dialer import DialerCore, DoNotCall
from autoinformer.feed import ContactFeed, closed_history
from autoinformer.outcomes import HangupCause, Outcome
from autoinformer.pacing.base import PacingPolicy
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.sim.media import playback_error, wav_seconds
from autoinformer.sim.model import CallModel, PartiesModel
from autoinformer.store.base import OPEN_STATES, Store

__all__ = ["DEFAULT_START", "SimResult", "Simulation", "simulate"]

DEFAULT_START = 1_767_261_600.0
"""2026-01-01 10:00 UTC, a Thursday morning: inside most calling windows."""

ATTEMPT_VARIABLE = "AUTOINFORMER_ATTEMPT"
"""The Originate variable with the contact's attempt number (the model's ``attempt_no``)."""

SPEECH_CHARS_PER_SECOND = 14.0
"""Speaking rate used to estimate how long speech plays when no renderer says."""

Hook = Callable[[Contact, str], str]
"""A ``callback`` step's hook in the simulator: (contact, digits) -> the answer to record."""


@attrs.frozen
class SimResult:
    """What a simulated campaign came to.

    Attributes:
        records: every finished attempt, in the order the results were known.
        progress: every contact's final progress, by contact id.
        sms: the text messages the campaign sent.
        opted_out: numbers added to the do-not-call list.
        started_at: virtual start time (POSIX seconds).
        ended_at: virtual time of the last event.
        events: how many events the core handled.
    """

    records: tuple[AttemptRecord, ...]
    progress: Mapping[str, ContactProgress]
    sms: tuple[c.SendSms, ...]
    opted_out: tuple[str, ...]
    started_at: float
    ended_at: float
    events: int

    def outcomes(self) -> dict[str, int]:
        """Attempts per outcome name (every outcome of the vocabulary, zeros included)."""
        counts = {o.value: 0 for o in Outcome}
        for record in self.records:
            assert record.outcome is not None
            counts[record.outcome.value] += 1
        return counts

    def states(self) -> dict[str, int]:
        """Contacts per state name."""
        counts: collections.Counter[str] = collections.Counter()
        for progress in self.progress.values():
            counts[progress.state.value] += 1
        return dict(sorted(counts.items()))


@attrs.define(kw_only=True)
class _Leg:
    call_id: str
    operator: bool
    answered: bool = False
    alive: bool = True
    gen: int = 0
    playback: str | None = None
    bridge: str | None = None
    talk_s: float = 0.0


@attrs.define(kw_only=True)
class Simulation:
    """A campaign run in virtual time. Use :func:`simulate` for the common case.

    Args:
        campaign: the campaign's settings.
        model: callees and operators (default: the last-digit test parties).
        start: virtual start time (POSIX seconds).
        pacing: the pacing policy (default: the core's, progressive when the script transfers
            to operators, else broadcast; held to the campaign's abandon cap either way).
        dnc: a do-not-call list (``blocks(number)``; ``add(number)`` is called on opt-outs).
        store: journal attempts and progress here too (None: results are only returned).
        hooks: ``callback`` step hooks by name.
        speech_seconds: how long speech plays, by text (default: its length at 14 chars/s).
        on_result: called with each finished attempt (progress displays).
        keep_results: keep every attempt and progress for :meth:`result` (False: its
            ``records`` and ``progress`` are empty; a store keeps them).
    """

    campaign: Campaign
    model: CallModel = attrs.field(factory=PartiesModel)
    start: float = DEFAULT_START
    pacing: PacingPolicy | None = None
    dnc: DoNotCall | None = None
    store: Store | None = None
    hooks: Mapping[str, Hook] = attrs.field(factory=dict)
    speech_seconds: Callable[[c.Speech], float] | None = None
    on_result: Callable[[AttemptRecord], None] | None = None
    keep_results: bool = True
    core: DialerCore = attrs.field(init=False)
    now: float = attrs.field(init=False)
    _heap: list[tuple[float, int, object]] = attrs.field(factory=list, init=False)
    _seq: int = attrs.field(default=0, init=False)
    _legs: dict[str, _Leg] = attrs.field(factory=dict, init=False)
    _bridges: dict[str, list[str]] = attrs.field(factory=dict, init=False)
    _tries: collections.Counter[str] = attrs.field(factory=collections.Counter, init=False)
    _wake: float | None = attrs.field(default=None, init=False)
    _done: bool = attrs.field(default=False, init=False)
    _records: list[AttemptRecord] = attrs.field(factory=list, init=False)
    _progress: dict[str, ContactProgress] = attrs.field(factory=dict, init=False)
    _sms: list[c.SendSms] = attrs.field(factory=list, init=False)
    _opted_out: list[str] = attrs.field(factory=list, init=False)
    _events: int = attrs.field(default=0, init=False)
    _wav: dict[Path, float | None] = attrs.field(factory=dict, init=False)
    _wav_errors: dict[Path, str] = attrs.field(factory=dict, init=False)
    _pages: ContactFeed | None = attrs.field(default=None, init=False)
    _pages_wake: float | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        self.now = self.start
        kwargs: dict[str, object] = {"campaign": self.campaign, "dnc": self.dnc}
        if self.pacing is not None:
            kwargs["pacing"] = self.pacing
        self.core = DialerCore(**kwargs)  # type: ignore[arg-type]

    # --- scheduling ----------------------------------------------------------------------

    def at(self, time: float, event: object) -> None:
        """Schedule a core event (``ContactsAdded``, ``ContactCancelled``, ``Pause``...)."""
        self._seq += 1
        heapq.heappush(self._heap, (time, self._seq, event))

    def page_from_store(
        self, *, page_size: int = 2000, max_loaded: int = 50_000, claimers: Collection[str] = ()
    ) -> None:
        """Take the campaign's contacts from :attr:`store` at :attr:`start`, a page at a time
        (the runtime's :class:`~autoinformer.feed.ContactFeed`), instead of events
        given with :meth:`at`. Reads the first page now (blocking); the rest as the run needs
        them. A finished store gives the core nothing, and the run ends at once.

        ``claimers``: ids of contacts whose numbers contacts added since share. Those that
        are finished are never paged in, so they are given to the core first (their numbers,
        not their attempts, which the history already counts): a later contact with one of
        their numbers is not called on it, as when the whole store was read."""
        if self.store is None:
            raise ValueError("page_from_store needs a store")
        name, core = self.campaign.name, self.core
        feed = self._pages = ContactFeed(
            store=self.store, campaign=name, page_size=page_size, max_loaded=max_loaded
        )
        first = feed.start()
        if first or feed.more:  # a finished campaign needs no history
            closed_history(self.store, name, core, self.now).apply(core, self.now)
        core.book.more = feed.more
        core.book.forget_closed = True  # the store keeps them: memory follows the open ones
        restored = feed.event(first, core.book)
        if claimers:
            closed = [
                e.RestoredContact(row.contact, row.progress, (), row.seq)
                for row in self.store.contacts_by_id(name, claimers)
                if row.progress.state not in OPEN_STATES
            ]
            restored = e.ContactsRestored((*closed, *restored.entries))
        self.at(self.start, restored)

    def _refill(self) -> None:
        """Page contacts in while the core wants more, then set the feed's own wake-up
        (as the runtime's ``_refill``)."""
        feed, book = self._pages, self.core.book
        if feed is None:
            return
        while (kind := feed.wants(book, self.now)) is not None:
            page = feed.event(feed.read(kind), book)
            book.more = feed.more
            self._feed(page)
        wake = feed.wake(self.now)
        if wake != self._pages_wake:
            self._pages_wake = wake
            if wake is not None:
                self.at(wake, _PageToken(wake))

    def _switch(self, delay: float, event: SwitchEvent, leg: _Leg) -> None:
        self.at(self.now + delay, (leg, leg.gen, event))

    # --- the loop ------------------------------------------------------------------------

    def run(self, *, until: float | None = None, max_events: int = 10_000_000) -> SimResult:
        """Run until the core says Done (or virtual time ``until``); return the results."""
        heap = self._heap
        while heap and not self._done and self._events < max_events:
            time, _, item = heapq.heappop(heap)
            if until is not None and time > until:
                heapq.heappush(heap, (time, 0, item))
                break
            self.now = max(self.now, time)
            if isinstance(item, tuple):
                leg, gen, event = item
                if not leg.alive or gen != leg.gen:
                    continue
                if isinstance(event, PlaybackFinished):
                    if leg.playback != event.playback_id:
                        continue
                    leg.playback = None
                elif isinstance(event, CallAnswered):
                    leg.answered = True
                elif isinstance(event, CallEnded):
                    leg.alive = False
                    del self._legs[leg.call_id]  # a late command finds no call, as when dead
                self._feed(event)
            elif isinstance(item, _WakeToken):
                if self._wake == item.time:
                    self._wake = None
                    self._feed(e.Tick())
            elif isinstance(item, _PageToken):
                if self._pages_wake == item.time:
                    self._pages_wake = None
            else:
                self._feed(item)  # type: ignore[arg-type]
            if self._pages is not None and not self._done:
                self._refill()
        return self.result()

    def result(self) -> SimResult:
        """The results so far."""
        return SimResult(
            records=tuple(self._records),
            progress=dict(self._progress),
            sms=tuple(self._sms),
            opted_out=tuple(self._opted_out),
            started_at=self.start,
            ended_at=self.now,
            events=self._events,
        )

    def _feed(self, event: e.Event) -> None:
        self._events += 1
        for command in self.core.handle(self.now, event):
            self._execute(command)

    # --- commands ------------------------------------------------------------------------

    def _execute(self, cmd: c.Command) -> None:
        if isinstance(cmd, c.Originate):
            self._originate(cmd)
        elif isinstance(cmd, c.Play):
            leg = self._legs.get(cmd.call_id)
            if leg is not None and leg.alive:
                leg.playback = cmd.playback_id
                seconds = self._seconds(cmd.media)
                event = PlaybackFinished(cmd.call_id, cmd.playback_id)
                if seconds is None:  # fails at once, as a real switch reports it
                    assert isinstance(cmd.media, Media)
                    assert cmd.media.path is not None
                    error = playback_error(cmd.media.path, self._wav_errors[cmd.media.path])
                    event = PlaybackFinished(cmd.call_id, cmd.playback_id, False, error=error)
                self._switch(seconds or 0.0, event, leg)
        elif isinstance(cmd, c.StopPlayback):
            leg = self._legs.get(cmd.call_id)
            if leg is not None and leg.alive and leg.playback == cmd.playback_id:
                self._switch(0.0, PlaybackFinished(cmd.call_id, cmd.playback_id, False), leg)
        elif isinstance(cmd, c.Bridge):
            self._bridge(cmd)
        elif isinstance(cmd, c.Hangup):
            self._hangup(cmd.call_id, cmd.cause)
        elif isinstance(cmd, c.Journal):
            if cmd.begin:
                if self.store is not None:
                    self.store.begin_attempt(cmd.record)
            else:
                if self.store is not None:
                    self.store.finish_attempt(cmd.record)
                if self.keep_results:
                    self._records.append(cmd.record)
                if self.on_result is not None:
                    self.on_result(cmd.record)
        elif isinstance(cmd, c.SaveProgress):
            if self.keep_results:
                self._progress[cmd.progress.contact_id] = cmd.progress
            if self.store is not None:
                self.store.save_progress(self.campaign.name, cmd.progress)
        elif isinstance(cmd, c.SaveNumbers):
            if self.store is not None:
                self.store.save_numbers(self.campaign.name, cmd.contact_id, cmd.phones)
        elif isinstance(cmd, c.WakeAt):
            self._wake = cmd.time
            self.at(cmd.time, _WakeToken(cmd.time))
        elif isinstance(cmd, c.SendSms):
            self._sms.append(cmd)
        elif isinstance(cmd, c.RunCallback):
            hook = self.hooks.get(cmd.name)
            result = hook(cmd.contact, cmd.digits) if hook is not None else "no hook"
            self.at(self.now, e.CallbackDone(cmd.call_id, result))
        elif isinstance(cmd, c.AddToDoNotCall):
            self._opted_out.append(cmd.number)
            add = getattr(self.dnc, "add", None)
            if callable(add):
                add(cmd.number)
        elif isinstance(cmd, c.Done):
            self._done = True
        # CollectDigits and Notify need nothing in virtual time.

    def _seconds(self, media: Media | c.Speech) -> float | None:
        if isinstance(media, c.Speech):
            if self.speech_seconds is not None:
                return self.speech_seconds(media)
            return max(1.0, len(media.template) / SPEECH_CHARS_PER_SECOND)
        if media.path is None:
            return 1.0
        if media.path not in self._wav:  # None: cannot be played (the reason is kept)
            self._wav[media.path], self._wav_errors[media.path] = wav_seconds(media.path)
        return self._wav[media.path]

    def _originate(self, cmd: c.Originate) -> None:
        leg = _Leg(call_id=cmd.call_id, operator=cmd.operator)
        self._legs[cmd.call_id] = leg
        self._tries[cmd.number] += 1
        n = self._tries[cmd.number]
        timeout = cmd.ring_timeout
        if cmd.operator:
            op = self.model.operator(cmd.number, n)
            leg.talk_s = op.talk_s
            if op.answers and op.answer_s < timeout:
                self._switch(op.answer_s, CallAnswered(cmd.call_id), leg)
            elif not op.answers and op.answer_s < timeout:
                cause = op.fail_cause or HangupCause.USER_BUSY
                self._switch(op.answer_s, CallEnded(cmd.call_id, cause), leg)
            else:
                self._switch(timeout, CallEnded(cmd.call_id, HangupCause.NO_ANSWER), leg)
            return
        fate = self.model.callee(cmd.number, _attempt_no(cmd, n))
        if fate.rings:
            self._switch(fate.progress_s, CallProgress(cmd.call_id), leg)
        if fate.answers and fate.ring_s < timeout:
            t = fate.ring_s
            self._switch(t, CallAnswered(cmd.call_id), leg)
            if cmd.detect_machine:
                event = MachineDetected(cmd.call_id, fate.machine, beep=fate.machine)
                self._switch(t + fate.amd_s, event, leg)
            for after, digit in fate.digits:
                self._switch(t + after, DigitReceived(cmd.call_id, digit), leg)
            if fate.listen_s is not None:
                stays = fate.listen_s
                if fate.digits:
                    stays = max(stays, fate.digits[-1][0] + fate.patience_s)
                ended = CallEnded(cmd.call_id, HangupCause.NORMAL_CLEARING, answered=True)
                self._switch(t + stays, ended, leg)
        elif not fate.answers and fate.fail_cause is not None and fate.ring_s < timeout:
            self._switch(fate.ring_s, CallEnded(cmd.call_id, fate.fail_cause), leg)
        else:
            self._switch(timeout, CallEnded(cmd.call_id, HangupCause.NO_ANSWER), leg)

    def _bridge(self, cmd: c.Bridge) -> None:
        legs = [self._legs[i] for i in cmd.call_ids if i in self._legs]
        if len(legs) != len(cmd.call_ids) or not all(leg.alive for leg in legs):
            # as a switch (and the runtime) reports it: the request fails, nobody is hung up
            missing = [i for i in cmd.call_ids if i not in self._legs or not self._legs[i].alive]
            failed = e.CommandFailed(cmd.call_ids[0], f"bridge: no call {missing[0]!r}", gone=True)
            self.at(self.now, failed)
            return
        self._bridges[cmd.bridge_id] = list(cmd.call_ids)
        for leg in legs:
            leg.gen += 1  # the callee's own hang-up, digits and playbacks no longer apply
            leg.bridge = cmd.bridge_id
            if leg.playback is not None:
                stopped = PlaybackFinished(leg.call_id, leg.playback, completed=False)
                self._switch(0.0, stopped, leg)
            self._switch(0.0, Bridged(leg.call_id, cmd.bridge_id), leg)
        for leg in legs:
            if leg.operator:
                ended = CallEnded(leg.call_id, HangupCause.NORMAL_CLEARING, answered=True)
                self._switch(leg.talk_s, ended, leg)

    def _hangup(self, call_id: str, cause: HangupCause) -> None:
        leg = self._legs.get(call_id)
        if leg is None or not leg.alive:
            return
        leg.gen += 1
        self._switch(0.0, CallEnded(call_id, cause, answered=leg.answered), leg)
        if leg.bridge is not None:
            for other in self._bridges.pop(leg.bridge, []):
                if other != call_id:
                    self._hangup(other, HangupCause.NORMAL_CLEARING)


def _attempt_no(cmd: c.Originate, tries: int) -> int:
    """The attempt number the model draws the callee's fate for: the contact's own attempt
    number (``AUTOINFORMER_ATTEMPT``, journaled with the attempt, as SimSwitch reads it), so a
    resumed run meets the callee's next fate, not the first one again; the count of originates
    to the number in this process only when the variable is missing."""
    raw = cmd.variables.get(ATTEMPT_VARIABLE) if cmd.variables else None
    if raw is not None and raw.isdigit() and int(raw) >= 1:
        return int(raw)
    return tries


@attrs.frozen
class _WakeToken:
    time: float


@attrs.frozen
class _PageToken:
    """Look for timed contacts coming due (the feed's wake-up, apart from the core's)."""

    time: float


def simulate(
    campaign: Campaign,
    contacts: Iterable[Contact],
    *,
    model: CallModel | None = None,
    seed: int = 0,
    start: float = DEFAULT_START,
    pacing: PacingPolicy | None = None,
    dnc: DoNotCall | None = None,
    store: Store | None = None,
    hooks: Mapping[str, Hook] | None = None,
    until: float | None = None,
    on_result: Callable[[AttemptRecord], None] | None = None,
    page_size: int = 2000,
    max_loaded: int = 50_000,
    keep_results: bool = True,
) -> SimResult:
    """Run a campaign against a model in virtual time.

    Args:
        campaign: the campaign.
        contacts: who to call.
        model: the callees and operators (default :class:`PartiesModel` with ``seed``).
        seed: the model's seed when ``model`` is not given.
        start: virtual start time (POSIX seconds).
        pacing: the pacing policy (default: the core's, progressive when the script transfers
            to operators, else broadcast; held to the campaign's abandon cap either way).
        dnc: a do-not-call list.
        store: also journal into this store; the campaign is read from it a page at a time
            (an existing store is resumed: where it stopped, at its latest time).
        hooks: ``callback`` hooks by name.
        until: stop at this virtual time even if the campaign is not finished.
        on_result: called with each finished attempt.
        page_size: with a store, contacts per read from it (see :meth:`Simulation.
            page_from_store`).
        max_loaded: with a store, read no more queued contacts while the core holds this many
            open ones besides its scheduled retries.
        keep_results: False: the result's ``records`` and ``progress`` are left empty
            (memory for a long run journaled into ``store``).

    Returns:
        The attempts, the contacts' final progress and the SMS sent.
    """
    contacts = tuple(contacts)
    claimers: list[str] = []
    if store is not None:
        if contacts:  # a resumed list: only the contacts the store lacks are written
            known = store.known_ids(campaign.name, [contact.id for contact in contacts])
            new = [c for c in contacts if c.id not in known]
            if new and known:  # numbers the new ones share with earlier contacts of the list
                numbers = {phone for c in new for phone in c.phones}
                claimers = [
                    c.id for c in contacts if c.id in known and numbers.intersection(c.phones)
                ]
            store.add_contacts(campaign.name, new)
        last = store.latest_attempt_time(campaign.name)
        start = max(start, last) if last is not None else start
    sim = Simulation(
        campaign=campaign,
        model=model if model is not None else PartiesModel(seed=seed),
        start=start,
        pacing=pacing,
        dnc=dnc,
        store=store,
        hooks=dict(hooks or {}),
        on_result=on_result,
        keep_results=keep_results,
    )
    if store is not None:
        sim.page_from_store(page_size=page_size, max_loaded=max_loaded, claimers=claimers)
    else:
        sim.at(start, e.ContactsAdded(contacts))
    return sim.run(until=until)


def load_from_store(
    store: Store, campaign: str, contacts: Iterable[Contact] = ()
) -> tuple[e.ContactsRestored, float]:
    """Add ``contacts`` to the store (known ids are kept as they are) and read the whole
    campaign back as the core's ``ContactsRestored`` event, with the latest time the store
    mentions. How a simulation started before it paged (``simulate`` pages now): kept as the
    peer ``benchmarks/resume_scale.py`` measures, and for small stores read whole."""
    contacts = tuple(contacts)
    if contacts:
        store.add_contacts(campaign, contacts)
    by_contact: dict[str, list[AttemptRecord]] = collections.defaultdict(list)
    last = 0.0
    for record in store.attempts(campaign):
        by_contact[record.contact_id].append(record)
        last = max(last, record.ended_at or record.started_at)
    entries = []
    for seq, (contact, progress) in enumerate(store.contacts(campaign), 1):
        history = tuple(by_contact.get(contact.id, ()))
        entries.append(e.RestoredContact(contact, progress, history, seq))
    return e.ContactsRestored(entries), last
