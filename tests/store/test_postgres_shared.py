"""Campaign-wide limits several workers hold in PostgreSQL (#17): line slots, caller-ID
caps, the abandon totals, results written once, leases handed back."""

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
    settings: dict[str, Any] = {
        "attempt_id": f"{contact}-{no}",
        "campaign": CAMPAIGN,
        "contact_id": contact,
        "attempt_no": no,
        "number": "+79508880001",
        "caller_id": None,
        "started_at": 100.0,
    }
    settings.update(kw)
    return AttemptRecord(**settings)


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


def test_the_schema_is_version_4(store: Any) -> None:
    assert store.schema_version == 4  # 4: cancel_reason, the numbers' index (worker gaps)


def test_line_slots_are_never_held_by_two_workers_and_follow_the_want(postgres_url: str) -> None:
    """Six workers (own connections) want 5 of 12 lines at once, 20 times: never more than 12
    held, each slot by one worker; then they follow their want down and up."""
    from autoinformer.store.postgres import PostgresStore

    stores = [PostgresStore(postgres_url) for _ in range(6)]
    peaks: list[int] = []
    try:

        def work(i: int) -> None:
            for round_ in range(20):
                stores[i].hold_lines(CAMPAIGN, f"w{i}", lines=12, want=5, now=round_, ttl=100)
                held = stores[i].lines_held(CAMPAIGN, round_)
                peaks.append(sum(held.values()))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert max(peaks) <= 12
        held = stores[0].lines_held(CAMPAIGN, 20)
        assert sum(held.values()) == 12
        assert all(n <= 5 for n in held.values())
    finally:
        for s in stores:
            s.close()


def test_lines_given_back_expire_and_are_capped_by_the_campaigns_lines(store: Any) -> None:
    assert store.hold_lines(CAMPAIGN, "A", lines=4, want=3, now=0.0, ttl=10.0) == 3
    assert store.hold_lines(CAMPAIGN, "B", lines=4, want=3, now=1.0, ttl=10.0) == 1
    assert store.hold_lines(CAMPAIGN, "A", lines=4, want=1, now=2.0, ttl=10.0) == 1  # gives 2
    assert store.hold_lines(CAMPAIGN, "B", lines=4, want=3, now=3.0, ttl=10.0) == 3
    assert store.lines_held(CAMPAIGN, 3.0) == {"A": 1, "B": 3}
    # A stops renewing (dead): its slot runs out and B may take it
    assert store.hold_lines(CAMPAIGN, "B", lines=4, want=4, now=12.5, ttl=10.0) == 4
    assert store.lines_held(CAMPAIGN, 12.5) == {"B": 4}
    # the campaign's lines lowered to 2: slots above are neither renewed nor claimed
    assert store.hold_lines(CAMPAIGN, "B", lines=2, want=4, now=13.0, ttl=10.0) == 2
    assert store.release_lines(CAMPAIGN, "B") == 4  # (the two above 2 had not expired yet)
    assert store.lines_held(CAMPAIGN, 13.0) == {}
    with pytest.raises(ValueError, match="ttl"):
        store.hold_lines(CAMPAIGN, "B", lines=2, want=1, now=13.0, ttl=0.0)


def test_a_caller_id_cap_holds_when_workers_begin_at_the_same_instant(postgres_url: str) -> None:
    """Eight workers each begin an attempt with the same caller ID (cap 3 a day) at once:
    exactly three are journaled, the others refused with CallerIdCapped."""
    from autoinformer.store.postgres import CallerIdCapped, CallerIdRule, PostgresStore

    with PostgresStore(postgres_url) as seed:
        seed.add_contacts(CAMPAIGN, _contacts(8))
        for i in range(8):
            seed.take_leases(CAMPAIGN, f"w{i}", now=0.0, ttl=100.0, limit=1)
    rule = CallerIdRule(daily_cap=3, day_start=0.0, day_end=86400.0)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        with PostgresStore(postgres_url) as s:
            record = _attempt(f"c{i:04d}", caller_id="+74951110001", started_at=10.0)
            barrier.wait()
            try:
                s.begin_leased_attempt(record, f"w{i}", now=10.0, caller_id=rule)
            except CallerIdCapped:
                results.append("capped")
            else:
                results.append("begun")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["begun"] * 3 + ["capped"] * 5
    with PostgresStore(postgres_url) as s:
        assert len(list(s.attempts(CAMPAIGN))) == 3


