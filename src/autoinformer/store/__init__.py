"""Durable stores: the contract, an in-memory store, SQLite (the embedded default)."""

from autoinformer.store.base import Store

__all__ = ["Store"]
