"""SQLite: the embedded, crash-safe default store.

Why SQLite: it ships with Python, one file holds a campaign, and its write-ahead log makes every
committed transaction survive a ``kill -9`` of the process (and, with ``durability="full"``, a
power cut). Each method is one transaction, committed before it returns, which is what lets the
runtime promise "journaled before the originate is sent".

The invariant that nobody is called twice for the same attempt is enforced by the schema itself:
``UNIQUE (campaign, contact_id, attempt_no)`` on the attempts table.
"""

from __future__ import annotations

import collections
import json
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store._attempt_rows import ATTEMPT_COLUMNS, attempt_from, attempt_row
from autoinformer.store.base import AttemptKey, AttemptTimes, SkipReason, Store, StoredContact

__all__ = ["SqliteStore"]

_OUTCOMES = {o.value: o for o in Outcome}

_OPEN = "state IN ('pending', 'scheduled', 'in_call')"

_LATEST = "COALESCE(ended_at, answered_at, started_at)"
"""An attempt's latest known time, as the ``attempts_latest`` index spells it."""

_CHUNK = 500
"""Ids per ``IN (...)`` query (under SQLite's bound-parameter limit on every build)."""

_TIMED = "(state = 'scheduled' OR (state = 'pending' AND next_at IS NOT NULL))"
"""The partial index ``contacts_timed``'s condition, spelled as queries must spell it for
SQLite to use the index."""


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
CREATE INDEX IF NOT EXISTS contacts_queue ON contacts (campaign, seq)
    WHERE state = 'pending' AND next_at IS NULL;
CREATE INDEX IF NOT EXISTS contacts_timed ON contacts (campaign, COALESCE(next_at, 0.0), seq)
    WHERE state = 'scheduled' OR (state = 'pending' AND next_at IS NOT NULL);
CREATE INDEX IF NOT EXISTS contacts_state ON contacts (campaign, state, reason, seq);
CREATE INDEX IF NOT EXISTS contacts_tried ON contacts (campaign, contact_id)
    WHERE attempts > 0 AND state IN ('pending', 'scheduled', 'in_call');
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
CREATE INDEX IF NOT EXISTS attempts_counts ON attempts (campaign, outcome, machine);
CREATE INDEX IF NOT EXISTS attempts_latest
    ON attempts (campaign, COALESCE(ended_at, answered_at, started_at));