def test_a_caller_id_cooling_down_is_refused_and_the_next_day_counts_anew(store: Any) -> None:
    from autoinformer.store.postgres import CallerIdCapped, CallerIdRule

    store.add_contacts(CAMPAIGN, _contacts(3))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=1e9, limit=3)
    cool = CallerIdRule(daily_cap=None, day_start=0.0, day_end=86400.0, cooldown=60.0)
    store.begin_leased_attempt(
        _attempt("c0000", caller_id="+7495", started_at=100.0), "A", now=100.0, caller_id=cool
    )
    with pytest.raises(CallerIdCapped, match="cooling down"):
        store.begin_leased_attempt(
            _attempt("c0001", caller_id="+7495", started_at=130.0), "A", now=130.0, caller_id=cool
        )
    capped = CallerIdRule(daily_cap=1, day_start=86400.0, day_end=2 * 86400.0)
    store.begin_leased_attempt(  # the day after: yesterday's use does not count
        _attempt("c0001", caller_id="+7495", started_at=90000.0), "A", now=90000.0, caller_id=capped
    )
    assert [a.contact_id for a in store.attempts(CAMPAIGN)] == ["c0000", "c0001"]


def test_a_result_is_written_once_whoever_tries(store: Any) -> None:
    from autoinformer.errors import StoreError

    store.add_contacts(CAMPAIGN, _contacts(1))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=10.0, limit=1)
    store.begin_leased_attempt(_attempt("c0000"), "A", now=1.0)
    unknown = _attempt("c0000", ended_at=20.0, outcome=Outcome.UNKNOWN, detail="reconciled")
    late = _attempt("c0000", ended_at=25.0, outcome=Outcome.DELIVERED)
    assert store.finish_attempt_once(unknown) is True
    assert store.finish_attempt_once(late) is False
    assert store.release_lease(CAMPAIGN, "A", ContactProgress("c0000", ContactState.DONE, 1), late)
    (kept,) = store.attempts(CAMPAIGN)
    assert kept == unknown  # the first result stands
    with pytest.raises(StoreError, match="never begun"):
        store.finish_attempt_once(_attempt("c0000", 9, outcome=Outcome.BUSY))


def test_the_abandon_totals_leave_the_asking_run_out(store: Any) -> None:
    store.add_contacts(CAMPAIGN, _contacts(6))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=1e9, limit=6)
    rows = [
        ("c0000", "A/1", Outcome.DELIVERED, False, 100.0),
        ("c0001", "A/1", Outcome.ABANDONED, False, 100.0),
        ("c0002", "B/1", Outcome.DELIVERED, False, 5000.0),
        ("c0003", "B/1", Outcome.ABANDONED, False, 5000.0),
        ("c0004", "B/1", Outcome.DELIVERED, True, 5000.0),  # a machine: no live answer
        ("c0005", None, Outcome.TRANSFERRED, False, 100.0),  # one process before the workers
    ]
    for cid, run, outcome, machine, at in rows:
        record = _attempt(cid, started_at=at - 10)
        store.begin_leased_attempt(record, "A", now=at - 10, run=run)
        store.finish_attempt_once(
            attrs.evolve(record, answered_at=at, ended_at=at + 5, outcome=outcome, machine=machine)
        )
    totals = store.abandon_totals(CAMPAIGN, "A/1", since=1000.0)
    assert (totals.answers, totals.abandons) == (3, 1)  # B's two, the old run's one
    assert (totals.window_answers, totals.window_abandons) == (2, 1)  # B's, since 1000


def test_a_restarted_worker_reclaims_its_own_leases_at_once(store: Any, postgres_url: str) -> None:
    store.add_contacts(CAMPAIGN, _contacts(3))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=100.0, limit=2)
    store.begin_leased_attempt(_attempt("c0000"), "A", now=1.0)
    store.save_leased_progress(CAMPAIGN, "A", ContactProgress("c0000", ContactState.IN_CALL, 1))
    assert [
        x.contact_id for x in store.take_leases(CAMPAIGN, "A", now=2.0, ttl=100.0, limit=9)
    ] == ["c0002"]  # without reclaim: only the free one
    again = store.take_leases(CAMPAIGN, "A", now=3.0, ttl=100.0, limit=9, reclaim=True)
    assert [x.contact_id for x in again] == ["c0000", "c0001", "c0002"]
    assert [r.attempt_id for r in again[0].unfinished] == ["c0000-1"]
    assert again[0].taken_from == "A"
    assert store.take_leases(CAMPAIGN, "B", now=4.0, ttl=100.0, limit=9, reclaim=True) == []


