"""SimSwitch: the conformance suite, plus what only a simulated switch can show.

Every async test runs in virtual time (:mod:`autoinformer.testing.virtual_time`): the
conformance suite's deadlines are in model seconds on the loop's clock, so a busy machine
cannot fail a check (nor make the broken-backend checks wait a real second for nothing).
"""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import anyio.lowlevel
import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.backends.base import (
    BackendGap,
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    MachineDetected,
    Media,
    PlaybackFinished,
    SwitchEvent,
)
from autoinformer.backends.sim import ATTEMPT_VARIABLE, SimSwitch
from autoinformer.errors import (
    BackendUnavailable,
    CallNotFound,
    OriginateError,
    SettingsError,
    WrongCallState,
)
from autoinformer.outcomes import HangupCause
from autoinformer.sim.faults import Faults
from autoinformer.sim.model import PopulationModel
from autoinformer.testing.conformance import (
    CHECKS,
    SwitchHarness,
    check_hangup_cause,
    check_outcomes,
    check_transfer,
    sim_harness,
)
from autoinformer.testing.parties import OPERATOR_TALK_SECONDS, PARTIES
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance(check: Callable[[SwitchHarness], Awaitable[None]]) -> None:
    await check(sim_harness(virtual=True))


# --- a virtual clock: time jumps to whatever the one reader waits for ---------------------


@attrs.define
class JumpClock:
    """Virtual time for a test with one task: ``sleep_until`` jumps straight to the deadline."""

    t: float = 1_000.0

    def now(self) -> float:
        return self.t

    async def sleep_until(self, deadline: float) -> None:
        await anyio.lowlevel.checkpoint()
        self.t = max(self.t, deadline)


async def timed_events(
    sw: SimSwitch, clock: JumpClock, until: Callable[[SwitchEvent], bool]
) -> list[tuple[float, SwitchEvent]]:
    """Events with their (virtual) times, up to and including the first matching ``until``."""
    out: list[tuple[float, SwitchEvent]] = []
    with anyio.fail_after(20):  # virtual time: only a guard against a hang
        async for event in sw.events():
            out.append((round(clock.now() - 1_000.0, 6), event))
            if until(event):
                return out
    raise AssertionError(f"event stream ended early: {out!r}")


def ended(call_id: str) -> Callable[[SwitchEvent], bool]:
    return lambda e: isinstance(e, CallEnded) and e.call_id == call_id


@pytest.mark.anyio
async def test_event_order_and_times_follow_the_model() -> None:
    clock = JumpClock()
    async with SimSwitch(clock=clock) as sw:
        await sw.originate(
            "c7", "+79500000007", caller_id=None, ring_timeout=30, detect_machine=True
        )
        got = await timed_events(sw, clock, ended("c7"))
    assert got == [
        (0.2, CallProgress("c7")),
        (1.0, CallAnswered("c7")),
        (3.0, MachineDetected("c7", machine=False)),
        (3.0, DigitReceived("c7", "2")),
        (
            21.0,
            CallEnded("c7", HangupCause.NORMAL_CLEARING, answered=True, detail="callee hung up"),
        ),
    ]


@pytest.mark.anyio
async def test_machine_number_is_detected_as_machine_with_beep() -> None:
    clock = JumpClock()
    async with SimSwitch(clock=clock) as sw:
        await sw.originate(
            "m", "+15550100001", caller_id=None, ring_timeout=30, detect_machine=True
        )
        got = await timed_events(sw, clock, lambda e: isinstance(e, MachineDetected))
    assert got[-1] == (4.0, MachineDetected("m", machine=True, beep=True))


@pytest.mark.anyio
async def test_answering_party_that_rings_past_the_timeout_is_no_answer() -> None:
    clock = JumpClock()
    async with SimSwitch(clock=clock) as sw:
        await sw.originate("c", "+79500000001", caller_id=None, ring_timeout=0.5)
        got = await timed_events(sw, clock, ended("c"))
    assert got[-1] == (0.5, CallEnded("c", HangupCause.NO_ANSWER, detail="ring timeout: NO_ANSWER"))
    assert not any(isinstance(e, CallAnswered) for _, e in got)


