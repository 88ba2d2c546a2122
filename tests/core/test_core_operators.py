"""The core's operator handling: ring-all rings everyone, a failed operator leg moves on to the
next operator while the callee waits, ``abandoned`` only when ``max_wait`` runs out, and
``agent_error`` only for a bridge that fails after an operator answered.

Pure tests feed the core events by hand, in order; the virtual-time driver and the simulated
switch (through the runtime, on both event loops) run the same cases end to end.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest

from autoinformer.backends.ari import AriSwitch
from autoinformer.backends.ari.settings import AriSettings
from autoinformer.backends.base import (
    Bridged,
    CallAnswered,
    CallEnded,
    Media,
    PlaybackFinished,
)
from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.operators import LEG_GRACE
from autoinformer.outcomes import HangupCause, Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import DistributionStrategy, Operator, OperatorQueue, OperatorState
from autoinformer.queues.strategies import Linear, RingAll, strategy_named
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, transfer
from autoinformer.script.steps import Play as PlayStep
from autoinformer.sim.driver import DEFAULT_START, simulate
from autoinformer.sim.model import PopulationModel
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.speech import tone_renderer
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

T0 = DEFAULT_START
OPS = (Operator("a", "PJSIP/a"), Operator("b", "PJSIP/b"), Operator("c", "PJSIP/c"))


def _campaign(
    operators: Sequence[Operator] = OPS,
    *,
    strategy: Any = Linear,
    max_wait: float = 30.0,
    ring_timeout: float = 15.0,
    hold: str | None = "sound:moh",
    script: Script | None = None,
    lines: int = 1,
) -> Campaign:
    queue = QueueSettings(
        name="desk",
        operators=operators,
        strategy=strategy,
        max_wait=max_wait,
        ring_timeout=ring_timeout,
        hold_music=hold,
    )
    return Campaign(
        timezone="UTC",
        name="ops",
        script=script or Script.of(transfer("desk")),
        lines=lines,
        queues=[queue],
        retry=RetryPolicy.simple(attempts=1),
    )


def _answered(core: DialerCore) -> tuple[str, list[c.Command]]:
    """Place the one contact's call and answer it: the script transfers at once."""
    out = core.handle(T0, e.ContactsAdded([Contact(id="x", phones=("+79500000001",))]))
    call_id = next(cmd.call_id for cmd in out if isinstance(cmd, c.Originate))
    return call_id, core.handle(T0 + 2, CallAnswered(call_id))


def _legs(out: list[c.Command]) -> dict[str, str]:
    """Operator originates in ``out``: endpoint -> leg id."""
    return {cmd.number: cmd.call_id for cmd in out if isinstance(cmd, c.Originate) and cmd.operator}


def _member(core: DialerCore, operator_id: str) -> Any:
    return core._desk.queues["desk"].status(operator_id)


def _hold() -> Media:
    return PlayStep("sound:moh").media()


def _decided(out: list[c.Command]) -> bool:
    return any(isinstance(cmd, c.Journal | c.Hangup | c.Originate) for cmd in out)


def _final(out: list[c.Command]) -> AttemptRecord:
    return next(cmd.record for cmd in out if isinstance(cmd, c.Journal) and not cmd.begin)


