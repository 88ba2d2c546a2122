"""Durable stores: the contract, an in-memory store, SQLite (the embedded default)."""

from autoinformer.store.base import Store
from autoinformer.store.memory import MemoryStore
from autoinformer.store.sqlite import SqliteStore

__all__ = ["MemoryStore", "SqliteStore", "Store"]