CREATE TABLE IF NOT EXISTS meta (
    campaign TEXT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (campaign, key)
);
"""


def _stored_from(row: sqlite3.Row) -> StoredContact:
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
    return StoredContact(row["seq"], contact, progress)


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), _CHUNK):
        yield unique[i : i + _CHUNK]


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
            _, contact, progress = _stored_from(row)
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

    def save_numbers(self, campaign: str, contact_id: str, phones: Sequence[str]) -> None:
        cur = self._write(
            "UPDATE contacts SET phones = ? WHERE campaign = ? AND contact_id = ?",
            (json.dumps(list(phones)), campaign, contact_id),
        )
        if cur.rowcount == 0:
            raise StoreError(f"campaign {campaign!r} has no contact {contact_id!r}")

    def begin_attempt(self, record: AttemptRecord) -> None:
        try:
            self._write(
                f"INSERT INTO attempts ({ATTEMPT_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                attempt_row(record),
            )
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"attempt {record.attempt_no} of contact {record.contact_id!r} was already begun"
            ) from exc

    def finish_attempt(self, record: AttemptRecord) -> None:
        if record.outcome is None:
            raise StoreError(f"attempt {record.attempt_id!r} is finished without an outcome")
        row = attempt_row(record)
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
        return [attempt_from(r) for r in rows]

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
            yield attempt_from(row)

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

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"store {self.path!r}: {exc}") from exc

    def queued_contacts(self, campaign: str, *, after: int = 0, limit: int) -> list[StoredContact]:
        rows = self._read(
            "SELECT * FROM contacts WHERE campaign = ? AND state = 'pending' AND next_at IS NULL "
            "AND seq > ? ORDER BY seq LIMIT ?",
            (campaign, after, limit),
        )
        return [_stored_from(r) for r in rows]

    def timed_contacts(
        self, campaign: str, *, after: tuple[float, int] | None = None, limit: int
    ) -> list[StoredContact]:
        at, seq = after if after is not None else (float("-inf"), 0)
        rows = self._read(
            f"SELECT * FROM contacts WHERE campaign = ?1 AND {_TIMED} "
            "AND COALESCE(next_at, 0.0) >= ?2 AND (COALESCE(next_at, 0.0) > ?2 OR seq > ?3) "
            "ORDER BY COALESCE(next_at, 0.0), seq LIMIT ?4",
            (campaign, at, seq, limit),
        )
        return [_stored_from(r) for r in rows]

    def in_call_contacts(self, campaign: str) -> list[StoredContact]:
        rows = self._read(
            "SELECT * FROM contacts WHERE campaign = ? AND state = 'in_call'", (campaign,)
        )
        unfinished = self._read(  # no DISTINCT: it would walk the whole campaign's index
            "SELECT contact_id FROM attempts WHERE campaign = ? AND outcome IS NULL",
            (campaign,),
        )
        known = {r["contact_id"] for r in rows}
        more = list(dict.fromkeys(r[0] for r in unfinished if r[0] not in known))
        found = [_stored_from(r) for r in rows] + self.contacts_by_id(campaign, more)
        return sorted(found, key=lambda stored: stored.seq)

    def contacts_by_id(self, campaign: str, ids: Collection[str]) -> list[StoredContact]:
        rows: list[sqlite3.Row] = []
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            rows += self._read(
                f"SELECT * FROM contacts WHERE campaign = ? AND contact_id IN ({marks})",
                (campaign, *chunk),
            )
        rows.sort(key=lambda r: int(r["seq"]))
        return [_stored_from(r) for r in rows]

    def attempts_for(self, campaign: str, contact_ids: Collection[str]) -> list[AttemptRecord]:
        rows: list[sqlite3.Row] = []
        for chunk in _chunks(contact_ids):
            marks = ", ".join("?" * len(chunk))
            rows += self._read(
                f"SELECT * FROM attempts WHERE campaign = ? AND contact_id IN ({marks})",
                (campaign, *chunk),
            )
        rows.sort(key=lambda r: int(r["seq"]))
        return [attempt_from(r) for r in rows]

    def attempts_by_id(self, campaign: str, attempt_ids: Collection[str]) -> list[AttemptRecord]:
        rows: list[sqlite3.Row] = []
        for chunk in _chunks(attempt_ids):
            marks = ", ".join("?" * len(chunk))
            rows += self._read(
                f"SELECT * FROM attempts WHERE campaign = ? AND attempt_id IN ({marks})",
                (campaign, *chunk),
            )
        rows.sort(key=lambda r: int(r["seq"]))
        return [attempt_from(r) for r in rows]

    def latest_attempt_time(self, campaign: str) -> float | None:
        rows = self._read(f"SELECT MAX({_LATEST}) FROM attempts WHERE campaign = ?", (campaign,))
        value = rows[0][0]
        return None if value is None else float(value)

    def state_counts(self, campaign: str) -> dict[ContactState, int]:
        rows = self._read(
            "SELECT state, COUNT(*) FROM contacts WHERE campaign = ? GROUP BY state", (campaign,)
        )
        return {ContactState(r[0]): int(r[1]) for r in rows}

    def _open_with_attempts(self, campaign: str) -> list[str]:
        """The open contacts that have attempts: the only ones whose attempts ``closed_only``
        leaves out (found from the contacts' own attempt counts and the unfinished attempts,
        so a finished campaign costs nothing and no attempt is joined to its contact)."""
        rows = self._read(
            "SELECT contact_id FROM contacts INDEXED BY contacts_tried "
            f"WHERE campaign = ? AND attempts > 0 AND {_OPEN}",
            (campaign,),
        )
        unfinished = self._read(  # no UNION/DISTINCT: they walk the whole campaign's index
            "SELECT contact_id FROM attempts WHERE campaign = ? AND outcome IS NULL",
            (campaign,),
        )
        return list(dict.fromkeys([r[0] for r in rows] + [r[0] for r in unfinished]))

    def attempt_counts(self, campaign: str, *, closed_only: bool = False) -> dict[AttemptKey, int]:
        def key(outcome: str | None, machine: int) -> AttemptKey:
            return AttemptKey(None if outcome is None else _OUTCOMES[outcome], bool(machine))

        rows = self._read(
            "SELECT outcome, machine, COUNT(*) FROM attempts WHERE campaign = ? "
            "GROUP BY outcome, machine",
            (campaign,),
        )
        counts = collections.Counter({key(r[0], r[1]): int(r[2]) for r in rows})
        if closed_only and counts:
            # less the attempts of open contacts: walked from the open contacts (CROSS JOIN
            # keeps that order), so a finished campaign costs nothing here
            for r in self._read(
                "SELECT a.outcome, a.machine, COUNT(*) FROM contacts c INDEXED BY contacts_tried "
                "CROSS JOIN attempts a "
                "ON a.campaign = c.campaign AND a.contact_id = c.contact_id "
                f"WHERE c.campaign = ? AND c.attempts > 0 AND c.{_OPEN} "
                "GROUP BY a.outcome, a.machine",
                (campaign,),
            ):
                counts[key(r[0], r[1])] -= int(r[2])
            # and those of an open contact whose progress was not saved after its first
            # attempt began (the process died in between)
            unsaved = self._read(
                "SELECT DISTINCT a.contact_id FROM attempts a CROSS JOIN contacts c "
                "ON c.campaign = a.campaign AND c.contact_id = a.contact_id "
                f"WHERE a.campaign = ? AND a.outcome IS NULL AND c.attempts = 0 AND c.{_OPEN}",
                (campaign,),
            )
            for record in self.attempts_for(campaign, [r[0] for r in unsaved]):
                counts[key(record.outcome and record.outcome.value, record.machine)] -= 1
        return {k: n for k, n in counts.items() if n > 0}

    def window_attempts(
        self, campaign: str, since: float, *, closed_only: bool = False
    ) -> Iterator[AttemptTimes]:
        skip = set(self._open_with_attempts(campaign)) if closed_only else set()
        at, after = since, -1
        while True:  # in chunks along the attempts_latest index: nothing held open between
            rows = self._read(
                f"SELECT {_LATEST}, seq, contact_id, outcome, machine, started_at, answered_at, "
                f"ended_at, caller_id FROM attempts WHERE campaign = ?1 AND {_LATEST} >= ?2 "
                f"AND ({_LATEST} > ?2 OR seq > ?3) AND ((answered_at IS NOT NULL AND "
                "machine = 0) OR outcome = 'abandoned' OR caller_id IS NOT NULL) "
                f"ORDER BY {_LATEST}, seq LIMIT 5000",
                (campaign, at, after),
            )
            for r in rows:
                if r[2] not in skip:
                    outcome = None if r[3] is None else _OUTCOMES[r[3]]
                    yield AttemptTimes(r[2], outcome, bool(r[4]), r[5], r[6], r[7], r[8])
            if len(rows) < 5000:
                return
            at, after = rows[-1][0], rows[-1][1]

    def skip_reasons(self, campaign: str, *, examples: int) -> list[SkipReason]:
        counts = self._read(
            "SELECT reason, COUNT(*) AS n FROM contacts WHERE campaign = ? AND state = 'skipped' "
            "GROUP BY reason ORDER BY n DESC, reason",
            (campaign,),
        )
        out: list[SkipReason] = []
        for reason, n in counts:
            first = self._read(
                "SELECT contact_id FROM contacts WHERE campaign = ? AND state = 'skipped' "
                "AND reason = ? ORDER BY seq LIMIT ?",
                (campaign, reason, examples),
            )
            out.append(SkipReason(reason, int(n), tuple(r[0] for r in first)))
        return out

    def known_ids(self, campaign: str, ids: Collection[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            rows = self._read(
                f"SELECT contact_id FROM contacts WHERE campaign = ? AND contact_id IN ({marks})",
                (campaign, *chunk),
            )
            found.update(r[0] for r in rows)
        return found

    def close(self) -> None:
        with self._lock:
            self._db.close()
