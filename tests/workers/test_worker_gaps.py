"""Several workers behave as one process: duplicate numbers, a cancel from any worker (#17).

In-process ``Runtime(worker=...)`` on one PostgreSQL campaign, each with its own simulated
switch, in virtual time (the helpers of ``test_workers``).
"""

from __future__ import annotations

import collections
import itertools
from typing import Any

import anyio
import pytest
from tests.workers.test_workers import (
    DEADLINE,
    _campaign,
    _check_finished_once,
    _run_workers,
    store,
)

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.core.intake import DUPLICATE_REASON
from autoinformer.core.shared_guard import SharedAbandonGuard
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.pacing.progressive import PowerPacing
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, play, transfer
from autoinformer.sim.model import PopulationModel
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

__all__ = ["store"]

anyio_backend = virtual_anyio_backend


# --- duplicate numbers across workers -------------------------------------------------------


def _with_duplicates(n: int) -> list[Contact]:
    """``n`` contacts; every third shares its only number with one added 25 places before
    (a duplicate leased by another worker, most likely), every fifth has a second number
    shared with the one just before it (trimmed, still called on its own number)."""
    out: list[Contact] = []
    for i in range(n):
        own = f"+7950{i:06d}{(1, 3, 2)[i % 3]}"  # answers, rings out, busy: calls overlap
        if i >= 25 and i % 3 == 0:
            phones: tuple[str, ...] = out[i - 25].phones[:1]
        elif i % 5 == 4:
            phones = (out[i - 1].phones[0], own)
        else:
            phones = (own,)
        out.append(Contact(id=f"d{i:03d}", phones=phones))
    return out


async def _one_process(store: Any, campaign: Any, contacts: list[Contact]) -> None:
    clock = LoopClock()
    switch = SimSwitch(clock=clock)
    with anyio.fail_after(DEADLINE):
        async with switch:
            await Runtime(campaign=campaign, switch=switch, store=store, clock=clock).run(contacts)


def _overlapping_calls_to_one_number(attempts: list[Any]) -> list[tuple[str, str, str]]:
    by_number: dict[str, list[Any]] = collections.defaultdict(list)
    for a in attempts:
        by_number[a.number].append(a)
    clashes = []
    for number, calls in by_number.items():
        calls.sort(key=lambda a: a.started_at)
        for first, second in itertools.pairwise(calls):
            assert first.ended_at is not None
            if second.started_at < first.ended_at:
                clashes.append((number, first.contact_id, second.contact_id))
    return clashes


@pytest.mark.anyio
async def test_workers_skip_the_same_duplicates_as_one_process(store: Any) -> None:
    """Three workers on a list with duplicate numbers skip exactly the contacts one process
    skips (same reason), call a trimmed contact only on its own number, and never call one
    number for two contacts, let alone at once."""
    contacts = _with_duplicates(90)
    alone = _campaign(name="alone", lines=6, retry=RetryPolicy.simple(attempts=2, interval="1m"))
    await _one_process(store, alone, contacts)
    shared = _campaign(name="shared", lines=6, retry=RetryPolicy.simple(attempts=2, interval="1m"))
    runtimes, _ = await _run_workers(store, shared, contacts, ["w1", "w2", "w3"])
    attempts = _check_finished_once(store, shared.name, len(contacts))
    assert all(rt.worker_mode.feed.taken > 0 for rt in runtimes)  # type: ignore[union-attr]

    def skipped(name: str) -> dict[str, str | None]:
        return {c.id: p.reason for c, p in store.contacts(name) if p.state is ContactState.SKIPPED}

    expected = skipped("alone")
    assert sorted(expected) == [f"d{i:03d}" for i in range(27, 90, 3)]  # every third on
    assert set(expected.values()) == {DUPLICATE_REASON}
    assert skipped("shared") == expected
    # one number, one contact: the same numbers called, each by the same contact
    owners: dict[str, set[str]] = collections.defaultdict(set)
    for a in attempts:
        owners[a.number].add(a.contact_id)
    assert all(len(ids) == 1 for ids in owners.values()), owners
    solo = {(a.contact_id, a.number) for a in store.attempts("alone")}
    assert {(a.contact_id, a.number) for a in attempts} == solo
    assert _overlapping_calls_to_one_number(attempts) == []


# --- a cancel from any worker -----------------------------------------------------------------


