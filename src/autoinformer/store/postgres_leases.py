"""Leases: how several dialer workers share one campaign's contacts in PostgreSQL.

The design (issue #17; the store methods exist and are tested, the runtime does not use them
yet):

- **A lease is two columns on the contact row**, ``lease_owner`` (a worker's id) and
  ``lease_until`` (a time). A worker takes contacts with :func:`take`: one ``UPDATE`` over a
  ``SELECT ... FOR UPDATE SKIP LOCKED`` of the contacts that are due (pending, or scheduled and
  ``next_at`` passed) and not leased (no owner, or the lease expired). ``SKIP LOCKED`` makes
  two workers taking at the same instant pass over each other's rows instead of waiting or
  taking the same one; the row lock lasts only that statement's transaction, so nothing is
  held across a call and a dead worker holds no lock, only a lease that runs out.
- **A row lock alone would not do**: it needs a transaction open for the whole call (minutes),
  a connection per call, and dies with the connection, including on a network blip while the
  call still lives. The lease column survives blips and is renewed by the worker
  (:func:`renew`) while its calls live; a worker that stops renewing (``kill -9``, a host
  gone) loses its leases when ``lease_until`` passes.
- **Taking over**: an expired lease is taken like a free contact, whatever the contact's state,
  and an ``in_call`` contact is taken as soon as its lease expires. The new owner gets the dead
  worker's id (``taken_from``) and the attempts it had begun and not finished
  (``unfinished``), to reconcile them (the switch's own record where it can, else
  ``unknown``, retried by policy) before calling the contact again.
- **Fencing**: :func:`begin` journals an attempt only if the worker still holds the contact's
  lease, in the same transaction that locks the row, so a worker that was paused past its
  lease (and taken over) cannot place a second call for the contact; the
  ``UNIQUE (campaign, contact_id, attempt_no)`` key backs it up.
- **Release with the result in one transaction** (:func:`release`): the attempt's result, the
  contact's new progress and the lease's end commit together. A result is never dropped: if
  the lease was taken over meanwhile the result is still journaled, but the progress (now the
  new owner's to decide) is not, and the caller is told.
- **Time is passed in** (``now``), as everywhere in the decision code: workers on several hosts
  must share a clock (NTP), and leases expire on the workers' clocks, not the database's, so
  virtual-time tests and a fast simulation clock work the same. The lease's length (``ttl``)
  must exceed the renew interval with room for a slow round trip: e.g. renew every 10 s, lease
  for 30 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import psycopg

from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState
from autoinformer.records import AttemptRecord, ContactProgress

__all__ = ["CancelAsked", "Lease", "LeaseLost", "begin", "lock_rows", "release", "renew", "take"]

Cursor = psycopg.Cursor[dict[str, Any]]


class LeaseLost(StoreError):
    """The worker no longer holds the contact's lease: another worker took it over."""


