"""The durable store contract.

The runtime journals every attempt *before* the originate is sent and its result as soon as
it is known, so a process killed at any moment loses no result and never calls a contact twice
for the same attempt: on restart, :meth:`Store.unfinished_attempts` lists the calls that were in
flight; the core records them as ``unknown`` and lets the retry policy decide.

Methods are synchronous and each one is durable when it returns (SQLite commits); the async
runtime calls them from a worker thread when they might block.

A campaign may hold millions of contacts, so a start never reads them all: the runtime pages the
*open* ones in (:meth:`Store.queued_contacts`, :meth:`Store.timed_contacts`,
:meth:`Store.in_call_contacts`, each in a fixed order with a cursor) and counts the rest with
aggregates (:meth:`Store.state_counts`, :meth:`Store.attempt_counts`,
:meth:`Store.skip_reasons`, :meth:`Store.latest_attempt_time`) and looks attempts up by id
(:meth:`Store.attempts_by_id`). A store answers a page in time that grows with the page, not
with the campaign (indexes), and an aggregate without materialising a row per contact or
attempt.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import NamedTuple

from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress

__all__ = ["OPEN_STATES", "AttemptKey", "AttemptTimes", "SkipReason", "Store", "StoredContact"]

OPEN_STATES = frozenset({ContactState.PENDING, ContactState.SCHEDULED, ContactState.IN_CALL})
"""States of a contact the campaign is not finished with (every other state is final)."""


class StoredContact(NamedTuple):
    """A contact as a page of the store returns it.

    Attributes:
        seq: its place in the order contacts were added: a positive integer, increasing
            in that order within the campaign (gaps allowed); a contact added again keeps
            its first place. The queue's cursor.
        contact: the contact as it was added.
        progress: its progress as last saved.
    """

    seq: int
    contact: Contact
    progress: ContactProgress


class AttemptKey(NamedTuple):
    """What :meth:`Store.attempt_counts` counts attempts by."""

    outcome: Outcome | None
    """The attempt's outcome (None: begun and never finished)."""
    machine: bool
    """Answered by a machine (the record's ``machine`` flag)."""


class AttemptTimes(NamedTuple):
    """An attempt's times and result, without the rest of its record
    (:meth:`Store.window_attempts`: cheap enough to read a day of a big campaign)."""

    contact_id: str
    outcome: Outcome | None
    machine: bool
    started_at: float
    answered_at: float | None
    ended_at: float | None
    caller_id: str | None


