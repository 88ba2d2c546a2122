"""Leases on PostgreSQL (#17): several workers, one campaign, no contact taken twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress

CAMPAIGN = "debt"


def _contacts(n: int) -> list[Contact]:
    return [Contact(id=f"c{i:04d}", name=f"P{i}", phones=(f"+7950888{i:04d}",)) for i in range(n)]


def _attempt(contact: str, no: int = 1, **kw: Any) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=f"{contact}-{no}",
        campaign=CAMPAIGN,
        contact_id=contact,
        attempt_no=no,
        number="+79508880001",
        caller_id=None,
        started_at=100.0,
        **kw,
    )


@pytest.fixture
def store(postgres_url: str) -> Iterator[Any]:
    from autoinformer.store.postgres import PostgresStore

    with PostgresStore(postgres_url) as s:
        yield s


@pytest.fixture
def other(postgres_url: str) -> Iterator[Any]:
    """A second worker: its own store, its own connections."""
    from autoinformer.store.postgres import PostgresStore

    with PostgresStore(postgres_url) as s:
        yield s


def test_two_workers_taking_at_once_never_take_the_same_contact(postgres_url: str) -> None:
    """Four workers (own connections) drain 600 contacts concurrently, 7 at a time: every
    contact leased exactly once."""
    from autoinformer.store.postgres import PostgresStore

    with PostgresStore(postgres_url) as seed:
        seed.add_contacts(CAMPAIGN, _contacts(600))
    taken: dict[str, list[str]] = {}
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(worker: str) -> None:
        try:
            with PostgresStore(postgres_url, pool_size=1) as mine:
                start.wait()
                got: list[str] = []
                while batch := mine.take_leases(CAMPAIGN, worker, now=0.0, ttl=60.0, limit=7):
                    got += [lease.contact_id for lease in batch]
                taken[worker] = got
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    everything = [cid for got in taken.values() for cid in got]
    assert len(everything) == len(set(everything)) == 600
    with PostgresStore(postgres_url) as check:
        holders = check.lease_holders(CAMPAIGN)
    assert {cid: owner for cid, (owner, _) in holders.items()} == {
        cid: worker for worker, got in taken.items() for cid in got
    }


def test_rows_another_transaction_locks_are_skipped_not_waited_for(
    store: Any, postgres_url: str
) -> None:
    import psycopg

    store.add_contacts(CAMPAIGN, _contacts(10))
    with psycopg.connect(postgres_url) as holder:  # a worker mid-take: rows c0000-c0003 locked
        holder.execute(
            "SELECT 1 FROM autoinformer_contacts WHERE campaign = %s AND contact_id = ANY(%s) "
            "FOR UPDATE",
            (CAMPAIGN, ["c0000", "c0001", "c0002", "c0003"]),
        )
        got = store.take_leases(CAMPAIGN, "w2", now=0.0, ttl=30.0, limit=3)
        assert [lease.contact_id for lease in got] == ["c0004", "c0005", "c0006"]
        holder.rollback()
    got = store.take_leases(CAMPAIGN, "w2", now=0.0, ttl=30.0, limit=10)
    assert [lease.contact_id for lease in got] == [
        "c0000",
        "c0001",
        "c0002",
        "c0003",
        "c0007",
        "c0008",
        "c0009",
    ]


def test_only_due_contacts_are_taken(store: Any) -> None:
    store.add_contacts(CAMPAIGN, _contacts(4))
    store.save_progress(CAMPAIGN, ContactProgress("c0000", ContactState.SCHEDULED, 1, 50.0))
    store.save_progress(CAMPAIGN, ContactProgress("c0001", ContactState.DONE, 1))
    store.save_progress(CAMPAIGN, ContactProgress("c0002", ContactState.SCHEDULED, 1, 5.0))
    got = store.take_leases(CAMPAIGN, "w1", now=10.0, ttl=30.0, limit=10)
    assert [lease.contact_id for lease in got] == ["c0002", "c0003"]
    assert got[0].progress == ContactProgress("c0002", ContactState.SCHEDULED, 1, 5.0)
    assert got[0].taken_from is None
    assert got[0].until == 40.0
    # at 39 the leases taken at 10 still hold; c0000 is not due yet
    assert store.take_leases(CAMPAIGN, "w2", now=39.0, ttl=30, limit=9) == []
    # at 50 c0000 is due, and the leases taken at 10 (until 40) have run out
    later = store.take_leases(CAMPAIGN, "w2", now=50.0, ttl=30, limit=9)
    assert [(x.contact_id, x.taken_from) for x in later] == [
        ("c0000", None),
        ("c0002", "w1"),
        ("c0003", "w1"),
    ]


def test_an_expired_lease_is_taken_over_with_the_calls_in_flight(store: Any, other: Any) -> None:
    """Worker A dies mid-call (no renew, no release): after its lease runs out, B takes the
    contact over and is handed the attempt A had begun, to reconcile."""
    store.add_contacts(CAMPAIGN, _contacts(2))
    (a_lease, _) = store.take_leases(CAMPAIGN, "A", now=0.0, ttl=30.0, limit=2)
    store.begin_leased_attempt(_attempt(a_lease.contact_id), "A", now=1.0)
    store.save_progress(CAMPAIGN, ContactProgress(a_lease.contact_id, ContactState.IN_CALL, 1))
    assert other.take_leases(CAMPAIGN, "B", now=29.9, ttl=30.0, limit=10) == []
    taken = other.take_leases(CAMPAIGN, "B", now=30.0, ttl=30.0, limit=10)
    assert [lease.contact_id for lease in taken] == ["c0000", "c0001"]
    in_call = taken[0]
    assert in_call.taken_from == "A"
    assert in_call.progress.state is ContactState.IN_CALL
    assert [a.attempt_id for a in in_call.unfinished] == ["c0000-1"]
    assert taken[1].unfinished == ()
    assert store.lease_holders(CAMPAIGN)["c0000"] == ("B", 60.0)


def test_a_renewed_lease_is_kept_and_a_lost_one_is_reported(store: Any, other: Any) -> None:
    store.add_contacts(CAMPAIGN, _contacts(2))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=30.0, limit=2)
    assert store.renew_leases(CAMPAIGN, "A", ["c0000"], now=20.0, ttl=30.0) == ["c0000"]
    # at 35 only c0001 (not renewed) has run out
    assert [x.contact_id for x in other.take_leases(CAMPAIGN, "B", now=35.0, ttl=30, limit=9)] == [
        "c0001"
    ]
    assert store.renew_leases(CAMPAIGN, "A", ["c0000", "c0001"], now=36.0, ttl=30.0) == ["c0000"]


def test_a_worker_that_lost_its_lease_cannot_begin_a_call(store: Any, other: Any) -> None:
    from autoinformer.store.postgres import LeaseLost

    store.add_contacts(CAMPAIGN, _contacts(1))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=30.0, limit=1)
    with pytest.raises(LeaseLost, match="does not hold contact 'c0000'"):
        store.begin_leased_attempt(_attempt("c0000"), "A", now=31.0)  # expired
    other.take_leases(CAMPAIGN, "B", now=31.0, ttl=30.0, limit=1)
    with pytest.raises(LeaseLost, match="held by B"):
        store.begin_leased_attempt(_attempt("c0000"), "A", now=32.0)
    assert list(store.attempts(CAMPAIGN)) == []
    other.begin_leased_attempt(_attempt("c0000"), "B", now=32.0)
    assert [a.attempt_id for a in store.unfinished_attempts(CAMPAIGN)] == ["c0000-1"]


def test_release_commits_result_progress_and_lease_end_together(store: Any, other: Any) -> None:
    from autoinformer.errors import StoreError

    store.add_contacts(CAMPAIGN, _contacts(2))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=30.0, limit=2)
    store.begin_leased_attempt(_attempt("c0000"), "A", now=1.0)
    done = _attempt("c0000", ended_at=20.0, outcome=Outcome.DELIVERED)
    assert store.release_lease(CAMPAIGN, "A", ContactProgress("c0000", ContactState.DONE, 1), done)
    assert store.unfinished_attempts(CAMPAIGN) == []
    assert "c0000" not in store.lease_holders(CAMPAIGN)
    # a result for an attempt never begun rolls the whole release back: the lease stays
    with pytest.raises(StoreError, match="never begun"):
        store.release_lease(
            CAMPAIGN,
            "A",
            ContactProgress("c0001", ContactState.DONE, 1),
            _attempt("c0001", outcome=Outcome.BUSY),
        )
    assert store.lease_holders(CAMPAIGN)["c0001"] == ("A", 30.0)
    # done contacts are never leased again
    assert [x.contact_id for x in other.take_leases(CAMPAIGN, "B", now=99.0, ttl=9, limit=9)] == [
        "c0001"
    ]


def test_a_late_result_is_kept_but_the_new_owner_keeps_the_contact(store: Any, other: Any) -> None:
    store.add_contacts(CAMPAIGN, _contacts(1))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=30.0, limit=1)
    store.begin_leased_attempt(_attempt("c0000"), "A", now=1.0)
    other.take_leases(CAMPAIGN, "B", now=31.0, ttl=30.0, limit=1)  # A was presumed dead
    late = _attempt("c0000", ended_at=40.0, outcome=Outcome.NO_ANSWER)
    progress = ContactProgress("c0000", ContactState.SCHEDULED, 1, 600.0)
    assert store.release_lease(CAMPAIGN, "A", progress, late) is False
    assert list(store.attempts(CAMPAIGN)) == [late]  # the result is not lost
    ((_, kept),) = store.contacts(CAMPAIGN)
    assert kept.state is ContactState.PENDING  # B decides
    assert store.lease_holders(CAMPAIGN)["c0000"] == ("B", 61.0)


def test_a_version_1_database_gains_leases_on_open(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autoinformer.store import postgres

    full = postgres._MIGRATIONS
    monkeypatch.setattr(postgres, "_MIGRATIONS", full[:1])
    with postgres.PostgresStore(postgres_url) as old:
        assert old.schema_version == 1
        old.add_contacts(CAMPAIGN, _contacts(2))
    monkeypatch.setattr(postgres, "_MIGRATIONS", full)
    with postgres.PostgresStore(postgres_url) as new:
        assert new.schema_version == len(full) >= 2
        got = new.take_leases(CAMPAIGN, "w", now=0.0, ttl=5.0, limit=5)
        assert [lease.contact_id for lease in got] == ["c0000", "c0001"]


_WORKER = """
import sys
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store.postgres import PostgresStore