def test_progress_and_hand_back_only_while_the_lease_is_held(store: Any) -> None:
    store.add_contacts(CAMPAIGN, _contacts(3))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=10.0, limit=3)
    waiting = ContactProgress("c0000", ContactState.PENDING, 0, next_at=500.0, reason="dnc")
    assert store.save_leased_progress(CAMPAIGN, "A", waiting) is True
    assert store.lease_outlook(CAMPAIGN, "B") == (3, 10.0)  # all A's, free at 10
    assert store.take_leases(CAMPAIGN, "B", now=11.0, ttl=10.0, limit=1)[0].contact_id == "c0001"
    assert (
        store.save_leased_progress(CAMPAIGN, "A", ContactProgress("c0001", ContactState.DONE))
        is False
    )
    back = [waiting, ContactProgress("c0001", ContactState.DONE)]
    assert store.release_leases(CAMPAIGN, "A", back) == ["c0000"]  # c0001 is B's now
    assert store.drop_leases(CAMPAIGN, "A", ["c0002"]) == 1
    states = {c.id: p for c, p in store.contacts(CAMPAIGN)}
    assert states["c0000"] == waiting  # handed back with its progress
    assert states["c0001"].state is ContactState.PENDING  # B decides
    assert states["c0002"].state is ContactState.PENDING
    assert set(store.lease_holders(CAMPAIGN)) == {"c0001"}
    assert store.lease_outlook(CAMPAIGN, "B") == (2, 0.0)  # c0002 free and due now


def test_a_contact_another_worker_holds_is_not_cancelled_behind_its_back(store: Any) -> None:
    store.add_contacts(CAMPAIGN, _contacts(2))
    store.take_leases(CAMPAIGN, "A", now=0.0, ttl=10.0, limit=1)
    cancel = ContactProgress("c0000", ContactState.CANCELLED, 0, reason="paid")
    assert store.save_unleased_progress(CAMPAIGN, cancel, now=5.0) is False  # A's
    assert store.save_unleased_progress(CAMPAIGN, cancel, now=11.0) is True  # lease ran out
    free = ContactProgress("c0001", ContactState.CANCELLED, 0, reason="paid")
    assert store.save_unleased_progress(CAMPAIGN, free, now=0.0) is True
    assert {p.state for _, p in store.contacts(CAMPAIGN)} == {ContactState.CANCELLED}
    assert store.lease_holders(CAMPAIGN) == {}


def test_workers_starting_at_once_agree_on_one_meta_value(store: Any, other: Any) -> None:
    assert store.meta_once(CAMPAIGN, "call_id_salt", "first") == "first"
    assert other.meta_once(CAMPAIGN, "call_id_salt", "second") == "first"
    assert store.get_meta(CAMPAIGN, "call_id_salt") == "first"


def test_a_worker_over_its_share_sees_another_short_only_if_it_wants_lines(store: Any) -> None:
    assert store.hold_lines(CAMPAIGN, "A", lines=9, want=9, now=0.0, ttl=10.0) == 9
    assert store.line_share(CAMPAIGN, "A", lines=9, now=1.0).short is False  # alone
    assert store.hold_lines(CAMPAIGN, "B", lines=9, want=1, now=1.0, ttl=10.0) == 0
    share = store.line_share(CAMPAIGN, "A", lines=9, now=2.0)
    assert (share.fair, share.free, share.short) == (5, 0, True)  # B wants 1, holds 0
    assert store.hold_lines(CAMPAIGN, "A", lines=9, want=5, now=2.0, ttl=10.0) == 5
    assert store.hold_lines(CAMPAIGN, "B", lines=9, want=1, now=3.0, ttl=10.0) == 1
    share = store.line_share(CAMPAIGN, "A", lines=9, now=4.0)
    assert (share.free, share.short) == (3, False)  # B has what it wants: A may take the rest
    assert store.release_lines(CAMPAIGN, "B") == 1
    assert store.line_share(CAMPAIGN, "A", lines=9, now=5.0).fair == 9  # B gone