class CancelAsked(LeaseLost):
    """A cancel was recorded for the contact (from any worker, :func:`request_cancel
    <autoinformer.store.postgres_shared.request_cancel>`): no further attempt is journaled.
    The holder closes it (``close_cancelled``) and lets it go, as a lost lease."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@attrs.frozen
class Lease:
    """A contact a worker now holds until ``until`` (unless renewed).

    Attributes:
        contact_id: the contact.
        until: when the lease runs out.
        progress: the contact's progress as stored when it was taken.
        taken_from: the worker whose lease had expired (None: nobody held it).
        unfinished: that worker's attempts of this contact begun and never finished: calls
            that may have happened, to reconcile before calling again.
    """

    contact_id: str
    until: float
    progress: ContactProgress
    taken_from: str | None = None
    unfinished: tuple[AttemptRecord, ...] = ()


_TAKE = """
WITH picked AS (
    SELECT campaign, contact_id, lease_owner AS previous
    FROM autoinformer_contacts
    WHERE campaign = %(campaign)s
      AND (lease_until IS NULL OR lease_until <= %(now)s
           OR (%(reclaim)s AND lease_owner = %(worker)s))
      AND (state = 'in_call'
           OR (state IN ('pending', 'scheduled') AND (next_at IS NULL OR next_at <= %(now)s)))
    ORDER BY seq
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE autoinformer_contacts AS c
SET lease_owner = %(worker)s, lease_until = %(until)s
FROM picked
WHERE c.campaign = picked.campaign AND c.contact_id = picked.contact_id
RETURNING c.contact_id, c.seq, c.state, c.attempts, c.next_at, c.reason, picked.previous
"""


def take(
    cur: Cursor,
    campaign: str,
    worker: str,
    *,
    now: float,
    ttl: float,
    limit: int,
    attempt_from: Any,
    reclaim: bool = False,
) -> list[Lease]:
    """Lease up to ``limit`` due contacts (in the order added) to ``worker`` until ``now + ttl``.

    ``attempt_from`` turns an attempts row into an :class:`AttemptRecord` (the store's own).
    With ``reclaim`` the worker's own live leases are taken again as if they had expired
    (``taken_from`` is the worker itself, with its unfinished attempts): a worker restarted
    under its old name does not wait out its earlier life's leases.
    """
    if ttl <= 0 or limit < 1:
        raise ValueError("take: ttl must be > 0 and limit >= 1")
    until = now + ttl
    rows = cur.execute(
        _TAKE,
        {
            "campaign": campaign,
            "worker": worker,
            "now": now,
            "until": until,
            "limit": limit,
            "reclaim": reclaim,
        },
    ).fetchall()
    rows.sort(key=lambda r: r["seq"])
    taken_over = [r["contact_id"] for r in rows if r["previous"] is not None]
    unfinished: dict[str, list[AttemptRecord]] = {}
    if taken_over:
        for row in cur.execute(
            "SELECT * FROM autoinformer_attempts WHERE campaign = %s AND contact_id = ANY(%s) "
            "AND outcome IS NULL ORDER BY seq",
            (campaign, taken_over),
        ):
            unfinished.setdefault(row["contact_id"], []).append(attempt_from(row))
    return [
        Lease(
            contact_id=r["contact_id"],
            until=until,
            progress=ContactProgress(
                contact_id=r["contact_id"],
                state=ContactState(r["state"]),
                attempts=r["attempts"],
                next_at=r["next_at"],
                reason=r["reason"],
            ),
            taken_from=r["previous"],
            unfinished=tuple(unfinished.get(r["contact_id"], ())),
        )
        for r in rows
    ]


def renew(
    cur: Cursor, campaign: str, worker: str, contact_ids: Sequence[str], *, now: float, ttl: float
) -> list[str]:
    """Extend the worker's leases to ``now + ttl``; returns the ids it still holds (sorted).

    A lease that expired but was not taken over is renewed; one another worker took is not.
    """
    lock_rows(cur, campaign, contact_ids)
    rows = cur.execute(
        "UPDATE autoinformer_contacts SET lease_until = %s "
        "WHERE campaign = %s AND contact_id = ANY(%s) AND lease_owner = %s RETURNING contact_id",
        (now + ttl, campaign, list(contact_ids), worker),
    ).fetchall()
    return sorted(r["contact_id"] for r in rows)


def lock_rows(cur: Cursor, campaign: str, contact_ids: Sequence[str]) -> None:
    """Lock these contacts' rows in the order of their ids, before a transaction that updates
    several: two such transactions (a worker renewing while it hands contacts back, two
    workers handing back at once) then wait for each other in one order, never in a circle.
    A take never waits (``SKIP LOCKED``) and a single-row update holds one lock: neither can
    close a circle with these."""
    if len(contact_ids) > 1:
        cur.execute(
            "SELECT 1 FROM autoinformer_contacts WHERE campaign = %s AND contact_id = ANY(%s) "
            "ORDER BY contact_id FOR UPDATE",
            (campaign, list(contact_ids)),
        )


def _hold(cur: Cursor, campaign: str, contact_id: str, worker: str, now: float) -> None:
    """Lock the contact's row and check ``worker`` holds a live lease on it."""
    row = cur.execute(
        "SELECT lease_owner, lease_until FROM autoinformer_contacts "
        "WHERE campaign = %s AND contact_id = %s FOR UPDATE",
        (campaign, contact_id),
    ).fetchone()
    if row is None:
        raise StoreError(f"campaign {campaign!r} has no contact {contact_id!r}")
    if row["lease_owner"] != worker or row["lease_until"] is None or row["lease_until"] <= now:
        owner = row["lease_owner"] or "nobody"
        raise LeaseLost(
            f"worker {worker!r} does not hold contact {contact_id!r} at {now} "
            f"(held by {owner} until {row['lease_until']})"
        )


def begin(cur: Cursor, record: AttemptRecord, worker: str, *, now: float, insert: Any) -> None:
    """Journal ``record`` only while ``worker`` holds its contact's lease (the fence).

    ``insert(cur, record)`` is the store's own attempt insert, run inside this transaction.

    Raises:
        LeaseLost: the lease expired or was taken over; nothing was journaled.
    """
    _hold(cur, record.campaign, record.contact_id, worker, now)
    row = cur.execute(
        "SELECT cancel_reason FROM autoinformer_contacts WHERE campaign = %s AND contact_id = %s",
        (record.campaign, record.contact_id),
    ).fetchone()
    if row is not None and row["cancel_reason"] is not None:  # asked before this commit
        raise CancelAsked(
            f"contact {record.contact_id!r} was cancelled ({row['cancel_reason']})",
            row["cancel_reason"],
        )
    insert(cur, record)


def release(
    cur: Cursor,
    campaign: str,
    worker: str,
    progress: ContactProgress,
    *,
    record: AttemptRecord | None,
    finish: Any,
) -> bool:
    """Journal the result, save the progress and end the lease, in the caller's transaction.

    ``finish(cur, record)`` is the store's own attempt update. Returns False when another worker
    had taken the lease: the result is journaled all the same, the progress is left to it.
    """
    if record is not None:
        finish(cur, record)
    # a contact going back to the pool with a cancel recorded meanwhile closes instead
    row = cur.execute(
        "UPDATE autoinformer_contacts SET "
        "state = CASE WHEN cancel_reason IS NOT NULL AND %(s)s::text IN ('pending', 'scheduled') "
        "  THEN 'cancelled' ELSE %(s)s::text END, attempts = %(a)s, "
        "next_at = CASE WHEN cancel_reason IS NOT NULL AND %(s)s::text IN ('pending', 'scheduled') "
        "  THEN NULL ELSE %(n)s::float8 END, "
        "reason = CASE WHEN cancel_reason IS NOT NULL AND %(s)s::text IN ('pending', 'scheduled') "
        "  THEN cancel_reason ELSE %(r)s::text END, "
        "lease_owner = NULL, lease_until = NULL "
        "WHERE campaign = %(c)s AND contact_id = %(id)s AND lease_owner = %(w)s "
        "RETURNING contact_id",
        {
            "s": progress.state.value,
            "a": progress.attempts,
            "n": progress.next_at,
            "r": progress.reason,
            "c": campaign,
            "id": progress.contact_id,
            "w": worker,
        },
    ).fetchone()
    if row is not None:
        return True
    exists = cur.execute(
        "SELECT 1 FROM autoinformer_contacts WHERE campaign = %s AND contact_id = %s",
        (campaign, progress.contact_id),
    ).fetchone()
    if exists is None:
        raise StoreError(f"campaign {campaign!r} has no contact {progress.contact_id!r}")
    return False