@pytest.mark.anyio
async def test_unreachable_party_fails_with_its_cause_without_ringing() -> None:
    clock = JumpClock()
    async with SimSwitch(clock=clock) as sw:
        await sw.originate("c", "+79500000009", caller_id=None, ring_timeout=30)
        got = await timed_events(sw, clock, ended("c"))
    assert got == [
        (0.1, CallEnded("c", HangupCause.UNALLOCATED_NUMBER, detail="network: UNALLOCATED_NUMBER"))
    ]


@pytest.mark.anyio
async def test_playback_lasts_the_wav_duration(tmp_path: Path) -> None:
    wav_path = tmp_path / "hello.wav"
    with wave.open(str(wav_path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 8000 * 3)  # 3 s
    clock = JumpClock()
    async with SimSwitch(clock=clock) as sw:
        await sw.originate("c", "+79500000001", caller_id=None, ring_timeout=30)
        await timed_events(sw, clock, lambda e: isinstance(e, CallAnswered))
        await sw.play("c", Media(path=wav_path), playback_id="p1")
        await sw.play("c", Media(path=tmp_path / "missing.wav"), playback_id="p2")
        got = await timed_events(
            sw, clock, lambda e: isinstance(e, PlaybackFinished) and e.completed
        )
    assert got == [
        (
            1.0,
            PlaybackFinished(
                "c",
                "p2",
                completed=False,
                error=f"the simulated switch could not play {tmp_path / 'missing.wav'} "
                "(file not found)",
            ),
        ),
        (4.0, PlaybackFinished("c", "p1", completed=True)),
    ]


@pytest.mark.anyio
async def test_bridge_stops_playbacks_and_operator_hangs_up_after_talk_time() -> None:
    clock = JumpClock()
    async with SimSwitch(clock=clock, builtin_seconds={"hold-music": 600}) as sw:
        await sw.originate("c", "+79500000008", caller_id=None, ring_timeout=30)
        await timed_events(sw, clock, lambda e: isinstance(e, DigitReceived))  # at 2.0
        await sw.play("c", Media(builtin="hold-music"), playback_id="hold")
        await sw.originate("op", "PJSIP/101", caller_id=None, ring_timeout=30, operator=True)
        answered = await timed_events(
            sw, clock, lambda e: isinstance(e, CallAnswered) and e.call_id == "op"
        )
        assert 3.0 <= answered[-1][0] <= 5.0, answered  # operators answer after 1-3 s
        bridged_at = clock.now() - 1_000.0
        await sw.bridge("b1", ("c", "op"))
        got = await timed_events(sw, clock, ended("c"))
    assert [e for _, e in got[:3]] == [
        PlaybackFinished("c", "hold", completed=False),
        Bridged("c", "b1"),
        Bridged("op", "b1"),
    ]
    # party 8 would hang up at 21 s; bridged, the operator's 15 s of talk decide instead
    assert got[-2:] == [
        (
            round(bridged_at + OPERATOR_TALK_SECONDS, 6),
            CallEnded("op", HangupCause.NORMAL_CLEARING, answered=True, detail="operator hung up"),
        ),
        (
            round(bridged_at + OPERATOR_TALK_SECONDS, 6),
            CallEnded(
                "c", HangupCause.NORMAL_CLEARING, answered=True, detail="bridge peer hung up"
            ),
        ),
    ]


@pytest.mark.anyio
async def test_unavailable_operator_leg_fails_busy() -> None:
    clock = JumpClock()
    async with SimSwitch(clock=clock) as sw:
        await sw.originate(
            "op", "PJSIP/unavailable", caller_id=None, ring_timeout=30, operator=True
        )
        got = await timed_events(sw, clock, ended("op"))
    assert got[-1][1] == CallEnded("op", HangupCause.USER_BUSY, detail="network: USER_BUSY")


@pytest.mark.anyio
async def test_command_errors_are_specific() -> None:
    clock = JumpClock()
    sw = SimSwitch(clock=clock)
    with pytest.raises(BackendUnavailable, match="not connected"):
        await sw.originate("c", "+79500000001", caller_id=None, ring_timeout=30)
    async with sw:
        await sw.originate("c", "+79500000001", caller_id=None, ring_timeout=30)
        with pytest.raises(OriginateError, match="already in use"):
            await sw.originate("c", "+79500000001", caller_id=None, ring_timeout=30)
        with pytest.raises(OriginateError, match="ring_timeout"):
            await sw.originate("d", "+79500000001", caller_id=None, ring_timeout=0)
        with pytest.raises(WrongCallState, match="not answered"):
            await sw.play("c", Media(builtin="beep"), playback_id="p")
        with pytest.raises(CallNotFound):
            await sw.play("nope", Media(builtin="beep"), playback_id="p")
        with pytest.raises(CallNotFound):
            await sw.bridge("b", ("nope",))
        await sw.hangup("nope")  # unknown: no error
        await sw.stop_playback("c", "nope")


@pytest.mark.anyio
async def test_close_ends_the_event_stream() -> None:
    sw = SimSwitch(clock=LoopClock())
    await sw.connect()
    seen: list[SwitchEvent] = []

    async def read() -> None:
        async for event in sw.events():
            seen.append(event)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await sw.originate("c", "+79500000002", caller_id=None, ring_timeout=30)
            await anyio.lowlevel.checkpoint()
            await sw.close()
    assert seen in ([], [CallEnded("c", HangupCause.USER_BUSY, detail="network: USER_BUSY")])


@pytest.mark.anyio
async def test_go_away_and_come_back_report_the_lost_calls() -> None:
    clock = JumpClock()
    async with SimSwitch(clock=clock) as sw:
        await sw.originate("c", "+79500000001", caller_id=None, ring_timeout=30)
        await timed_events(sw, clock, lambda e: isinstance(e, CallAnswered))
        assert sw.connected
        sw.go_away()
        assert not sw.connected
        with pytest.raises(BackendUnavailable):
            await sw.originate("d", "+79500000001", caller_id=None, ring_timeout=30)
        with pytest.raises(BackendUnavailable):
            await sw.hangup("c")
        with pytest.raises(BackendUnavailable):
            await sw.connect()
        with anyio.fail_after(20), pytest.raises(BackendUnavailable, match="went away"):
            await sw.events().__anext__()
        clock.t += 7.0
        sw.come_back()
        assert sw.connected
        got = await timed_events(sw, clock, ended("c"))
    assert [e for _, e in got] == [
        BackendGap(seconds=7.0, lost=("c",)),
        CallEnded(
            "c",
            HangupCause.NORMAL_TEMPORARY_FAILURE,
            answered=True,
            detail="lost while the switch was away",
        ),
    ]


@pytest.mark.anyio
async def test_gap_adopts_live_calls_and_ends_the_lost_ones() -> None:
    clock = JumpClock()
    async with SimSwitch(clock=clock) as sw:
        await sw.originate("a", "+79500000001", caller_id=None, ring_timeout=30)
        await sw.originate("b", "+79500000001", caller_id=None, ring_timeout=30)
        sw.gap(1.5, lose=("b",))
        got = await timed_events(sw, clock, ended("b"))
        assert sw.live_calls == ("a",)
    assert got[0][1] == BackendGap(seconds=1.5, adopted=("a",), lost=("b",))
    assert got[-1][1].answered is False  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_faults_refuse_matching_destinations_and_a_fraction() -> None:
    faults = Faults(refuse_pattern=r"^\+7999", originate_error_rate=0.5, seed=3)
    async with SimSwitch(clock=JumpClock(), faults=faults) as sw:
        with pytest.raises(OriginateError, match=r"\+79990000001"):
            await sw.originate("x", "+79990000001", caller_id=None, ring_timeout=30)
        refused = 0
        for i in range(200):
            try:
                await sw.originate(f"c{i}", f"+7950{i:07d}", caller_id=None, ring_timeout=30)
            except OriginateError:
                refused += 1
    assert 70 <= refused <= 130


@pytest.mark.anyio
async def test_same_seed_same_calls_whatever_the_order() -> None:
    model = PopulationModel(seed=42, digit_rates={"1": 0.3})
    numbers = [f"+7950{i:07d}" for i in range(40)]

    async def run(order: list[str]) -> dict[str, list[tuple[float, SwitchEvent]]]:
        per_call: dict[str, list[tuple[float, SwitchEvent]]] = {n: [] for n in order}
        clock = JumpClock()
        async with SimSwitch(clock=clock, model=model) as sw:
            for n in order:
                await sw.originate(n, n, caller_id=None, ring_timeout=25)
            left = set(order)
            with anyio.fail_after(30):  # virtual time: only a guard against a hang
                async for event in sw.events():
                    call_id = getattr(event, "call_id", "")
                    per_call[call_id].append((round(clock.now(), 6), event))
                    if isinstance(event, CallEnded):
                        left.discard(call_id)
                        if not left:
                            break
        return per_call

    forward = await run(numbers)
    backward = await run(numbers[::-1])
    assert forward == backward
    outcomes = {type(events[1][1]).__name__ for events in forward.values() if len(events) > 1}
    assert "CallAnswered" in outcomes


@pytest.mark.anyio
async def test_attempt_variable_chooses_the_draw() -> None:
    model = PopulationModel(seed=7)
    number = next(
        f"+7950{i:07d}"
        for i in range(1000)
        if model.callee(f"+7950{i:07d}", 1).answers != model.callee(f"+7950{i:07d}", 2).answers
    )
    fate2 = model.callee(number, 2)
    clock = JumpClock()
    async with SimSwitch(clock=clock, model=model) as sw:
        await sw.originate(
            "c", number, caller_id=None, ring_timeout=200, variables={ATTEMPT_VARIABLE: "2"}
        )
        got = await timed_events(sw, clock, lambda e: isinstance(e, CallAnswered | CallEnded))
    assert isinstance(got[-1][1], CallAnswered) is fate2.answers


def test_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="default_builtin_seconds"):
        SimSwitch(default_builtin_seconds=-1)


