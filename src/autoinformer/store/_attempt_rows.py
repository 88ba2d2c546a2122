"""An attempt record as a row and back: the one mapping the SQLite and PostgreSQL stores share,
so the two never write or read an attempt differently."""

from __future__ import annotations

from typing import Any, Protocol

from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord

__all__ = ["ATTEMPT_COLUMNS", "attempt_from", "attempt_row"]


class Row(Protocol):
    """A row read by column name (``sqlite3.Row``, psycopg's ``dict_row``)."""

    def __getitem__(self, key: str) -> Any: ...


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


def attempt_from(row: Row) -> AttemptRecord:
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
        machine=bool(row["machine"]),
        detail=row["detail"],
        callback_result=row["callback_result"],
    )
