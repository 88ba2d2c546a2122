"""Paging a campaign's open contacts from its store into the dialer core.

A start must not read the whole store: at a million contacts that was ~110 s and ~3.7 GB before
the first call, and a finished campaign paid it only to say "done". The feed reads three kinds
of open contacts, each in its own order with a cursor, and hands them to the core as the
ordinary :class:`~autoinformer.core.events.ContactsRestored` event (with their attempts), so the
core decides on a paged contact exactly as on one loaded at start:

- *in call*: contacts whose attempt was in flight when the process stopped. All of them, at
  start (as many as there were lines): crash safety is decided before anything is dialled.
- *queued*: pending contacts never put to wait, in the order added. The next page is read when
  the core's line of them runs low, unless :attr:`ContactFeed.max_loaded` open contacts
  other than scheduled retries are already held (outside the calling hours the core puts every
  queued contact to wait; the cap keeps that from reading the whole list in the night, while
  retries waiting for their time never hold the queue back).
- *timed*: scheduled retries and contacts waiting for a time, by due time. A page is read when
  the first unread one is due within :attr:`ContactFeed.lookahead` seconds and the core holds
  nothing due before it (:meth:`ContactFeed.wake` tells the runtime when to look again).

While either stream has more, the core's book says so (``book.more``): the campaign is not
finished with contacts still unread. Counts over the whole campaign (the run's summary) come
from the store's aggregates, never from the contacts in memory.

History the core keeps across all contacts (the abandon guard's counts and rolling window, the
caller-ID carousel's uses) is seeded at start from the attempts of the contacts that will never
be paged in (those in a final state); each paged contact brings its own attempts.

The decisions (:meth:`ContactFeed.wants`) are pure; the reads (:meth:`ContactFeed.start`,
:meth:`ContactFeed.read`, :func:`closed_history`) are blocking store calls the runtime runs in
a worker thread.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import attrs

from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.core.book import ContactBook
from autoinformer.core.dialer import DialerCore
from autoinformer.core.intake import GuardHistory, abandoned_time, live_answer_time
from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.store.base import Store, StoredContact

__all__ = ["ClosedHistory", "ContactFeed", "closed_history"]

Kind = Literal["queued", "timed"]

FIRST_PAGE = 500
"""At most this many queued and this many timed contacts in a start's first page: each is
checked (its template values) before the first call; the next pages follow at once."""

CAROUSEL_DAYS = 2.0
"""Days of caller-ID uses replayed at start: a daily cap looks at one local day at most."""


@attrs.define(kw_only=True)
class ContactFeed:
    """Pages one campaign's open contacts from ``store``.

    Args:
        store: the campaign's store.
        campaign: the campaign's name.
        page_size: contacts per read (>= 1).
        max_loaded: read no more queued contacts while the core holds this many open ones
            besides its scheduled retries.
        lookahead: read timed contacts this many seconds before they are due.
    """

    store: Store
    campaign: str
    page_size: int = 2000
    max_loaded: int = 50_000
    lookahead: float = 30.0
    read_rows: int = attrs.field(default=0, init=False)
    """Contacts read from the store so far (every page counted)."""
    _queue_after: int = attrs.field(default=0, init=False)
    _queue_done: bool = attrs.field(default=False, init=False)
    _timed_after: tuple[float, int] | None = attrs.field(default=None, init=False)
    _timed_next: float | None = attrs.field(default=None, init=False)
    _timed_done: bool = attrs.field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {self.page_size}")

    @property
    def more(self) -> bool:
        """True while the store may hold open contacts not read yet."""
        return not (self._queue_done and self._timed_done)

    @property
    def queue_done(self) -> bool:
        """True when every queued contact was read (a contact added now is fed directly)."""
        return self._queue_done

    # --- decisions (pure) -----------------------------------------------------------------

    def wants(self, book: ContactBook, now: float) -> Kind | None:
        """Which stream to read a page of now (None: the core has enough)."""
        nxt = self._timed_next
        if not self._timed_done and nxt is not None and nxt <= now + self.lookahead:
            held = book.next_time()
            if book.ready() < self.page_size and (held is None or held >= nxt):
                return "timed"
        if (
            not self._queue_done
            and book.queued() < max(1, self.page_size // 2)
            and book.loaded_open - book.scheduled < self.max_loaded
        ):
            return "queued"
        return None

    def wake(self, now: float) -> float | None:
        """When to look again for timed contacts coming due (None: no need to)."""
        if self._timed_done or self._timed_next is None:
            return None
        at = self._timed_next - self.lookahead
        return at if at > now else None

    # --- reads (blocking: run them in a worker thread) -------------------------------------

    def start(self) -> list[StoredContact]:
        """The first contacts of a start: every one in call, the first timed page (retries
        already due are called before the queue, as always) and the first queued page."""
        limit = min(self.page_size, FIRST_PAGE)
        first = self.store.in_call_contacts(self.campaign)
        first += self._timed(limit)
        first += self._queued(limit)
        self.read_rows += len(first)
        return first

    def read(self, kind: Kind) -> list[StoredContact]:
        """The next page of ``kind``."""
        page = self._queued() if kind == "queued" else self._timed()
        self.read_rows += len(page)
        return page

    def event(self, rows: list[StoredContact], book: ContactBook) -> e.ContactsRestored:
        """The core's event for ``rows`` (with their attempts), leaving out the contacts the
        book already has and repeats (the core ignores those, but their history would count
        twice)."""
        seen: set[str] = set()  # a contact may come twice (in call, and waiting for a time)
        fresh = []
        for row in rows:
            cid = row.contact.id
            if cid not in book and cid not in seen:
                seen.add(cid)
                fresh.append(row)
        ids = [row.contact.id for row in fresh]
        history: dict[str, list[AttemptRecord]] = {i: [] for i in ids}
        for record in self.store.attempts_for(self.campaign, ids):
            history[record.contact_id].append(record)
        return e.ContactsRestored(
            e.RestoredContact(row.contact, row.progress, tuple(history[row.contact.id]), row.seq)
            for row in fresh
        )

    def _queued(self, limit: int | None = None) -> list[StoredContact]:
        limit = limit or self.page_size
        page = self.store.queued_contacts(self.campaign, after=self._queue_after, limit=limit)
        if page:
            self._queue_after = page[-1].seq
        self._queue_done = len(page) < limit
        return page

    def _timed(self, limit: int | None = None) -> list[StoredContact]:
        limit = limit or self.page_size
        rows = self.store.timed_contacts(self.campaign, after=self._timed_after, limit=limit + 1)
        page = rows[:limit]
        if page:
            last = page[-1]
            self._timed_after = (last.progress.next_at or 0.0, last.seq)
        if len(rows) > limit:
            self._timed_next = rows[-1].progress.next_at or 0.0
        else:
            self._timed_next, self._timed_done = None, True
        return page


@attrs.frozen
class ClosedHistory:
    """What the core remembers of the attempts of contacts that are finished (never paged in):
    the abandon guard's counts and window, the caller-ID uses of the last days."""

    guard: GuardHistory = attrs.field(factory=GuardHistory)
    caller_ids: tuple[tuple[str, float], ...] = ()

    def apply(self, core: DialerCore, now: float) -> None:
        """Give the core this history (once, before the first page)."""
        guard = core.pacing
        if isinstance(guard, AbandonGuard):
            self.guard.apply(guard, now)
        carousel = core.carousel
        if carousel is not None:
            for number, at in self.caller_ids:
                carousel.record(number, dt.datetime.fromtimestamp(at, tz=dt.UTC))


