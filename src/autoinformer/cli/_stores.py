"""Opening stores for the commands: the one a run writes (a SQLite file or a PostgreSQL URL),
and, for ``report`` and ``export``, an existing one and its campaigns."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs

from autoinformer.errors import InputError, StoreError
from autoinformer.store.base import Store
from autoinformer.store.sqlite import SqliteStore
from autoinformer.store.urls import PASSWORD_HELP, has_password, is_postgres_url, redacted

__all__ = [
    "StoreLocation",
    "campaign_lock",
    "choose_campaign",
    "open_existing_store",
    "open_run_store",
    "store_argument",
    "store_campaigns",
]


@attrs.frozen
class StoreLocation:
    """Where a run's results go, as the commands print it.

    Attributes:
        name: the SQLite file's path, or the PostgreSQL URL (never with a password).
        folder: where files kept beside the store go (the speech cache): the SQLite file's
            folder; for a database, a folder in the temporary directory named after it.
    """

    name: str
    folder: Path

    def __str__(self) -> str:
        return self.name


def open_run_store(target: str | None, *, option: str = "--store") -> tuple[Store, StoreLocation]:
    """The store a run writes: a ``postgresql://`` URL, a SQLite file (resumed if it exists),
    or, with no ``target``, a new temporary SQLite file.

    SQLite commits are synced the ``normal`` way (WAL): every committed write survives the
    process being killed at any moment; only a power cut may lose the last few.

    Raises:
        InputError: the URL carries a password (``option`` names where it was given): it would
            sit in shell history, the process list and every printed resume command.
        StoreError: the database cannot be reached or its schema is newer than ours.
    """
    if target is not None and is_postgres_url(target):
        _refuse_password(target, option)
        try:
            from autoinformer.store.postgres import PostgresStore
        except ImportError as exc:
            raise InputError(f"{option}: {exc}") from None
        name = redacted(target)
        digest = hashlib.sha256(name.encode()).hexdigest()[:12]
        folder = Path(tempfile.gettempdir()) / f"autoinformer-{digest}"
        return PostgresStore(target), StoreLocation(name, folder)
    if target is None:
        path = Path(tempfile.mkdtemp(prefix="autoinformer-")) / "campaign.sqlite"
    else:
        path = Path(target)
    return SqliteStore(path, durability="normal"), StoreLocation(str(path), path.parent)


LOCK_WAIT_SECONDS = 60.0
"""How long a starting worker waits for another's start to finish (:func:`campaign_lock`)."""


@contextlib.contextmanager
def campaign_lock(url: str, campaign: str, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the campaign's PostgreSQL advisory lock: several workers starting at once import
    the contact list and anchor the shared clock one after the other, not over each other.

    A session lock on a connection of its own (not the store's pool): it is released when
    the block ends, or by the server if the process dies inside it.

    Raises:
        StoreError: the database cannot be reached, or the lock was not had within ``wait``
            seconds (another worker's start is stuck).
    """
    import psycopg

    key = f"autoinformer:campaign:{campaign}"
    where = f"{redacted(url)}: cannot hold campaign {campaign!r}'s start lock"
    try:
        db = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreError(f"{where} ({exc})") from None
    with db:
        try:
            db.execute(f"SET lock_timeout = {int(wait * 1000)}")
            db.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (key,))
        except psycopg.Error as exc:
            raise StoreError(f"{where} ({exc})") from None
        yield  # closing the connection releases the lock, whatever the block raised


def store_argument(value: str) -> Path | str:
    """``report``'s and ``export``'s STORE: a ``postgresql://`` URL kept as text, else a file."""
    return value if is_postgres_url(value) else Path(value)


def _refuse_password(url: str, option: str) -> None:
    if has_password(url):
        raise InputError(
            f"{option}: the PostgreSQL URL carries a password; {PASSWORD_HELP} instead "
            "(libpq reads both)"
        )


def _postgres_campaigns(url: str) -> list[str]:
    """The campaigns a database holds, read without creating the store's tables."""
    _refuse_password(url, "STORE")
    try:
        import psycopg
    except ImportError:
        raise InputError(
            f"{url}: the PostgreSQL store needs psycopg: pip install 'autoinformer[postgres]'"
        ) from None
    try:
        with psycopg.connect(url, connect_timeout=10) as db:
            found = db.execute("SELECT to_regclass('autoinformer_contacts')").fetchone()
            if found is None or found[0] is None:
                raise InputError(f"{url}: no autoinformer store in that database")
            rows = db.execute(
                "SELECT campaign FROM autoinformer_contacts UNION "
                "SELECT campaign FROM autoinformer_attempts"
            ).fetchall()
    except psycopg.Error as exc:
        raise InputError(f"{redacted(url)}: cannot read the store ({exc})") from None
    return sorted(str(name) for (name,) in rows)


def store_campaigns(path: Path | str) -> list[str]:
    """The campaigns a store holds (sorted), read without writing to it: a SQLite file, or a
    PostgreSQL database given by URL.

    Raises:
        InputError: the file is missing or is not an autoinformer store; the database cannot
            be reached or holds none.
    """
    if isinstance(path, str):
        return _postgres_campaigns(path)
    if not path.is_file():
        raise InputError(f"{path}: no such store (give the file a run's --store wrote)")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT campaign FROM contacts UNION SELECT campaign FROM attempts"
            ).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise InputError(f"{path}: not an autoinformer store ({exc})") from None
    return sorted(str(name) for (name,) in rows)


def choose_campaign(path: Path | str, name: str | None) -> str:
    """The campaign to report on: ``name``, or the store's only one.

    Raises:
        InputError: the store has no such campaign, none, or several and no name was given.
    """
    names = store_campaigns(path)
    if name is not None:
        if name not in names:
            have = ", ".join(repr(n) for n in names) or "none"
            raise InputError(f"{path}: no campaign {name!r} (the store has: {have})")
        return name
    if not names:
        raise InputError(f"{path}: the store holds no campaign yet")
    if len(names) > 1:
        have = ", ".join(repr(n) for n in names)
        raise InputError(
            f"{path}: the store holds several campaigns ({have}); pick one with --campaign"
        )
    return names[0]


def open_existing_store(path: Path | str) -> Store:
    """The store at ``path`` (a file, or a PostgreSQL URL), which must exist (a report never
    creates an empty store)."""
    store_campaigns(path)  # raises a clear InputError for a missing or foreign store
    if isinstance(path, str):
        from autoinformer.store.postgres import PostgresStore

        return PostgresStore(path)
    return SqliteStore(path, durability="normal")
