"""What ``report`` and ``export`` share: opening an existing store and naming its campaigns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from autoinformer.errors import InputError
from autoinformer.store.sqlite import SqliteStore

__all__ = ["choose_campaign", "open_existing_store", "store_campaigns"]


def store_campaigns(path: Path) -> list[str]:
    """The campaigns a store file holds (sorted), read without writing to it.

    Raises:
        InputError: the file is missing or is not an autoinformer store.
    """
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


def choose_campaign(path: Path, name: str | None) -> str:
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


def open_existing_store(path: Path) -> SqliteStore:
    """The store at ``path``, which must exist (a report never creates an empty store)."""
    store_campaigns(path)  # raises a clear InputError for a missing or foreign file
    return SqliteStore(path, durability="normal")
