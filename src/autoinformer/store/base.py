"""The durable store contract.

The runtime journals every attempt *before* the originate is sent and its result as soon as
it is known, so a process killed at any moment loses no result and never calls a contact twice
for the same attempt: on restart, :meth:`Store.unfinished_attempts` lists the calls that were in
flight; the core records them as ``unknown`` and lets the retry policy decide.

Methods are synchronous and each one is durable when it returns (SQLite commits); the async
runtime calls them from a worker thread when they might block.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator

from autoinformer.contacts.model import Contact
from autoinformer.records import AttemptRecord, ContactProgress

__all__ = ["Store"]


class Store(abc.ABC):
    """Contacts, their progress and every attempt of a campaign, kept durably."""

    @abc.abstractmethod
    def add_contacts(self, campaign: str, contacts: Iterable[Contact]) -> int:
        """Add contacts (PENDING); ids already present are left as they are. Returns # added."""

    @abc.abstractmethod
    def contacts(self, campaign: str) -> Iterator[tuple[Contact, ContactProgress]]:
        """Every contact of the campaign with its progress, in the order added."""

    @abc.abstractmethod
    def save_progress(self, campaign: str, progress: ContactProgress) -> None:
        """Record a contact's new state (durable on return)."""

    @abc.abstractmethod
    def begin_attempt(self, record: AttemptRecord) -> None:
        """Journal an attempt before its originate is sent (durable on return)."""

    @abc.abstractmethod
    def finish_attempt(self, record: AttemptRecord) -> None:
        """Journal an attempt's result (same ``attempt_id``; durable on return)."""

    @abc.abstractmethod
    def unfinished_attempts(self, campaign: str) -> list[AttemptRecord]:
        """Attempts begun but never finished: in flight when the process stopped."""

    @abc.abstractmethod
    def attempts(self, campaign: str, contact_id: str | None = None) -> Iterator[AttemptRecord]:
        """Every attempt (for one contact if given), in the order begun."""

    @abc.abstractmethod
    def set_meta(self, campaign: str, key: str, value: str) -> None:
        """Keep a small value for the campaign (settings fingerprint, seed...); durable."""

    @abc.abstractmethod
    def get_meta(self, campaign: str, key: str) -> str | None:
        """A value kept with :meth:`set_meta`, or None."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
