"""An in-memory store: for tests, simulations and apps that keep results themselves.

It honours the same invariants as the SQLite store (one attempt per contact and attempt number,
results only for begun attempts), so tests written against it hold for the durable one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store.base import Store

__all__ = ["MemoryStore"]


@attrs.define(kw_only=True)
class _Campaign:
    contacts: dict[str, Contact] = attrs.field(factory=dict)
    progress: dict[str, ContactProgress] = attrs.field(factory=dict)
    attempts: dict[str, AttemptRecord] = attrs.field(factory=dict)
    attempt_keys: set[tuple[str, int]] = attrs.field(factory=set)
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

    def close(self) -> None:
        """Nothing to release."""
