"""The anyio runtime: the dialer core against a real switch, a real store and a clock.

The runtime holds no policy. Its loop is the one DESIGN.md draws: wait for the next switch
event, control request or timer; feed it to :class:`~autoinformer.core.DialerCore`; carry the
commands out in order. ``Journal`` reaches the store before the ``Originate`` after it goes out,
so a process killed at any moment loses no attempt; on the next start the store's unfinished
attempts are reconciled as ``unknown`` and retried by policy.

Application code never runs on the event path: results go through a bounded memory stream to
their own task (``on_result`` callbacks) and to :meth:`Runtime.results`; ``callback`` steps'
hooks, speech rendering and SMS sending run in tasks of their own and report back as events.
Runs on asyncio and trio alike.
"""

from __future__ import annotations

import collections
import datetime as dt
import inspect
import logging
import math
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from autoinformer.backends.base import BackendGap, CallEnded, Media, Switch
from autoinformer.backends.orphans import clear_orphans
from autoinformer.campaign import Campaign
from autoinformer.clock import Clock, WallClock
from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.dialer import DialerCore, DoNotCall
from autoinformer.core.shared_guard import shared_pacing
from autoinformer.errors import (
    AutoinformerError,
    BackendError,
    BackendUnavailable,
    CallNotFound,
    InputError,
    SettingsError,
    SpeechUnavailable,
    StoreError,
)
from autoinformer.feed import ClosedHistory, ContactFeed, Kind, closed_history
from autoinformer.outcomes import ContactState, HangupCause
from autoinformer.pacing.base import PacingPolicy
from autoinformer.records import AttemptRecord
from autoinformer.speech import Template
from autoinformer.store.base import Store
from autoinformer.summary import (
    SMS_SENT_KEY,
    RunSummary,
    SkippedContacts,
    SwitchGapSummary,
    summarize,
)
from autoinformer.workers.commands import Begin, Close, Finish, Save, WorkerCommand, pair

if TYPE_CHECKING:
    from autoinformer.workers.mode import WorkerMode

__all__ = [
    "RunSummary",
    "Runtime",
    "SkippedContacts",
    "SmsSender",
    "SpeechRenderer",
    "SwitchGapSummary",
    "summarize",
]

log = logging.getLogger("autoinformer.runtime")
wait_log = logging.getLogger("autoinformer.runtime.wait")
"""Says (INFO) when the runtime has no call to place for a while and when the next is due;
the CLI shows it (a campaign started outside its calling hours does not sit in silence)."""

WAIT_NOTICE_SECONDS = 60.0
"""A wait for the next call at least this long, with no call in progress, is logged."""


ID_SALT_KEY = "call_id_salt"
"""The store's meta key for the random salt of this campaign's call ids (unique per store)."""

DRAIN_SECONDS = 10.0
"""At the end of a run, how long to wait for SMS still being sent and hooks still running."""

ABORT_SECONDS = 15.0
"""When a run fails, how long hanging up the calls in progress and recording them may take."""
HANGUP_SECONDS = 3.0
"""When a run fails, how long one hang-up may take (the switch may be gone)."""

ResultCallback = Callable[[AttemptRecord], Awaitable[None] | None]
Hook = Callable[[Contact, str], Awaitable[str] | str]


class SpeechRenderer(Protocol):
    """Turns a template for a contact into a WAV file (``autoinformer.speech.EngineRenderer``)."""

    async def render(self, template: Template, contact: Contact, lang: str) -> Any:
        """The path of the audio file."""
        ...


class SmsSender(Protocol):
    """Sends a text message (``autoinformer.sms``)."""

    async def send(self, number: str, text: str) -> None:
        """Send ``text`` to ``number``."""
        ...