@pytest.mark.anyio
async def test_a_cancel_from_a_worker_that_does_not_hold_the_contact_is_honoured(
    store: Any,
) -> None:
    """w2 cancels three contacts it does not hold: one w1 has in a call (the call ends
    normally, then no retry: cancelled), one w1 holds and has not called (never called),
    one nobody holds yet (closed at once). No attempt of any of them starts after the
    cancel; nobody is warned to "cancel it there"."""
    campaign = _campaign(lines=4, retry=RetryPolicy.simple(attempts=3, interval="1m"))
    # every callee rings out (30 s, no answer): three attempts each unless cancelled
    contacts = [Contact(id=f"k{i:03d}", phones=(f"+7950{i:06d}3",)) for i in range(60)]
    first: list[anyio.Event] = []
    picked: dict[str, str] = {}
    at: list[float] = []

    async def cancel_from_the_other(runtimes: list[Runtime], scopes: Any) -> None:
        await first[0].wait()
        await anyio.sleep(1.0)  # every worker has taken its first batch
        holder = next(rt for rt in runtimes if rt.core.calls)
        other = next(rt for rt in runtimes if rt is not holder)
        mine, theirs = holder.worker_mode, other.worker_mode
        assert mine is not None
        assert theirs is not None
        calling = {call.slot.contact.id for call in holder.core.calls.values()}
        picked["in_call"] = sorted(calling)[0]
        picked["held"] = sorted(mine.held - calling - theirs.held)[-1]
        picked["free"] = contacts[-1].id
        assert picked["free"] not in mine.held | theirs.held
        at.append(other.clock.now())
        for cid in picked.values():
            assert cid not in other.core.book
            other.cancel(cid, "paid")

    await _run_workers(store, campaign, contacts, ["w1", "w2"], cancel_from_the_other, first=first)
    _check_finished_once(store, campaign.name, len(contacts))
    states = {c.id: p for c, p in store.contacts(campaign.name)}
    attempts = list(store.attempts(campaign.name))
    for cid in picked.values():
        assert states[cid].state is ContactState.CANCELLED, cid
        assert states[cid].reason == "paid"
        assert all(a.started_at <= at[0] for a in attempts if a.contact_id == cid), cid
    (call,) = [a for a in attempts if a.contact_id == picked["in_call"]]
    assert call.outcome is Outcome.NO_ANSWER  # the call in progress ended normally
    assert call.ended_at is not None
    assert call.ended_at > at[0]
    assert not [a for a in attempts if a.contact_id in (picked["held"], picked["free"])]
    # everyone else was called three times: the cancels touched nobody else
    per_contact = collections.Counter(a.contact_id for a in attempts)
    others = [c.id for c in contacts if c.id not in picked.values()]
    assert all(per_contact[cid] == 3 for cid in others)


# --- the abandon cap across workers, under pressure -------------------------------------------


class _BlindGuard(SharedAbandonGuard):
    """A worker's guard blind to the other workers: the campaign's totals still reach it
    (``others``) but its budget and rate are its own, as a guard with no database would
    have them. Only to show what the sharing changes."""

    def budget(self, now: float) -> float:
        return AbandonGuard.budget(self, now)

    def rate(self) -> float:
        return AbandonGuard.rate(self)


async def _pressed_campaign(store: Any, campaign: Any, guard: type[SharedAbandonGuard]) -> Any:
    """Three workers, two operators each, power pacing at three calls per idle operator,
    half the callees pressing 1 for an operator who talks ~90 s: the queue overflows and
    callers give up (``max_wait``) unless the guard holds the dialling back."""
    clock = LoopClock()
    names = ["w1", "w2", "w3"]
    runtimes = [
        Runtime(
            campaign=campaign,
            switch=SimSwitch(
                clock=clock,
                model=PopulationModel(seed=seed, digit_rates={"1": 0.5}, answer_rate=0.8),
            ),
            store=store,
            clock=clock,
            worker=name,
            lease_ttl=9.0,
            pacing=guard(inner=PowerPacing(ratio=3.0), cap=campaign.abandon_cap),
        )
        for seed, name in enumerate(names, 1)
    ]
    store.add_contacts(
        campaign.name, [Contact(id=f"p{i:04d}", phones=(f"+7950{i:07d}",)) for i in range(400)]
    )
    lowest: list[float] = []
    mean: list[float] = []

    async def sample() -> None:
        while True:
            await anyio.sleep(1.0)
            now = clock.now()
            budgets = [rt.core.pacing.budget(now) for rt in runtimes]  # type: ignore[attr-defined]
            lowest.append(min(budgets))
            mean.append(sum(budgets) / len(budgets))

    with anyio.fail_after(DEADLINE):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sample)
            async with anyio.create_task_group() as workers:
                for rt in runtimes:

                    async def one(rt: Runtime = rt) -> None:
                        async with rt.switch:  # type: ignore[attr-defined]
                            await rt.run()

                    workers.start_soon(one)
            tg.cancel_scope.cancel()
    attempts = list(store.attempts(campaign.name))
    live = sum(1 for a in attempts if a.answered_at is not None and not a.machine)
    abandoned = sum(1 for a in attempts if a.outcome is Outcome.ABANDONED)
    limited = sum(rt.core.pacing.limited for rt in runtimes)  # type: ignore[attr-defined]
    span = max(a.ended_at or 0.0 for a in attempts) - min(a.started_at for a in attempts)
    return live, abandoned, limited, min(lowest), sum(mean) / len(mean), span


