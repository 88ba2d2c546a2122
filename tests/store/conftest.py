"""The store tests' fixtures: ``postgres_url``, an empty schema on the test PostgreSQL, and
``store``, each of the three stores in turn (a test file may define its own)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from autoinformer.store import MemoryStore, SqliteStore, Store
from autoinformer.testing.postgres_fixture import postgres_url

__all__ = ["postgres_url", "store"]


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A memory, an SQLite and a PostgreSQL store (skipped without a server or psycopg)."""
    s: Store
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        from autoinformer.store.postgres import PostgresStore

        s = PostgresStore(url)
    else:
        s = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "store.db")
    yield s
    s.close()