def _check_worker(instance: Runtime, attribute: object, value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise SettingsError(
            "worker", f"expected a non-empty name of at most 200 characters, got {value!r}"
        )
    if not callable(getattr(instance.store, "take_leases", None)):
        raise SettingsError(
            "worker",
            f"several workers share a campaign through a store that can lease (PostgreSQL: "
            f"postgresql://...); {type(instance.store).__name__} cannot",
        )


def _check_ttl(instance: Runtime, attribute: object, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < math.inf:
        raise SettingsError("lease_ttl", f"expected seconds > 0, got {value!r}")


@attrs.frozen
class _Sync:
    """An event for the loop to handle, and the sign that it did."""

    event: e.Event
    done: anyio.Event


@attrs.frozen
class _Add:
    contacts: tuple[Contact, ...]


@attrs.define(kw_only=True)
class Runtime:
    """Runs one campaign: ``await Runtime(campaign=..., switch=..., store=...).run(contacts)``.

    Args:
        campaign: the campaign's settings.
        switch: a connected :class:`Switch` (enter it with ``async with`` first).
        store: where contacts, progress and attempts are kept (resumed if it has them).
        clock: where time comes from (``ScaledClock`` for fast runs on the simulated switch).
        pacing: the pacing policy (default: the core's, progressive when the script can
            transfer to operators, else broadcast; see
            :func:`~autoinformer.core.abandon_guard.default_pacing`). A script that transfers
            is held to the campaign's ``abandon_cap`` whichever policy runs.
        dnc: the do-not-call list (checked at dial time; ``add`` is called on opt-outs).
        renderer: renders ``say`` steps (and spoken menu prompts) to audio files. Without
            one, a switch that cannot speak text (every real one: ``Switch.plays_text`` is
            False) gets the default, :class:`~autoinformer.speech.SpeechSettings` (espeak-ng)
            with its cache in ``speech_cache``; the simulated switch speaks ``tts:<text>``
            builtins itself. With a renderer, every message of a call is rendered before the
            call is placed, so a callee never waits on synthesis; a message that cannot be
            rendered fails the attempt ("speech failed: ...", retried by policy) without
            calling, and :meth:`run` checks the engine on the first contact before anyone is
            called.
        speech_cache: the default renderer's fragment cache directory (None: the user's
            cache directory).
        hooks: ``callback`` step hooks by name: ``hook(contact, digits) -> str`` (may be async).
        sms: the SMS sender for the campaign's SMS rules (None: SMS are logged only).
        keep_open: keep running when every contact is finished, waiting for
            :meth:`add_contacts` until :meth:`stop` (seed 001: "call until it is paid off").
        start_paused: load the campaign but place no call until :meth:`resume`.
        result_buffer: size of the bounded streams feeding callbacks and :meth:`results`; a
            slow consumer holds the dialer back rather than losing results.
        page_size: contacts read from the store at a time. A start reads the contacts in
            call and one page, never the whole campaign; more are paged in as the core
            needs them (:class:`~autoinformer.feed.ContactFeed`).
        max_loaded: no more queued contacts are paged in while the core holds this many
            open ones besides its scheduled retries (outside the calling hours every contact
            waits: memory stays bounded).
        worker: this runtime's name as one of several workers sharing the campaign through
            a store that can lease (:class:`~autoinformer.store.postgres.PostgresStore`);
            None (the default): the only process on the campaign. A worker takes contacts by
            lease, holds the campaign's lines, caller-ID caps and abandon budget together
            with the others (see :mod:`autoinformer.workers` and ``docs/postgres.md``).
            Names must be unique among the live workers; a worker restarted under its old
            name takes its own leases back at once.
        lease_ttl: seconds a worker's leases (contacts, lines) last unless renewed; they are
            renewed every ``lease_ttl / 3``. A worker that dies holds its contacts and lines
            this long at most. Only with ``worker``.
    """

    campaign: Campaign
    switch: Switch
    store: Store
    clock: Clock = attrs.field(factory=WallClock)
    pacing: PacingPolicy | None = None
    dnc: DoNotCall | None = None
    renderer: SpeechRenderer | None = None
    speech_cache: Path | None = None
    hooks: Mapping[str, Hook] = attrs.field(factory=dict)
    sms: SmsSender | None = None
    keep_open: bool = False
    start_paused: bool = False
    result_buffer: int = 256
    page_size: int = attrs.field(default=2000, validator=attrs.validators.ge(1))
    max_loaded: int = attrs.field(default=50_000, validator=attrs.validators.ge(1))
    worker: str | None = attrs.field(default=None, validator=_check_worker)
    lease_ttl: float = attrs.field(default=30.0, validator=_check_ttl)
    core: DialerCore = attrs.field(init=False)
    _inbox_send: MemoryObjectSendStream[object] = attrs.field(init=False)
    _inbox: MemoryObjectReceiveStream[object] = attrs.field(init=False)
    _callbacks: list[ResultCallback] = attrs.field(factory=list, init=False)
    _sinks: list[MemoryObjectSendStream[AttemptRecord]] = attrs.field(factory=list, init=False)
    _wake: float | None = attrs.field(default=None, init=False)
    _wake_changed: anyio.Event = attrs.field(factory=anyio.Event, init=False)
    _tg: anyio.abc.TaskGroup | None = attrs.field(default=None, init=False)
    _finished: bool = attrs.field(default=False, init=False)
    _busy: int = attrs.field(default=0, init=False)
    _idle: anyio.Event = attrs.field(factory=anyio.Event, init=False)
    _templates: dict[str, Template] = attrs.field(factory=dict, init=False)
    gaps: list[BackendGap] = attrs.field(factory=list, init=False)
    _say_texts: tuple[str, ...] = attrs.field(default=(), init=False)
    _placing: set[str] = attrs.field(factory=set, init=False)
    _rendered: dict[str, dict[str, Path]] = attrs.field(factory=dict, init=False)
    _sms_sent: int = attrs.field(default=0, init=False)
    _waiting_until: float | None = attrs.field(default=None, init=False)
    _feed: ContactFeed | None = attrs.field(default=None, init=False)
    _feed_wake: float | None = attrs.field(default=None, init=False)
    _w: WorkerMode | None = attrs.field(default=None, init=False)
    _done_waiting: bool = attrs.field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        self._say_texts = tuple(dict.fromkeys(self.campaign.script.templates()))
        if self.renderer is None and self._say_texts and not self.switch.plays_text:
            from autoinformer.speech.settings import SpeechSettings

            self.renderer = SpeechSettings().renderer(cache_dir=self.speech_cache)
        kwargs: dict[str, Any] = {"campaign": self.campaign, "dnc": self.dnc}
        if self.worker is not None:  # the guard spends the campaign's budget, not its own
            kwargs["pacing"] = shared_pacing(self.campaign, self.pacing)
        elif self.pacing is not None:
            kwargs["pacing"] = self.pacing
        self.core = DialerCore(**kwargs)
        self._inbox_send, self._inbox = anyio.create_memory_object_stream[object](math.inf)
        if self.worker is not None:
            self._w = self._worker_side(self.worker)

    def _worker_side(self, worker: str) -> WorkerMode:
        """The worker's side of this runtime: its lease feed and :class:`WorkerMode`."""
        from autoinformer.workers.feed import LeaseFeed  # they need PostgreSQL's driver
        from autoinformer.workers.mode import WorkerMode

        ttl, lines = self.lease_ttl, self.campaign.lines
        feed = LeaseFeed(
            store=self.store,
            campaign=self.campaign.name,
            worker=worker,
            ttl=ttl,
            batch=min(self.page_size, max(20, 2 * lines)),
            # a worker holds what it can call soon, not the list: outside the calling hours
            # (every contact waits) one worker must not lease the whole campaign and renew it
            # all night
            max_loaded=min(self.max_loaded, max(100, 10 * lines)),
            poll=ttl / 3.0,
        )
        return WorkerMode(
            store=self.store,
            campaign=self.campaign,
            worker=worker,
            ttl=ttl,
            clock=self.clock,
            core=self.core,
            switch=self.switch,
            feed=feed,
            store_call=self._store_call,
        )

    @property
    def worker_mode(self) -> WorkerMode | None:
        """The worker's side of a shared campaign (None: not a worker): the contacts and
        lines it holds, what it reconciled (:class:`~autoinformer.workers.WorkerMode`)."""
        return self._w

    # --- the application's controls ------------------------------------------------------

    def pause(self) -> None:
        """Place no new calls until :meth:`resume`; calls in progress carry on."""
        self._inbox_send.send_nowait(e.Pause())

    def resume(self) -> None:
        """Place calls again."""
        self._inbox_send.send_nowait(e.Resume())

    def stop(self, *, hangup: bool = False) -> None:
        """Finish: no new calls; :meth:`run` returns when the calls in progress ended (at
        once with ``hangup``, their outcomes recorded)."""
        self._inbox_send.send_nowait(e.Stop(hangup=hangup))

    def add_contacts(self, contacts: Iterable[Contact]) -> None:
        """Add contacts to the running campaign (stored first, then called)."""
        self._inbox_send.send_nowait(_Add(tuple(contacts)))

    def cancel(self, contact_id: str, reason: str = "cancelled") -> None:
        """No further attempt for this contact (seed 001: the debt was paid)."""
        self._inbox_send.send_nowait(e.ContactCancelled(contact_id, reason))

    def on_result(self, callback: ResultCallback) -> None:
        """Call ``callback(record)`` for each finished attempt (in its own task, in order)."""
        self._callbacks.append(callback)

    def results(self) -> MemoryObjectReceiveStream[AttemptRecord]:
        """An async iterator of finished attempts; take it before :meth:`run` starts."""
        send, receive = anyio.create_memory_object_stream[AttemptRecord](self.result_buffer)
        self._sinks.append(send)
        return receive

    # --- running ---------------------------------------------------------------------------

    async def run(self, contacts: Iterable[Contact] = ()) -> RunSummary:
        """Run the campaign with these contacts (and any the store already has) to the end.

        A wait of a minute or more with no call in progress (outside the calling hours, a
        retry's interval) is logged at INFO on ``autoinformer.runtime.wait`` with the time the
        next call is due.

        Returns:
            :func:`summarize` of the store when done, with ``switch_gaps`` (seconds, calls
            adopted, calls lost) when the connection to the switch dropped during the run
            (also in :attr:`gaps`, and logged as it happens) and ``sms``, the SMS sent
            during the run (also added to the store's ``sms_sent`` meta count).

        A switch that cannot be reached (``BackendUnavailable`` on originate) pauses dialling
        without spending attempts: the core probes it one call at a time until it is back
        (see ``docs/outcomes.md``, "When the switch is away").

        Raises:
            StoreError: the store failed (the campaign stops; nothing is lost).
            BackendError: the switch went away for good (its event stream raised).

        Whatever the error, the calls in progress are hung up via the switch and their
        attempts recorded first (within :data:`ABORT_SECONDS`); the error itself is raised,
        not an ``ExceptionGroup``.
            SpeechUnavailable: the script's messages cannot be rendered (checked on the
                first contact before anyone is called).
        """
        contacts = list(contacts)
        await self._check_speech(contacts)
        try:
            await self._run(contacts)
        except BaseExceptionGroup as group:
            error = _the_error(group)
            if error is None:  # cancelled, interrupted: not ours to handle
                raise
            await self._abort(error)
            error.__suppress_context__ = True  # one clear error, not a group
            raise error  # noqa: B904 - its own cause (if any) is kept
        except Exception as error:
            await self._abort(error)
            raise
        finally:  # after the abort recorded the calls it hung up: their leases end with them
            if self._w is not None and self._w.tending:
                await self._leave(self._w)
        return await self._finish_run()

    async def _run(self, contacts: list[Contact]) -> None:
        notified = anyio.Event()
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                if self._callbacks:
                    send, receive = anyio.create_memory_object_stream[AttemptRecord](
                        self.result_buffer
                    )
                    self._sinks.append(send)
                    tg.start_soon(self._notifier, receive, notified)
                else:
                    notified.set()
                tg.start_soon(self._reader)
                tg.start_soon(self._timer)
                if self._w is not None:
                    tg.start_soon(self._w.tend_forever, self._inbox_send.send, self._apply)
                await self._start(contacts)
                await self._loop()
                for sink in self._sinks:
                    sink.close()
                await notified.wait()  # every callback ran before run() returns
                with anyio.move_on_after(DRAIN_SECONDS):  # SMS being sent, hooks answering
                    while self._busy:
                        await self._idle.wait()
                        self._idle = anyio.Event()
                tg.cancel_scope.cancel()
        finally:
            for sink in self._sinks:
                sink.close()

    async def _leave(self, w: WorkerMode) -> None:
        """The run ends (finished, stopped, failed, cancelled): hand back the contacts not in
        a call and every line slot, so other workers carry on without waiting for the ttl."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(ABORT_SECONDS):
            try:
                await w.exit()
            except StoreError as exc:
                log.error("worker %s could not hand its leases back: %s", w.worker, exc)

    async def _apply(self, event: e.Event) -> None:
        """Have the loop handle ``event`` and wait until it has (a worker lowers its core's
        grant of lines this way before it gives the lines back)."""
        done = anyio.Event()
        await self._inbox_send.send(_Sync(event, done))
        await done.wait()

    async def _finish_run(self) -> RunSummary:
        name, store, sent = self.campaign.name, self.store, self._sms_sent
        if sent:

            def count_sms() -> None:
                before = store.get_meta(name, SMS_SENT_KEY)
                total = sent + (int(before) if before and before.isdigit() else 0)
                store.set_meta(name, SMS_SENT_KEY, str(total))

            await self._store_call(count_sms)
        summary = await anyio.to_thread.run_sync(summarize, store, name)
        gaps = tuple(
            SwitchGapSummary(seconds=round(g.seconds, 1), adopted=len(g.adopted), lost=len(g.lost))
            for g in self.gaps
        )
        return attrs.evolve(summary, switch_gaps=gaps, sms=sent)

    async def _start(self, contacts: list[Contact]) -> None:
        if self._w is not None:
            await self._start_worker(contacts)
            return
        name, store = self.campaign.name, self.store
        # Calls a dead process left up are hung up (and their attempts recorded) before
        # anything is dialled: a retry must not ring a person still on an orphaned call.
        now = self.clock.now()
        for record in await clear_orphans(
            self.switch, store, name, now=now, store_call=self._store_call
        ):
            await self._execute(c.Notify(record))

        feed = self._feed = ContactFeed(
            store=store, campaign=name, page_size=self.page_size, max_loaded=self.max_loaded
        )
        core = self.core

        def load() -> tuple[e.ContactsRestored, ClosedHistory, str]:
            salt = store.get_meta(name, ID_SALT_KEY)
            if salt is None:
                salt = secrets.token_hex(6)
                store.set_meta(name, ID_SALT_KEY, salt)
            if contacts:  # a resumed list: only the contacts the store lacks are written
                known = store.known_ids(name, [contact.id for contact in contacts])
                store.add_contacts(name, (c for c in contacts if c.id not in known))
            first = feed.start()
            history = ClosedHistory()
            if first or feed.more or self.keep_open:  # a finished campaign places no call
                history = closed_history(store, name, core, now)
            return feed.event(first, core.book), history, salt

        restored, history, core.id_salt = await self._store_call(load)
        history.apply(core, now)
        if self.start_paused:
            await self._handle(e.Pause())
        core.book.more = feed.more
        core.book.forget_closed = True  # the store keeps them: memory follows the open ones
        await self._handle(restored)
        await self._refill()

    async def _start_worker(self, contacts: list[Contact]) -> None:
        """A worker's start: the same salt and list as one process, no reading of the whole
        campaign and no orphan sweep of the switch (on a switch shared with live workers,
        their calls are not orphans: a dead worker's are reconciled when its leases are
        taken over), a grant of no lines until the first claim, then the first leases."""
        name, store = self.campaign.name, self.store

        def load() -> str:
            # workers starting at once agree on one salt: the first one set
            salt = store.meta_once(name, ID_SALT_KEY, secrets.token_hex(6))  # type: ignore[attr-defined]
            if contacts:
                known = store.known_ids(name, [contact.id for contact in contacts])
                store.add_contacts(name, (c for c in contacts if c.id not in known))
            return str(salt)

        self.core.id_salt = await self._store_call(load)
        if self.start_paused:
            await self._handle(e.Pause())
        self.core.book.forget_closed = True
        self.core.book.more = True
        await self._handle(e.LinesGranted(0))
        await self._refill()

    async def _open_elsewhere(self) -> bool:
        """A worker's core ran out of contacts: does the campaign still have open ones (held
        by others, waiting for a retry, or a result whose progress another worker decides)?
        Then the worker stays, to take them when due or when their holder dies."""
        w = self._w
        assert w is not None
        others, _ = await self._store_call(w.store.lease_outlook, self.campaign.name, w.worker)
        if others:
            self.core.book.more = True
            w.feed.poke()
        return bool(others)

    async def _refill_worker(self, w: WorkerMode) -> None:
        """Take contacts by lease while the core wants more (see
        :class:`~autoinformer.workers.feed.LeaseFeed`), then set the feed's wake-up."""
        feed, book = w.feed, self.core.book
        for _ in range(_TAKES_PER_REFILL):
            if not feed.wants(book, self.clock.now()):
                break
            event = await w.take()
            book.more = feed.more
            await self._handle(event)
        if self._done_waiting and not feed.more and book.open_count == 0 and not self.core.calls:
            self._finished = True  # the others finished what was open when the core was done
            return
        wake = feed.wake(self.clock.now())
        if wake is None and feed.wants(book, self.clock.now()):
            wake = self.clock.now() + 1.0  # cut short above: carry on after the inbox
        if wake != self._feed_wake:
            self._feed_wake = wake
            self._wake_changed.set()

    async def _refill(self) -> None:
        """Page contacts in from the store while the core wants more (see
        :class:`~autoinformer.feed.ContactFeed`), then set the feed's own wake-up."""
        if self._w is not None:
            await self._refill_worker(self._w)
            return
        feed, book = self._feed, self.core.book
        if feed is None:
            return
        while (kind := feed.wants(book, self.clock.now())) is not None:

            def read(kind: Kind = kind) -> e.ContactsRestored:
                return feed.event(feed.read(kind), book)

            page = await self._store_call(read)
            book.more = feed.more
            await self._handle(page)
        wake = feed.wake(self.clock.now())
        if wake != self._feed_wake:
            self._feed_wake = wake
            self._wake_changed.set()

    async def _loop(self) -> None:
        if self._finished:  # a restored store can already be finished: nothing to wait for
            return
        async for item in self._inbox:
            if isinstance(item, _Add):
                await self._add(item.contacts)
            elif isinstance(item, _Sync):
                await self._handle(item.event)
                item.done.set()
            elif isinstance(item, e.ContactCancelled) and item.contact_id not in self.core.book:
                await self._cancel_unread(item)
            else:
                await self._handle(item)  # type: ignore[arg-type]
                if isinstance(item, e.Stop) and self._w is not None:
                    released = await self._w.release_idle()  # others carry on at once
                    if released is not None:
                        await self._handle(released)
            await self._refill()
            if self._finished:
                return

    async def _add(self, contacts: tuple[Contact, ...]) -> None:
        """Store contacts added live; the core gets the new ones now, or from the store in
        their turn while it still has queued contacts to page in (they are last in line)."""
        name, store, feed = self.campaign.name, self.store, self._feed

        def add() -> set[str]:
            known = store.known_ids(name, [contact.id for contact in contacts])
            store.add_contacts(name, contacts)
            return known

        known: set[str] = await self._store_call(add)
        if self._w is not None:  # taken by lease, by whichever worker is free
            self._w.feed.poke()
            return
        if feed is not None and not feed.queue_done:
            return  # the feed reads them after the contacts added before them
        # a known id keeps its state: in the core already, or paged in with its progress
        await self._handle(e.ContactsAdded(c for c in contacts if c.id not in known))

    async def _cancel_unread(self, event: e.ContactCancelled) -> None:
        """Cancel a contact the core has not paged in: its progress is closed in the store
        (as the core closes one it holds), so it is never read as open again. A worker
        records the cancel in the database instead: closed there at once when nobody holds
        the contact, else honoured by its holder (no further attempt from that commit on)."""
        name, store, worker = self.campaign.name, self.store, self._w is not None
        now = self.clock.now()

        def cancel() -> None:
            if worker:  # whoever holds it: recorded in the database, honoured by its holder
                done = store.request_cancel(name, event.contact_id, event.reason, now=now)  # type: ignore[attr-defined]
                log.info("cancel of contact %s from worker: %s", event.contact_id, done)
                return
            for _, _, progress in store.contacts_by_id(name, [event.contact_id]):
                if progress.state in (ContactState.PENDING, ContactState.SCHEDULED):
                    closed = attrs.evolve(
                        progress, state=ContactState.CANCELLED, next_at=None, reason=event.reason
                    )
                    store.save_progress(name, closed)

        await self._store_call(cancel)

    async def _handle(self, event: e.Event) -> None:
        pending: collections.deque[e.Event] = collections.deque([event])
        w = self._w
        while pending:
            commands: Sequence[c.Command | WorkerCommand] = self.core.handle(
                self.clock.now(), pending.popleft()
            )
            if w is not None:  # each journal with the progress after it: one transaction
                commands = pair(commands)  # type: ignore[arg-type]
            unreachable = ""
            refused: set[str] = set()
            for command in commands:
                if isinstance(command, c.Originate) and command.call_id in refused:
                    continue  # the store would not journal it: never placed
                if unreachable and isinstance(command, c.Originate):
                    # the switch could not be reached a moment ago: the rest of the batch is
                    # not sent to it, and reported as not placed in the same words
                    pending.append(_not_sent(command, unreachable))
                    continue
                follow = await self._execute(command)
                if follow is not None:
                    pending.append(follow)
                    if isinstance(follow, e.CommandFailed) and follow.unreachable:
                        unreachable = follow.detail
                    if isinstance(follow, e.AttemptRefused):
                        refused.add(follow.call_id)
        if w is not None:
            w.want_lines()  # more than it holds: claimed soon by the tending task

    # --- carrying commands out -----------------------------------------------------------

    async def _store_call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(fn, *args)
        except StoreError:
            raise
        except (OSError, ValueError) as exc:  # pragma: no cover - the store wraps its errors
            raise StoreError(str(exc)) from exc

    async def _execute(self, cmd: c.Command | WorkerCommand) -> e.Event | None:
        sw = self.switch
        if isinstance(cmd, Begin | Close | Finish | Save):
            assert self._w is not None
            if isinstance(cmd, Close | Finish):
                self._rendered.pop(cmd.record.attempt_id, None)
            return await self._w.execute(cmd)
        if isinstance(cmd, c.Journal):
            if not cmd.begin:
                self._rendered.pop(cmd.record.attempt_id, None)
            write = self.store.begin_attempt if cmd.begin else self.store.finish_attempt
            await self._store_call(write, cmd.record)
            log.debug(
                "journaled %s %s contact=%s attempt=%d outcome=%s",
                "begin" if cmd.begin else "result",
                cmd.record.attempt_id,
                cmd.record.contact_id,
                cmd.record.attempt_no,
                cmd.record.outcome,
            )
        elif isinstance(cmd, c.SaveProgress):
            await self._store_call(self.store.save_progress, self.campaign.name, cmd.progress)
        elif isinstance(cmd, c.SaveNumbers):
            name = self.campaign.name
            await self._store_call(self.store.save_numbers, name, cmd.contact_id, cmd.phones)
        elif isinstance(cmd, c.Originate):
            if self.renderer is not None and self._say_texts and not cmd.operator:
                self._placing.add(cmd.call_id)
                self._spawn(self._render_then_originate, cmd)
                return None
            return await self._originate(cmd)
        elif isinstance(cmd, c.Play):
            if isinstance(cmd.media, c.Speech):
                self._spawn(self._play_speech, cmd)
            else:
                return await self._switch_call(
                    cmd.call_id, sw.play(cmd.call_id, cmd.media, playback_id=cmd.playback_id)
                )
        elif isinstance(cmd, c.StopPlayback):
            return await self._switch_call(
                cmd.call_id, sw.stop_playback(cmd.call_id, cmd.playback_id)
            )
        elif isinstance(cmd, c.CollectDigits):
            return await self._switch_call(cmd.call_id, sw.collect_digits(cmd.call_id))
        elif isinstance(cmd, c.Bridge):
            return await self._switch_call(cmd.call_ids[0], sw.bridge(cmd.bridge_id, cmd.call_ids))
        elif isinstance(cmd, c.Hangup):
            if cmd.call_id in self._placing:  # still rendering: it will never be placed
                self._placing.discard(cmd.call_id)
                return None
            await self._switch_call(cmd.call_id, sw.hangup(cmd.call_id, cmd.cause), quiet=True)
        elif isinstance(cmd, c.WakeAt):
            self._wake = cmd.time
            self._wake_changed.set()
            self._say_waiting(cmd.time)
        elif isinstance(cmd, c.Notify):
            for sink in list(self._sinks):
                try:
                    await sink.send(cmd.record)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    self._sinks.remove(sink)  # the app stopped reading: the store has it all
        elif isinstance(cmd, c.RunCallback):
            self._spawn(self._run_hook, cmd)
        elif isinstance(cmd, c.SendSms):
            self._spawn(self._send_sms, cmd)
        elif isinstance(cmd, c.AddToDoNotCall):
            add = getattr(self.dnc, "add", None)
            if callable(add):
                await self._store_call(add, cmd.number)
        elif isinstance(cmd, c.Done) and (cmd.reason == "stopped" or not self.keep_open):
            if cmd.reason == "finished" and self._w is not None and await self._open_elsewhere():
                self._done_waiting = True  # finished when the feed finds nothing open
                return None  # another worker still has the campaign's contacts: stay for them
            self._finished = True
        return None

    def _say_waiting(self, wake: float) -> None:
        """Log a long wait with nothing in progress: when the next call is due, and whether
        the calling hours are the reason (judged in the campaign's zone)."""
        now = self.clock.now()
        if self.core.calls or self._finished or wake - now < WAIT_NOTICE_SECONDS:
            self._waiting_until = None
            return
        if self._waiting_until == wake:
            return
        self._waiting_until = wake
        window = self.campaign.window
        zone = window.timezone
        at = dt.datetime.fromtimestamp(wake, zone)
        why = ""
        if not window.allows(dt.datetime.fromtimestamp(now, zone)):
            why = f"; outside the calling hours {window.describe()}"
        wait_log.info(
            "waiting: no call to place until %s (in %s)%s",
            at.isoformat(" ", "minutes"),
            _span(wake - now),
            why,
        )

    async def _originate(self, cmd: c.Originate) -> e.Event | None:
        core = self.core
        if core.switch_down and cmd.call_id != core.probe and not cmd.operator:
            # placed before the switch proved unreachable (speech was being rendered): only
            # the core's probe goes to a switch that is down
            return _not_sent(cmd, "the switch could not be reached a moment ago")
        try:
            await self.switch.originate(
                cmd.call_id,
                cmd.number,
                caller_id=cmd.caller_id,
                ring_timeout=cmd.ring_timeout,
                variables=cmd.variables,
                operator=cmd.operator,
                detect_machine=cmd.detect_machine,
            )
        except BackendUnavailable as exc:
            log.warning("originate %s not placed, the switch is unreachable: %s", cmd.call_id, exc)
            return e.CommandFailed(cmd.call_id, str(exc), originate=True, unreachable=True)
        except BackendError as exc:
            log.warning("originate %s refused: %s", cmd.call_id, exc)
            return e.CommandFailed(cmd.call_id, str(exc), originate=True)
        return None

    async def _render_then_originate(self, cmd: c.Originate) -> None:
        """Render every message of the call's script for its contact, then place the call:
        audio is ready before anyone answers (the fragment cache makes repeats cheap)."""
        assert self.renderer is not None
        call = self.core.calls.get(cmd.call_id)
        if call is None:  # pragma: no cover - the core keeps a call until its end
            self._placing.discard(cmd.call_id)
            return
        contact, lang = call.slot.contact, self.campaign.lang
        paths: dict[str, Path] = {}
        try:
            for text in self._say_texts:
                paths[text] = Path(await self.renderer.render(self._template(text), contact, lang))
        except (AutoinformerError, OSError) as exc:
            log.warning("speech for %s failed: %s", cmd.call_id, exc)
            self._placing.discard(cmd.call_id)
            failed = e.CommandFailed(cmd.call_id, f"speech failed: {exc}", originate=True)
            await self._inbox_send.send(failed)
            return
        if cmd.call_id not in self._placing:  # hung up (stop) while it was being rendered
            ended = CallEnded(
                cmd.call_id, HangupCause.NORMAL_CLEARING, detail="hung up before it was placed"
            )
            await self._inbox_send.send(ended)
            return
        self._placing.discard(cmd.call_id)
        self._rendered[cmd.call_id] = paths
        refused = await self._originate(cmd)
        if refused is not None:
            await self._inbox_send.send(refused)

    async def _check_speech(self, contacts: list[Contact]) -> None:
        """Render the script's messages for the first contact before anyone is called: an
        engine that cannot work (espeak-ng missing, no network for gTTS) stops the run here,
        loudly, instead of failing every attempt."""
        if self.renderer is None or not self._say_texts or not contacts:
            return
        for text in self._say_texts:
            try:
                await self.renderer.render(self._template(text), contacts[0], self.campaign.lang)
            except InputError:
                continue  # this contact's data: its own attempt reports it
            except (AutoinformerError, OSError) as exc:
                raise SpeechUnavailable(
                    f"speech: cannot render the script's messages ({exc}); nobody was called. "
                    "Install espeak-ng (apt-get install espeak-ng), or set [speech] engine / "
                    "fallback in the campaign file"
                ) from exc

    async def _switch_call(
        self, call_id: str, request: Awaitable[None], *, quiet: bool = False
    ) -> e.Event | None:
        try:
            await request
        except BackendError as exc:
            if not quiet:
                # CallNotFound: the callee has just hung up; the core waits for the CallEnded
                log.info("switch request for %s failed: %s", call_id, exc)
                return e.CommandFailed(call_id, str(exc), gone=isinstance(exc, CallNotFound))
        return None

    def _spawn(self, fn: Callable[[Any], Coroutine[Any, Any, None]], arg: Any) -> None:
        assert self._tg is not None
        self._busy += 1

        async def task() -> None:
            try:
                await fn(arg)
            finally:
                self._busy -= 1
                self._idle.set()

        self._tg.start_soon(task)

    async def _play_speech(self, cmd: c.Play) -> None:
        speech = cmd.media
        assert isinstance(speech, c.Speech)
        try:
            ready = self._rendered.get(cmd.call_id, {}).get(speech.template)
            if ready is not None:
                media = Media(path=ready)
            elif self.renderer is None:
                template = self._template(speech.template)
                text = template.render_text(speech.contact, speech.lang)
                media = Media(builtin=f"tts:{text}")
            else:
                path = await self.renderer.render(
                    self._template(speech.template), speech.contact, speech.lang
                )
                media = Media(path=path)
            await self.switch.play(cmd.call_id, media, playback_id=cmd.playback_id)
        except CallNotFound as exc:  # the callee has just hung up: its CallEnded decides
            log.debug("speech for %s: the call already ended", cmd.call_id)
            await self._inbox_send.send(e.CommandFailed(cmd.call_id, str(exc), gone=True))
        except (AutoinformerError, OSError) as exc:
            log.warning("speech for %s failed: %s", cmd.call_id, exc)
            await self._inbox_send.send(e.CommandFailed(cmd.call_id, f"speech failed: {exc}"))

    def _template(self, text: str) -> Template:
        template = self._templates.get(text)
        if template is None:
            template = self._templates[text] = Template.parse(text)
        return template

    async def _run_hook(self, cmd: c.RunCallback) -> None:
        hook = self.hooks.get(cmd.name)
        result = "no hook"
        if hook is not None:  # the core's own timer records "timeout" if this takes too long
            try:
                answer = hook(cmd.contact, cmd.digits)
                if inspect.isawaitable(answer):
                    answer = await answer
                result = str(answer)
            except Exception as exc:  # the app's code: report, never crash the dialer
                log.exception("callback hook %r failed", cmd.name)
                result = f"error: {type(exc).__name__}"
        await self._inbox_send.send(e.CallbackDone(cmd.call_id, result))

    async def _send_sms(self, cmd: c.SendSms) -> None:
        if self.sms is None:
            log.info("SMS (%s) to %s: %s", cmd.rule, cmd.number, cmd.text)
            self._sms_sent += 1
            return
        try:
            await self.sms.send(cmd.number, cmd.text)
        except (AutoinformerError, OSError) as exc:
            log.warning("SMS to %s failed: %s", cmd.number, exc)
        else:
            self._sms_sent += 1

    async def _notifier(
        self, receive: MemoryObjectReceiveStream[AttemptRecord], notified: anyio.Event
    ) -> None:
        async with receive:
            async for record in receive:
                for callback in self._callbacks:
                    try:
                        answer = callback(record)
                        if inspect.isawaitable(answer):
                            await answer
                    except Exception:  # the app's code: report, never crash the dialer
                        log.exception("result callback failed")
        notified.set()

    async def _reader(self) -> None:
        try:
            async for event in self.switch.events():
                if isinstance(event, BackendGap):
                    self.gaps.append(event)
                    log.warning(
                        "the switch connection was lost for %.1f s: %d calls carried on, "
                        "%d ended during the gap",
                        event.seconds,
                        len(event.adopted),
                        len(event.lost),
                    )
                await self._inbox_send.send(event)
        except BackendError as exc:
            log.error("switch event stream failed: %s", exc)
            raise

    async def _abort(self, error: BaseException) -> None:
        """The run failed: hang up every call in progress and record its attempt (the core's
        :class:`~autoinformer.core.events.Abort`), within :data:`ABORT_SECONDS`; what cannot be
        done (a switch or a store that is gone) is logged, never raised over ``error``."""
        reason = f"{type(error).__name__}: {error}"
        log.error("the run failed (%s): hanging up %d calls", reason, len(self.core.calls))
        commands = self.core.handle(self.clock.now(), e.Abort(reason))
        with anyio.CancelScope(shield=True), anyio.move_on_after(ABORT_SECONDS):
            for cmd in commands:
                if isinstance(cmd, c.Hangup) and cmd.call_id not in self._placing:
                    with anyio.move_on_after(HANGUP_SECONDS):
                        try:
                            await self.switch.hangup(cmd.call_id, cmd.cause)
                        except BackendError as exc:
                            log.warning("hang-up of %s failed: %s", cmd.call_id, exc)
            store = self.store
            if self._w is not None:
                try:
                    for paired in pair(commands):
                        if isinstance(paired, Close | Finish | Save):
                            await self._w.execute(paired)
                except StoreError as exc:
                    log.error("could not record the calls hung up: %s", exc)
                return
            for cmd in commands:
                try:
                    if isinstance(cmd, c.Journal) and not cmd.begin:
                        await self._store_call(store.finish_attempt, cmd.record)
                    elif isinstance(cmd, c.SaveProgress):
                        await self._store_call(
                            store.save_progress, self.campaign.name, cmd.progress
                        )
                except StoreError as exc:
                    log.error("could not record the calls hung up: %s", exc)
                    return

    def _next_wake(self) -> float | None:
        times = [t for t in (self._wake, self._feed_wake) if t is not None]
        return min(times) if times else None

    async def _timer(self) -> None:
        while True:
            wake = self._next_wake()
            if wake is None:
                await self._wake_changed.wait()
                self._wake_changed = anyio.Event()
                continue
            changed = self._wake_changed
            async with anyio.create_task_group() as tg:

                async def watch(
                    scope: anyio.CancelScope = tg.cancel_scope, event: anyio.Event = changed
                ) -> None:
                    await event.wait()
                    scope.cancel()

                tg.start_soon(watch)
                await self.clock.sleep_until(wake)
                tg.cancel_scope.cancel()
            if changed.is_set():
                self._wake_changed = anyio.Event()
                continue
            if self._next_wake() == wake:
                if self._wake == wake:
                    self._wake = None
                if self._feed_wake == wake:
                    self._feed_wake = None
                await self._inbox_send.send(e.Tick())


def _not_sent(cmd: c.Originate, detail: str) -> e.CommandFailed:
    return e.CommandFailed(cmd.call_id, f"not sent: {detail}", originate=True, unreachable=True)


def _the_error(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one error a failed run raises: the first of ours in the group (the switch, the
    store...), else the first other exception; None when something is not an ``Exception``
    (cancellation, KeyboardInterrupt), which is left to propagate as it is."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    if not leaves or any(not isinstance(leaf, Exception) for leaf in leaves):
        return None
    ours = [leaf for leaf in leaves if isinstance(leaf, AutoinformerError)]
    return (ours or leaves)[0]


def _span(seconds: float) -> str:
    """``2 h 05 min``, ``12 min``: a wait as a person reads it."""
    minutes = max(1, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


_TAKES_PER_REFILL = 20
"""Takes by lease in one refill at most (the inbox gets its turn between)."""
