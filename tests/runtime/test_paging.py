"""Resume at scale (#13 item 7): the runtime pages contacts from the store, never loads it all.

Each test runs on asyncio and trio in virtual time with the simulated switch. A store that
counts the contacts it hands out shows how much a start reads; the campaign's results are held
to those of the same campaign read whole (one page larger than the list).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.runtime import Runtime
from autoinformer.script import Script, say
from autoinformer.store.base import StoredContact
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

DEADLINE = 10 * 86400.0  # virtual seconds
anyio_backend = virtual_anyio_backend


class CountingStore(SqliteStore):
    """A SQLite store that counts the contacts it hands out, by every way of reading them."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, durability="normal")
        self.read = 0
        self.largest = 0

    def _count(self, rows: list[StoredContact]) -> list[StoredContact]:
        self.read += len(rows)
        self.largest = max(self.largest, len(rows))
        return rows

    def contacts(self, campaign: str) -> Iterator[tuple[Contact, ContactProgress]]:
        for row in super().contacts(campaign):
            self.read += 1
            yield row

    def queued_contacts(self, campaign: str, *, after: int = 0, limit: int) -> list[StoredContact]:
        return self._count(super().queued_contacts(campaign, after=after, limit=limit))

    def timed_contacts(
        self, campaign: str, *, after: tuple[float, int] | None = None, limit: int
    ) -> list[StoredContact]:
        return self._count(super().timed_contacts(campaign, after=after, limit=limit))

    def in_call_contacts(self, campaign: str) -> list[StoredContact]:
        return self._count(super().in_call_contacts(campaign))

    def contacts_by_id(self, campaign: str, ids: Collection[str]) -> list[StoredContact]:
        return self._count(super().contacts_by_id(campaign, ids))


class FirstCallSwitch(SimSwitch):
    """The simulated switch, noting how many contacts the store had handed out by the time
    the first call was placed."""

    store: CountingStore | None = None
    read_at_first_call: int | None = None

    async def originate(self, call_id: str, number: str, **kw: Any) -> None:
        if self.read_at_first_call is None and self.store is not None:
            self.read_at_first_call = self.store.read
        await super().originate(call_id, number, **kw)


BROADCAST = Script.of(say("Your debt is {BALANCE} RUB."))


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "pg",
        "timezone": "UTC",
        "script": BROADCAST,
        "lines": 4,
        "retry": RetryPolicy.simple(attempts=3, interval="10m"),
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


def _contacts(n: int, prefix: str = "c") -> list[Contact]:
    # last digits 1 (delivered), 2 (busy: retried), 3 (no answer: retried), 6 (hangs up early)
    digits = "1236"
    return [
        Contact(
            id=f"{prefix}{i:03d}",
            phones=(f"+7950{i:06d}{digits[i % 4]}",),
            variables={"BALANCE": "10"},
        )
        for i in range(n)
    ]


async def _run(runtime: Runtime, contacts: list[Contact] | None = None) -> dict[str, Any]:
    with anyio.fail_after(DEADLINE):
        summary = await runtime.run(contacts or ())
    return summary.to_dict()


def _results(store: SqliteStore, campaign: str = "pg") -> tuple[Any, Any]:
    attempts = sorted(
        (r.contact_id, r.attempt_no, r.outcome, r.number) for r in store.attempts(campaign)
    )
    progress = sorted((c.id, p.state, p.attempts, p.reason) for c, p in store.contacts(campaign))
    return attempts, progress


@pytest.mark.anyio
async def test_a_fresh_start_reads_one_page_before_the_first_call_and_pages_the_rest(
    tmp_path: Path,
) -> None:
    contacts = _contacts(60)
    results = []
    for page in (7, 1000):
        clock = LoopClock()
        store = CountingStore(tmp_path / f"p{page}.sqlite")
        store.add_contacts("pg", contacts)  # imported before the run, as `contacts import` does
        async with FirstCallSwitch(clock=clock) as switch:
            switch.store = store
            runtime = Runtime(
                campaign=_campaign(), switch=switch, store=store, clock=clock, page_size=page
            )
            summary = await _run(runtime)
        if page == 7:
            assert switch.read_at_first_call == 7, "one page, not the list"
            assert store.largest <= 8
        assert not runtime.core.book.slots, "finished contacts are not kept in memory"
        assert summary["contacts"] == {"done": 30, "exhausted": 30}
        assert summary["attempts"] == 30 + 30 * 3
        results.append(_results(store))
        store.close()
    assert results[0] == results[1], "paging changes nothing the campaign does"


