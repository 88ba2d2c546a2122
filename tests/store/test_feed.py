"""The contact feed (#13 item 7): a core fed page by page ends up as one fed the whole store.

The history that spans contacts (the abandon guard's counts and rolling window, the caller-ID
carousel's uses) comes partly from aggregates (contacts already finished, never paged in) and
partly with each paged contact: every attempt must count exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.feed import ContactFeed, closed_history
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.pacing import BroadcastPacing
from autoinformer.policy.callerid import CallerIdPool
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.script import Script, menu, transfer
from autoinformer.sim.driver import load_from_store
from autoinformer.store import MemoryStore, SqliteStore
from autoinformer.store.base import OPEN_STATES, Store

NOW = 1_767_700_800.0  # 2026-01-06 12:00 UTC
POOL = ("+74950000001", "+74950000002", "+74950000003")
OUTCOMES = [
    (Outcome.DELIVERED, False),
    (Outcome.ABANDONED, False),
    (Outcome.TRANSFERRED, False),
    (Outcome.DELIVERED, True),
    (Outcome.NO_ANSWER, False),
    (Outcome.BUSY, False),
]


def _campaign() -> Campaign:
    return Campaign(
        timezone="UTC",
        name="fd",
        script=Script.of(menu("Press 1 for an operator.", {"1": transfer("operators")})),
        queues=[QueueSettings(name="operators", operators=[Operator("anna", "PJSIP/101")])],
        lines=5,
        retry=RetryPolicy.simple(attempts=3, interval="1h"),
        window=CallWindow.any_time(),
        caller_ids=CallerIdPool(numbers=POOL, daily_cap=10_000, strategy="lru"),
    )


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")  # skips without a server or psycopg
        from autoinformer.store.postgres import PostgresStore

        with PostgresStore(url) as pg:
            yield pg
        return
    if request.param == "memory":
        yield MemoryStore()
        return
    yield SqliteStore(tmp_path / "fd.db", durability="normal")


def _journal(store: Store) -> None:
    """90 contacts over the last two days: finished ones, retries waiting (with attempts),
    one in flight, fresh ones; answers, abandons, machines, caller IDs."""
    for i in range(90):
        cid = f"c{i:02d}"
        number = f"+7950{i:07d}"
        store.add_contacts("fd", [Contact(id=cid, phones=(number,))])
        if i >= 70:
            continue  # fresh
        tries = 1 + i % 3
        for no in range(1, tries + 1):
            outcome, machine = OUTCOMES[(i + no) % len(OUTCOMES)]
            started = NOW - (40 - (i % 40)) * 3600.0 + no * 600.0
            answered = started + 10 if outcome is not Outcome.NO_ANSWER else None
            answered = None if outcome is Outcome.BUSY else answered
            record = AttemptRecord(
                attempt_id=f"{cid}-{no}",
                campaign="fd",
                contact_id=cid,
                attempt_no=no,
                number=number,
                caller_id=POOL[(i + no) % 3],
                started_at=started,
            )
            store.begin_attempt(record)
            if i == 69 and no == tries:
                continue  # in flight when the process stopped
            store.finish_attempt(
                attrs.evolve(
                    record,
                    answered_at=answered,
                    ended_at=started + 60,
                    outcome=outcome,
                    machine=machine,
                )
            )
        if i == 69:
            progress = ContactProgress(cid, ContactState.IN_CALL, tries)
        elif i % 4 == 0:  # retries waiting, some due
            progress = ContactProgress(cid, ContactState.SCHEDULED, tries, NOW + (i - 30) * 60)
        else:
            progress = ContactProgress(cid, ContactState.DONE, tries)
        store.save_progress("fd", progress)


def test_a_contact_read_twice_enters_the_core_once(store: Store) -> None:
    """In call and waiting for a time at once (the process died between journaling an attempt
    and saving the contact's progress): its history must count once."""
    _journal(store)
    store.begin_attempt(
        AttemptRecord(
            attempt_id="c00-9",
            campaign="fd",
            contact_id="c00",  # scheduled, due first
            attempt_no=9,
            number="+79500000000",
            caller_id=None,
            started_at=NOW - 5,
        )
    )
    feed = ContactFeed(store=store, campaign="fd", page_size=4)
    core = DialerCore(campaign=_campaign(), pacing=BroadcastPacing())
    rows = feed.start()
    assert [r.contact.id for r in rows].count("c00") == 2
    event = feed.event(rows, core.book)
    assert [entry.contact.id for entry in event.entries].count("c00") == 1


def _state(core: DialerCore) -> tuple[object, ...]:
    guard = core.pacing
    assert isinstance(guard, AbandonGuard)
    carousel = core.carousel
    assert carousel is not None
    at = dt.datetime.fromtimestamp(NOW, dt.UTC)
    return (
        guard.answers,
        guard.requests,
        guard.abandons,
        sorted(guard._window_answers),
        sorted(guard._window_abandons),
        {n: carousel._uses_today(n, at) for n in POOL},
        {n: carousel._usage[n].last_used for n in POOL},
        sorted(
            (s.contact.id, s.state, s.attempts, s.next_at, len(s.history))
            for s in core.book.slots.values()
            if s.state in OPEN_STATES  # a finished contact is never paged in
        ),
        core.book.open_count,
    )


def test_paged_core_holds_the_same_history_as_one_fed_the_whole_store(store: Store) -> None:
    _journal(store)
    campaign = _campaign()
    whole = DialerCore(campaign=campaign, pacing=BroadcastPacing())
    whole.handle(NOW, e.Pause())
    whole.handle(NOW, load_from_store(store, "fd")[0])

    paged = DialerCore(campaign=campaign, pacing=BroadcastPacing())
    paged.handle(NOW, e.Pause())
    history = closed_history(store, "fd", paged, NOW)
    history.apply(paged, NOW)
    feed = ContactFeed(store=store, campaign="fd", page_size=4)
    paged.book.more = True
    paged.handle(NOW, feed.event(feed.start(), paged.book))
    assert paged.book.open_count == paged.book.loaded_open + 1, "more to read: not finished"
    assert len(paged.book.slots) <= 1 + 4 + 4, "in call, a timed page and a queued page"
    while feed.more:
        kind = "timed" if feed.queue_done else "queued"
        rows = feed.read(kind)
        paged.book.more = feed.more
        paged.handle(NOW, feed.event(rows, paged.book))
    assert _state(paged) == _state(whole)
    guard = paged.pacing
    assert isinstance(guard, AbandonGuard)
    assert guard.abandons > 0
    assert guard._window_answers
    today = dt.datetime.fromtimestamp(NOW, dt.UTC).date()
    uses = {n: 0 for n in POOL}
    for record in store.attempts("fd"):
        if dt.datetime.fromtimestamp(record.started_at, dt.UTC).date() == today:
            uses[str(record.caller_id)] += 1
    assert _state(paged)[5] == uses, "today's caller-ID uses, in whatever order replayed"
