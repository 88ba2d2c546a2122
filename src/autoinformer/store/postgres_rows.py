"""Rows of the PostgreSQL store: records to and from rows, and the statements both the store
and its workers' methods run on them (one place, so the two never write an attempt
differently)."""

from __future__ import annotations

from typing import Any

import psycopg

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress
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

ATTEMPT_COLUMNS = (
    "attempt_id, campaign, contact_id, attempt_no, number, caller_id, started_at, answered_at, "
    "ended_at, outcome, cause, digits, operator, machine, detail, callback_result"
)


def attempt_row(r: AttemptRecord) -> tuple[Any, ...]:
    return (
        r.attempt_id,
        r.campaign,
        r.contact_id,
        r.attempt_no,
        r.number,
        r.caller_id,
        r.started_at,
        r.answered_at,
        r.ended_at,
        None if r.outcome is None else r.outcome.value,
        r.cause,
        r.digits,
        r.operator,
        r.machine,
        r.detail,
        r.callback_result,
    )


def attempt_from(row: dict[str, Any]) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=row["attempt_id"],
        campaign=row["campaign"],
        contact_id=row["contact_id"],
        attempt_no=row["attempt_no"],
        number=row["number"],
        caller_id=row["caller_id"],
        started_at=row["started_at"],
        answered_at=row["answered_at"],
        ended_at=row["ended_at"],
        outcome=None if row["outcome"] is None else Outcome(row["outcome"]),
        cause=row["cause"],
        digits=row["digits"],
        operator=row["operator"],
        machine=row["machine"],
        detail=row["detail"],
        callback_result=row["callback_result"],
    )


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