@pytest.mark.parametrize("name", ["ringall", "ring-all"])
def test_ring_all_rings_every_idle_operator_and_the_first_answer_takes_the_call(
    name: str,
) -> None:
    core = DialerCore(campaign=_campaign(strategy=lambda: strategy_named(name)))
    call_id, out = _answered(core)
    legs = _legs(out)
    assert sorted(legs) == ["PJSIP/a", "PJSIP/b", "PJSIP/c"]  # at once, in one step
    assert c.Play(call_id, f"{call_id}-hold", _hold()) in out
    assert all(_member(core, op).state is OperatorState.RINGING for op in "abc")

    out = core.handle(T0 + 4, CallAnswered(legs["PJSIP/b"]))
    assert c.StopPlayback(call_id, f"{call_id}-hold") in out
    assert c.Bridge(f"{call_id}-br", (call_id, legs["PJSIP/b"])) in out
    hangups = {cmd.call_id: cmd.cause for cmd in out if isinstance(cmd, c.Hangup)}
    assert hangups == {
        legs["PJSIP/a"]: HangupCause.NORMAL_CLEARING,
        legs["PJSIP/c"]: HangupCause.NORMAL_CLEARING,
    }
    # the losers are idle again at once: no wrap-up, no call counted
    for op in "ac":
        assert _member(core, op).state is OperatorState.IDLE
        assert _member(core, op).calls == 0
    # a loser's answer racing our hang-up changes nothing
    late = core.handle(T0 + 4.01, CallAnswered(legs["PJSIP/c"]))
    assert not any(isinstance(cmd, c.Bridge | c.Hangup | c.Originate) for cmd in late)

    out = core.handle(T0 + 4.1, Bridged(call_id, f"{call_id}-br"))
    assert _member(core, "b").calls == 1
    assert _member(core, "b").state is OperatorState.TALKING
    for op in "ac":
        core.handle(T0 + 4.2, CallEnded(legs[f"PJSIP/{op}"], HangupCause.NORMAL_CLEARING))
        assert _member(core, op).state is OperatorState.IDLE
        assert _member(core, op).calls == 0

    ended = CallEnded(legs["PJSIP/b"], HangupCause.NORMAL_CLEARING, answered=True)
    out = core.handle(T0 + 20, ended)
    assert c.Hangup(call_id) in out
    assert _member(core, "b").state is OperatorState.WRAPUP
    out = core.handle(T0 + 20, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    record = _final(out)
    assert record.outcome is Outcome.TRANSFERRED
    assert record.operator == "b"


def test_a_failed_leg_moves_on_to_the_next_operator_while_the_callee_waits() -> None:
    core = DialerCore(campaign=_campaign(strategy=Linear, ring_timeout=15.0))
    call_id, out = _answered(core)
    assert list(_legs(out)) == ["PJSIP/a"]  # one at a time
    # a is busy: a is idle again for others, but skipped for this caller; b rings
    out = core.handle(T0 + 3, CallEnded(_legs(out)["PJSIP/a"], HangupCause.USER_BUSY))
    assert list(_legs(out)) == ["PJSIP/b"]
    assert _member(core, "a").state is OperatorState.IDLE
    assert not any(isinstance(cmd, c.StopPlayback) for cmd in out)  # hold music plays on
    # the switch refuses b's leg outright: c rings
    out = core.handle(T0 + 3, e.CommandFailed(_legs(out)["PJSIP/b"], "refused", originate=True))
    leg_c = _legs(out)["PJSIP/c"]
    assert list(_legs(out)) == ["PJSIP/c"]
    # c never answers and the switch never says so: the core gives up on it by itself
    quiet = core.handle(T0 + 3 + 15, e.Tick())
    assert not any(isinstance(cmd, c.Hangup) for cmd in quiet)
    out = core.handle(T0 + 3 + 15 + LEG_GRACE, e.Tick())
    assert c.Hangup(leg_c) in out
    assert _legs(out) == {}  # everybody failed this caller: nobody is rung twice
    assert all(_member(core, op).state is OperatorState.IDLE for op in "abc")
    # only max_wait makes it abandoned (ringing time included)
    assert not any(isinstance(cmd, c.Journal) for cmd in out)
    out = core.handle(T0 + 2 + 30, e.Tick())
    assert c.StopPlayback(call_id, f"{call_id}-hold") in out
    assert c.Hangup(call_id) in out
    out = core.handle(T0 + 33, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    record = _final(out)
    assert record.outcome is Outcome.ABANDONED
    assert record.operator is None
    assert "a (user_busy)" in record.detail
    assert "b (refused: refused)" in record.detail
    assert all(_member(core, op).calls == 0 for op in "abc")


def test_the_next_operator_connects_after_a_no_answer() -> None:
    core = DialerCore(campaign=_campaign(strategy=Linear))
    call_id, out = _answered(core)
    out = core.handle(T0 + 17, CallEnded(_legs(out)["PJSIP/a"], HangupCause.NO_ANSWER))
    leg_b = _legs(out)["PJSIP/b"]
    out = core.handle(T0 + 19, CallAnswered(leg_b))
    assert c.Bridge(f"{call_id}-br", (call_id, leg_b)) in out
    core.handle(T0 + 19.1, Bridged(call_id, f"{call_id}-br"))
    core.handle(T0 + 40, CallEnded(leg_b, HangupCause.NORMAL_CLEARING, answered=True))
    out = core.handle(T0 + 40, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    record = _final(out)
    assert (record.outcome, record.operator) == (Outcome.TRANSFERRED, "b")
    assert (_member(core, "a").calls, _member(core, "b").calls) == (0, 1)


def test_ring_all_legs_that_all_fail_go_back_to_the_queue_for_whoever_frees_up() -> None:
    two = (Operator("a", "PJSIP/a"), Operator("b", "PJSIP/b"))
    core = DialerCore(campaign=_campaign(two, strategy=RingAll, max_wait=60.0))
    call_id, out = _answered(core)
    legs = _legs(out)
    core.handle(T0 + 3, CallEnded(legs["PJSIP/a"], HangupCause.USER_BUSY))
    out = core.handle(T0 + 17, CallEnded(legs["PJSIP/b"], HangupCause.NO_ANSWER))
    assert _legs(out) == {}  # both failed this caller
    # both are idle for other callers: a second caller's call rings them both
    assert all(_member(core, op).state is OperatorState.IDLE for op in "ab")
    assert core.calls[call_id].tried == {"a": "user_busy", "b": "no_answer"}


def test_an_operator_who_hangs_up_before_the_bridge_holds_is_skipped() -> None:
    core = DialerCore(campaign=_campaign(strategy=Linear))
    call_id, out = _answered(core)
    leg_a = _legs(out)["PJSIP/a"]
    out = core.handle(T0 + 4, CallAnswered(leg_a))
    assert c.StopPlayback(call_id, f"{call_id}-hold") in out
    out = core.handle(T0 + 4.05, CallEnded(leg_a, HangupCause.NORMAL_CLEARING, answered=True))
    assert list(_legs(out)) == ["PJSIP/b"]
    assert any(isinstance(cmd, c.Play) for cmd in out)  # the hold music again
    assert (_member(core, "a").state, _member(core, "a").calls) == (OperatorState.IDLE, 0)
    # the Bridged that never came for a's leg: the call stays with b
    assert core.calls[call_id].outcome is None


def test_a_bridge_that_fails_after_the_operator_answered_is_agent_error() -> None:
    core = DialerCore(campaign=_campaign(strategy=Linear))
    call_id, out = _answered(core)
    leg_a = _legs(out)["PJSIP/a"]
    core.handle(T0 + 4, CallAnswered(leg_a))
    out = core.handle(T0 + 4.05, e.CommandFailed(call_id, "bridge refused"))
    assert c.Hangup(call_id) in out
    assert c.Hangup(leg_a) in out
    assert _member(core, "a").state is OperatorState.IDLE
    out = core.handle(T0 + 4.1, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    record = _final(out)
    assert (record.outcome, record.operator) == (Outcome.AGENT_ERROR, "a")
    assert record.detail == "bridge refused"
    core.handle(T0 + 4.1, CallEnded(leg_a, HangupCause.NORMAL_CLEARING, answered=True))
    assert (_member(core, "a").state, _member(core, "a").calls) == (OperatorState.IDLE, 0)


def test_an_operator_who_drops_the_bridge_after_max_wait_leaves_the_call_abandoned() -> None:
    core = DialerCore(campaign=_campaign(strategy=Linear, max_wait=10.0))
    call_id, out = _answered(core)
    leg_a = _legs(out)["PJSIP/a"]
    core.handle(T0 + 11.9, CallAnswered(leg_a))
    assert not _decided(core.handle(T0 + 12.5, e.Tick()))  # bridging: max_wait does not cut it
    out = core.handle(T0 + 12.6, CallEnded(leg_a, HangupCause.NORMAL_CLEARING, answered=True))
    assert _legs(out) == {}  # too late to ring b
    assert c.Hangup(call_id) in out
    out = core.handle(T0 + 12.7, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert _final(out).outcome is Outcome.ABANDONED


def test_queue_to_ring_leaves_out_who_failed_and_rings_all_only_for_ring_all() -> None:
    linear = OperatorQueue.of("q", OPS, strategy=Linear())
    assert [op.id for op in linear.to_ring(T0)] == ["a"]
    assert [op.id for op in linear.to_ring(T0, exclude={"a"})] == ["b"]
    ring_all = OperatorQueue.of("q", OPS, strategy=RingAll())
    assert [op.id for op in ring_all.to_ring(T0, exclude={"b"})] == ["a", "c"]
    ring_all.ringing("a", T0)
    assert [op.id for op in ring_all.to_ring(T0)] == ["b", "c"]
    assert ring_all.to_ring(T0, exclude={"b", "c"}) == []


def test_max_wait_while_ringing_abandons_and_frees_the_ringing_operators() -> None:
    core = DialerCore(campaign=_campaign(strategy=RingAll, max_wait=10.0, ring_timeout=20.0))
    call_id, out = _answered(core)
    legs = _legs(out)
    out = core.handle(T0 + 12, e.Tick())
    assert {cmd.call_id for cmd in out if isinstance(cmd, c.Hangup)} == {*legs.values(), call_id}
    assert all(_member(core, op).state is OperatorState.IDLE for op in "abc")
    out = core.handle(T0 + 12, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert _final(out).outcome is Outcome.ABANDONED


def test_a_callee_who_hangs_up_while_operators_ring_frees_them() -> None:
    core = DialerCore(campaign=_campaign(strategy=RingAll))
    call_id, out = _answered(core)
    legs = _legs(out)
    out = core.handle(T0 + 5, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert {cmd.call_id for cmd in out if isinstance(cmd, c.Hangup)} == set(legs.values())
    assert _final(out).outcome is Outcome.ABANDONED
    assert all(_member(core, op).state is OperatorState.IDLE for op in "abc")
    # the legs' own ends come later and change nothing
    for leg in legs.values():
        assert not core.handle(T0 + 5.1, CallEnded(leg, HangupCause.NORMAL_CLEARING))


def test_operator_legs_whose_end_never_comes_do_not_hold_operators_or_memory() -> None:
    core = DialerCore(campaign=_campaign(strategy=RingAll))
    call_id, out = _answered(core)
    legs = _legs(out)
    core.handle(T0 + 4, CallAnswered(legs["PJSIP/a"]))
    core.handle(T0 + 4.1, Bridged(call_id, f"{call_id}-br"))
    # the callee leaves; the switch never reports the end of any operator leg
    core.handle(T0 + 9, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert _member(core, "a").state is OperatorState.TALKING
    core.handle(T0 + 9 + 31, e.Tick())
    assert _member(core, "a").state is OperatorState.WRAPUP
    assert _member(core, "a").calls == 1
    assert core.legs == {}
    assert core._desk.legs == {}


def test_hold_music_loops_while_the_callee_waits() -> None:
    core = DialerCore(campaign=_campaign((Operator("a", "PJSIP/a"),), strategy=Linear))
    call_id, out = _answered(core)
    out = core.handle(T0 + 8, PlaybackFinished(call_id, f"{call_id}-hold"))
    plays = [cmd for cmd in out if isinstance(cmd, c.Play)]
    assert [p.playback_id for p in plays] == [f"{call_id}-hold2"]
    # a file that ends at once is not replayed in a loop
    out = core.handle(T0 + 8, PlaybackFinished(call_id, f"{call_id}-hold2"))
    assert not any(isinstance(cmd, c.Play) for cmd in out)


# --- end to end: the virtual-time driver and the simulated switch ----------------------------

MENU = Script.of(menu("Press 1 for an operator.", {"1": transfer("desk")}))
CALLERS = [Contact(id=f"p{i}", phones=(f"+795{i:07d}8",)) for i in range(4)]  # press 1


def _broken_first(strategy: Any) -> Campaign:
    operators = (Operator("broken", "PJSIP/unavailable"), Operator("anna", "PJSIP/101"))
    return _campaign(operators, strategy=strategy, script=MENU, hold=None, lines=1)


@pytest.mark.parametrize("strategy", [Linear, RingAll])
def test_driver_a_broken_phone_first_in_line_still_connects_every_caller(
    strategy: type[DistributionStrategy],
) -> None:
    result = simulate(_broken_first(strategy), CALLERS)
    assert [r.outcome for r in result.records] == [Outcome.TRANSFERRED] * len(CALLERS)
    assert {r.operator for r in result.records} == {"anna"}


def test_driver_ring_all_same_seed_same_result() -> None:
    operators = [Operator(f"op{i}", f"PJSIP/{100 + i}") for i in range(4)]
    campaign = _campaign(operators, strategy=RingAll, script=MENU, lines=6, max_wait=20.0)
    contacts = [Contact(id=f"c{i}", phones=(f"+7951{i:06d}8",)) for i in range(60)]
    model = PopulationModel(seed=3, operator_answer_rate=0.6, digit_rates={"1": 0.9})
    first = simulate(campaign, contacts, model=model)
    again = simulate(campaign, contacts, model=attrs.evolve(model))
    assert first.records == again.records
    outcomes = first.outcomes()
    assert outcomes["transferred"] > 0
    assert outcomes["agent_error"] == 0  # no bridge fails in the model: a no-answer moves on
    # every transferred call went to one operator only and counts once
    transferred = [r for r in first.records if r.outcome is Outcome.TRANSFERRED]
    assert all(r.operator is not None for r in transferred)


# every async test here runs on asyncio and trio, each in virtual time
anyio_backend = virtual_anyio_backend


@pytest.mark.anyio
@pytest.mark.parametrize("strategy", [Linear, RingAll])
async def test_sim_switch_a_broken_phone_first_in_line_still_connects_every_caller(
    strategy: type[DistributionStrategy],
) -> None:
    clock = LoopClock()
    store = MemoryStore()
    campaign = _broken_first(strategy)
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock)
        with anyio.fail_after(3600):
            await runtime.run(CALLERS[:2])
        assert switch.live_calls == ()
    records = list(store.attempts("ops"))
    assert [r.outcome for r in records] == [Outcome.TRANSFERRED] * 2
    assert {r.operator for r in records} == {"anna"}


@pytest.mark.anyio
async def test_ring_all_over_the_wire_on_the_fake_asterisk(tmp_path: Path) -> None:
    """Both operators of the fake answer after 1 s, at the same moment: one takes the call,
    the other's leg is hung up (answered or not by then), and no channel is left behind."""
    operators = (Operator("anna", "PJSIP/operator-101"), Operator("boris", "PJSIP/operator-102"))
    campaign = _campaign(operators, strategy=RingAll, script=MENU, hold=None, lines=2)
    store = MemoryStore()
    clock = LoopClock()
    async with FakeAri(time_scale=1.0) as fake:
        settings = AriSettings(
            url=fake.url,
            username=fake.username,
            password=fake.password,
            sounds_dir=tmp_path / "sounds",
        )
        async with AriSwitch(settings=settings) as switch:
            renderer = tone_renderer(tmp_path / "speech")
            runtime = Runtime(
                campaign=campaign, switch=switch, store=store, clock=clock, renderer=renderer
            )
            with anyio.fail_after(3600):
                await runtime.run(CALLERS[:2])
        assert fake.violations == []
        assert fake.pbx.channels == {}
        originates = [r for r in fake.requests if r[1] in ("originate", "originateWithId")]
    records = list(store.attempts("ops"))
    assert [r.outcome for r in records] == [Outcome.TRANSFERRED] * 2
    assert {r.operator for r in records} == {"anna", "boris"}
    # the first caller rings both operators; the second, queued meanwhile, rings the loser,
    # idle again as soon as its leg was hung up
    assert len(originates) == 2 + 2 + 1
    desk = runtime.core._desk.queues["desk"]
    assert sum(m.calls for m in desk.members) == 2  # only the operators who took calls
