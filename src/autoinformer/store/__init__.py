"""Durable stores: the contract, an in-memory store, SQLite (the embedded default), and
PostgreSQL (``PostgresStore``, several workers; imported on first use: it needs the
``autoinformer[postgres]`` extra)."""

from typing import Any

from autoinformer.store.base import Store
from autoinformer.store.memory import MemoryStore
from autoinformer.store.sqlite import SqliteStore

__all__ = ["MemoryStore", "PostgresStore", "SqliteStore", "Store"]


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":  # psycopg is optional: imported only when asked for
        from autoinformer.store.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
