"""An in-memory store: for tests, simulations and apps that keep results themselves.

It honours the same invariants as the SQLite store (one attempt per contact and attempt number,
results only for begun attempts), so tests written against it hold for the durable one.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Collection, Iterable, Iterator, Sequence

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store.base import (
    OPEN_STATES,
    AttemptKey,
    AttemptTimes,
    SkipReason,
    Store,
    StoredContact,
)

__all__ = ["MemoryStore"]


def _latest(a: AttemptRecord) -> float:
    if a.ended_at is not None:
        return a.ended_at
    return a.answered_at if a.answered_at is not None else a.started_at


@attrs.define(kw_only=True)
class _Campaign:
    contacts: dict[str, Contact] = attrs.field(factory=dict)
    progress: dict[str, ContactProgress] = attrs.field(factory=dict)
    attempts: dict[str, AttemptRecord] = attrs.field(factory=dict)
    attempt_keys: set[tuple[str, int]] = attrs.field(factory=set)
    seq: dict[str, int] = attrs.field(factory=dict)
    meta: dict[str, str] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class MemoryStore(Store):
    """Everything in dictionaries; lost when the process ends."""

    _campaigns: dict[str, _Campaign] = attrs.field(factory=dict, init=False)

    def _campaign(self, name: str) -> _Campaign:
        return self._campaigns.setdefault(name, _Campaign())

    def add_contacts(self, campaign: str, contacts: Iterable[Contact]) -> int:
        c = self._campaign(campaign)
        added = 0
        for contact in contacts:
            if contact.id in c.contacts:
                continue
            c.contacts[contact.id] = contact
            c.seq[contact.id] = len(c.seq) + 1
            c.progress[contact.id] = ContactProgress(contact_id=contact.id)
            added += 1
        return added

    def contacts(self, campaign: str) -> Iterator[tuple[Contact, ContactProgress]]:
        c = self._campaign(campaign)
        for contact_id, contact in list(c.contacts.items()):
            yield contact, c.progress[contact_id]

    def save_progress(self, campaign: str, progress: ContactProgress) -> None:
        c = self._campaign(campaign)
        if progress.contact_id not in c.contacts:
            raise StoreError(f"campaign {campaign!r} has no contact {progress.contact_id!r}")
        c.progress[progress.contact_id] = progress

    def save_numbers(self, campaign: str, contact_id: str, phones: Sequence[str]) -> None:
        c = self._campaign(campaign)
        contact = c.contacts.get(contact_id)
        if contact is None:
            raise StoreError(f"campaign {campaign!r} has no contact {contact_id!r}")
        c.contacts[contact_id] = attrs.evolve(contact, phones=tuple(phones))

    def begin_attempt(self, record: AttemptRecord) -> None:
        c = self._campaign(record.campaign)
        key = (record.contact_id, record.attempt_no)
        if record.attempt_id in c.attempts or key in c.attempt_keys:
            raise StoreError(
                f"attempt {record.attempt_no} of contact {record.contact_id!r} was already begun"
            )
        c.attempt_keys.add(key)
        c.attempts[record.attempt_id] = record

    def finish_attempt(self, record: AttemptRecord) -> None:
        c = self._campaign(record.campaign)
        if record.attempt_id not in c.attempts:
            raise StoreError(f"attempt {record.attempt_id!r} was never begun")
        if record.outcome is None:
            raise StoreError(f"attempt {record.attempt_id!r} is finished without an outcome")
        c.attempts[record.attempt_id] = record

    def unfinished_attempts(self, campaign: str) -> list[AttemptRecord]:
        return [a for a in self._campaign(campaign).attempts.values() if a.outcome is None]

    def attempts(self, campaign: str, contact_id: str | None = None) -> Iterator[AttemptRecord]:
        for record in list(self._campaign(campaign).attempts.values()):
            if contact_id is None or record.contact_id == contact_id:
                yield record

    def set_meta(self, campaign: str, key: str, value: str) -> None:
        self._campaign(campaign).meta[key] = value

    def get_meta(self, campaign: str, key: str) -> str | None:
        return self._campaign(campaign).meta.get(key)

    # Paging and aggregates: linear scans (this store is for tests and simulations; the
    # answers are what the contract says, which is what the tests hold every store to).

    def _stored(self, c: _Campaign, contact_id: str) -> StoredContact:
        return StoredContact(c.seq[contact_id], c.contacts[contact_id], c.progress[contact_id])

    def queued_contacts(self, campaign: str, *, after: int = 0, limit: int) -> list[StoredContact]:
        c = self._campaign(campaign)
        out: list[StoredContact] = []
        # seq is the position in the order added, from 1: start right after the cursor
        for contact_id in itertools.islice(c.seq, max(0, after), None):
            progress = c.progress[contact_id]
            if progress.state is ContactState.PENDING and progress.next_at is None:
                out.append(self._stored(c, contact_id))
                if len(out) >= limit:
                    break
        return out

    def timed_contacts(
        self, campaign: str, *, after: tuple[float, int] | None = None, limit: int
    ) -> list[StoredContact]:
        c = self._campaign(campaign)
        rows = []
        for contact_id, seq in c.seq.items():
            p = c.progress[contact_id]
            timed = p.state is ContactState.SCHEDULED or (
                p.state is ContactState.PENDING and p.next_at is not None
            )
            key = (p.next_at or 0.0, seq)
            if timed and (after is None or key > after):
                rows.append((key, contact_id))
        rows.sort()
        return [self._stored(c, contact_id) for _, contact_id in rows[:limit]]

    def in_call_contacts(self, campaign: str) -> list[StoredContact]:
        c = self._campaign(campaign)
        unfinished = {a.contact_id for a in c.attempts.values() if a.outcome is None}
        return [
            self._stored(c, contact_id)
            for contact_id in c.seq
            if contact_id in unfinished or c.progress[contact_id].state is ContactState.IN_CALL
        ]

    def contacts_by_id(self, campaign: str, ids: Collection[str]) -> list[StoredContact]:
        c = self._campaign(campaign)
        found = sorted({(c.seq[i], i) for i in ids if i in c.seq})
        return [self._stored(c, contact_id) for _, contact_id in found]

    def attempts_for(self, campaign: str, contact_ids: Collection[str]) -> list[AttemptRecord]:
        wanted = set(contact_ids)
        return [a for a in self._campaign(campaign).attempts.values() if a.contact_id in wanted]

    def attempts_by_id(self, campaign: str, attempt_ids: Collection[str]) -> list[AttemptRecord]:
        attempts = self._campaign(campaign).attempts
        found = {i for i in attempt_ids if i in attempts}
        if not found:
            return []
        return [a for a in attempts.values() if a.attempt_id in found]  # the order begun

    def latest_attempt_time(self, campaign: str) -> float | None:
        attempts = self._campaign(campaign).attempts.values()
        return max(map(_latest, attempts), default=None)

    def state_counts(self, campaign: str) -> dict[ContactState, int]:
        states = (p.state for p in self._campaign(campaign).progress.values())
        return dict(collections.Counter(states))

    def _closed(self, c: _Campaign, contact_id: str) -> bool:
        progress = c.progress.get(contact_id)
        return progress is not None and progress.state not in OPEN_STATES

    def attempt_counts(self, campaign: str, *, closed_only: bool = False) -> dict[AttemptKey, int]:
        c = self._campaign(campaign)
        return dict(
            collections.Counter(
                AttemptKey(a.outcome, a.machine)
                for a in c.attempts.values()
                if not closed_only or self._closed(c, a.contact_id)
            )
        )

    def window_attempts(
        self, campaign: str, since: float, *, closed_only: bool = False
    ) -> Iterator[AttemptTimes]:
        c = self._campaign(campaign)
        records = list(enumerate(c.attempts.values()))
        records.sort(key=lambda ia: (_latest(ia[1]), ia[0]))
        for _, a in records:
            latest = a.ended_at if a.ended_at is not None else a.answered_at
            needed = (
                (a.answered_at is not None and not a.machine)
                or a.outcome is Outcome.ABANDONED
                or a.caller_id is not None
            )
            if (
                needed
                and (latest if latest is not None else a.started_at) >= since
                and (not closed_only or self._closed(c, a.contact_id))
            ):
                yield AttemptTimes(
                    a.contact_id,
                    a.outcome,
                    a.machine,
                    a.started_at,
                    a.answered_at,
                    a.ended_at,
                    a.caller_id,
                )

    def skip_reasons(self, campaign: str, *, examples: int) -> list[SkipReason]:
        c = self._campaign(campaign)
        counts: collections.Counter[str] = collections.Counter()
        kept: dict[str, list[str]] = {}
        for contact_id in c.seq:
            progress = c.progress[contact_id]
            if progress.state is ContactState.SKIPPED:
                counts[progress.reason] += 1
                first = kept.setdefault(progress.reason, [])
                if len(first) < examples:
                    first.append(contact_id)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [SkipReason(reason, n, tuple(kept[reason])) for reason, n in ranked]

    def known_ids(self, campaign: str, ids: Collection[str]) -> set[str]:
        c = self._campaign(campaign)
        return {i for i in ids if i in c.contacts}

    def close(self) -> None:
        """Nothing to release."""