@pytest.mark.anyio
async def test_a_finished_store_reads_no_contact_and_summarizes_every_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "done.sqlite"
    contacts = _contacts(40)
    clock = LoopClock()
    store = CountingStore(path)
    async with SimSwitch(clock=clock) as switch:
        first = await _run(
            Runtime(campaign=_campaign(), switch=switch, store=store, clock=clock), contacts
        )
    store.close()
    store = CountingStore(path)  # resume: everything is finished
    async with SimSwitch(clock=clock) as switch:
        again = await _run(
            Runtime(campaign=_campaign(), switch=switch, store=store, clock=clock, page_size=5)
        )
    assert store.read == 0, "a finished campaign is known from counts, not by reading it"
    assert again == first
    assert again["contacts"] == {"done": 20, "exhausted": 20}
    store.close()


def _half_done(store: SqliteStore, now: float) -> None:
    """A store as a process killed mid-campaign leaves it: some contacts done, retries due in
    the past and the future, and a call in flight for a contact far down the list."""
    contacts = _contacts(30)
    store.add_contacts("pg", contacts)

    def attempt(cid: str, no: int, outcome: Outcome | None, at: float) -> None:
        number = contacts[int(cid[1:])].phones[0]
        record = AttemptRecord(
            attempt_id=f"old-{cid}-{no}",
            campaign="pg",
            contact_id=cid,
            attempt_no=no,
            number=number,
            caller_id=None,
            started_at=at,
        )
        store.begin_attempt(record)
        if outcome is not None:
            store.finish_attempt(attrs.evolve(record, outcome=outcome, ended_at=at + 20))

    for i in range(0, 10, 4):  # c000, c004, c008: delivered
        attempt(f"c{i:03d}", 1, Outcome.DELIVERED, now - 3600)
        store.save_progress("pg", ContactProgress(f"c{i:03d}", ContactState.DONE, 1))
    attempt("c001", 1, Outcome.BUSY, now - 1200)  # due 10 minutes ago
    store.save_progress("pg", ContactProgress("c001", ContactState.SCHEDULED, 1, now - 600))
    attempt("c002", 1, Outcome.NO_ANSWER, now - 60)  # due in 9 minutes
    store.save_progress("pg", ContactProgress("c002", ContactState.SCHEDULED, 1, now + 540))
    attempt("c027", 1, None, now - 30)  # in flight when the process died
    store.save_progress("pg", ContactProgress("c027", ContactState.IN_CALL, 1))


@pytest.mark.anyio
async def test_a_half_done_store_resumes_page_by_page_keeping_retries_and_crash_safety(
    tmp_path: Path,
) -> None:
    results = []
    for page in (3, 1000):
        clock = LoopClock()
        now = clock.now()
        store = CountingStore(tmp_path / f"half{page}.sqlite")
        _half_done(store, now)
        async with FirstCallSwitch(clock=clock) as switch:
            switch.store = store
            runtime = Runtime(
                campaign=_campaign(), switch=switch, store=store, clock=clock, page_size=page
            )
            summary = await _run(runtime)
        if page == 3:
            # the contact in flight, then a page of the queue and the retry already due
            assert switch.read_at_first_call is not None
            assert switch.read_at_first_call <= 1 + 3 + 3
        by_id = {r.attempt_id: r for r in store.attempts("pg")}
        crashed = by_id["old-c027-1"]
        assert crashed.outcome is Outcome.UNKNOWN
        assert crashed.detail == "in flight when the process stopped"
        retry = [r for r in by_id.values() if r.contact_id == "c002" and r.attempt_no == 2]
        assert retry[0].started_at >= now + 540, "a retry is not called before its time"
        due = [r for r in by_id.values() if r.contact_id == "c001" and r.attempt_no == 2]
        assert due[0].started_at < now + 60, "a retry already due is called at once"
        assert not [r for r in by_id.values() if r.contact_id == "c004" and r.attempt_no > 1]
        assert sum(summary["contacts"].values()) == 30
        assert summary["unfinished"] == 0
        results.append(_results(store))
        store.close()
    assert results[0] == results[1]