# --- the suite must catch broken backends -------------------------------------------------


class CauseLosingSwitch(SimSwitch):
    """Broken: reports NORMAL_CLEARING whatever cause we hang up with."""

    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        await super().hangup(call_id)


class PeerKeepingSwitch(SimSwitch):
    """Broken: leaves the other leg of a bridge up when one leg is hung up."""

    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        call = self._calls.get(call_id)
        if call is not None:
            call.bridge_id = None  # reaching into the simulator to break it on purpose
        await super().hangup(call_id, cause)


class EchoingSwitch(SimSwitch):
    """Broken: sends every CallEnded twice."""

    def events(self) -> AsyncIterator[SwitchEvent]:
        return self._echo()

    async def _echo(self) -> AsyncIterator[SwitchEvent]:
        async for event in super().events():
            yield event
            if isinstance(event, CallEnded):
                yield event


def harness_for(cls: type[SimSwitch]) -> SwitchHarness:
    return attrs.evolve(
        sim_harness(virtual=True),
        connect=lambda: cls(clock=LoopClock()),
        # 1 model second of slack on every deadline (virtual: exact however busy the machine)
        slack=1.0,
        refused_destination=None,
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("cls", "check", "message"),
    [
        (CauseLosingSwitch, check_hangup_cause, "our cause USER_BUSY"),
        (PeerKeepingSwitch, check_transfer, "customer leg ends when its bridge peer hangs up"),
        (EchoingSwitch, check_outcomes, "expected one CallEnded"),
    ],
)
async def test_the_suite_fails_a_broken_backend(
    cls: type[SimSwitch],
    check: Callable[[SwitchHarness], Awaitable[None]],
    message: str,
) -> None:
    with pytest.raises(AssertionError, match=message):
        await check(harness_for(cls))


