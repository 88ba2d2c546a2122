"""A campaign file's contact list is read into the store once, not at every start.

``autoinformer run`` resumes a campaign by being run again. Reading and validating a
1,000,000-row list takes ~20 s and holds every contact in memory, although the store already
has them all from the first start (issue #13 item 7: a resume's first call within 5 s). So the
first start writes the valid contacts into the store itself and only then remembers the
list's fingerprint (the file's bytes, the phone settings that judged its rows and the library
version) with the count of rows it rejected, the columns it had and how many contacts the store
holds once the run has written them. A later start whose list has the same fingerprint skips
the file; any change to the file (an edited row, rows added) reads it again, and the store
keeps the contacts it has (ids already present stay as they are).

The run itself writes the contacts (it alone knows which new ones share a number with earlier
ones), after the memo. The memo therefore names the store's expected contact count, and is
believed only when the store holds at least that many: a crash before the contacts were
written means the next start reads the file again, never that contacts are missed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import attrs

from autoinformer._version import __version__
from autoinformer.contacts import Contact

__all__ = ["LIST_MEMO_KEY", "ListMemo", "fingerprint", "recall", "remember"]

LIST_MEMO_KEY = "contact_list_memo"
"""The store meta key of the memo (JSON)."""

_CHUNK = 1 << 20


@attrs.frozen(kw_only=True)
class ListMemo:
    """What the first read of a list found.

    Attributes:
        fingerprint: see :func:`fingerprint`.
        contacts: valid contacts the list had.
        rejected: rows rejected (printed at that start).
        columns: the variable names the contacts had, in first-seen order.
        stored: the campaign's contacts in the store once the list is written.
    """

    fingerprint: str
    contacts: int
    rejected: int
    columns: tuple[str, ...]
    stored: int


def fingerprint(path: Path, region: str | None, countries: list[str]) -> str:
    """SHA-256 of the list's bytes and of what judged its rows (region, countries, version)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    digest.update(json.dumps([region, countries, __version__]).encode())
    return digest.hexdigest()


def recall(store: Any, campaign: str, current: str) -> ListMemo | None:
    """The memo of a list with this fingerprint already in the store, or None (read it)."""
    text = store.get_meta(campaign, LIST_MEMO_KEY)
    if text is None:
        return None
    try:
        data = json.loads(text)
        memo = ListMemo(
            fingerprint=str(data["fingerprint"]),
            contacts=int(data["contacts"]),
            rejected=int(data["rejected"]),
            columns=tuple(str(column) for column in data["columns"]),
            stored=int(data["stored"]),
        )
    except (ValueError, KeyError, TypeError):
        return None  # unreadable memo: read the list again
    if memo.fingerprint != current or _stored(store, campaign) < memo.stored:
        return None  # another list, or its contacts never reached the store
    return memo


def remember(
    store: Any, campaign: str, current: str, contacts: list[Contact], rejected: int
) -> ListMemo:
    """Remember a list just read, before the run writes its ``contacts`` (see the module)."""
    ids = {contact.id for contact in contacts}
    new = len(ids - store.known_ids(campaign, ids))
    columns: dict[str, None] = {}
    for contact in contacts:
        columns.update(dict.fromkeys(contact.variables))
    memo = ListMemo(
        fingerprint=current,
        contacts=len(contacts),
        rejected=rejected,
        columns=tuple(columns),
        stored=_stored(store, campaign) + new,
    )
    store.set_meta(campaign, LIST_MEMO_KEY, json.dumps(attrs.asdict(memo)))
    return memo


def _stored(store: Any, campaign: str) -> int:
    return sum(store.state_counts(campaign).values())
