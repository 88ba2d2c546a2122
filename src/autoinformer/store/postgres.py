"""PostgreSQL: the store several dialer workers can share.

Why PostgreSQL: one SQLite file serves one process; a campaign spread over several dialer hosts
needs a server that already does what sharing requires (row locks, ``SKIP LOCKED``, durable
commits) and that call centres already run. Every method is one transaction, committed before
it returns, so the runtime's promise "journaled before the originate is sent" holds as with
SQLite; ``UNIQUE (campaign, contact_id, attempt_no)`` still forbids calling a contact twice for
one attempt, now across every process that writes to the database.

Sync psycopg 3 with a connection pool, not its async API: the :class:`~autoinformer.store.Store`
contract is synchronous (the runtime calls it from a worker thread), and psycopg's async
connections run on asyncio only, while this library must run on trio as well. A pool of
blocking connections serves the runtime's worker threads in parallel on either event loop, and
the same object serves the command line, reports and benchmarks that have no loop at all.

The schema is created or migrated on open, under a transaction-scoped advisory lock, so
several workers starting at once do not race; its version is kept in
``autoinformer_schema``. Tables are prefixed ``autoinformer_`` so they sit beside an
application's own; a separate schema is chosen with libpq's ``options`` in the URL
(``?options=-csearch_path%3Dcalls``).

Several workers on one campaign take contacts by lease (a lease column with an expiry, taken
with ``FOR UPDATE SKIP LOCKED``, renewed while the call lives, released with the result in one
transaction): :meth:`PostgresStore.take_leases` and its siblings (in
:mod:`autoinformer.store.postgres_workers`, mixed in, with the campaign-wide limits of
:mod:`autoinformer.store.postgres_shared`); the design is in
:mod:`autoinformer.store.postgres_leases`.

The password never has to be written down: libpq reads ``PGPASSWORD`` and ``~/.pgpass`` by
itself, and :func:`~autoinformer.store.urls.redacted` keeps one given in a URL out of every
message and ``repr``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

try:
    import psycopg
    import psycopg.conninfo
    import psycopg_pool
    from psycopg.rows import dict_row
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "the PostgreSQL store needs psycopg: pip install 'autoinformer[postgres]'"
    ) from exc

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store import postgres_rows as _rows
from autoinformer.store import postgres_shared as shared
from autoinformer.store.base import AttemptKey, AttemptTimes, SkipReason, Store, StoredContact
from autoinformer.store.postgres_leases import Lease, LeaseLost
from autoinformer.store.postgres_rows import Cursor
from autoinformer.store.postgres_shared import AbandonTotals, CallerIdCapped, CallerIdRule
from autoinformer.store.postgres_workers import WorkerMethods
from autoinformer.store.urls import is_postgres_url, redacted

__all__ = [
    "AbandonTotals",
    "CallerIdCapped",
    "CallerIdRule",
    "Lease",
    "LeaseLost",
    "PostgresStore",
]

_MIGRATIONS: tuple[str, ...] = (
    # 1: contacts, attempts, meta (the columns of the SQLite store)
    """
    CREATE TABLE autoinformer_contacts (
        campaign   TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        seq        BIGINT NOT NULL,
        name       TEXT NOT NULL,
        phones     JSON NOT NULL,
        variables  JSON NOT NULL,
        timezone   TEXT,
        state      TEXT NOT NULL DEFAULT 'pending',
        attempts   INTEGER NOT NULL DEFAULT 0,
        next_at    DOUBLE PRECISION,
        reason     TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (campaign, contact_id)
    );
    CREATE INDEX autoinformer_contacts_order ON autoinformer_contacts (campaign, seq);
    CREATE INDEX autoinformer_contacts_queue ON autoinformer_contacts (campaign, seq)
        WHERE state = 'pending' AND next_at IS NULL;
    CREATE INDEX autoinformer_contacts_timed
        ON autoinformer_contacts (campaign, (COALESCE(next_at, 0.0)), seq)
        WHERE state = 'scheduled' OR (state = 'pending' AND next_at IS NOT NULL);
    CREATE INDEX autoinformer_contacts_state
        ON autoinformer_contacts (campaign, state, reason, seq);
    CREATE TABLE autoinformer_attempts (
        seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        attempt_id      TEXT NOT NULL UNIQUE,
        campaign        TEXT NOT NULL,
        contact_id      TEXT NOT NULL,
        attempt_no      INTEGER NOT NULL,
        number          TEXT NOT NULL,
        caller_id       TEXT,
        started_at      DOUBLE PRECISION NOT NULL,
        answered_at     DOUBLE PRECISION,
        ended_at        DOUBLE PRECISION,
        outcome         TEXT,
        cause           INTEGER,
        digits          TEXT NOT NULL DEFAULT '',
        operator        TEXT,
        machine         BOOLEAN NOT NULL DEFAULT FALSE,
        detail          TEXT NOT NULL DEFAULT '',
        callback_result TEXT,
        UNIQUE (campaign, contact_id, attempt_no)
    );
    CREATE INDEX autoinformer_attempts_open ON autoinformer_attempts (campaign)
        WHERE outcome IS NULL;
    CREATE INDEX autoinformer_attempts_contact ON autoinformer_attempts (campaign, contact_id);
    CREATE INDEX autoinformer_attempts_counts
        ON autoinformer_attempts (campaign, outcome, machine);
    CREATE INDEX autoinformer_attempts_latest
        ON autoinformer_attempts (campaign, (COALESCE(ended_at, answered_at, started_at)), seq);
    CREATE TABLE autoinformer_meta (
        campaign TEXT NOT NULL,
        key      TEXT NOT NULL,
        value    TEXT NOT NULL,
        PRIMARY KEY (campaign, key)
    );
    """,
    # 2: leases, for several workers on one campaign (see "Leases" above)
    """
    ALTER TABLE autoinformer_contacts
        ADD COLUMN lease_owner TEXT,
        ADD COLUMN lease_until DOUBLE PRECISION;
    CREATE INDEX autoinformer_contacts_open ON autoinformer_contacts (campaign, seq)
        WHERE state IN ('pending', 'scheduled', 'in_call');
    """,
    # 3: campaign-wide limits across workers: lines, caller-ID caps, the abandon budget
    shared.MIGRATION,
    # 4: a cancel asked of a contact another worker holds; numbers looked up across workers
    shared.MIGRATION_4,
)

_TIMED = "(state = 'scheduled' OR (state = 'pending' AND next_at IS NOT NULL))"
"""Waiting for a time (the ``autoinformer_contacts_timed`` index's condition)."""

_LATEST = "COALESCE(a.ended_at, a.answered_at, a.started_at)"
"""An attempt's latest known time (the ``autoinformer_attempts_latest`` index's expression)."""

_NOT_OPEN = (
    "NOT EXISTS (SELECT 1 FROM autoinformer_contacts c WHERE c.campaign = a.campaign "
    "AND c.contact_id = a.contact_id AND c.state IN ('pending', 'scheduled', 'in_call'))"
)
"""For ``attempts a``: its contact is finished with (``closed_only``)."""

_PAGE = 5000
"""Rows read per query by the streaming reads (contacts, attempts)."""

_MIGRATION_LOCK = 0x6175746F  # pg_advisory_xact_lock key: "auto"


class PostgresStore(WorkerMethods, Store):
    """A campaign store in a PostgreSQL database, shareable by several processes.

    Args:
        conninfo: a libpq URL or ``key=value`` string (``postgresql://user@host/db``); the
            password comes from ``PGPASSWORD`` or ``~/.pgpass``, never from a file of ours.
        pool_size: the most connections kept open (the runtime's worker threads share them).
        connect_timeout: seconds to wait for the server before giving up with a StoreError.
    """

    def __init__(self, conninfo: str, *, pool_size: int = 4, connect_timeout: float = 10.0) -> None:
        self.target = _display(conninfo)
        try:
            with psycopg.connect(conninfo, connect_timeout=max(1, round(connect_timeout))) as db:
                self.schema_version = _migrate(db)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open store {self.target!r}: {exc}") from exc
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[dict[str, Any]]] = (
            psycopg_pool.ConnectionPool(
                conninfo,
                min_size=1,
                max_size=max(1, pool_size),
                kwargs={"row_factory": dict_row},
                timeout=connect_timeout,
                name="autoinformer",
                open=False,
            )
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except psycopg_pool.PoolTimeout as exc:
            raise StoreError(f"cannot open store {self.target!r}: {exc}") from exc

    def __repr__(self) -> str:
        return f"PostgresStore({self.target!r})"

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        """One transaction on a pooled connection: committed on return, rolled back on error."""
        try:
            with self._pool.connection() as conn, conn.cursor() as cur:
                yield cur
        except psycopg.errors.UniqueViolation:
            raise
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StoreError(f"store {self.target!r}: {exc}") from exc

    def add_contacts(self, campaign: str, contacts: Iterable[Contact]) -> int:
        added = 0
        iterator = iter(contacts)
        while chunk := list(islice(iterator, 5000)):
            with self._tx() as cur:
                # positions count per campaign (1, 2, 3... as in SQLite): one adder at a time
                cur.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"autoinformer.add_contacts:{campaign}",),
                )
                row = cur.execute(
                    "SELECT COALESCE(max(seq), 0) AS seq FROM autoinformer_contacts "
                    "WHERE campaign = %s",
                    (campaign,),
                ).fetchone()
                cur.execute(
                    "INSERT INTO autoinformer_contacts "
                    "(campaign, contact_id, seq, name, phones, variables, timezone) "
                    "SELECT %s, u.id, %s + u.n, u.name, u.phones::json, u.variables::json, u.tz "
                    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
                    "WITH ORDINALITY AS u(id, name, phones, variables, tz, n) "
                    "ON CONFLICT (campaign, contact_id) DO NOTHING",
                    (
                        campaign,
                        row["seq"] if row else 0,
                        [c.id for c in chunk],
                        [c.name for c in chunk],
                        [json.dumps(list(c.phones)) for c in chunk],
                        [json.dumps(dict(c.variables), ensure_ascii=False) for c in chunk],
                        [c.timezone for c in chunk],
                    ),
                )
                added += cur.rowcount
        return added

    def contacts(self, campaign: str) -> Iterator[tuple[Contact, ContactProgress]]:
        for row in self._pages("autoinformer_contacts", "campaign = %s", (campaign,)):
            _, contact, progress = _rows.stored_from(row)
            yield contact, progress

    def _pages(self, table: str, where: str, params: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
        """The rows of ``table`` matching ``where``, in ``seq`` order, read a page at a time
        (no transaction or connection held between pages: a big campaign streams)."""
        after = 0
        while True:
            with self._tx() as cur:
                rows = cur.execute(
                    f"SELECT * FROM {table} WHERE {where} AND seq > %s ORDER BY seq LIMIT %s",
                    (*params, after, _PAGE),
                ).fetchall()
            yield from rows
            if len(rows) < _PAGE:
                return
            after = int(rows[-1]["seq"])

    def save_progress(self, campaign: str, progress: ContactProgress) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE autoinformer_contacts SET state = %s, attempts = %s, next_at = %s, "
                "reason = %s WHERE campaign = %s AND contact_id = %s",
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
        with self._tx() as cur:
            cur.execute(
                "UPDATE autoinformer_contacts SET phones = %s::json "
                "WHERE campaign = %s AND contact_id = %s",
                (json.dumps(list(phones)), campaign, contact_id),
            )
            if cur.rowcount == 0:
                raise StoreError(f"campaign {campaign!r} has no contact {contact_id!r}")

    def begin_attempt(self, record: AttemptRecord) -> None:
        try:
            with self._tx() as cur:
                _rows.insert(cur, record)
        except psycopg.errors.UniqueViolation as exc:
            raise _rows.already_begun(record) from exc

    def finish_attempt(self, record: AttemptRecord) -> None:
        if record.outcome is None:
            raise StoreError(f"attempt {record.attempt_id!r} is finished without an outcome")
        with self._tx() as cur:
            _rows.finish(cur, record)

    def unfinished_attempts(self, campaign: str) -> list[AttemptRecord]:
        with self._tx() as cur:
            rows = cur.execute(
                "SELECT * FROM autoinformer_attempts WHERE campaign = %s AND outcome IS NULL "
                "ORDER BY seq",
                (campaign,),
            ).fetchall()
        return [_rows.attempt_from(r) for r in rows]

    def attempts(self, campaign: str, contact_id: str | None = None) -> Iterator[AttemptRecord]:
        if contact_id is None:
            rows = self._pages("autoinformer_attempts", "campaign = %s", (campaign,))
        else:
            rows = self._pages(
                "autoinformer_attempts", "campaign = %s AND contact_id = %s", (campaign, contact_id)
            )
        for row in rows:
            yield _rows.attempt_from(row)

    def set_meta(self, campaign: str, key: str, value: str) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO autoinformer_meta (campaign, key, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (campaign, key) DO UPDATE SET value = excluded.value",
                (campaign, key, value),
            )

    def get_meta(self, campaign: str, key: str) -> str | None:
        with self._tx() as cur:
            row = cur.execute(
                "SELECT value FROM autoinformer_meta WHERE campaign = %s AND key = %s",
                (campaign, key),
            ).fetchone()
        return None if row is None else str(row["value"])

    def campaigns(self) -> list[str]:
        """The campaigns the database holds (sorted): what ``report`` offers to choose from."""
        with self._tx() as cur:
            rows = cur.execute(
                "SELECT campaign FROM autoinformer_contacts UNION "
                "SELECT campaign FROM autoinformer_attempts ORDER BY 1"
            ).fetchall()
        return [str(r["campaign"]) for r in rows]

    # --- paging and aggregates (the runtime pages open contacts in; see Store) --------------

    def _read(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self._tx() as cur:
            return cur.execute(sql, params).fetchall()

    def queued_contacts(self, campaign: str, *, after: int = 0, limit: int) -> list[StoredContact]:
        rows = self._read(
            "SELECT * FROM autoinformer_contacts WHERE campaign = %s AND state = 'pending' "
            "AND next_at IS NULL AND seq > %s ORDER BY seq LIMIT %s",
            (campaign, after, limit),
        )
        return [_rows.stored_from(r) for r in rows]

    def timed_contacts(
        self, campaign: str, *, after: tuple[float, int] | None = None, limit: int
    ) -> list[StoredContact]:
        at, seq = after if after is not None else (float("-inf"), 0)
        rows = self._read(
            f"SELECT * FROM autoinformer_contacts WHERE campaign = %s AND {_TIMED} "
            "AND (COALESCE(next_at, 0.0), seq) > (%s::float8, %s::bigint) "
            "ORDER BY COALESCE(next_at, 0.0), seq LIMIT %s",
            (campaign, at, seq, limit),
        )
        return [_rows.stored_from(r) for r in rows]

    def in_call_contacts(self, campaign: str) -> list[StoredContact]:
        rows = self._read(
            "SELECT * FROM autoinformer_contacts c WHERE campaign = %s AND (state = 'in_call' "
            "OR EXISTS (SELECT 1 FROM autoinformer_attempts a WHERE a.campaign = c.campaign "
            "AND a.contact_id = c.contact_id AND a.outcome IS NULL)) ORDER BY seq",
            (campaign,),
        )
        return [_rows.stored_from(r) for r in rows]

    def contacts_by_id(self, campaign: str, ids: Collection[str]) -> list[StoredContact]:
        rows = self._read(
            "SELECT * FROM autoinformer_contacts WHERE campaign = %s AND contact_id = ANY(%s) "
            "ORDER BY seq",
            (campaign, list(dict.fromkeys(ids))),
        )
        return [_rows.stored_from(r) for r in rows]

    def attempts_for(self, campaign: str, contact_ids: Collection[str]) -> list[AttemptRecord]:
        rows = self._read(
            "SELECT * FROM autoinformer_attempts WHERE campaign = %s AND contact_id = ANY(%s) "
            "ORDER BY seq",
            (campaign, list(dict.fromkeys(contact_ids))),
        )
        return [_rows.attempt_from(r) for r in rows]

    def state_counts(self, campaign: str) -> dict[ContactState, int]:
        rows = self._read(
            "SELECT state, count(*) AS n FROM autoinformer_contacts WHERE campaign = %s "
            "GROUP BY state",
            (campaign,),
        )
        return {ContactState(r["state"]): int(r["n"]) for r in rows}

    def attempt_counts(self, campaign: str, *, closed_only: bool = False) -> dict[AttemptKey, int]:
        closed = f" AND {_NOT_OPEN}" if closed_only else ""
        rows = self._read(
            "SELECT a.outcome, a.machine, count(*) AS n FROM autoinformer_attempts a "
            f"WHERE a.campaign = %s{closed} GROUP BY a.outcome, a.machine",
            (campaign,),
        )
        return {
            AttemptKey(None if r["outcome"] is None else Outcome(r["outcome"]), r["machine"]): int(
                r["n"]
            )
            for r in rows
        }

    def window_attempts(
        self, campaign: str, since: float, *, closed_only: bool = False
    ) -> Iterator[AttemptTimes]:
        closed = f" AND {_NOT_OPEN}" if closed_only else ""
        at, after = since, -1
        while True:  # in pages along the attempts_latest index: nothing held between them
            rows = self._read(
                f"SELECT {_LATEST} AS latest, a.seq, a.contact_id, a.outcome, a.machine, "
                "a.started_at, a.answered_at, a.ended_at, a.caller_id "
                "FROM autoinformer_attempts a WHERE a.campaign = %s "
                f"AND ({_LATEST}, a.seq) > (%s::float8, %s::bigint) AND {_LATEST} >= %s "
                "AND ((a.answered_at IS NOT NULL AND NOT a.machine) OR a.outcome = 'abandoned' "
                f"OR a.caller_id IS NOT NULL){closed} ORDER BY {_LATEST}, a.seq LIMIT %s",
                (campaign, at, after, since, _PAGE),
            )
            for r in rows:
                yield AttemptTimes(
                    r["contact_id"],
                    None if r["outcome"] is None else Outcome(r["outcome"]),
                    r["machine"],
                    r["started_at"],
                    r["answered_at"],
                    r["ended_at"],
                    r["caller_id"],
                )
            if len(rows) < _PAGE:
                return
            at, after = rows[-1]["latest"], rows[-1]["seq"]

    def skip_reasons(self, campaign: str, *, examples: int) -> list[SkipReason]:
        rows = self._read(
            "SELECT r.reason, r.n, ARRAY(SELECT contact_id FROM autoinformer_contacts "
            "  WHERE campaign = %(c)s AND state = 'skipped' AND reason = r.reason "
            "  ORDER BY seq LIMIT %(k)s) AS ids "
            "FROM (SELECT reason, count(*) AS n FROM autoinformer_contacts "
            "  WHERE campaign = %(c)s AND state = 'skipped' GROUP BY reason) AS r "
            'ORDER BY r.n DESC, r.reason COLLATE "C"',
            {"c": campaign, "k": examples},
        )
        return [SkipReason(r["reason"], int(r["n"]), tuple(r["ids"] or ())) for r in rows]

    def known_ids(self, campaign: str, ids: Collection[str]) -> set[str]:
        rows = self._read(
            "SELECT contact_id FROM autoinformer_contacts WHERE campaign = %s "
            "AND contact_id = ANY(%s)",
            (campaign, list(dict.fromkeys(ids))),
        )
        return {r["contact_id"] for r in rows}

    def close(self) -> None:
        self._pool.close()


def _display(conninfo: str) -> str:
    """The connection string as printed: a URL with ``***`` for its password, or the
    ``key=value`` form without its password."""
    if is_postgres_url(conninfo):
        return redacted(conninfo)
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "(an invalid connection string)"
    params.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **params)


def _migrate(db: psycopg.Connection[Any]) -> int:
    """Bring the schema to the newest version (one transaction, one migrator at a time)."""
    with db.transaction(), db.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        cur.execute("CREATE TABLE IF NOT EXISTS autoinformer_schema (version INTEGER NOT NULL)")
        row = cur.execute("SELECT max(version) FROM autoinformer_schema").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > len(_MIGRATIONS):
            raise StoreError(
                f"the database's schema is version {current}, newer than this autoinformer "
                f"knows ({len(_MIGRATIONS)}): upgrade autoinformer"
            )
        for version, script in enumerate(_MIGRATIONS[current:], start=current + 1):
            cur.execute(script)
            cur.execute("INSERT INTO autoinformer_schema (version) VALUES (%s)", (version,))
    return len(_MIGRATIONS)
