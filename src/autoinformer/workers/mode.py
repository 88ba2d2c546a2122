"""A runtime's worker mode: the store side of one worker among several on a campaign.

:class:`~autoinformer.runtime.Runtime` with ``worker="w1"`` runs the same core and the same
loop as one process; what changes is only how the core's commands reach the store and where
contacts and limits come from. This module holds that difference:

- **Contacts by lease** (:class:`~autoinformer.workers.feed.LeaseFeed`). A lease taken over
  from a dead worker carries the attempts it left unfinished: they are reconciled
  (:func:`~autoinformer.backends.orphans.reconcile_taken_over`: the switch's own record where
  it can, else ``unknown``, written once whoever tries) before the contact reaches the core,
  which then decides the retry as after any ``unknown`` attempt.
- **The fence.** ``Journal(begin)`` and the ``in_call`` progress after it go to the store in
  one transaction that first checks the lease (and the caller ID's caps across workers):
  refused, the originate is not sent and the core hears
  :class:`~autoinformer.core.events.AttemptRefused` (no attempt spent).
- **Release with the result.** A result and the progress after it go in one transaction
  that ends the lease when the contact closes. *A contact scheduled for a retry is released
  too*, back to the pool with its ``next_at`` (the core forgets it, ``ContactsReleased``),
  rather than kept under a renewed lease: whichever worker is free when it comes due calls
  it, so the work stays balanced, a worker that stops or dies holds nothing but its calls in
  progress, and renewals stay proportional to the calls, not to the retries waiting
  (hours, often). The contact's history comes back with it (the frequency limits count it).
  A result for a contact whose lease was taken over meanwhile is still journaled
  (``release_lease`` says False; the progress is the new owner's).
- **Tending** (:meth:`WorkerMode.tend`, every ``lease_ttl / 3``): renew the leases of every
  contact held (those lost leave the core unless in a call: a live call goes on and its
  result is still journaled), renew and resize the line slots toward the core's
  :attr:`~autoinformer.core.DialerCore.lines_wanted` (``LinesGranted``; no more than a fair
  share while another worker wants lines it cannot get), and bring the other workers'
  answers and abandons to the abandon guard (``CampaignTotals``). Between renewals, lines
  are claimed as soon as the core wants more than it holds (:meth:`WorkerMode.want_lines`).
- **Stopping**: the contacts not in a call are released at once, and every line slot at the
  end (calls still up keep theirs), so the others carry on without waiting for the ttl. A
  worker that dies (``kill -9``) costs the campaign its leases' ttl: its contacts and lines
  wait that long at most.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import attrs

from autoinformer.backends.base import Switch
from autoinformer.backends.orphans import reconcile_taken_over
from autoinformer.campaign import Campaign
from autoinformer.clock import Clock
from autoinformer.core import events as e
from autoinformer.core.dialer import DialerCore
from autoinformer.outcomes import ContactState
from autoinformer.policy.callerid import CallerIdPool
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store.base import OPEN_STATES
from autoinformer.store.postgres_leases import CancelAsked, LeaseLost
from autoinformer.store.postgres_shared import CallerIdCapped, CallerIdRule
from autoinformer.workers.commands import Begin, Close, Finish, Save, WorkerCommand, pair
from autoinformer.workers.feed import LeaseFeed

__all__ = [
    "Begin",
    "Close",
    "Finish",
    "Save",
    "WorkerMode",
    "caller_id_rule",
    "pair",
]

log = logging.getLogger("autoinformer.workers")

StoreCall = Callable[..., Awaitable[Any]]
Send = Callable[[e.Event], Awaitable[None]]


def caller_id_rule(pool: CallerIdPool, at: float) -> CallerIdRule | None:
    """The pool's limits for a use at ``at``, with its day (in ``cap_timezone``) as POSIX
    seconds; None when the pool has neither a cap nor a cool-down. Pure."""
    cooldown = pool.cooldown.total_seconds()
    if pool.daily_cap is None and cooldown <= 0:
        return None
    zone = pool.cap_timezone
    day = dt.datetime.fromtimestamp(at, zone).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return CallerIdRule(pool.daily_cap, start.timestamp(), end.timestamp(), cooldown)


def _fresh(entry: e.RestoredContact) -> bool:
    """Never called: the core's intake claims its numbers as for a contact just added."""
    return (
        entry.progress.attempts == 0
        and not entry.attempts
        and entry.progress.state in (ContactState.PENDING, ContactState.SCHEDULED)
    )