store = PostgresStore(sys.argv[1], pool_size=1)
tick = 0.0
while batch := store.take_leases("debt", "A", now=tick, ttl=1000.0, limit=3):
    for lease in batch:
        tick += 1.0
        cid = lease.contact_id
        record = AttemptRecord(attempt_id=f"{cid}-1", campaign="debt", contact_id=cid,
            attempt_no=1, number="+79508880001", caller_id=None, started_at=tick)
        store.begin_leased_attempt(record, "A", now=tick)
        print("begun", cid, flush=True)
        if tick == float(sys.argv[2]):
            sys.stdin.readline()  # mid-call: killed here, the attempt begun and not finished
        done = AttemptRecord(attempt_id=f"{cid}-1", campaign="debt", contact_id=cid,
            attempt_no=1, number="+79508880001", caller_id=None, started_at=tick,
            ended_at=tick + 0.5, outcome=Outcome.DELIVERED)
        store.release_lease("debt", "A", ContactProgress(cid, ContactState.DONE, 1), done)
        print("done", cid, flush=True)
"""


@pytest.mark.parametrize(("kill_after", "mid_call"), [(1, False), (40, True), (97, False)])
def test_a_worker_killed_mid_campaign_loses_nothing_and_nobody_is_called_twice(
    store: Any, postgres_url: str, kill_after: int, mid_call: bool
) -> None:
    """Worker A (a process) is killed -9 part-way; B takes over once A's leases have run out:
    every result A acknowledged is kept, A's calls in flight are reconciled as ``unknown``
    and retried as attempt 2, every contact ends done exactly once."""
    import os
    import signal
    import subprocess
    import sys

    store.add_contacts(CAMPAIGN, _contacts(150))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    stall = kill_after + 1 if mid_call else -1  # the tick A stops at, its call in flight
    proc = subprocess.Popen(
        [sys.executable, "-c", _WORKER, postgres_url, str(stall)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    acknowledged: set[str] = set()
    begun = 0
    for line in proc.stdout:
        word, cid = line.split()
        begun += word == "begun"
        if word == "done":
            acknowledged.add(cid)
        if (mid_call and begun == stall) or (not mid_call and len(acknowledged) >= kill_after):
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.stdin is not None
    proc.stdin.close()
    # B, after A's leases (ttl 1000 from A's ticks) have run out
    now = 10_000.0
    reconciled = 0
    while batch := store.take_leases(CAMPAIGN, "B", now=now, ttl=30.0, limit=10):
        for lease in batch:
            cid = lease.contact_id
            assert cid not in acknowledged
            tries = lease.progress.attempts
            for open_attempt in lease.unfinished:  # A's call in flight: unknown, retried
                assert lease.taken_from == "A"
                lost = attrs.evolve(open_attempt, ended_at=now, outcome=Outcome.UNKNOWN)
                assert store.release_lease(
                    CAMPAIGN, "B", ContactProgress(cid, ContactState.PENDING, 1), lost
                )
                reconciled += 1
                tries = 1
                (again,) = store.take_leases(CAMPAIGN, "B", now=now, ttl=30.0, limit=1)
                assert again.contact_id == cid
            record = _attempt(cid, tries + 1)
            store.begin_leased_attempt(record, "B", now=now)
            done = attrs.evolve(record, ended_at=now + 1, outcome=Outcome.DELIVERED)
            assert store.release_lease(
                CAMPAIGN, "B", ContactProgress(cid, ContactState.DONE, tries + 1), done
            )
    states = {c.id: p.state for c, p in store.contacts(CAMPAIGN)}
    assert set(states.values()) == {ContactState.DONE}
    attempts = list(store.attempts(CAMPAIGN))
    assert len({a.attempt_id for a in attempts}) == len(attempts)
    assert store.unfinished_attempts(CAMPAIGN) == []
    delivered = [a.contact_id for a in attempts if a.outcome is Outcome.DELIVERED]
    assert sorted(delivered) == sorted(states)  # each contact delivered exactly once
    for a in attempts:
        if a.contact_id in acknowledged:
            assert (a.attempt_no, a.outcome) == (1, Outcome.DELIVERED)  # A's result kept
    assert reconciled <= 1  # A had at most one call in flight when it died
    if mid_call:
        assert reconciled == 1
        assert len(acknowledged) == kill_after
    assert store.lease_holders(CAMPAIGN) == {}
