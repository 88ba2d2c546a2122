"""Rows of the PostgreSQL store: records to and from rows, and the statements both the store
and its workers' methods run on them (one place, so the two never write an attempt
differently)."""

from __future__ import annotations

from typing import Any

import psycopg

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store._attempt_rows import ATTEMPT_COLUMNS, attempt_from, attempt_row
from autoinformer.store.base import StoredContact

__all__ = [
    "ATTEMPT_COLUMNS",
    "Cursor",
    "already_begun",
    "attempt_from",
    "attempt_row",
    "finish",
    "finish_once",
    "insert",
    "progress_from",
    "save",
    "stored_from",
]


def stored_from(row: dict[str, Any]) -> StoredContact:
    contact = Contact(
        id=row["contact_id"],
        name=row["name"],
        phones=tuple(row["phones"]),
        variables=row["variables"],
        timezone=row["timezone"],
    )
    return StoredContact(row["seq"], contact, progress_from(row))


def progress_from(row: dict[str, Any]) -> ContactProgress:
    return ContactProgress(
        contact_id=row["contact_id"],
        state=ContactState(row["state"]),
        attempts=row["attempts"],
        next_at=row["next_at"],
        reason=row["reason"],
    )


Cursor = psycopg.Cursor[dict[str, Any]]


def insert(cur: Cursor, record: AttemptRecord) -> None:
    cur.execute(
        f"INSERT INTO autoinformer_attempts ({ATTEMPT_COLUMNS}) VALUES ({', '.join(['%s'] * 16)})",
        attempt_row(record),
    )


def already_begun(record: AttemptRecord) -> StoreError:
    return StoreError(
        f"attempt {record.attempt_no} of contact {record.contact_id!r} was already begun"
    )


def finish(cur: Cursor, record: AttemptRecord) -> None:
    row = attempt_row(record)
    cur.execute(
        "UPDATE autoinformer_attempts SET number = %s, caller_id = %s, started_at = %s, "
        "answered_at = %s, ended_at = %s, outcome = %s, cause = %s, digits = %s, operator = %s, "
        "machine = %s, detail = %s, callback_result = %s WHERE attempt_id = %s",
        (*row[4:], record.attempt_id),
    )
    if cur.rowcount == 0:
        raise StoreError(f"attempt {record.attempt_id!r} was never begun")


def save(cur: Cursor, campaign: str, progress: ContactProgress) -> None:
    cur.execute(
        "UPDATE autoinformer_contacts SET state = %s, attempts = %s, next_at = %s, reason = %s "
        "WHERE campaign = %s AND contact_id = %s",
        (
            progress.state.value,
            progress.attempts,
            progress.next_at,
            progress.reason,
            campaign,
            progress.contact_id,
        ),
    )


def finish_once(cur: Cursor, record: AttemptRecord) -> bool:
    """:func:`finish` only while the attempt has no result: False when it had one."""
    row = attempt_row(record)
    cur.execute(
        "UPDATE autoinformer_attempts SET number = %s, caller_id = %s, started_at = %s, "
        "answered_at = %s, ended_at = %s, outcome = %s, cause = %s, digits = %s, operator = %s, "
        "machine = %s, detail = %s, callback_result = %s "
        "WHERE attempt_id = %s AND outcome IS NULL",
        (*row[4:], record.attempt_id),
    )
    if cur.rowcount:
        return True
    found = cur.execute(
        "SELECT 1 FROM autoinformer_attempts WHERE attempt_id = %s", (record.attempt_id,)
    ).fetchone()
    if found is None:
        raise StoreError(f"attempt {record.attempt_id!r} was never begun")
    return False
