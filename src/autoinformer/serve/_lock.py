"""One server per PostgreSQL schema: a session advisory lock, held while the server runs.

Why: a server resumes every campaign its registry says is running. Two servers on one
database would both run them, each believing it owns the campaign; the store still refuses to
begin one attempt twice, but the loser's campaign would fail on it and both would page the same
contacts. Until several workers share a campaign by lease (#17), a server holds this lock on
its own connection for as long as it serves; a second one is refused at start with a message
that says why. The lock goes with the connection: a server that stops, or is killed, frees it
(a host that vanishes: once the database's TCP keepalive notices).

The key is per schema (``current_schema()``), so servers in separate schemas of one database
(libpq ``options=-csearch_path%3D...``, as the tests use) do not exclude each other.
"""

from __future__ import annotations

from typing import Any

from autoinformer.errors import StoreError
from autoinformer.store.urls import redacted

__all__ = ["SERVE_LOCK_CLASS", "ServerLock"]

SERVE_LOCK_CLASS = 0x6175746F
"""The advisory lock's first key ("auto"); the second is the schema name's hash."""


class ServerLock:
    """The lock of one server on one PostgreSQL schema; :meth:`release` (or exit) frees it.

    Raises:
        StoreError: (on construction) the database cannot be reached, or another server
            holds the lock.
    """

    def __init__(self, url: str) -> None:
        import psycopg

        try:
            self._db: Any = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open store {redacted(url)!r}: {exc}") from None
        try:
            row = self._db.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(current_schema())), current_schema()",
                (SERVE_LOCK_CLASS,),
            ).fetchone()
        except psycopg.Error as exc:
            self._db.close()
            raise StoreError(f"cannot lock store {redacted(url)!r}: {exc}") from None
        locked, schema = row if row is not None else (False, "?")
        if not locked:
            self._db.close()
            raise StoreError(
                f"another autoinformer serve is running on {redacted(url)} (schema {schema}): "
                "one server per database schema, or both would run its campaigns; stop it, "
                "or give this one a schema of its own (?options=-csearch_path%3Dname)"
            )

    def release(self) -> None:
        """Free the lock (closing the connection frees it)."""
        self._db.close()

    def __enter__(self) -> ServerLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
