"""Contacts by lease: what :class:`~autoinformer.feed.ContactFeed` is to one process,
:class:`LeaseFeed` is to one worker among several.

One process pages the campaign's open contacts in by cursor; a worker may not, since any
contact it reads may be another worker's. It takes them by lease instead
(:meth:`~autoinformer.store.postgres.PostgresStore.take_leases`: due contacts, in the order
added, ``FOR UPDATE SKIP LOCKED``) when its core runs low, exactly when ``ContactFeed`` would
read a page, and a small batch at a time (about two per line) so the work stays spread over
the workers and a worker that dies strands little.

When a take comes back short, nothing more is due for this worker now: the feed asks the
store when something may be (a retry's due time, another worker's lease running out) and
looks again then, or after ``poll`` seconds at the latest, so a worker notices new contacts
and dead workers' contacts without hammering the database. While the campaign has open
contacts this worker does not hold (``more``) the core is not finished: a worker stays up
while another still calls, ready to take its contacts over if it dies.

The decisions (:meth:`LeaseFeed.wants`, :meth:`LeaseFeed.wake`) are pure; the store calls
are blocking and run in a worker thread, as every store call of the runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from autoinformer.core import events as e
from autoinformer.core.book import ContactBook
from autoinformer.records import AttemptRecord

if TYPE_CHECKING:
    from autoinformer.store.postgres_leases import Lease

__all__ = ["LeaseFeed"]


@attrs.define(kw_only=True)
class LeaseFeed:
    """Takes one worker's contacts by lease.

    Args:
        store: a store that can lease (:class:`~autoinformer.store.postgres.PostgresStore`).
        campaign: the campaign's name.
        worker: this worker's name.
        ttl: the lease's length (seconds).
        batch: contacts per take (>= 1).
        max_loaded: take no more while the core holds this many open contacts.
        poll: the longest wait between two looks when nothing was due.
    """

    store: Any
    campaign: str
    worker: str
    ttl: float
    batch: int = attrs.field(default=60, validator=attrs.validators.ge(1))
    max_loaded: int = 50_000
    poll: float = 10.0
    more: bool = True
    """The campaign has open contacts this worker does not hold (as of the last look)."""
    taken: int = attrs.field(default=0, init=False)
    """Leases taken so far."""
    _dry_until: float | None = attrs.field(default=None, init=False)
    _first: bool = attrs.field(default=True, init=False)

    # --- decisions (pure) -----------------------------------------------------------------

    def wants(self, book: ContactBook, now: float) -> bool:
        """True when the core should get more contacts now."""
        if self._dry_until is not None and now < self._dry_until:
            return False
        low = max(1, self.batch // 2)
        return book.queued() + book.ready() < low and (
            book.loaded_open - book.scheduled < self.max_loaded
        )

    def wake(self, now: float) -> float | None:
        """When to look again (None: when the core wants more)."""
        if self._dry_until is None or self._dry_until <= now:
            return None
        return self._dry_until

    def poke(self) -> None:
        """Look again at the next chance (contacts were added)."""
        self._dry_until = None
        self.more = True

    # --- store calls (blocking) -----------------------------------------------------------

    def take(self, now: float) -> list[Lease]:
        """Lease the next batch of due contacts. The first take also reclaims this worker's
        own leases (a restart under the same name)."""
        leases: list[Lease] = self.store.take_leases(
            self.campaign, self.worker, now=now, ttl=self.ttl, limit=self.batch, reclaim=self._first
        )
        self._first = False
        self.taken += len(leases)
        if len(leases) >= self.batch:
            self._dry_until, self.more = None, True
            return leases
        others, at = self.store.lease_outlook(self.campaign, self.worker)
        self.more = others > 0
        soon = now + min(1.0, self.poll)
        self._dry_until = now + self.poll if at is None else min(max(at, soon), now + self.poll)
        return leases

    def event(self, leases: list[Lease], book: ContactBook) -> e.ContactsRestored:
        """The core's event for these leased contacts, with every attempt journaled for them
        (read after their unfinished attempts were reconciled): the core decides on them as
        on contacts restored at a start, their frequency limits counted from their history."""
        ids = [lease.contact_id for lease in leases if lease.contact_id not in book]
        rows = self.store.contacts_by_id(self.campaign, ids) if ids else []
        history: dict[str, list[AttemptRecord]] = {i: [] for i in ids}
        if ids:
            for record in self.store.attempts_for(self.campaign, ids):
                history[record.contact_id].append(record)
        return e.ContactsRestored(
            e.RestoredContact(row.contact, row.progress, tuple(history[row.contact.id]), row.seq)
            for row in rows
        )
