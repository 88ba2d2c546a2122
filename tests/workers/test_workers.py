"""Several ``Runtime(worker=...)`` on one PostgreSQL campaign, in one process (#17).

Each worker has its own :class:`SimSwitch`; all share the loop's virtual clock
(:mod:`autoinformer.testing.virtual_time`: time jumps only when no store call runs), so the
campaign's minutes pass in a moment and every worker sees the same instant. What one process
guarantees must hold for the campaign as a whole: every contact finished exactly once, no
attempt id twice, never more calls up than the campaign's lines (summed over the switches at
every originate, and the slot rows in the database), caller-ID caps held together, a dead
worker's contacts taken over and its calls in flight reconciled once.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.policy.callerid import CallerIdPool
from autoinformer.policy.retry import RetryPolicy
from autoinformer.runtime import Runtime
from autoinformer.script import Script, play
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

anyio_backend = virtual_anyio_backend

DEADLINE = 7200.0  # virtual seconds: a hang fails at once, a slow machine never does
FINAL = {ContactState.DONE, ContactState.EXHAUSTED, ContactState.SKIPPED, ContactState.CANCELLED}


def _campaign(**kw: Any) -> Campaign:
    settings: dict[str, Any] = {
        "name": "shared",
        "timezone": "UTC",
        "script": Script.of(play("sound:message")),
        "lines": 6,
        "retry": RetryPolicy.simple(attempts=2, interval="2m"),
    }
    settings.update(kw)
    return Campaign(**settings)


def _contacts(n: int) -> list[Contact]:
    # the last digit picks the callee (sim/parties.py): answered, busy, no answer, failing...
    return [Contact(id=f"c{i:04d}", phones=(f"+7950{i:07d}",)) for i in range(n)]


class Lines:
    """Counts the calls up on every worker's switch at each originate: the campaign's lines
    are held if the sum never passes them."""

    def __init__(self) -> None:
        self.switches: list[SimSwitch] = []
        self.peak = 0
        self.placed: list[str] = []  # every call id originated, on any switch
        self.busy = anyio.Event()  # the first switch has two calls up
        self.first = anyio.Event()  # a call was placed
        self.holders = 0  # the most workers holding lines at once (sampled)
        self.samples: list[tuple[float, dict[str, int]]] = []  # (time, lines per worker)

    def switch(self, clock: LoopClock) -> SimSwitch:
        lines = self

        class Counting(SimSwitch):
            async def originate(self, call_id: str, destination: str, **kw: Any) -> None:
                await super().originate(call_id, destination, **kw)
                lines.placed.append(call_id)
                lines.first.set()
                if self is lines.switches[0] and len(self.live_calls) >= 2:
                    lines.busy.set()
                lines.peak = max(lines.peak, sum(len(s.live_calls) for s in lines.switches))

        sw = Counting(clock=clock)
        self.switches.append(sw)
        return sw


@pytest.fixture
def store(postgres_url: str) -> Iterator[Any]:
    from autoinformer.store.postgres import PostgresStore

    with PostgresStore(postgres_url, pool_size=8) as s:
        yield s


def _check_finished_once(store: Any, campaign: str, n: int) -> list[Any]:
    """Every contact final, no attempt unfinished, no attempt id or number twice."""
    states = {c.id: p for c, p in store.contacts(campaign)}
    assert len(states) == n
    assert {p.state for p in states.values()} <= FINAL, collections.Counter(
        p.state for p in states.values()
    )
    attempts = list(store.attempts(campaign))
    assert store.unfinished_attempts(campaign) == []
    ids = [a.attempt_id for a in attempts]
    assert len(ids) == len(set(ids))
    keys = [(a.contact_id, a.attempt_no) for a in attempts]
    assert len(keys) == len(set(keys))
    assert store.lease_holders(campaign) == {}
    for cid, progress in states.items():
        mine = [a for a in attempts if a.contact_id == cid]
        assert len(mine) == progress.attempts, cid
    return attempts


async def _run_workers(
    store: Any,
    campaign: Campaign,
    contacts: list[Contact],
    names: list[str],
    during: Any = None,
    **kw: Any,
) -> tuple[list[Runtime], Lines]:
    """Run one runtime per name (each with its own switch) to the end; ``during(runtimes,
    scopes)`` runs beside them (``scopes``: each worker's cancel scope, to kill one)."""
    clock = LoopClock()
    lines = Lines()
    kw.get("busy", []).append(lines.busy)
    kw.get("first", []).append(lines.first)
    runtimes = [
        Runtime(
            campaign=campaign,
            switch=lines.switch(clock),
            store=store,
            clock=clock,
            worker=name,
            lease_ttl=kw.get("lease_ttl", 9.0),
            pacing=kw["pacing"]() if "pacing" in kw else None,
        )
        for name in names
    ]
    store.add_contacts(campaign.name, contacts)
    slots: list[int] = []

    async def sample_slots() -> None:
        while True:
            held = await anyio.to_thread.run_sync(store.lines_held, campaign.name, clock.now())
            slots.append(sum(held.values()))
            lines.holders = max(lines.holders, len(held))
            lines.samples.append((clock.now(), held))
            await anyio.sleep(0.5)

    scopes = [anyio.CancelScope() for _ in runtimes]
    with anyio.fail_after(DEADLINE):
        async with anyio.create_task_group() as tg:
            tg.start_soon(sample_slots)
            async with anyio.create_task_group() as workers:
                for sw, rt, scope in zip(lines.switches, runtimes, scopes, strict=True):

                    async def one(sw: SimSwitch = sw, rt: Runtime = rt, scope: Any = scope) -> None:
                        await anyio.sleep(kw.get("starts", {}).get(rt.worker, 0.0))
                        with scope:
                            async with sw:
                                await rt.run()

                    workers.start_soon(one)
                if during is not None:
                    workers.start_soon(during, runtimes, scopes)
            tg.cancel_scope.cancel()
    assert len(lines.placed) == len(set(lines.placed)), "one call per attempt"
    assert slots
    assert max(slots) <= campaign.lines
    return runtimes, lines


@pytest.mark.anyio
async def test_four_workers_finish_every_contact_once_within_the_lines(store: Any) -> None:
    campaign = _campaign()
    names = ["w1", "w2", "w3", "w4"]
    runtimes, lines = await _run_workers(store, campaign, _contacts(160), names)
    attempts = _check_finished_once(store, campaign.name, 160)
    assert 0 < lines.peak <= campaign.lines
    assert lines.holders >= 3  # the lines were shared, not kept by the first to claim them
    # the work was shared, and retries went to whichever worker was free
    by_worker = collections.Counter(rt.worker_mode.feed.taken for rt in runtimes)  # type: ignore[union-attr]
    assert all(rt.worker_mode.feed.taken > 0 for rt in runtimes)  # type: ignore[union-attr]
    assert sum(by_worker.elements()) >= 160
    retried = [a for a in attempts if a.attempt_no == 2]
    assert retried  # busy, no answer... were retried once
    outcomes = collections.Counter(a.outcome for a in attempts)
    assert outcomes[Outcome.DELIVERED] > 0
    assert store.lines_held(campaign.name, 10**12) == {}


@pytest.mark.anyio
async def test_a_dead_workers_contacts_are_taken_over_and_its_calls_reconciled(
    store: Any,
) -> None:
    """w1 stops renewing and is cancelled with calls in flight (a worker killed -9): after
    its leases run out, w2 and w3 take its contacts over, reconcile its attempts in flight
    once each (``unknown``, retried by policy), and finish the campaign: nothing lost, no
    attempt placed twice."""
    from autoinformer.backends.orphans import TAKEN_OVER_DETAIL

    campaign = _campaign(script=Script.of(play("sound:message")), lines=6)
    in_flight: list[str] = []
    died_at: list[float] = []
    busy: list[anyio.Event] = []

    async def kill_w1(runtimes: list[Runtime], scopes: list[anyio.CancelScope]) -> None:
        w1 = runtimes[0]
        await busy[0].wait()
        mode = w1.worker_mode
        assert mode is not None
        mode.tending = False  # hangs: no renewal, no hand-back
        in_flight.extend(runtimes[0].switch.live_calls)  # placed, so journaled first
        died_at.append(w1.clock.now())
        scopes[0].cancel()

    runtimes, _ = await _run_workers(
        store, campaign, _contacts(60), ["w1", "w2", "w3"], during=kill_w1, busy=busy
    )
    attempts = _check_finished_once(store, campaign.name, 60)
    by_id = {a.attempt_id: a for a in attempts}
    assert len(in_flight) >= 2
    reconciled = [r.attempt_id for rt in runtimes[1:] for r in rt.worker_mode.reconciled]  # type: ignore[union-attr]
    assert len(reconciled) == len(set(reconciled))  # once each
    assert set(in_flight) <= set(reconciled)  # (and any journaled, not yet placed)
    for call_id in reconciled:  # w1's attempts in flight: unknown, retried by policy
        record = by_id[call_id]
        assert record.outcome is Outcome.UNKNOWN
        assert record.detail.startswith(TAKEN_OVER_DETAIL)
        assert record.ended_at is not None
        assert record.ended_at >= died_at[0] + 9.0 - 3.0  # not before its lease could run out
    # each taken-over contact was called again (attempt 2) by a live worker
    for call_id in reconciled:
        cid = by_id[call_id].contact_id
        assert any(a.contact_id == cid and a.attempt_no == 2 for a in attempts)


@pytest.mark.anyio
async def test_caller_id_caps_hold_across_workers(store: Any) -> None:
    """Two caller IDs capped at 5 uses a day each: three workers together make 10 calls
    that day, not 30 (each alone would have believed it had 10 left)."""
    from autoinformer.core.dialer import DialerCore

    pool = CallerIdPool(numbers=("+74951110001", "+74951110002"), daily_cap=5)
    campaign = _campaign(caller_ids=pool, lines=6)

    async def stop_later(runtimes: list[Runtime], scopes: list[anyio.CancelScope]) -> None:
        await anyio.sleep(600.0)  # long enough for everything the caps allow
        for rt in runtimes:
            rt.stop()

    contacts = [Contact(id=f"a{i:03d}", phones=(f"+7950{i:06d}1",)) for i in range(40)]
    runtimes, _ = await _run_workers(store, campaign, contacts, ["w1", "w2", "w3"], stop_later)
    attempts = list(store.attempts(campaign.name))
    uses = collections.Counter(a.caller_id for a in attempts)
    assert uses == {"+74951110001": 5, "+74951110002": 5}
    assert sum(rt.worker_mode.refused for rt in runtimes) > 0  # type: ignore[union-attr]
    assert all(isinstance(rt.core, DialerCore) for rt in runtimes)
    states = collections.Counter(p.state for _, p in store.contacts(campaign.name))
    assert states[ContactState.DONE] == 10
    assert states[ContactState.PENDING] == 30  # handed back when the workers stopped
    assert store.lease_holders(campaign.name) == {}


@pytest.mark.anyio
async def test_calls_per_contact_per_day_hold_across_workers(store: Any) -> None:
    """Retries go back to the pool and come back to any worker with the contact's history:
    a limit of 2 calls a day holds whoever places them (5 attempts allowed, all unanswered)."""
    from autoinformer.policy.limits import ContactLimits

    campaign = _campaign(
        retry=RetryPolicy.simple(attempts=5, interval="2m"),
        limits=ContactLimits(per_day=2),
        lines=4,
    )

    async def stop_later(runtimes: list[Runtime], scopes: list[anyio.CancelScope]) -> None:
        await anyio.sleep(1800.0)  # the day goes on for half an hour: retries come due
        for rt in runtimes:
            rt.stop()

    contacts = [Contact(id=f"n{i:03d}", phones=(f"+7950{i:06d}3",)) for i in range(12)]
    runtimes, _ = await _run_workers(store, campaign, contacts, ["w1", "w2", "w3"], stop_later)
    attempts = list(store.attempts(campaign.name))
    per_contact = collections.Counter(a.contact_id for a in attempts)
    assert per_contact == dict.fromkeys(per_contact, 2)  # two each, never three
    assert len(per_contact) == 12
    second = {a.contact_id: a for a in attempts if a.attempt_no == 2}
    first = {a.contact_id: a for a in attempts if a.attempt_no == 1}
    assert all(second[cid].started_at >= first[cid].started_at + 120.0 for cid in second)
    assert store.lease_holders(campaign.name) == {}
    assert all(rt.worker_mode.held == set() for rt in runtimes)  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_stopped_worker_hands_its_contacts_back_at_once(store: Any) -> None:
    """w1 stops: the contacts it held and was not calling are back in the pool at once (a
    virtual second later, not the lease's 9 s), and w2 finishes the campaign."""
    campaign = _campaign(lines=2)
    checked: list[bool] = []

    async def stop_w1(runtimes: list[Runtime], scopes: list[anyio.CancelScope]) -> None:
        w1 = runtimes[0]
        mode = w1.worker_mode
        assert mode is not None
        await anyio.sleep(5.0)
        held = set(mode.held)
        calling = {call.slot.contact.id for call in w1.core.calls.values()}
        assert len(held - calling) > 2  # more taken than it can call at once
        w1.stop()
        await anyio.sleep(1.0)
        holders = await anyio.to_thread.run_sync(store.lease_holders, campaign.name)
        still = {cid for cid, (owner, _) in holders.items() if owner == "w1"}
        assert still <= calling  # only its calls in progress are still its own
        assert not (held - calling) & set(holders)  # the rest free for anyone, now
        checked.append(True)

    runtimes, _ = await _run_workers(store, campaign, _contacts(40), ["w1", "w2"], stop_w1)
    assert checked == [True]
    attempts = list(store.attempts(campaign.name))
    states = collections.Counter(p.state for _, p in store.contacts(campaign.name))
    assert set(states) <= FINAL  # w2 finished what w1 handed back
    assert len({a.attempt_id for a in attempts}) == len(attempts)
    assert runtimes[1].worker_mode.feed.taken > 20  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_the_abandon_cap_holds_over_the_campaign_with_each_worker_seeing_the_others(
    store: Any,
) -> None:
    """Three workers dial as fast as their lines allow (broadcast) into a "press 1 for an
    operator" script with one operator each: each worker's guard counts the others' answers
    and abandons (from the database), and the campaign stays under its 3% cap."""
    from autoinformer.campaign import QueueSettings
    from autoinformer.core.shared_guard import SharedAbandonGuard
    from autoinformer.pacing.base import BroadcastPacing
    from autoinformer.queues.base import Operator
    from autoinformer.script import menu, transfer

    campaign = _campaign(
        script=Script.of(play("sound:message"), menu("Press 1.", {"1": transfer("ops")})),
        queues=[QueueSettings(name="ops", operators=[Operator("anna", "PJSIP/101")], max_wait=5.0)],
        retry=RetryPolicy.simple(attempts=1),
        lines=9,
    )
    runtimes, _ = await _run_workers(
        store, campaign, _contacts(240), ["w1", "w2", "w3"], pacing=BroadcastPacing
    )
    attempts = _check_finished_once(store, campaign.name, 240)
    live = [a for a in attempts if a.answered_at is not None and not a.machine]
    abandoned = [a for a in attempts if a.outcome is Outcome.ABANDONED]
    transferred = [a for a in attempts if a.outcome is Outcome.TRANSFERRED]
    assert len(live) > 100
    assert transferred
    assert len(abandoned) <= 0.03 * len(live)
    for rt in runtimes:
        guard = rt.core.pacing
        assert isinstance(guard, SharedAbandonGuard)
        assert guard.others.answers > 0  # the others' answers reached this worker's guard
        assert guard.answers + guard.others.answers <= len(live)
    assert sum(rt.core.pacing.limited for rt in runtimes) > 0  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_a_call_whose_lease_was_lost_goes_on_and_its_result_is_kept(
    store: Any, postgres_url: str
) -> None:
    """Another worker takes the contact over while w1's call is up (w1 presumed dead): the
    call goes on, its real result is journaled (not reconciled as unknown: it was finished
    first), the progress is the new holder's; once that lease runs out w1 takes the contact
    back and closes it from the result."""
    import psycopg

    campaign = _campaign(lines=1)
    first: list[anyio.Event] = []
    stolen: list[str] = []

    async def steal(runtimes: list[Runtime], scopes: list[anyio.CancelScope]) -> None:
        await first[0].wait()
        w1 = runtimes[0]
        (call,) = w1.core.calls.values()
        cid, until = call.slot.contact.id, w1.clock.now() + 5.0

        def update() -> None:
            with psycopg.connect(postgres_url, autocommit=True) as db:
                db.execute(
                    "UPDATE autoinformer_contacts SET lease_owner = 'thief', lease_until = %s "
                    "WHERE contact_id = %s",
                    (until, cid),
                )

        await anyio.to_thread.run_sync(update)
        stolen.append(cid)

    contacts = [Contact(id="only", phones=("+79500000001",))]  # answers, hears it all
    await _run_workers(store, campaign, contacts, ["w1"], steal, first=first)
    assert stolen == ["only"]
    (attempt,) = store.attempts(campaign.name)
    assert attempt.outcome is Outcome.DELIVERED  # the call went on; its result was kept
    ((_, progress),) = store.contacts(campaign.name)
    assert progress.state is ContactState.DONE
    assert store.lease_holders(campaign.name) == {}


@pytest.mark.anyio
async def test_outside_the_calling_hours_no_worker_leases_the_whole_list(store: Any) -> None:
    """Before the window opens every contact waits: each worker holds at most ten per line
    (at least 100), not the 1,000 of the list, and hands them back (with the time they are
    due) when it stops."""
    from autoinformer.policy.schedule import CallWindow

    window = CallWindow.parse(days="*", hours="12:00-20:00", timezone="UTC")  # opens at 12:00
    campaign = _campaign(window=window, lines=2)
    held: list[int] = []

    async def look_then_stop(runtimes: list[Runtime], scopes: list[anyio.CancelScope]) -> None:
        await anyio.sleep(60.0)
        held.extend(len(rt.worker_mode.held) for rt in runtimes)  # type: ignore[union-attr]
        for rt in runtimes:
            rt.stop()

    await _run_workers(store, campaign, _contacts(1000), ["w1", "w2"], look_then_stop)
    assert held == [100, 100]
    assert list(store.attempts(campaign.name)) == []
    assert store.lease_holders(campaign.name) == {}
    waiting = [p for _, p in store.contacts(campaign.name) if p.next_at is not None]
    assert len(waiting) == 200  # handed back with the window's opening as their time
    opening = 1_767_261_600.0 + 2 * 3600  # 12:00 UTC that day
    assert {p.next_at for p in waiting} == {opening}


@pytest.mark.anyio
async def test_a_worker_that_comes_later_gets_a_fair_share_of_the_lines(store: Any) -> None:
    """w1 starts alone and holds every line (plenty to call, calls ringing 30 s); w2 comes a
    minute later: w1 gives lines back as its calls end, down to its share, and w2 calls
    with the rest while w1 still has work."""
    campaign = _campaign(lines=6, retry=RetryPolicy.simple(attempts=1))
    contacts = [Contact(id=f"r{i:03d}", phones=(f"+7950{i:06d}3",)) for i in range(300)]
    clock_start: list[float] = []

    async def note_start(runtimes: list[Runtime], scopes: list[anyio.CancelScope]) -> None:
        clock_start.append(runtimes[0].clock.now())

    _, lines = await _run_workers(
        store, campaign, contacts, ["w1", "w2"], note_start, starts={"w2": 60.0}
    )
    _check_finished_once(store, campaign.name, 300)
    t0 = clock_start[0]
    alone = [h for t, h in lines.samples if t0 + 10 < t < t0 + 55]
    assert alone
    assert max(h.get("w1", 0) for h in alone) == 6  # alone, it had them all
    shared = [h for t, h in lines.samples if t0 + 150 < t < t0 + 400]
    assert shared
    assert all(h.get("w1", 0) <= 3 for h in shared)  # its share, once its calls ended
    assert any(h.get("w2", 0) >= 3 for h in shared)
