"""SQLite: the embedded, crash-safe default store.

Why SQLite: it ships with Python, one file holds a campaign, and its write-ahead log makes every
committed transaction survive a ``kill -9`` of the process (and, with ``durability="full"``, a
power cut). Each method is one transaction, committed before it returns, which is what lets the
runtime promise "journaled before the originate is sent".

The invariant that nobody is called twice for the same attempt is enforced by the schema itself:
``UNIQUE (campaign, contact_id, attempt_no)`` on the attempts table.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store.base import Store

__all__ = ["SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    campaign   TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    name       TEXT NOT NULL,
    phones     TEXT NOT NULL,
    variables  TEXT NOT NULL,
    timezone   TEXT,
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    REAL,
    reason     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (campaign, contact_id)
);
CREATE INDEX IF NOT EXISTS contacts_order ON contacts (campaign, seq);
CREATE TABLE IF NOT EXISTS attempts (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id      TEXT NOT NULL UNIQUE,
    campaign        TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    attempt_no      INTEGER NOT NULL,
    number          TEXT NOT NULL,
    caller_id       TEXT,
    started_at      REAL NOT NULL,
    answered_at     REAL,
    ended_at        REAL,
    outcome         TEXT,
    cause           INTEGER,
    digits          TEXT NOT NULL DEFAULT '',
    operator        TEXT,
    machine         INTEGER NOT NULL DEFAULT 0,
    detail          TEXT NOT NULL DEFAULT '',
    callback_result TEXT,
    UNIQUE (campaign, contact_id, attempt_no)
);
CREATE INDEX IF NOT EXISTS attempts_open ON attempts (campaign, outcome);
CREATE TABLE IF NOT EXISTS meta (
    campaign TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (campaign, key)
);
"""

_ATTEMPT_COLUMNS = (
    "attempt_id, campaign, contact_id, attempt_no, number, caller_id, started_at, answered_at, "
    "ended_at, outcome, cause, digits, operator, machine, detail, callback_result"
)


def _attempt_row(r: AttemptRecord) -> tuple[Any, ...]:
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
        int(r.machine),
        r.detail,
        r.callback_result,
    )


def _attempt_from(row: sqlite3.Row) -> AttemptRecord:
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


class SqliteStore(Store):
    """A campaign store in one SQLite file (WAL mode).

    Args:
        path: the database file (created if missing); ``":memory:"`` for a throwaway store.
        durability: ``"full"`` survives power loss (fsync on each commit); ``"normal"``
            survives a killed process but may lose the last commits on power loss.
    """

    def __init__(self, path: str | Path, *, durability: Literal["full", "normal"] = "full") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path!r}: {exc}") from exc

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    def _write(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(params))
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise StoreError(f"store {self.path!r}: {exc}") from exc

    def add_contacts(self, campaign: str, contacts: Iterable[Contact]) -> int:
        added = 0
        iterator = iter(contacts)
        while chunk := list(islice(iterator, 5000)):
            with self._lock:
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    (seq,) = self._db.execute(
                        "SELECT COALESCE(MAX(seq), 0) FROM contacts WHERE campaign = ?",
                        (campaign,),
                    ).fetchone()
                    before = self._db.total_changes
                    self._db.executemany(
                        "INSERT OR IGNORE INTO contacts "
                        "(campaign, contact_id, seq, name, phones, variables, timezone) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            (
                                campaign,
                                c.id,
                                seq + i + 1,
                                c.name,
                                json.dumps(list(c.phones)),
                                json.dumps(dict(c.variables), ensure_ascii=False),
                                c.timezone,
                            )
                            for i, c in enumerate(chunk)
                        ),
                    )
                    added += self._db.total_changes - before
                    self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._db.execute("ROLLBACK")
                    raise StoreError(f"store {self.path!r}: {exc}") from exc
        return added

    def contacts(self, campaign: str) -> Iterator[tuple[Contact, ContactProgress]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM contacts WHERE campaign = ? ORDER BY seq", (campaign,)
            ).fetchall()
        for row in rows:
            contact = Contact(
                id=row["contact_id"],
                name=row["name"],
                phones=tuple(json.loads(row["phones"])),
                variables=json.loads(row["variables"]),
                timezone=row["timezone"],
            )
            progress = ContactProgress(
                contact_id=row["contact_id"],
                state=ContactState(row["state"]),
                attempts=row["attempts"],
                next_at=row["next_at"],
                reason=row["reason"],
            )
            yield contact, progress

    def save_progress(self, campaign: str, progress: ContactProgress) -> None:
        cur = self._write(
            "UPDATE contacts SET state = ?, attempts = ?, next_at = ?, reason = ? "
            "WHERE campaign = ? AND contact_id = ?",
            (
                progress.state.value,
                progress.attempts,
                progress.next_at,
                progress.reason,
                campaign,
                progress.contact_id,
            ),
        )
        if cur.rowcount == 0:
            raise StoreError(f"campaign {campaign!r} has no contact {progress.contact_id!r}")

    def begin_attempt(self, record: AttemptRecord) -> None:
        try:
            self._write(
                f"INSERT INTO attempts ({_ATTEMPT_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                _attempt_row(record),
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"attempt {record.attempt_no} of contact {record.contact_id!r} was already begun"
            ) from exc

    def finish_attempt(self, record: AttemptRecord) -> None:
        if record.outcome is None:
            raise StoreError(f"attempt {record.attempt_id!r} is finished without an outcome")
        row = _attempt_row(record)
        cur = self._write(
            "UPDATE attempts SET number = ?, caller_id = ?, started_at = ?, answered_at = ?, "
            "ended_at = ?, outcome = ?, cause = ?, digits = ?, operator = ?, machine = ?, "
            "detail = ?, callback_result = ? WHERE attempt_id = ?",
            (*row[4:], record.attempt_id),
        )
        if cur.rowcount == 0:
            raise StoreError(f"attempt {record.attempt_id!r} was never begun")

    def unfinished_attempts(self, campaign: str) -> list[AttemptRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM attempts WHERE campaign = ? AND outcome IS NULL ORDER BY seq",
                (campaign,),
            ).fetchall()
        return [_attempt_from(r) for r in rows]

    def attempts(self, campaign: str, contact_id: str | None = None) -> Iterator[AttemptRecord]:
        with self._lock:
            if contact_id is None:
                rows = self._db.execute(
                    "SELECT * FROM attempts WHERE campaign = ? ORDER BY seq", (campaign,)
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT * FROM attempts WHERE campaign = ? AND contact_id = ? ORDER BY seq",
                    (campaign, contact_id),
                ).fetchall()
        for row in rows:
            yield _attempt_from(row)

    def set_meta(self, campaign: str, key: str, value: str) -> None:
        self._write(
            "INSERT INTO meta (campaign, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (campaign, key) DO UPDATE SET value = excluded.value",
            (campaign, key, value),
        )

    def get_meta(self, campaign: str, key: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM meta WHERE campaign = ? AND key = ?", (campaign, key)
            ).fetchone()
        return None if row is None else str(row["value"])

    def close(self) -> None:
        with self._lock:
            self._db.close()
