"""The store contract's paging and aggregates (#13 item 7): every store answers the same.

A start reads one page of open contacts, never the whole campaign; counts come from aggregates.
These tests hold each store (the in-memory one, SQLite, and any new one added to the fixture)
to the exact answers ``store/base.py`` documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store import MemoryStore, SqliteStore, Store
from autoinformer.store.base import AttemptKey, AttemptTimes, SkipReason

C = "paging"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")  # skips without a server or psycopg
        from autoinformer.store.postgres import PostgresStore

        s = PostgresStore(url)
    else:
        s = (
            MemoryStore()
            if request.param == "memory"
            else SqliteStore(tmp_path / "p.db", durability="normal")
        )
    yield s
    s.close()


def _add(store: Store, n: int, campaign: str = C) -> list[str]:
    contacts = [Contact(id=f"c{i:03d}", phones=(f"+7950{i:07d}",)) for i in range(n)]
    store.add_contacts(campaign, contacts)
    return [c.id for c in contacts]


def _set(store: Store, cid: str, state: ContactState, **kw: object) -> None:
    store.save_progress(C, ContactProgress(contact_id=cid, state=state, **kw))  # type: ignore[arg-type]


def _attempt(cid: str, no: int, **kw: object) -> AttemptRecord:
    fields: dict[str, object] = {"started_at": 1000.0 + no, "caller_id": None}
    fields.update(kw)
    return AttemptRecord(
        attempt_id=f"{cid}-{no}",
        campaign=C,
        contact_id=cid,
        attempt_no=no,
        number="+79500000000",
        **fields,  # type: ignore[arg-type]
    )


def _finish(store: Store, cid: str, no: int, outcome: Outcome, **kw: object) -> AttemptRecord:
    store.begin_attempt(_attempt(cid, no, **kw))
    record = _attempt(cid, no, outcome=outcome, **kw)
    store.finish_attempt(record)
    return record


def test_queued_pages_in_order_with_a_cursor_and_only_pending_untimed(store: Store) -> None:
    ids = _add(store, 10)
    _set(store, "c001", ContactState.DONE)
    _set(store, "c002", ContactState.SCHEDULED, attempts=1, next_at=5.0)
    _set(store, "c003", ContactState.PENDING, next_at=7.0)  # waiting for a time: not queued
    _set(store, "c004", ContactState.IN_CALL, attempts=1)
    _set(store, "c005", ContactState.PENDING, attempts=1)  # requeued after a refusal: queued
    first = store.queued_contacts(C, limit=3)
    assert [r.contact.id for r in first] == ["c000", "c005", "c006"]
    assert [r.seq for r in first] == [1, 6, 7]
    assert first[1].progress.attempts == 1
    assert first[0].contact.phones == ("+79500000000",)
    second = store.queued_contacts(C, after=first[-1].seq, limit=3)
    assert [r.contact.id for r in second] == ["c007", "c008", "c009"]
    assert store.queued_contacts(C, after=second[-1].seq, limit=3) == []
    assert store.queued_contacts("other", limit=3) == []
    assert len(ids) == 10


def test_paging_the_queue_returns_each_contact_once(store: Store) -> None:
    ids = _add(store, 57)
    seen: list[str] = []
    after = 0
    while page := store.queued_contacts(C, after=after, limit=8):
        seen += [r.contact.id for r in page]
        after = page[-1].seq
        assert len(page) <= 8
    assert seen == ids


def test_timed_pages_by_due_time_then_order_added(store: Store) -> None:
    _add(store, 8)
    _set(store, "c000", ContactState.SCHEDULED, attempts=1, next_at=50.0)
    _set(store, "c001", ContactState.PENDING, next_at=20.0)  # a window wait
    _set(store, "c002", ContactState.SCHEDULED, attempts=1, next_at=20.0)
    _set(store, "c003", ContactState.SCHEDULED, attempts=2)  # no time: due at once (0.0)
    _set(store, "c004", ContactState.EXHAUSTED, attempts=3)
    _set(store, "c005", ContactState.SCHEDULED, attempts=1, next_at=-1.0)
    order = ["c005", "c003", "c001", "c002", "c000"]
    whole = store.timed_contacts(C, limit=100)
    assert [r.contact.id for r in whole] == order
    assert whole[1].progress.next_at is None
    page = store.timed_contacts(C, limit=3)
    assert [r.contact.id for r in page] == order[:3]
    last = page[-1]
    cursor = (last.progress.next_at or 0.0, last.seq)
    assert cursor == (20.0, 2)
    rest = store.timed_contacts(C, after=cursor, limit=3)
    assert [r.contact.id for r in rest] == order[3:]  # the tie at 20.0 goes on by seq
    assert store.timed_contacts(C, after=(50.0, 1), limit=3) == []
    assert [r.contact.id for r in store.timed_contacts(C, after=(20.0, 3), limit=9)] == ["c000"]


def test_in_call_contacts_are_the_in_call_ones_and_those_with_an_unfinished_attempt(
    store: Store,
) -> None:
    _add(store, 6)
    _set(store, "c004", ContactState.IN_CALL, attempts=1)
    store.begin_attempt(_attempt("c004", 1))
    store.begin_attempt(_attempt("c001", 1))  # the process died before saving its progress
    _finish(store, "c002", 1, Outcome.DELIVERED)
    _set(store, "c002", ContactState.DONE, attempts=1)
    _set(store, "c003", ContactState.IN_CALL, attempts=2)
    found = store.in_call_contacts(C)
    assert [r.contact.id for r in found] == ["c001", "c003", "c004"]
    assert [r.progress.state for r in found] == [
        ContactState.PENDING,
        ContactState.IN_CALL,
        ContactState.IN_CALL,
    ]


def test_contacts_by_id_and_known_ids(store: Store) -> None:
    _add(store, 5)
    found = store.contacts_by_id(C, ["c003", "nobody", "c001", "c003"])
    assert [(r.seq, r.contact.id) for r in found] == [(2, "c001"), (4, "c003")]
    assert store.known_ids(C, ["c004", "x", "c000"]) == {"c000", "c004"}
    assert store.known_ids("other", ["c000"]) == set()
    many = [f"c{i:03d}" for i in range(5)] + [f"n{i}" for i in range(1200)]  # past one chunk
    assert len(store.known_ids(C, many)) == 5
    assert len(store.contacts_by_id(C, many)) == 5


def test_attempts_for_some_contacts_in_the_order_begun(store: Store) -> None:
    _add(store, 3)
    _finish(store, "c001", 1, Outcome.NO_ANSWER)
    _finish(store, "c000", 1, Outcome.BUSY)
    store.begin_attempt(_attempt("c001", 2))
    _finish(store, "c002", 1, Outcome.DELIVERED)
    got = store.attempts_for(C, ["c001", "c000"])
    assert [r.attempt_id for r in got] == ["c001-1", "c000-1", "c001-2"]
    assert got[2].outcome is None
    assert store.attempts_for(C, []) == []


def test_state_and_attempt_counts_are_aggregates_of_the_whole_campaign(store: Store) -> None:
    _add(store, 6)
    _add(store, 2, campaign="other")
    _set(store, "c000", ContactState.DONE, attempts=1)
    _set(store, "c001", ContactState.DONE, attempts=2)
    _set(store, "c002", ContactState.SCHEDULED, attempts=1, next_at=9.0)
    _set(store, "c003", ContactState.SKIPPED, reason="no phone number")
    assert store.state_counts(C) == {
        ContactState.DONE: 2,
        ContactState.SCHEDULED: 1,
        ContactState.SKIPPED: 1,
        ContactState.PENDING: 2,
    }
    _finish(store, "c000", 1, Outcome.DELIVERED)
    _finish(store, "c001", 1, Outcome.DELIVERED, machine=True)
    _finish(store, "c001", 2, Outcome.DELIVERED)
    _finish(store, "c002", 1, Outcome.NO_ANSWER)
    store.begin_attempt(_attempt("c002", 2))
    store.begin_attempt(_attempt("c004", 1))  # died before its progress was saved: still open
    assert store.attempt_counts(C) == {
        AttemptKey(Outcome.DELIVERED, False): 2,
        AttemptKey(Outcome.DELIVERED, True): 1,
        AttemptKey(Outcome.NO_ANSWER, False): 1,
        AttemptKey(None, False): 2,
    }
    # closed only: c002 is still open (scheduled), so its attempts are left out
    assert store.attempt_counts(C, closed_only=True) == {
        AttemptKey(Outcome.DELIVERED, False): 2,
        AttemptKey(Outcome.DELIVERED, True): 1,
    }
    assert store.attempt_counts("nobody") == {}


def test_window_attempts_by_latest_known_time(store: Store) -> None:
    _add(store, 4)
    _finish(store, "c000", 1, Outcome.DELIVERED, started_at=10.0, answered_at=12.0, ended_at=40.0)
    _finish(store, "c001", 1, Outcome.NO_ANSWER, started_at=20.0)  # not needed: not answered
    _finish(store, "c001", 2, Outcome.NO_ANSWER, started_at=33.0, caller_id="+74950000001")
    _finish(store, "c002", 1, Outcome.DELIVERED, started_at=5.0, answered_at=31.0)
    _finish(store, "c003", 1, Outcome.DELIVERED, started_at=30.0, answered_at=31.0, machine=True)
    _finish(store, "c003", 2, Outcome.ABANDONED, started_at=32.0, answered_at=34.0)
    store.begin_attempt(_attempt("c003", 3, started_at=35.0, caller_id="+74950000002"))
    got = list(store.window_attempts(C, 30.0))
    assert got == [  # by latest known time: 31, 33, 34, 35, 40
        AttemptTimes("c002", Outcome.DELIVERED, False, 5.0, 31.0, None, None),
        AttemptTimes("c001", Outcome.NO_ANSWER, False, 33.0, None, None, "+74950000001"),
        AttemptTimes("c003", Outcome.ABANDONED, False, 32.0, 34.0, None, None),
        AttemptTimes("c003", None, False, 35.0, None, None, "+74950000002"),
        AttemptTimes("c000", Outcome.DELIVERED, False, 10.0, 12.0, 40.0, None),
    ]
    _set(store, "c000", ContactState.DONE, attempts=1)
    _set(store, "c001", ContactState.SCHEDULED, attempts=1, next_at=99.0)
    _set(store, "c002", ContactState.PENDING, attempts=1)
    # c003's progress was never saved: its unfinished attempt says it is in a call
    closed = store.window_attempts(C, 30.0, closed_only=True)
    assert [r.contact_id for r in closed] == ["c000"]
    assert list(store.window_attempts(C, 41.0)) == []


def test_window_attempts_streams_long_answers_whole(store: Store) -> None:
    ids = _add(store, 5600)
    for i, cid in enumerate(ids):
        _finish(store, cid, 1, Outcome.DELIVERED, started_at=float(i), answered_at=i + 0.5)
    got = [r.started_at for r in store.window_attempts(C, 100.0)]
    assert got == [float(i) for i in range(100, 5600)]


def test_skip_reasons_count_and_name_the_first_examples(store: Store) -> None:
    _add(store, 9)
    for cid in ("c007", "c001", "c004", "c008"):
        _set(store, cid, ContactState.SKIPPED, reason="no phone number")
    for cid in ("c006", "c002"):
        _set(store, cid, ContactState.SKIPPED, reason="do-not-call list")
    _set(store, "c005", ContactState.SKIPPED, reason="a lone one")
    _set(store, "c003", ContactState.SKIPPED)
    _set(store, "c000", ContactState.DONE, reason="delivered")
    assert store.skip_reasons(C, examples=3) == [
        SkipReason("no phone number", 4, ("c001", "c004", "c007")),
        SkipReason("do-not-call list", 2, ("c002", "c006")),
        SkipReason("", 1, ("c003",)),
        SkipReason("a lone one", 1, ("c005",)),
    ]
    assert store.skip_reasons("other", examples=3) == []
