"""Store lookups a resume needs without reading every attempt (#13 item 7):
:meth:`Store.attempts_by_id` (orphan cleanup) and :meth:`Store.latest_attempt_time` (where a
resumed clock starts). Every store answers the same; the base class's defaults (a full read,
for a store that does not override them) too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.store import MemoryStore, SqliteStore, Store

C = "lookups"


class _Defaults(MemoryStore):
    """A store relying on the contract's default implementations."""

    attempts_by_id = Store.attempts_by_id
    latest_attempt_time = Store.latest_attempt_time


@pytest.fixture(params=["memory", "sqlite", "defaults"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store
    if request.param == "sqlite":
        s = SqliteStore(tmp_path / "l.db", durability="normal")
    else:
        s = MemoryStore() if request.param == "memory" else _Defaults()
    yield s
    s.close()


def _record(cid: str, no: int, started: float, **kw: object) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=f"{cid}-{no}",
        campaign=kw.pop("campaign", C),  # type: ignore[arg-type]
        contact_id=cid,
        attempt_no=no,
        number="+79500000000",
        started_at=started,
        caller_id=kw.pop("caller_id", None),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def _fill(store: Store) -> None:
    store.add_contacts(C, [Contact(id=f"c{i}", phones=("+79500000000",)) for i in range(3)])
    # c0: finished, ended late; c1: answered, never finished; c2: begun only, started last
    store.begin_attempt(_record("c0", 1, 100.0))
    store.finish_attempt(
        _record("c0", 1, 100.0, answered_at=110.0, ended_at=500.0, outcome=Outcome.DELIVERED)
    )
    store.begin_attempt(_record("c1", 1, 200.0))
    store.begin_attempt(_record("c2", 1, 300.0))
    store.begin_attempt(_record("c0", 2, 150.0))
    store.finish_attempt(_record("c0", 2, 150.0, ended_at=160.0, outcome=Outcome.NO_ANSWER))


def test_attempts_by_id_in_the_order_begun_unknown_left_out_repeats_once(store: Store) -> None:
    _fill(store)
    found = store.attempts_by_id(C, ["c0-2", "nobody", "c2-1", "c0-1", "c0-2"])
    assert [r.attempt_id for r in found] == ["c0-1", "c2-1", "c0-2"]
    assert found[0].outcome is Outcome.DELIVERED
    assert found[0].ended_at == 500.0
    assert found[1].outcome is None  # unfinished attempts are found too
    assert store.attempts_by_id(C, []) == []
    assert store.attempts_by_id("another", ["c0-1"]) == []


def test_attempts_by_id_only_of_the_campaign(store: Store) -> None:
    _fill(store)
    store.add_contacts("other", [Contact(id="x", phones=("+79500000000",))])
    store.begin_attempt(_record("x", 1, 900.0, campaign="other"))
    assert [r.attempt_id for r in store.attempts_by_id(C, ["x-1", "c1-1"])] == ["c1-1"]
    assert [r.campaign for r in store.attempts_by_id("other", ["x-1"])] == ["other"]


def test_latest_attempt_time_is_the_max_of_each_attempts_latest_known_time(
    store: Store,
) -> None:
    assert store.latest_attempt_time(C) is None
    _fill(store)
    assert store.latest_attempt_time(C) == 500.0  # c0-1's end, though c2 started later
    store.begin_attempt(_record("c1", 2, 700.0))  # begun only: its start counts
    assert store.latest_attempt_time(C) == 700.0
    store.finish_attempt(
        _record("c1", 2, 700.0, answered_at=705.0, ended_at=None, outcome=Outcome.UNKNOWN)
    )
    assert store.latest_attempt_time(C) == 705.0  # no end: the answer is its latest time
    assert store.latest_attempt_time("another") is None
