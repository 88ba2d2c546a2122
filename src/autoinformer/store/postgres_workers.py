"""The PostgreSQL store's methods for several workers on one campaign (issue #17).

Mixed into :class:`~autoinformer.store.postgres.PostgresStore`: leases
(:mod:`autoinformer.store.postgres_leases`) and the campaign-wide limits
(:mod:`autoinformer.store.postgres_shared`), each one transaction. Kept apart so the store's
own module stays the store contract; a worker's runtime is their only user
(:mod:`autoinformer.workers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager

import psycopg

from autoinformer.errors import StoreError
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store import postgres_leases as leases
from autoinformer.store import postgres_rows as _rows
from autoinformer.store import postgres_shared as shared
from autoinformer.store.postgres_leases import Lease
from autoinformer.store.postgres_rows import Cursor
from autoinformer.store.postgres_shared import AbandonTotals, CallerIdRule

__all__ = ["WorkerMethods"]


class WorkerMethods:
    """Leases, line slots, caller-ID caps and abandon totals (see the module docstring)."""

    def _tx(self) -> AbstractContextManager[Cursor]:  # pragma: no cover - the store's own
        raise NotImplementedError

    def take_leases(
        self,
        campaign: str,
        worker: str,
        *,
        now: float,
        ttl: float,
        limit: int,
        reclaim: bool = False,
    ) -> list[Lease]:
        """Lease up to ``limit`` due contacts to ``worker`` until ``now + ttl`` (in the order
        added); contacts whose lease expired are taken over with their unfinished attempts.
        With ``reclaim``, ``worker``'s own leases are taken back too, expired or not (a
        worker restarted under its name: its earlier life's calls are reconciled at once)."""
        with self._tx() as cur:
            return leases.take(
                cur,
                campaign,
                worker,
                now=now,
                ttl=ttl,
                limit=limit,
                attempt_from=_rows.attempt_from,
                reclaim=reclaim,
            )

    def renew_leases(
        self, campaign: str, worker: str, contact_ids: Iterable[str], *, now: float, ttl: float
    ) -> list[str]:
        """Extend ``worker``'s leases on ``contact_ids``; returns those it still holds."""
        with self._tx() as cur:
            return leases.renew(cur, campaign, worker, list(contact_ids), now=now, ttl=ttl)

    def begin_leased_attempt(
        self,
        record: AttemptRecord,
        worker: str,
        *,
        now: float,
        run: str | None = None,
        caller_id: CallerIdRule | None = None,
        progress: ContactProgress | None = None,
    ) -> None:
        """:meth:`begin_attempt`, only while ``worker`` holds the contact's lease.

        Args:
            record: the attempt (no outcome yet).
            worker: the worker placing it.
            now: the worker's time.
            run: who journals it (``journaled_by``: the worker's run, so the abandon totals
                can leave this run's own attempts out); None: nobody in particular.
            caller_id: the caller-ID limits to hold across workers in the same transaction.
            progress: the contact's progress to _rows.save with it (``in_call``), lease kept.

        Raises:
            LeaseLost: the lease expired or another worker took it; nothing was journaled.
            CallerIdCapped: the caller ID is capped or cooling down; nothing was journaled.
        """
        try:
            with self._tx() as cur:
                if caller_id is not None:
                    shared.check_caller_id(cur, record, caller_id)
                leases.begin(cur, record, worker, now=now, insert=_rows.insert)
                if run is not None:
                    cur.execute(
                        "UPDATE autoinformer_attempts SET journaled_by = %s WHERE attempt_id = %s",
                        (run, record.attempt_id),
                    )
                if progress is not None:
                    _rows.save(cur, record.campaign, progress)
        except psycopg.errors.UniqueViolation as exc:
            raise _rows.already_begun(record) from exc

    def finish_attempt_once(self, record: AttemptRecord) -> bool:
        """Journal ``record``'s result unless the attempt already has one (another worker
        reconciled it first): True when this call wrote it. Two workers never both _rows.finish one
        attempt: the first result stands.

        Raises:
            StoreError: the attempt was never begun, or ``record`` has no outcome.
        """
        if record.outcome is None:
            raise StoreError(f"attempt {record.attempt_id!r} is finished without an outcome")
        with self._tx() as cur:
            return _rows.finish_once(cur, record)

    def save_leased_progress(self, campaign: str, worker: str, progress: ContactProgress) -> bool:
        """:meth:`save_progress` only while ``worker`` holds the contact's lease (kept):
        False when another worker took it over (nothing is written: the progress is its)."""
        with self._tx() as cur:
            row = cur.execute(
                "UPDATE autoinformer_contacts SET state = %s, attempts = %s, next_at = %s, "
                "reason = %s WHERE campaign = %s AND contact_id = %s AND lease_owner = %s "
                "RETURNING contact_id",
                (
                    progress.state.value,
                    progress.attempts,
                    progress.next_at,
                    progress.reason,
                    campaign,
                    progress.contact_id,
                    worker,
                ),
            ).fetchone()
        return row is not None

    def release_leases(
        self, campaign: str, worker: str, progress: Iterable[ContactProgress]
    ) -> list[str]:
        """End ``worker``'s leases on these contacts, saving each one's progress, in one
        transaction (a worker that stops hands its waiting contacts back at once); returns
        the ids it still held (the others' progress is left to their new owner)."""
        released: list[str] = []
        ordered = sorted(progress, key=lambda p: p.contact_id)
        with self._tx() as cur:
            leases.lock_rows(cur, campaign, [p.contact_id for p in ordered])
            for p in ordered:
                if leases.release(cur, campaign, worker, p, record=None, finish=_rows.finish_once):
                    released.append(p.contact_id)
        return released

    def save_unleased_progress(
        self, campaign: str, progress: ContactProgress, *, now: float
    ) -> bool:
        """:meth:`save_progress` only while no worker holds a live lease on the contact (a
        worker cancelling a contact it does not hold): False when one does (nothing is
        written; its holder decides)."""
        with self._tx() as cur:
            row = cur.execute(
                "UPDATE autoinformer_contacts SET state = %s, attempts = %s, next_at = %s, "
                "reason = %s, lease_owner = NULL, lease_until = NULL "
                "WHERE campaign = %s AND contact_id = %s "
                "AND (lease_owner IS NULL OR lease_until IS NULL OR lease_until <= %s) "
                "RETURNING contact_id",
                (
                    progress.state.value,
                    progress.attempts,
                    progress.next_at,
                    progress.reason,
                    campaign,
                    progress.contact_id,
                    now,
                ),
            ).fetchone()
        return row is not None

    def drop_leases(self, campaign: str, worker: str, contact_ids: Iterable[str]) -> int:
        """End ``worker``'s leases on these contacts leaving their progress as stored;
        returns how many it still held."""
        ids = sorted(contact_ids)
        with self._tx() as cur:
            leases.lock_rows(cur, campaign, ids)
            rows = cur.execute(
                "UPDATE autoinformer_contacts SET lease_owner = NULL, lease_until = NULL "
                "WHERE campaign = %s AND contact_id = ANY(%s) AND lease_owner = %s "
                "RETURNING contact_id",
                (campaign, ids, worker),
            ).fetchall()
        return len(rows)

    def meta_once(self, campaign: str, key: str, value: str) -> str:
        """The campaign's ``key``: set to ``value`` if it has none yet, else the one set
        first (several workers starting at once agree on one value, e.g. the call ids' salt)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO autoinformer_meta (campaign, key, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (campaign, key) DO NOTHING",
                (campaign, key, value),
            )
            row = cur.execute(
                "SELECT value FROM autoinformer_meta WHERE campaign = %s AND key = %s",
                (campaign, key),
            ).fetchone()
        if row is None:  # pragma: no cover - inserted or present in this transaction
            raise StoreError(f"campaign {campaign!r}: meta {key!r} could not be set")
        return str(row["value"])

    # --- campaign-wide limits across workers (see postgres_shared) --------------------------

    def hold_lines(
        self, campaign: str, worker: str, *, lines: int, want: int, now: float, ttl: float
    ) -> int:
        """Renew ``worker``'s line slots and claim or give back slots toward ``want``; returns
        how many it holds until ``now + ttl`` (see :func:`postgres_shared.hold_lines`)."""
        with self._tx() as cur:
            return shared.hold_lines(
                cur, campaign, worker, lines=lines, want=want, now=now, ttl=ttl
            )

    def line_share(self, campaign: str, worker: str, *, lines: int, now: float) -> shared.LineShare:
        """Where ``worker`` stands among the workers at work: fair share, free slots, whether
        another is short (see :func:`postgres_shared.line_share`)."""
        with self._tx() as cur:
            return shared.line_share(cur, campaign, worker, lines=lines, now=now)

    def release_lines(self, campaign: str, worker: str) -> int:
        """Give back every line slot ``worker`` holds; returns how many."""
        with self._tx() as cur:
            return shared.release_lines(cur, campaign, worker)

    def lines_held(self, campaign: str, now: float) -> dict[str, int]:
        """Live line slots per worker at ``now``."""
        with self._tx() as cur:
            return shared.lines_held(cur, campaign, now)

    def abandon_totals(self, campaign: str, run: str, *, since: float) -> AbandonTotals:
        """Live answers and abandons journaled by runs other than ``run`` (all, and in the
        window from ``since``): what a worker's abandon guard adds to its own."""
        with self._tx() as cur:
            return shared.abandon_totals(cur, campaign, run, since=since)

    def lease_outlook(self, campaign: str, worker: str) -> tuple[int, float | None]:
        """(open contacts ``worker`` does not hold, the earliest time one may be takeable)."""
        with self._tx() as cur:
            return shared.outlook(cur, campaign, worker)

    def release_lease(
        self,
        campaign: str,
        worker: str,
        progress: ContactProgress,
        record: AttemptRecord | None = None,
    ) -> bool:
        """In one transaction: journal ``record``'s result, _rows.save ``progress``, end the lease.

        Returns False when another worker had taken the lease over: the result is journaled
        all the same (never lost), the contact's progress is left to the new owner.
        """
        if record is not None and record.outcome is None:
            raise StoreError(f"attempt {record.attempt_id!r} is finished without an outcome")
        with self._tx() as cur:
            return leases.release(
                cur, campaign, worker, progress, record=record, finish=_rows.finish_once
            )

    # --- a cancel from any worker; one number, one contact (see postgres_shared) ------------

    def request_cancel(self, campaign: str, contact_id: str, reason: str, *, now: float) -> str:
        """Cancel the contact whoever holds it: ``"cancelled"`` (nobody held it: closed now),
        ``"recorded"`` (its holder honours it: no further attempt from this commit on),
        ``"closed"`` (already final) or ``"unknown"`` (see
        :func:`postgres_shared.request_cancel`)."""
        with self._tx() as cur:
            return shared.request_cancel(cur, campaign, contact_id, reason, now=now)

    def honour_cancels(
        self, campaign: str, worker: str, contact_ids: Iterable[str]
    ) -> tuple[list[str], dict[str, str]]:
        """The cancels recorded for contacts ``worker`` holds, in one transaction: (the ids
        not in a call, closed as cancelled and let go; the ids in a call -> the reason, for
        the worker's core to cancel when the call ends)."""
        with self._tx() as cur:
            asked = shared.cancels_asked(cur, campaign, worker, sorted(contact_ids))
            if not asked:  # the common case: one indexed read, no row locked
                return [], {}
            leases.lock_rows(cur, campaign, asked)
            closed = shared.close_cancelled(cur, campaign, worker, asked)
            return closed, shared.cancels_in_call(cur, campaign, worker, asked)

    def number_owners(self, campaign: str, phones: Iterable[str]) -> dict[str, str]:
        """Each number -> the contact added first that has it (one number, one contact)."""
        with self._tx() as cur:
            return shared.number_owners(cur, campaign, list(phones))

    def lease_holders(self, campaign: str) -> dict[str, tuple[str, float]]:
        """Who holds which contact until when (expired leases included): for inspection."""
        with self._tx() as cur:
            rows = cur.execute(
                "SELECT contact_id, lease_owner, lease_until FROM autoinformer_contacts "
                "WHERE campaign = %s AND lease_owner IS NOT NULL",
                (campaign,),
            ).fetchall()
        return {r["contact_id"]: (r["lease_owner"], r["lease_until"]) for r in rows}