def _leaves(progress: ContactProgress) -> bool:
    """The lease ends with this progress: the contact closed, or waits for a retry."""
    return progress.state not in OPEN_STATES or progress.state is ContactState.SCHEDULED


@attrs.define(kw_only=True)
class WorkerMode:
    """One worker's side of a shared campaign (the runtime holds one in worker mode).

    Attributes:
        held: the contacts whose lease this worker holds (renewed by :meth:`tend`).
        lines: the line slots it holds (as last granted to the core).
        run: who journals this run's attempts (``worker/random``): the abandon totals of the
            other workers leave them out.
        reconciled: attempts of dead workers this one reconciled.
        refused: attempts the store refused to journal (lease lost, caller ID capped).
        tending: False stops renewing (a test's way to play a worker that hangs, then dies).
    """

    store: Any
    campaign: Campaign
    worker: str
    ttl: float
    clock: Clock
    core: DialerCore
    switch: Switch
    feed: LeaseFeed
    store_call: StoreCall
    held: set[str] = attrs.field(factory=set, init=False)
    lines: int = attrs.field(default=0, init=False)
    run: str = attrs.field(init=False)
    reconciled: list[AttemptRecord] = attrs.field(factory=list, init=False)
    refused: int = attrs.field(default=0, init=False)
    tending: bool = attrs.field(default=True, init=False)
    _taken: dict[str, int] = attrs.field(factory=dict, init=False)
    """Each contact held -> the number of the take that brought it (a renewal that did not
    find a contact released and taken again meanwhile must not call it lost)."""
    _takes: int = attrs.field(default=0, init=False)
    _poke: anyio.Event = attrs.field(factory=anyio.Event, init=False)
    share: int = attrs.field(default=0, init=False)
    """This worker's fair share of the lines, as last read."""
    _claim_after: float = attrs.field(default=-math.inf, init=False)
    _cancels_told: set[str] = attrs.field(factory=set, init=False)

    @run.default
    def _run_id(self) -> str:
        return f"{self.worker}/{secrets.token_hex(4)}"

    @property
    def name(self) -> str:
        """The campaign's name."""
        return self.campaign.name

    def _drop(self, contact_id: str) -> None:
        """The contact is no longer this worker's (released, closed, lost)."""
        self.held.discard(contact_id)
        self._taken.pop(contact_id, None)

    # --- contacts in ----------------------------------------------------------------------

    async def take(self) -> e.ContactsRestored:
        """Lease the next batch, reconcile what dead workers left in flight, and return the
        core's event for the contacts (their history read after the reconciling)."""
        feed, book = self.feed, self.core.book
        leases = await self.store_call(feed.take, self.clock.now())
        for lease in leases:
            self.held.add(lease.contact_id)
            self._takes += 1
            self._taken[lease.contact_id] = self._takes
        unfinished = [r for lease in leases for r in lease.unfinished]
        if unfinished:
            taken_from = sorted({lease.taken_from or "?" for lease in leases if lease.unfinished})
            log.warning(
                "worker %s took over %d call(s) in flight from %s: reconciling",
                self.worker,
                len(unfinished),
                ", ".join(taken_from),
            )

            async def finish(record: AttemptRecord) -> bool:
                done: bool = await self.store_call(self.store.finish_attempt_once, record)
                return done

            now = self.clock.now()
            self.reconciled += await reconcile_taken_over(
                self.switch, unfinished, now=now, finish=finish
            )
        event: e.ContactsRestored = await self.store_call(feed.event, leases, book)
        return await self._one_number_one_contact(event)

    async def _one_number_one_contact(self, event: e.ContactsRestored) -> e.ContactsRestored:
        """One number, one contact, across the workers, as in one process: before the core
        sees the leased contacts, each of their numbers' owner (the contact added first with
        it, from any worker's list) is looked up. A new contact's owners go to the core's
        intake, which trims or skips it (``DUPLICATE_REASON``) exactly as one process does,
        whichever worker leased the earlier one. A contact called before (a retry, back from
        the pool) comes with the numbers it owns only: one process keeps the trimmed contact
        in memory between attempts, a worker reads it again from the list, and must not
        retry it on another contact's number."""
        phones = [phone for entry in event.entries for phone in entry.contact.phones]
        if not phones:
            return event
        owners: dict[str, str] = await self.store_call(self.store.number_owners, self.name, phones)
        self.core.numbers.update(owners)
        entries = []
        for entry in event.entries:
            contact = entry.contact
            own = tuple(p for p in contact.phones if owners.get(p, contact.id) == contact.id)
            if own and own != contact.phones and not _fresh(entry):
                entry = attrs.evolve(entry, contact=attrs.evolve(contact, phones=own))
            entries.append(entry)
        return e.ContactsRestored(entries)

    # --- the core's store commands --------------------------------------------------------

    async def execute(self, cmd: WorkerCommand) -> e.Event | None:
        """Carry one paired store command out; the event the core must hear, if any."""
        if isinstance(cmd, Begin):
            return await self._begin(cmd)
        if isinstance(cmd, Close):
            return await self._close(cmd.record, cmd.progress)
        if isinstance(cmd, Finish):
            await self._finish(cmd.record)
            return None
        return await self._save(cmd.progress)

    async def _begin(self, cmd: Begin) -> e.Event | None:
        record = cmd.record
        pool = self.campaign.caller_ids
        rule = None
        if pool is not None and record.caller_id is not None:
            rule = caller_id_rule(pool, record.started_at)
        try:
            await self.store_call(
                self._begin_in_store, record, rule, cmd.progress, self.clock.now()
            )
        except CallerIdCapped as exc:
            self.refused += 1
            return e.AttemptRefused(record.attempt_id, str(exc), caller_id_capped=True)
        except CancelAsked as exc:  # another worker's Runtime.cancel: no attempt, closed
            self.refused += 1
            cid = record.contact_id
            await self.store_call(self.store.honour_cancels, self.name, self.worker, [cid])
            self._drop(cid)
            log.info("contact %s cancelled from another worker (%s)", cid, exc.reason)
            return e.AttemptRefused(record.attempt_id, str(exc), lease_lost=True)
        except LeaseLost as exc:
            self.refused += 1
            self._drop(record.contact_id)
            return e.AttemptRefused(record.attempt_id, str(exc), lease_lost=True)
        return None

    def _begin_in_store(
        self,
        record: AttemptRecord,
        rule: CallerIdRule | None,
        progress: ContactProgress | None,
        now: float,
    ) -> None:
        self.store.begin_leased_attempt(
            record, self.worker, now=now, run=self.run, caller_id=rule, progress=progress
        )

    async def _close(self, record: AttemptRecord, progress: ContactProgress) -> e.Event | None:
        if not _leaves(progress):
            await self._finish(record)
            return await self._save(progress)
        kept = await self.store_call(
            self.store.release_lease, self.name, self.worker, progress, record
        )
        return self._released(progress, kept)

    async def _finish(self, record: AttemptRecord) -> None:
        if not await self.store_call(self.store.finish_attempt_once, record):
            log.warning(
                "attempt %s already had a result (another worker reconciled it): %s not kept",
                record.attempt_id,
                record.outcome,
            )

    async def _save(self, progress: ContactProgress) -> e.Event | None:
        if _leaves(progress):
            kept = await self.store_call(
                self.store.release_lease, self.name, self.worker, progress, None
            )
            return self._released(progress, kept)
        kept = await self.store_call(
            self.store.save_leased_progress, self.name, self.worker, progress
        )
        if kept:
            return None
        self._drop(progress.contact_id)  # taken over: the contact is not ours
        return e.ContactsReleased((progress.contact_id,))

    def _released(self, progress: ContactProgress, kept: bool) -> e.Event | None:
        cid = progress.contact_id
        self._drop(cid)
        if not kept:
            log.info("contact %s had been taken over: its progress is its new owner's", cid)
        if progress.state is ContactState.SCHEDULED or not kept:
            return e.ContactsReleased((cid,))  # back to the pool: the core forgets it
        return None

    # --- tending: leases, lines, the abandon totals ---------------------------------------

    async def tend(self) -> list[e.Event]:
        """Renew the leases held and read the other workers' abandon totals: the events for
        the core (what was lost, the totals). The lines are the runtime's to hold
        (:meth:`hold_lines`): shrinking a grant needs the core to hear it first."""
        now = self.clock.now()
        out: list[e.Event] = []
        if self.held:
            ids = sorted(self.held)
            taken = self._taken  # a contact released and taken again meanwhile is not lost
            before = {cid: taken.get(cid, 0) for cid in ids}
            kept = set(
                await self.store_call(
                    lambda: self.store.renew_leases(
                        self.name, self.worker, ids, now=now, ttl=self.ttl
                    )
                )
            )
            lost = [
                cid
                for cid in ids
                if cid not in kept and cid in self.held and taken.get(cid, 0) == before[cid]
            ]
            if lost:
                log.warning("worker %s lost %d lease(s) to other workers", self.worker, len(lost))
                for cid in lost:
                    self._drop(cid)
                out.append(e.ContactsReleased(tuple(lost)))
            out += await self._honour_cancels()
        guard_window = getattr(self.core.pacing, "window_seconds", None)
        if hasattr(self.core.pacing, "others"):
            since = now - guard_window if guard_window is not None else now
            totals = await self.store_call(
                lambda: self.store.abandon_totals(self.name, self.run, since=since)
            )
            out.append(
                e.CampaignTotals(
                    totals.answers,
                    totals.abandons,
                    totals.window_answers,
                    totals.window_abandons,
                )
            )
        return out

    async def _honour_cancels(self) -> list[e.Event]:
        """The cancels other workers recorded for contacts held here: those not in a call
        were closed by the store (they leave the core), those in a call are cancelled in the
        core, which closes them when the call ends (each told once)."""
        if not self.held:
            return []
        closed, in_call = await self.store_call(
            self.store.honour_cancels, self.name, self.worker, sorted(self.held)
        )
        out: list[e.Event] = []
        if closed:
            log.info("worker %s: %d contact(s) cancelled from elsewhere", self.worker, len(closed))
            for cid in closed:
                self._drop(cid)
            out.append(e.ContactsReleased(tuple(closed)))
        for cid, reason in sorted(in_call.items()):
            if cid not in self._cancels_told:
                self._cancels_told.add(cid)
                out.append(e.ContactCancelled(cid, reason))
        return out

    async def hold_lines(self, want: int) -> e.LinesGranted:
        """Renew the line slots and claim or give back toward ``want``: the grant for the
        core. Give back only what the core already stopped using (the runtime lowers the
        core's grant first, then asks with at least its calls in progress)."""
        now = self.clock.now()
        self.lines = await self.store_call(
            lambda: self.store.hold_lines(
                self.name,
                self.worker,
                lines=self.campaign.lines,
                want=want,
                now=now,
                ttl=self.ttl,
            )
        )
        return e.LinesGranted(self.lines)

    def want_lines(self) -> None:
        """After the core handled an event: when it wants more lines than it holds, have the
        tending task claim them soon (at most every second or ``lease_ttl / 9``, not at every
        event while none is free)."""
        if self.core.lines_wanted <= self.lines:
            return
        now = self.clock.now()
        if now >= self._claim_after:
            self._claim_after = now + min(1.0, self.ttl / 9.0)
            self._poke.set()

    async def tend_forever(self, send: Send, apply: Send) -> None:
        """The tending task: every ``lease_ttl / 3`` renew the leases and read the totals
        (:meth:`tend`), then follow the core's want of lines; between, claim lines as soon as
        :meth:`want_lines` asks. ``send`` puts an event in the runtime's inbox; ``apply``
        has the loop handle one and waits until it has."""
        interval = self.ttl / 3.0
        due = self.clock.now()
        while True:
            poked = self._poke
            await _sleep_or(self.clock, due, poked)
            if not self.tending:  # a test playing a worker that hangs: nothing renewed
                due = self.clock.now() + interval
                continue
            if poked.is_set():
                self._poke = anyio.Event()
            renewed = self.clock.now() >= due
            if renewed:
                for event in await self.tend():
                    await send(event)
                due = self.clock.now() + interval
            await self._follow_lines(send, apply, look=renewed)

    async def _follow_lines(self, send: Send, apply: Send, *, look: bool) -> None:
        """Follow the core's want of lines, up to a fair share when other workers wait for
        lines and none is free. Growing: claim in the database, then grant. Shrinking: the
        core hears the lower grant first (and the loop is waited for), then the slots its
        calls do not use go back as they end; so the workers' calls never pass the
        campaign's lines, even for the moment between the two. The share is read again at
        each renewal (``look``: workers come and go), and whenever the want passes it."""
        want = self.core.lines_wanted
        if want > self.share or (look and want > 1):
            now = self.clock.now()  # read here: the store call runs in a worker thread
            share = await self.store_call(
                lambda: self.store.line_share(
                    self.name, self.worker, lines=self.campaign.lines, now=now
                )
            )
            self.share = share.fair
            if share.short:  # others wait for lines: no more than a share (or what it has)
                want = min(want, max(share.fair, self.lines if share.free else 0))
        keep = want
        if want < self.lines:
            await apply(e.LinesGranted(want))
            keep = max(want, len(self.core.calls))  # calls up keep their lines until they end
        held = await self.hold_lines(keep)
        log.debug(
            "worker %s lines: want %d, hold %d, grant %d", self.worker, want, keep, held.count
        )
        await send(e.LinesGranted(min(held.count, want)))

    # --- stopping ---------------------------------------------------------------------------

    async def release_idle(self) -> e.ContactsReleased | None:
        """Hand back every contact held that is not in a call (the worker stops): saved with
        its progress, so another worker carries on at once."""
        book = self.core.book
        idle = sorted(
            cid
            for cid in self.held
            if cid not in book.slots or book.slots[cid].state is not ContactState.IN_CALL
        )
        if not idle:
            return None
        progress = [book.slots[cid].progress() for cid in idle if cid in book.slots]
        untouched = [cid for cid in idle if cid not in book.slots]  # never reached the core

        def hand_back() -> int:
            n = len(self.store.release_leases(self.name, self.worker, progress))
            return n + int(self.store.drop_leases(self.name, self.worker, untouched))

        released: int = await self.store_call(hand_back)
        for cid in idle:
            self._drop(cid)
        log.info("worker %s handed %d contact(s) back", self.worker, released)
        return e.ContactsReleased(tuple(idle))

    async def exit(self) -> None:
        """The run is over: hand back the contacts not in a call and the line slots. Calls
        still up (the run was cancelled: they outlive it on the switch) keep their lines
        until the slots run out, as their contacts keep their leases until taken over."""
        await self.release_idle()
        calls = len(self.core.calls)
        if calls:
            await self.hold_lines(calls)
            return
        await self.store_call(self.store.release_lines, self.name, self.worker)
        self.lines = 0


async def _sleep_or(clock: Clock, deadline: float, event: anyio.Event) -> None:
    """Sleep until ``deadline`` on ``clock`` or until ``event`` is set, whichever first."""
    if event.is_set():
        return
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            await event.wait()
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        await clock.sleep_until(deadline)
        tg.cancel_scope.cancel()