@pytest.mark.anyio
async def test_runtime_speech_lasts_14_characters_a_second() -> None:
    clock = JumpClock()
    text = "Your debt is 525 roubles and 19 kopecks."  # 40 characters
    async with SimSwitch(clock=clock, builtin_seconds={"tts:Hi": 0.5}) as sw:
        await sw.originate("c", "+79500000001", caller_id=None, ring_timeout=30)
        await timed_events(sw, clock, lambda e: isinstance(e, CallAnswered))
        await sw.play("c", Media(builtin=f"tts:{text}"), playback_id="long")
        await sw.play("c", Media(builtin="tts:Hi"), playback_id="short")
        await sw.play("c", Media(builtin="tts:Yes"), playback_id="min")
        got = await timed_events(sw, clock, lambda e: getattr(e, "playback_id", "") == "long")
    assert [(t, e.playback_id) for t, e in got] == [  # type: ignore[union-attr]
        (1.5, "short"),
        (2.0, "min"),
        (round(1.0 + 40 / 14, 6), "long"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"speed": 0}, "speed"), ({"slack": -1}, "slack"), ({"ring_timeout": 1.5}, "ring_timeout")],
)
def test_harness_settings_are_validated(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(SettingsError) as exc:
        attrs.evolve(sim_harness(), **kwargs)
    assert exc.value.field == field


# --- invariants under arbitrary call plans ------------------------------------------------

PLAN = st.lists(
    st.tuples(
        st.sampled_from(sorted(PARTIES)),
        st.floats(0.3, 25.0),  # ring timeout
        st.one_of(st.none(), st.floats(0.0, 30.0)),  # we hang up this long after originate
        st.booleans(),  # detect_machine
    ),
    min_size=1,
    max_size=12,
)


async def run_plan(plan: list[tuple[str, float, float | None, bool]]) -> list[SwitchEvent]:
    clock = JumpClock()
    seen: list[SwitchEvent] = []
    async with SimSwitch(clock=clock) as sw:
        hangups: list[tuple[float, str]] = []
        for i, (digit, ring_timeout, hang_after, amd) in enumerate(plan):
            call_id = f"c{i}"
            await sw.originate(
                call_id,
                f"+7950000000{digit}",
                caller_id=None,
                ring_timeout=ring_timeout,
                detect_machine=amd,
            )
            if hang_after is None and PARTIES[digit].stays_seconds is None:
                hang_after = 40.0  # party 1 stays until we hang up
            if hang_after is not None:
                hangups.append((clock.now() + hang_after, call_id))
        hangups.sort()
        left = len(plan)
        events = sw.events()
        # Virtual time throughout: a stuck switch is detected below, not by a wall-clock
        # deadline (the guard is only against a hang, generous for a loaded CI machine).
        with anyio.fail_after(60):
            while left:
                # our hang-up goes first when nothing on the switch is due before it
                # (peeking at the simulator's heap: this test drives virtual time by hand)
                due = sw._next_due()
                assert sw._ready or due is not None or hangups, (
                    f"{left} call(s) never end: nothing is due; events so far: {seen!r}"
                )
                if hangups and not sw._ready and (due is None or hangups[0][0] < due):
                    at, call_id = hangups.pop(0)
                    clock.t = max(clock.t, at)
                    await sw.hangup(call_id, HangupCause.CALL_REJECTED)
                    continue
                event = await events.__anext__()
                seen.append(event)
                left -= isinstance(event, CallEnded)
    return seen


@settings(max_examples=60, deadline=None)
@given(plan=PLAN)
def test_every_call_ends_once_and_nothing_follows(
    plan: list[tuple[str, float, float | None, bool]],
) -> None:
    events = anyio.run(run_plan, plan)
    for i, (digit, _, _, amd) in enumerate(plan):
        mine = [e for e in events if getattr(e, "call_id", None) == f"c{i}"]
        kinds = [type(e) for e in mine]
        assert kinds.count(CallEnded) == 1, mine
        assert kinds[-1] is CallEnded, mine
        ended = mine[-1]
        assert isinstance(ended, CallEnded)
        assert ended.answered == (CallAnswered in kinds), mine
        if DigitReceived in kinds or MachineDetected in kinds:
            assert CallAnswered in kinds, mine
            assert kinds.index(CallAnswered) < len(kinds) - 1
        if MachineDetected in kinds:
            assert amd, mine
        if not PARTIES[digit].answers:
            assert CallAnswered not in kinds, mine