def closed_history(store: Store, campaign: str, core: DialerCore, now: float) -> ClosedHistory:
    """Read what :class:`ClosedHistory` holds from ``store`` with aggregates and a bounded
    look back, only for what the core has (a guard, a carousel). Blocking."""
    guard = core.pacing if isinstance(core.pacing, AbandonGuard) else None
    carousel = core.carousel
    counts = {}
    answered_at: list[float] = []
    abandoned_at: list[float] = []
    uses: list[tuple[str, float]] = []
    if guard is not None:
        counts = store.attempt_counts(campaign, closed_only=True)
    since: list[float] = []
    if guard is not None and guard.window_seconds is not None:
        since.append(now - guard.window_seconds)
    if carousel is not None:
        cooldown = carousel.pool.cooldown.total_seconds() if carousel.pool.cooldown else 0.0
        since.append(now - max(CAROUSEL_DAYS * 86400.0, cooldown))
    if since:
        for r in store.window_attempts(campaign, min(since), closed_only=True):
            if carousel is not None and r.caller_id is not None:
                uses.append((r.caller_id, r.started_at))
            if guard is None or r.outcome is None:
                continue
            if (t := live_answer_time(r)) is not None:
                answered_at.append(t)
            if r.outcome is Outcome.ABANDONED:
                abandoned_at.append(abandoned_time(r))
    return ClosedHistory(
        guard=GuardHistory.tally(
            ((k.outcome, k.machine, n) for k, n in counts.items() if k.outcome is not None),
            answered_at=tuple(answered_at),
            abandoned_at=tuple(abandoned_at),
        ),
        caller_ids=tuple(uses),
    )
