"""Several switches behind one campaign (:class:`SwitchSet`, issue #17), on asyncio and trio in
virtual time, over simulated switches.

- one of two switches stopped (``go_away``) mid-campaign: the other carries the campaign to
  the end, every contact is finished once, the calls on the stopped one are reconciled
  (written off as lost after ``lost_after``, or reported by the switch when it comes back) and
  retried, and no switch ever has more calls than its lines;
- weights split new calls exactly; lines fill the least loaded switch; a full or absent set
  raises BackendUnavailable with each switch's reason;
- every command about a call goes to its switch; an operator leg joins its call's switch;
- a switch whose event stream ends for good has its calls written off at once; one that
  comes back holding a call the set wrote off has it hung up.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import anyio
import pytest

from autoinformer.backends.base import BackendGap, CallAnswered, CallEnded, Orphan, SwitchEvent
from autoinformer.backends.multi import Member, SwitchSet
from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core.dialer import is_not_placed
from autoinformer.errors import BackendUnavailable, CallNotFound, SettingsError, WrongCallState
from autoinformer.outcomes import ContactState, HangupCause, Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, play, transfer
from autoinformer.sim.faults import Faults
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import START, LoopClock

pytestmark = pytest.mark.anyio
anyio_backend = virtual_anyio_backend

DEADLINE = 4 * 3600.0  # virtual seconds: only a guard against a hang
HOLD = "+79500000001"  # parties: answers and stays until we hang up
BUSY = "+79500000002"  # parties: busy after 0.5 s


class SpySwitch(SimSwitch):
    """A SimSwitch that records, at each originate, how many customer calls it then has."""

    def __init__(self, **kw: object) -> None:
        kw.setdefault("builtin_seconds", {"sound:message": 20.0})
        kw.setdefault("clock", LoopClock())
        super().__init__(**kw)  # type: ignore[arg-type]
        self.customers: set[str] = set()
        self.peak = 0
        self.originated: list[tuple[float, str]] = []
        self.hung_up = anyio.Event()

    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        await super().hangup(call_id, cause)
        self.hung_up.set()

    async def originate(
        self,
        call_id: str,
        destination: str,
        *,
        caller_id: str | None,
        ring_timeout: float,
        variables: Mapping[str, str] | None = None,
        operator: bool = False,
        detect_machine: bool = False,
    ) -> None:
        await super().originate(
            call_id,
            destination,
            caller_id=caller_id,
            ring_timeout=ring_timeout,
            variables=variables,
            operator=operator,
            detect_machine=detect_machine,
        )
        self.originated.append((self.clock.now(), call_id))
        if not operator:
            live = set(self.live_calls)
            self.customers = {c for c in self.customers | {call_id} if c in live}
            self.peak = max(self.peak, len(self.customers))


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "multi",
        "timezone": "UTC",
        "script": Script.of(play("sound:message")),
        "lines": 8,
        "retry": RetryPolicy.simple(attempts=3, interval="2m"),
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


# parties 1 and 0 (delivered), 2 (busy), 3 (no answer): a mix with retries
CONTACTS = [Contact(id=f"c{i:03d}", phones=(f"+7950000{i:03d}{i % 4}",)) for i in range(120)]


def _finished_once(store: MemoryStore, name: str) -> list[AttemptRecord]:
    """Every contact finished, and no attempt of one contact overlapping another of it."""
    final = {contact.id: progress.state for contact, progress in store.contacts(name)}
    assert set(final) == {c.id for c in CONTACTS}
    open_states = {ContactState.PENDING, ContactState.SCHEDULED, ContactState.IN_CALL}
    assert not [c for c, state in final.items() if state in open_states], final
    attempts = list(store.attempts(name))
    assert all(r.outcome is not None for r in attempts), "an attempt left unfinished"
    assert len({r.attempt_id for r in attempts}) == len(attempts)
    by_contact: dict[str, list[AttemptRecord]] = {}
    for record in attempts:
        by_contact.setdefault(record.contact_id, []).append(record)
    for records in by_contact.values():
        records.sort(key=lambda r: r.started_at)
        for before, after in itertools.pairwise(records):
            assert before.ended_at is not None
            assert after.started_at >= before.ended_at, "two calls to one contact at once"
        placed = [r for r in records if not is_not_placed(r)]
        assert len(placed) <= 3, "over the retry budget"
    return attempts


@pytest.mark.parametrize("comes_back", [False, True])
async def test_one_switch_stopped_mid_campaign_the_other_carries_it(comes_back: bool) -> None:
    clock = LoopClock()
    a, b = SpySwitch(clock=clock), SpySwitch(clock=clock)
    switches = SwitchSet(
        [Member(a, name="a", lines=8), Member(b, name="b", lines=8)], clock=clock, lost_after=90
    )
    store = MemoryStore()
    stopped: dict[str, object] = {}

    async def hurt() -> None:
        await clock.sleep_until(START + 300.0)
        stopped["calls"] = set(a.live_calls)
        stopped["at"] = clock.now()
        a.go_away()
        if comes_back:
            await clock.sleep_until(START + 330.0)  # within lost_after: a reports them itself
            a.come_back()

    async with switches:
        runtime = Runtime(campaign=_campaign(), switch=switches, store=store, clock=clock)
        async with anyio.create_task_group() as tg:
            tg.start_soon(hurt)
            with anyio.fail_after(DEADLINE):
                summary = await runtime.run(CONTACTS)
    lost = stopped["calls"]
    assert isinstance(lost, set)
    assert lost, "nothing was in flight on a: test too weak"
    attempts = _finished_once(store, "multi")
    by_id = {r.attempt_id: r for r in attempts}
    at = stopped["at"]
    assert isinstance(at, float)
    # the calls a had when it stopped were reconciled: an answered one ended at the stop (the
    # outage is not talk time) as a fault, a ringing one as a failed attempt (the core's own
    # ring timer may end it first); each counted once and its contact called again
    for call_id in lost:
        record = by_id[call_id]
        assert record.ended_at is not None
        if record.answered_at is not None:
            assert record.ended_at <= at + 0.001, record
        assert record.outcome in (Outcome.FAILED, Outcome.DELIVERED), record
        later = [
            r
            for r in attempts
            if r.contact_id == record.contact_id and r.started_at > record.started_at
        ]
        if record.outcome is Outcome.FAILED and record.attempt_no < 3:
            assert later, f"{call_id} was not retried"
        assert all(not is_not_placed(r) for r in later[:1])
    # b carried the campaign after a stopped; neither ever held more than its lines
    assert any(t > at for t, _ in b.originated)
    assert a.peak <= 8
    assert b.peak <= 8
    after = [t for t, _ in a.originated if t > at]
    if comes_back:
        assert after, "a took no call after it came back"
        assert summary["switch_gaps"][0]["lost"] == len(lost)
    else:
        assert not after
        assert b.peak == 8  # once a's calls were written off, b took the campaign's lines
        (status_a, _) = switches.status()
        assert status_a.written_off == len(lost)


@pytest.mark.parametrize("shares", ["lines", "weights"])
async def test_the_campaign_pauses_only_when_every_switch_is_away(shares: str) -> None:
    clock = LoopClock()
    a, b = SpySwitch(clock=clock), SpySwitch(clock=clock)
    share: dict[str, int] = {"lines": 4} if shares == "lines" else {"weight": 1}
    switches = SwitchSet([Member(a, name="a", **share), Member(b, name="b", **share)], clock=clock)
    store = MemoryStore()

    async def hurt() -> None:
        await clock.sleep_until(START + 120.0)
        a.go_away()
        await clock.sleep_until(START + 200.0)
        b.go_away()  # now none: the core pauses
        await clock.sleep_until(START + 500.0)
        b.come_back()
        a.come_back()

    async with switches:
        runtime = Runtime(campaign=_campaign(lines=4), switch=switches, store=store, clock=clock)
        async with anyio.create_task_group() as tg:
            tg.start_soon(hurt)
            with anyio.fail_after(DEADLINE):
                await runtime.run(CONTACTS)
    attempts = _finished_once(store, "multi")
    not_placed = [r for r in attempts if is_not_placed(r)]
    # none while b alone carried the campaign (it had the campaign's 4 lines)
    assert not [r for r in not_placed if r.started_at < START + 200.0]
    assert any(t > START + 500.0 for t, _ in a.originated)
    # with nothing up the set said it could carry no call (LinesAvailable(0), lines or
    # weights alike): the core placed none, rather than probing a set with nothing up, and
    # went on when the members came back
    assert not_placed == []
    assert not [t for t, _ in a.originated + b.originated if START + 201.0 < t < START + 500]


async def test_a_campaign_wider_than_the_switches_left_dials_within_them() -> None:
    """16 lines over two switches of 8; one goes away for good: the campaign runs on the 8 the
    other has (``LinesAvailable``), with no call sent to a full set to be refused."""
    clock = LoopClock()
    a, b = SpySwitch(clock=clock), SpySwitch(clock=clock)
    switches = SwitchSet(
        [Member(a, name="a", lines=8), Member(b, name="b", lines=8)], clock=clock, lost_after=90
    )
    store = MemoryStore()
    said: list[int | None] = []
    core_lines: list[int | None] = []

    async def hurt() -> None:
        await clock.sleep_until(START + 300.0)
        a.go_away()

    async with switches:
        runtime = Runtime(campaign=_campaign(lines=16), switch=switches, store=store, clock=clock)

        async def watch() -> None:  # what the core was told, sampled
            while True:
                await clock.sleep_until(clock.now() + 5.0)
                core_lines.append(runtime.core.switch_lines)
                said.append(switches.lines_now())

        async with anyio.create_task_group() as tg:
            tg.start_soon(hurt)
            tg.start_soon(watch)
            with anyio.fail_after(DEADLINE):
                await runtime.run(CONTACTS)
            tg.cancel_scope.cancel()
    attempts = _finished_once(store, "multi")
    assert [r for r in attempts if is_not_placed(r)] == []
    assert a.peak == 8  # both carried calls before the outage
    assert b.peak == 8
    assert 8 in core_lines  # the core heard that only b's 8 were left
    assert said[-1] == 8
    assert any(t > START + 300.0 for t, _ in b.originated)
    assert not [t for t, _ in a.originated if t > START + 300.0]


async def test_weights_split_new_calls_exactly() -> None:
    a, b = SpySwitch(), SpySwitch()
    async with SwitchSet([Member(a, weight=3), Member(b, weight=1)]) as switches:
        for n in range(400):
            await switches.originate(f"w{n}", BUSY, caller_id=None, ring_timeout=30)
        assert (len(a.originated), len(b.originated)) == (300, 100)
        # in every run of four calls: three on a, one on b
        on_a = {c for _, c in a.originated}
        owners = ["a" if f"w{n}" in on_a else "b" for n in range(400)]
        for start in range(0, 400, 4):
            assert owners[start : start + 4].count("a") == 3
        assert [s.placed for s in switches.status()] == [300, 100]


async def test_lines_fill_the_least_loaded_switch_and_a_full_set_says_why() -> None:
    a, b = SpySwitch(), SpySwitch()
    async with SwitchSet([Member(a, name="a", lines=2), Member(b, name="b", lines=4)]) as set_:
        for n in range(6):
            await set_.originate(f"l{n}", HOLD, caller_id=None, ring_timeout=30)
        assert (len(a.originated), len(b.originated)) == (2, 4)
        # relative to their lines: b first (0/4 ties 0/2, the bigger first), then evenly
        order = sorted(a.originated + b.originated, key=lambda x: int(x[1][1:]))
        assert ["a" if x in a.originated else "b" for x in order] == ["b", "a", "b", "b", "a", "b"]
        with pytest.raises(BackendUnavailable, match=r"a full \(2 of 2 lines\).*b full"):
            await set_.originate("l6", HOLD, caller_id=None, ring_timeout=30)
        await set_.hangup("l0")
        await set_.hangup("l1")
        events = set_.events()
        ended = set()
        with anyio.fail_after(10):
            while len(ended) < 2:
                event = await events.__anext__()
                if isinstance(event, CallEnded):
                    ended.add(event.call_id)
        await set_.originate("l6", HOLD, caller_id=None, ring_timeout=30)
        a.go_away()
        b.go_away()
        with pytest.raises(BackendUnavailable, match=r"a away.*b away"):
            await set_.originate("l7", HOLD, caller_id=None, ring_timeout=30)
        assert not set_.connected


async def test_commands_go_to_the_call_s_switch_and_unknown_calls_are_not_found() -> None:
    a, b = SpySwitch(), SpySwitch()
    async with SwitchSet([Member(a, weight=1), Member(b, weight=1)]) as switches:
        await switches.originate("x", HOLD, caller_id=None, ring_timeout=30)
        await switches.originate("y", HOLD, caller_id=None, ring_timeout=30)
        assert a.live_calls == ("x",)
        assert b.live_calls == ("y",)
        events = switches.events()
        answered: set[str] = set()
        with anyio.fail_after(10):
            while answered != {"x", "y"}:
                event: SwitchEvent = await events.__anext__()
                if isinstance(event, CallAnswered):
                    answered.add(event.call_id)
        await switches.hangup("y")
        assert a.live_calls == ("x",)
        assert b.live_calls == ()
        with pytest.raises(CallNotFound):
            await switches.collect_digits("nobody")
        await switches.hangup("nobody")  # no error: already gone


async def test_operator_legs_and_bridges_stay_on_the_switch_of_the_call() -> None:
    clock = LoopClock()
    a, b = SpySwitch(clock=clock), SpySwitch(clock=clock)
    campaign = _campaign(
        script=Script.of(menu("Press 1.", {"1": transfer("operators")})),
        lines=6,
        queues=[
            QueueSettings(
                name="operators",
                operators=[Operator(f"op{i}", f"PJSIP/op{i}") for i in range(4)],
                max_wait=120.0,
            )
        ],
        retry=RetryPolicy.simple(attempts=1),
    )
    # parties 8: answers, presses 1 (an operator), stays 20 s
    contacts = [Contact(id=f"t{i:02d}", phones=(f"+79500001{i:02d}8",)) for i in range(24)]
    store = MemoryStore()
    async with SwitchSet([Member(a, lines=6), Member(b, lines=6)], clock=clock) as switches:
        runtime = Runtime(campaign=campaign, switch=switches, store=store, clock=clock)
        with anyio.fail_after(DEADLINE):
            await runtime.run(contacts)
    outcomes = [r.outcome for r in store.attempts("multi")]
    assert outcomes.count(Outcome.TRANSFERRED) == len(contacts), outcomes
    for spy in (a, b):
        calls = {c for _, c in spy.originated if "-op" not in c}
        legs = {c for _, c in spy.originated if "-op" in c}
        assert calls
        assert legs
        assert {leg.rsplit("-op", 1)[0] for leg in legs} <= calls


class EndingSwitch(SpySwitch):
    """A switch whose event stream ends for good (another dialer took it over, say)."""

    ended = False

    def events(self):  # type: ignore[no-untyped-def]
        inner = super().events()
        outer = self

        class _Stream:
            def __aiter__(self) -> _Stream:
                return self

            async def __anext__(self) -> SwitchEvent:
                if outer.ended:
                    raise StopAsyncIteration
                return await inner.__anext__()

        return _Stream()


async def test_a_switch_whose_stream_ends_has_its_calls_written_off_at_once() -> None:
    clock = LoopClock()
    a, b = EndingSwitch(clock=clock), SpySwitch(clock=clock)
    async with SwitchSet([Member(a, weight=1), Member(b, weight=1)], clock=clock) as switches:
        await switches.originate("x", HOLD, caller_id=None, ring_timeout=30)
        events = switches.events()
        with anyio.fail_after(10):
            while not isinstance(await events.__anext__(), CallAnswered):
                pass
        a.ended = True
        a.gap(0.1)  # wakes the stream up: it passes this gap on, then ends
        seen: list[SwitchEvent] = []
        with anyio.fail_after(10):
            while not any(isinstance(e, CallEnded) for e in seen):
                seen.append(await events.__anext__())
        gap, ended = seen[-2], seen[-1]
        assert isinstance(gap, BackendGap)
        assert gap.lost == ("x",)
        assert isinstance(ended, CallEnded)
        assert ended.answered
        assert "event stream ended" in ended.detail
        await switches.originate("y", HOLD, caller_id=None, ring_timeout=30)
        await switches.originate("z", HOLD, caller_id=None, ring_timeout=30)
        assert set(b.live_calls) == {"y", "z"}  # a takes no more calls


@pytest.mark.parametrize("then", ["gap", "back"])
async def test_a_call_written_off_that_the_switch_still_has_is_hung_up(then: str) -> None:
    clock = LoopClock()
    a, b = SpySwitch(clock=clock), SpySwitch(clock=clock)
    switches = SwitchSet([Member(a, weight=1), Member(b, weight=1)], clock=clock, lost_after=10)
    async with switches:
        await switches.originate("x", HOLD, caller_id=None, ring_timeout=30)
        events = switches.events()
        with anyio.fail_after(10):
            while not isinstance(await events.__anext__(), CallAnswered):
                pass
        a.faults = Faults(outages=((clock.now(), clock.now() + 30.0),))  # unreachable, call kept
        seen: list[SwitchEvent] = []
        with anyio.fail_after(60):
            while not any(isinstance(e, CallEnded) for e in seen):
                seen.append(await events.__anext__())
        assert isinstance(seen[-2], BackendGap)
        assert seen[-2].lost == ("x",)
        assert "x" in a.live_calls  # the switch still has it: a ghost until it is back
        if then == "gap":
            a.gap(1.0)  # a reconnect: the switch reports the call adopted
        # else: the outage ends; the set sees the switch back and hangs up what it wrote off
        with anyio.fail_after(60):
            await a.hung_up.wait()
        assert "x" not in a.live_calls
        assert switches.status()[0].written_off == 1


def test_shares_are_checked() -> None:
    a, b = SimSwitch(), SimSwitch()
    with pytest.raises(SettingsError, match="lines"):
        SwitchSet([Member(a, lines=0), Member(b, lines=1)])
    with pytest.raises(SettingsError, match=r"backend\[1\].weight"):
        SwitchSet([Member(a, weight=1), Member(b, lines=3)])
    with pytest.raises(SettingsError, match="used twice"):
        SwitchSet([Member(a, name="x"), Member(b, name="x")])
    with pytest.raises(SettingsError, match="at least one"):
        SwitchSet([])
    with pytest.raises(SettingsError, match=r"backend\[0\].lost_after"):
        SwitchSet([Member(a, lost_after=-1.0)])


async def test_a_switch_s_own_lost_after_is_waited_for() -> None:
    clock = LoopClock()
    a, b = SpySwitch(clock=clock), SpySwitch(clock=clock)
    members = [Member(a, weight=1, lost_after=200.0), Member(b, weight=1)]
    async with SwitchSet(members, clock=clock, lost_after=10.0) as switches:
        await switches.originate("x", HOLD, caller_id=None, ring_timeout=30)
        a.go_away()
        away = clock.now()
        events = switches.events()
        with anyio.fail_after(600):
            while not isinstance(gap := await events.__anext__(), BackendGap):
                pass
        assert gap.lost == ("x",)
        assert clock.now() - away >= 200.0  # its own 200 s, not the set's 10 s


async def test_a_switch_away_at_start_is_connected_later_and_takes_calls() -> None:
    clock = LoopClock()
    a = SpySwitch(clock=clock, faults=Faults(outages=((START, START + 20.0),)))
    b = SpySwitch(clock=clock)
    async with SwitchSet(
        [Member(a, name="a", lines=4), Member(b, name="b", lines=4)], clock=clock
    ) as switches:
        assert [s.up for s in switches.status()] == [False, True]
        await switches.originate("x", HOLD, caller_id=None, ring_timeout=30)
        assert b.live_calls == ("x",)
        await clock.sleep_until(START + 40.0)  # the set retried a's connect meanwhile
        assert [s.up for s in switches.status()] == [True, True]
        await switches.originate("y", HOLD, caller_id=None, ring_timeout=30)
        assert a.live_calls == ("y",)  # the least loaded


async def test_a_set_with_no_switch_reachable_does_not_connect() -> None:
    clock = LoopClock()
    down = Faults(outages=((START, START + 3600.0),))
    switches = SwitchSet(
        [
            Member(SpySwitch(clock=clock, faults=down), name="a"),
            Member(SpySwitch(clock=clock, faults=down), name="b"),
        ],
        clock=clock,
    )
    with pytest.raises(BackendUnavailable, match=r"a: cannot connect.*b: cannot connect"):
        await switches.connect()
    assert not switches.connected


class OrphanSwitch(SpySwitch):
    """A switch that found a call a dead process left on it."""

    def __init__(self, orphan: Orphan, **kw: object) -> None:
        super().__init__(**kw)
        self.left = [orphan]
        self.hung_up_orphans: list[Orphan] = []

    async def orphans(self, campaign: str) -> list[Orphan]:
        return list(self.left)

    async def hangup_orphan(self, orphan: Orphan) -> None:
        self.hung_up_orphans.append(orphan)
        self.left.remove(orphan)


async def test_orphans_are_listed_on_every_switch_and_hung_up_on_their_own() -> None:
    one, two = Orphan("dead-1", ("chan-1",)), Orphan("dead-2", ("chan-2",))
    a, b = OrphanSwitch(one), OrphanSwitch(two)
    async with SwitchSet([Member(a, weight=1), Member(b, weight=1)]) as switches:
        found = await switches.orphans("drill")
        assert found == [one, two]
        for orphan in found:
            await switches.hangup_orphan(orphan)
        assert a.hung_up_orphans == [one]
        assert b.hung_up_orphans == [two]
        assert await switches.orphans("drill") == []


async def test_an_operator_leg_named_as_the_core_names_it_joins_its_call_s_switch() -> None:
    a, b = SpySwitch(), SpySwitch()
    async with SwitchSet([Member(a, weight=1), Member(b, weight=1)]) as switches:
        await switches.originate("c1", HOLD, caller_id=None, ring_timeout=30)
        await switches.originate("c2", HOLD, caller_id=None, ring_timeout=30)
        assert b.live_calls == ("c2",)
        # round robin would put the next call on a; the leg of c2 goes where c2 is
        await switches.originate(
            "c2-op1", "PJSIP/101", caller_id=None, ring_timeout=30, operator=True
        )
        assert set(b.live_calls) == {"c2", "c2-op1"}
        events = switches.events()
        answered: set[str] = set()
        with anyio.fail_after(30):
            while answered != {"c1", "c2", "c2-op1"}:
                event = await events.__anext__()
                if isinstance(event, CallAnswered):
                    answered.add(event.call_id)
        await switches.bridge("br1", ("c2", "c2-op1"))
        with pytest.raises(WrongCallState, match="different switches"):
            await switches.bridge("br2", ("c1", "c2-op1"))