def _ops_campaign(name: str) -> Any:
    return _campaign(
        name=name,
        script=Script.of(play("sound:message"), menu("Press 1.", {"1": transfer("ops")})),
        queues=[
            QueueSettings(
                name="ops",
                operators=[Operator("anna", "PJSIP/101"), Operator("boris", "PJSIP/102")],
                max_wait=5.0,
            )
        ],
        retry=RetryPolicy.simple(attempts=1),
        lines=18,
    )


@pytest.mark.anyio
async def test_the_abandon_cap_holds_across_workers_under_pressure(store: Any) -> None:
    """Power pacing that would overflow the operators: callers do give up, the guards hold
    the campaign under its 3% cap together, pressing against the budget (held back
    thousands of times, the budget spent down past its reserve). The same run with each
    guard blind to the others is not over the cap (each worker under 3% of its own answers
    keeps the campaign under 3% too) but wastes the budget: each worker sees a third of the
    answers with the whole reserve kept back, so its budget is smaller. The sharing spends
    the campaign's one budget, no more."""
    live, abandoned, limited, lowest, budget, _ = await _pressed_campaign(
        store, _ops_campaign("seen"), SharedAbandonGuard
    )
    assert live > 200
    assert abandoned > 0  # callers really gave up
    assert abandoned <= 0.03 * live  # the campaign's rate, over all workers
    assert limited > 1000  # pressing against the budget:
    assert lowest < 0  # spent down past its reserve (2) at times
    b_live, b_abandoned, _, _, b_budget, _ = await _pressed_campaign(
        store, _ops_campaign("blind"), _BlindGuard
    )
    assert b_abandoned <= 0.03 * b_live
    # abandons a worker may spend, on average over the run (seen: about 0.7 more)
    assert budget > b_budget + 0.3
    # (since each worker spends its share of the campaign's budget, by lines held, the
    # shared run is no faster here: the campaign's lengths are about equal; span, b_span)


# --- the store's side, directly ---------------------------------------------------------------


def test_a_recorded_cancel_fences_the_holders_next_attempt(store: Any) -> None:
    """The store's side of a cancel from any worker: closed at once when nobody holds the
    contact; else recorded, the holder's next attempt refused (nothing journaled), its
    renewal closes the contact, and a retry handed back with a cancel recorded closes."""
    from autoinformer.records import AttemptRecord, ContactProgress
    from autoinformer.store.postgres_leases import CancelAsked

    name = "fence"
    store.add_contacts(
        name,
        [Contact(id=i, phones=(f"+7950111000{n}",)) for n, i in enumerate(("a", "b", "c", "d"))],
    )
    taken = store.take_leases(name, "w1", now=100.0, ttl=30.0, limit=3)
    assert [lease.contact_id for lease in taken] == ["a", "b", "c"]
    assert store.request_cancel(name, "d", "paid", now=101.0) == "cancelled"  # nobody held it
    assert store.request_cancel(name, "d", "paid", now=101.0) == "closed"
    assert store.request_cancel(name, "zz", "paid", now=101.0) == "unknown"
    for cid in ("a", "b", "c"):
        assert store.request_cancel(name, cid, "paid", now=101.0) == "recorded"
    record = AttemptRecord(
        attempt_id="a-1",
        campaign=name,
        contact_id="a",
        attempt_no=1,
        number="+79501110000",
        caller_id=None,
        started_at=102.0,
    )
    with pytest.raises(CancelAsked) as refused:
        store.begin_leased_attempt(record, "w1", now=102.0)
    assert refused.value.reason == "paid"
    assert list(store.attempts(name)) == []  # nothing journaled
    back = ContactProgress("c", ContactState.SCHEDULED, 1, next_at=500.0)
    assert store.release_lease(name, "w1", back)  # a retry handed back: closed instead
    closed, in_call = store.honour_cancels(name, "w1", ["a", "b"])
    assert (closed, in_call) == (["a", "b"], {})
    states = {c.id: (p.state, p.reason, p.next_at) for c, p in store.contacts(name)}
    assert set(states.values()) == {(ContactState.CANCELLED, "paid", None)}
    assert store.lease_holders(name) == {}