@pytest.mark.anyio
async def test_cancel_and_add_reach_contacts_not_paged_in_yet(tmp_path: Path) -> None:
    clock = LoopClock()
    store = CountingStore(tmp_path / "live.sqlite")
    store.add_contacts("pg", _contacts(20))
    campaign = _campaign(retry=RetryPolicy.simple(attempts=1))
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock, page_size=4)
        runtime.cancel("c017", "debt paid")  # far down the list: not read at start
        late = Contact(id="late", phones=("+79509999991",), variables={"BALANCE": "1"})
        again = Contact(id="c005", phones=("+79508888881",), variables={"BALANCE": "1"})
        runtime.add_contacts([late, again])  # a new one, and a known id with a new number
        summary = await _run(runtime)
    progress = {c.id: p for c, p in store.contacts("pg")}
    assert progress["c017"].state is ContactState.CANCELLED
    assert progress["c017"].reason == "debt paid"
    attempts = list(store.attempts("pg"))
    assert not [r for r in attempts if r.contact_id == "c017"]
    assert [r.number for r in attempts if r.contact_id == "c005"] == [_contacts(20)[5].phones[0]]
    order = [r.contact_id for r in attempts]
    assert order.index("late") > order.index("c019"), "an added contact is last in line"
    assert summary["contacts"]["cancelled"] == 1
    assert sum(summary["contacts"].values()) == 21
    store.close()


@pytest.mark.anyio
async def test_outside_the_calling_hours_the_pages_held_are_bounded(tmp_path: Path) -> None:
    clock = LoopClock()  # 10:00 UTC; the window opens at 12:00
    store = CountingStore(tmp_path / "night.sqlite")
    store.add_contacts("pg", _contacts(100))
    campaign = _campaign(
        window=CallWindow.parse(days="*", hours="12:00-20:00", timezone="UTC"),
        retry=RetryPolicy.simple(attempts=1),
        lines=10,
    )
    read_before_window: list[int] = []
    async with FirstCallSwitch(clock=clock) as switch:
        switch.store = store
        runtime = Runtime(
            campaign=campaign, switch=switch, store=store, clock=clock, page_size=5, max_loaded=20
        )

        async def watch() -> None:
            await clock.sleep_until(clock.now() + 3600)
            read_before_window.append(store.read)

        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            summary = await _run(runtime)
    assert read_before_window[0] <= 20 + 5, "the night does not read the whole list"
    first = min(r.started_at for r in store.attempts("pg"))
    assert first >= clock.start + 7200
    assert summary["contacts"] == {"done": 50, "exhausted": 50}
    store.close()


@pytest.mark.anyio
async def test_retries_waiting_for_tomorrow_do_not_hold_the_queue_back(tmp_path: Path) -> None:
    """Every contact scheduled for a retry a day later: the cap on contacts held counts the
    ones in line, so the whole list still gets its first call today, as read whole."""
    clock = LoopClock()
    store = CountingStore(tmp_path / "retry.sqlite")
    contacts = [
        Contact(id=f"n{i:02d}", phones=(f"+7950{i:06d}3",), variables={"BALANCE": "1"})
        for i in range(24)
    ]  # nobody answers
    store.add_contacts("pg", contacts)
    campaign = _campaign(retry=RetryPolicy.simple(attempts=2, interval="1d"), lines=2)
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(
            campaign=campaign, switch=switch, store=store, clock=clock, page_size=4, max_loaded=6
        )
        summary = await _run(runtime)
    first = [r.started_at for r in store.attempts("pg") if r.attempt_no == 1]
    second = [r.started_at for r in store.attempts("pg") if r.attempt_no == 2]
    assert len(first) == len(second) == 24
    assert max(first) < min(second), "every first call before the first retry"
    assert summary["contacts"] == {"exhausted": 24}
    store.close()