class SkipReason(NamedTuple):
    """Skipped contacts sharing one reason (:meth:`Store.skip_reasons`)."""

    reason: str
    """The reason as saved (may be empty)."""
    total: int
    """How many skipped contacts have it."""
    examples: tuple[str, ...]
    """The ids of the first of them, in the order added."""


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
    def save_numbers(self, campaign: str, contact_id: str, phones: Sequence[str]) -> None:
        """Keep only ``phones`` for the contact (durable on return): the numbers the core
        left it when it dropped those an earlier contact has (a resumed campaign must not
        give them back). The contact keeps its place and its progress."""

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

    # --- paging and aggregates: a start reads one page, never the whole campaign ------------

    @abc.abstractmethod
    def queued_contacts(self, campaign: str, *, after: int = 0, limit: int) -> list[StoredContact]:
        """Open contacts waiting in line, one page: state ``pending`` with ``next_at`` None,
        ``seq > after``, in ``seq`` order, at most ``limit`` (``limit`` >= 1).

        The cursor is the last page's last ``seq``; a contact whose progress changes between
        pages is returned by the later page only if it still qualifies then. A page shorter
        than ``limit`` means no more such contacts existed when it was read.
        """

    @abc.abstractmethod
    def timed_contacts(
        self, campaign: str, *, after: tuple[float, int] | None = None, limit: int
    ) -> list[StoredContact]:
        """Open contacts waiting for a time, one page: state ``scheduled``, or ``pending``
        with ``next_at`` set. Ordered by ``(next_at or 0.0, seq)``; only those strictly after
        the cursor ``after`` (the last page's last ``(next_at or 0.0, seq)``; None: from the
        start); at most ``limit`` (``limit`` >= 1).
        """

    @abc.abstractmethod
    def in_call_contacts(self, campaign: str) -> list[StoredContact]:
        """Contacts a call may have been in progress for when the process stopped: state
        ``in_call``, or with an attempt begun and never finished (any state). In ``seq``
        order, each once. As many as the lines were: a start loads them all."""

    @abc.abstractmethod
    def contacts_by_id(self, campaign: str, ids: Collection[str]) -> list[StoredContact]:
        """The contacts with these ids that the campaign has, in ``seq`` order (unknown ids
        are left out; an id given twice is returned once)."""

    @abc.abstractmethod
    def attempts_for(self, campaign: str, contact_ids: Collection[str]) -> list[AttemptRecord]:
        """Every attempt of these contacts, in the order begun (a page's history)."""

    def attempts_by_id(self, campaign: str, attempt_ids: Collection[str]) -> list[AttemptRecord]:
        """The attempts of the campaign with these ``attempt_id`` values, in the order begun
        (unknown ids are left out; an id given twice is returned once). Finished or not.

        Used at start to tell which calls left up on the switch are this store's
        (:func:`~autoinformer.backends.orphans.clear_orphans`): the answer must take time
        that grows with ``len(attempt_ids)``, not with the campaign (an index on
        ``attempt_id``). This default reads every attempt (correct, slow): a store should
        override it.
        """
        wanted = set(attempt_ids)
        if not wanted:
            return []
        return [r for r in self.attempts(campaign) if r.attempt_id in wanted]

    def latest_attempt_time(self, campaign: str) -> float | None:
        """The latest time any attempt of the campaign mentions: the maximum, over all its
        attempts (finished or not), of the attempt's latest known time (``ended_at``, else
        ``answered_at``, else ``started_at``, as :meth:`window_attempts` defines it); None when
        the campaign has no attempt. A resumed clock (virtual or scaled) starts there.

        An aggregate: one index lookup (SQLite: ``MAX`` over the ``attempts_latest`` index on
        ``(campaign, COALESCE(ended_at, answered_at, started_at))``), never a read of every
        attempt. This default reads every attempt (correct, slow): a store should override it.
        """
        latest: float | None = None
        for r in self.attempts(campaign):
            t = r.ended_at if r.ended_at is not None else r.answered_at
            t = t if t is not None else r.started_at
            latest = t if latest is None else max(latest, t)
        return latest

    @abc.abstractmethod
    def state_counts(self, campaign: str) -> dict[ContactState, int]:
        """How many contacts are in each state (states with none are left out)."""

    @abc.abstractmethod
    def attempt_counts(self, campaign: str, *, closed_only: bool = False) -> dict[AttemptKey, int]:
        """How many attempts there are per (outcome, machine) (keys with none are left out).

        Args:
            closed_only: count only the attempts of contacts in a final state (not
                ``pending``, ``scheduled`` or ``in_call``): the history a resumed run does
                not page in with the contacts themselves. A store may tell an open contact
                with attempts by its saved progress (``attempts > 0``) or by an unfinished
                attempt: the runtime saves a contact's progress, attempt count included,
                right after journaling each attempt it begins.
        """

    @abc.abstractmethod
    def window_attempts(
        self, campaign: str, since: float, *, closed_only: bool = False
    ) -> Iterator[AttemptTimes]:
        """The attempts the core's rolling histories need (the abandon guard's window, the
        caller-ID caps): those answered by a person (``answered_at`` set, not ``machine``),
        abandoned, or placed with a ``caller_id``; whose latest known time (``ended_at``,
        else ``answered_at``, else ``started_at``) is at or after ``since``; in the order of
        that time, then the order begun (``closed_only`` as in :meth:`attempt_counts`).
        Streamed: a long answer is not held in memory at once."""

    @abc.abstractmethod
    def skip_reasons(self, campaign: str, *, examples: int) -> list[SkipReason]:
        """The ``skipped`` contacts per reason: count and the first ``examples`` ids (in
        ``seq`` order); most frequent first, then by reason."""

    @abc.abstractmethod
    def known_ids(self, campaign: str, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` the campaign already has (a live add of a known id is ignored)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
