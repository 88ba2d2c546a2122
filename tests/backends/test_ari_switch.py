"""AriSwitch against the fake server: what the conformance suite does not look at.

In virtual time (:mod:`autoinformer.testing.virtual_time`), the fake at model speed on the
loop's clock: what happens "before the callee does X" (a hang-up cutting a 1 s file, a close
before a 30 s ring timeout) holds exactly, however busy the machine; deadlines are model
seconds.
"""

from __future__ import annotations

import wave
from pathlib import Path

import anyio
import pytest

from autoinformer.backends import base
from autoinformer.backends.ari import AriSettings, AriSwitch
from autoinformer.outcomes import HangupCause, Outcome, outcome_for_unanswered
from autoinformer.testing.ari_spec import bundled_reference_dir
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

REFERENCE = bundled_reference_dir()

pytestmark = pytest.mark.anyio
anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


async def collect_until_ended(switch: AriSwitch, call_ids: set[str]) -> list[base.SwitchEvent]:
    seen: list[base.SwitchEvent] = []
    open_calls = set(call_ids)
    with anyio.fail_after(3):
        async for event in switch.events():
            seen.append(event)
            if isinstance(event, base.CallEnded):
                open_calls.discard(event.call_id)
                if not open_calls:
                    return seen
    raise AssertionError("event stream ended")


async def test_originate_passes_caller_id_variables_and_our_ids(tmp_path: Path) -> None:
    # A file plays 1 model second: our hang-up cuts it.
    async with FakeAri(reference_dir=REFERENCE, time_scale=1.0) as fake:
        settings = AriSettings(
            url=fake.url,
            username=fake.username,
            password=fake.password,
            endpoint="Local/{national}@phones",
            sounds_dir=tmp_path / "sounds",
        )
        async with AriSwitch(settings=settings) as switch:
            await switch.originate(
                "call-1",
                "+79508881231",
                caller_id="+74950001122",
                ring_timeout=20,
                variables={"CONTACT": "debtor-7"},
            )
            channel = fake.pbx.channels["call-1"]
            assert channel.endpoint == "Local/89508881231@phones"
            assert channel.caller_number == "74950001122"
            assert channel.variables == {"CONTACT": "debtor-7"}
            assert channel.half_two is not None
            assert channel.half_two.id == "call-1-2"
            with anyio.fail_after(2):
                async for event in switch.events():
                    if isinstance(event, base.CallAnswered):
                        break
            wav = tmp_path / "greeting.wav"
            with wave.open(str(wav), "wb") as audio:
                audio.setnchannels(1)
                audio.setsampwidth(2)
                audio.setframerate(8000)
                audio.writeframes(bytes(1600))
            await switch.play("call-1", base.Media(path=wav), playback_id="pb-file")
            await switch.hangup("call-1")
            events = await collect_until_ended(switch, {"call-1"})
        assert base.PlaybackFinished("call-1", "pb-file", completed=False) in events
        assert len(list((tmp_path / "sounds").glob("*.wav"))) == 1
        assert fake.violations == []
        assert ("POST", "play") in fake.requests


async def test_operator_leg_that_fails_leaves_the_customer_up() -> None:
    async with FakeAri(reference_dir=REFERENCE, time_scale=1.0) as fake:
        settings = AriSettings(
            url=fake.url,
            username=fake.username,
            password=fake.password,
            endpoint="PJSIP/{digits}@trunk",
        )
        async with AriSwitch(settings=settings) as switch:
            await switch.originate("cust", "+79500000001", caller_id=None, ring_timeout=20)
            # The operator's phone is busy (the agent endpoint's last digit 2 is a busy party).
            await switch.originate(
                "agent", "PJSIP/agent-1002", caller_id=None, ring_timeout=10, operator=True
            )
            events = await collect_until_ended(switch, {"agent"})
            ended = events[-1]
            if base.CallAnswered("cust") not in events:  # the busy signal may come first
                with anyio.fail_after(2):
                    async for event in switch.events():
                        events.append(event)
                        if event == base.CallAnswered("cust"):
                            break
            assert isinstance(ended, base.CallEnded)
            assert ended.cause is HangupCause.USER_BUSY
            assert outcome_for_unanswered(ended.cause) is Outcome.BUSY
            assert base.CallAnswered("cust") in events
            assert "cust" in fake.pbx.channels  # the customer is still up for the core to decide
            await switch.hangup("cust", HangupCause.NORMAL_CLEARING)
            await collect_until_ended(switch, {"cust"})
        assert fake.violations == []


async def test_customer_hanging_up_in_the_bridge_ends_the_operator_leg_too() -> None:
    async with FakeAri(reference_dir=REFERENCE, time_scale=1.0) as fake:
        settings = AriSettings(url=fake.url, username=fake.username, password=fake.password)
        async with AriSwitch(settings=settings) as switch:
            await switch.originate("cust", "+79500000001", caller_id=None, ring_timeout=20)
            await switch.originate(
                "agent", "PJSIP/operator-1001", caller_id=None, ring_timeout=10, operator=True
            )
            answered: set[str] = set()
            with anyio.fail_after(2):
                async for event in switch.events():
                    if isinstance(event, base.CallAnswered):
                        answered.add(event.call_id)
                    if answered == {"cust", "agent"}:
                        break
            await switch.bridge("br-1", ("cust", "agent"))
            bridged: set[str] = set()
            with anyio.fail_after(2):
                async for event in switch.events():
                    if isinstance(event, base.Bridged):
                        bridged.add(event.call_id)
                    if bridged == {"cust", "agent"}:
                        break
            fake.pbx.destroy(fake.pbx.channels["cust"], 16)  # the customer hangs up first
            events = await collect_until_ended(switch, {"cust", "agent"})
            with anyio.fail_after(2):
                await fake.wait_until(lambda: not fake.pbx.bridges)  # the bridge is removed
        ends = {e.call_id: e for e in events if isinstance(e, base.CallEnded)}
        assert ends["cust"] == base.CallEnded(
            "cust", HangupCause.NORMAL_CLEARING, answered=True, detail="dialstatus=ANSWER cause=16"
        )
        assert ends["agent"].answered
        assert ("DELETE", "hangup") in fake.requests  # the backend ended the operator leg
        assert fake.pbx.channels == {}
        assert fake.violations == []


async def test_play_during_machine_detection_waits_for_the_call_to_come_back() -> None:
    # The core stops waiting for a verdict after machine_wait and plays to the callee as to a
    # person; if AMD() still runs, the call is outside Stasis and Asterisk answers 409. The
    # switch holds the play until the call is back (with a deadline) instead of failing it.
    fake = FakeAri(reference_dir=REFERENCE, time_scale=1.0, builtin_seconds={"beep": 100})
    async with fake:
        settings = AriSettings(url=fake.url, username=fake.username, password=fake.password)
        async with AriSwitch(settings=settings) as switch:
            await switch.originate(
                "c1", "+79500000001", caller_id=None, ring_timeout=20, detect_machine=True
            )
            with anyio.fail_after(2):
                async for event in switch.events():
                    if isinstance(event, base.CallAnswered):
                        break
                await fake.wait_until(lambda: fake.pbx.channels["c1"].app_name == "AMD")
            await switch.play("c1", base.Media(builtin="beep"), playback_id="pb-1")
            assert fake.pbx.channels["c1"].in_stasis  # played only once the verdict was in
            await switch.hangup("c1")
            events = await collect_until_ended(switch, {"c1"})
        assert events[0] == base.MachineDetected("c1", machine=False)
        assert base.PlaybackFinished("c1", "pb-1", completed=False) in events
        assert fake.violations == []


async def test_close_leaves_calls_to_the_switch_and_reconnect_works() -> None:
    async with FakeAri(reference_dir=REFERENCE, time_scale=1.0) as fake:
        settings = AriSettings(url=fake.url, username=fake.username, password=fake.password)
        switch = AriSwitch(settings=settings)
        async with switch:
            await switch.originate("c1", "+79500000003", caller_id=None, ring_timeout=30)
        assert "c1" in fake.pbx.channels
        with anyio.fail_after(2):
            await fake.wait_until(lambda: not fake.websocket_connected("autoinformer"))
        with pytest.raises(Exception, match="not connected"):
            await switch.hangup("c1")


async def test_events_end_after_close_and_a_new_connection_streams_again() -> None:
    async with FakeAri(reference_dir=REFERENCE, time_scale=1.0) as fake:
        settings = AriSettings(url=fake.url, username=fake.username, password=fake.password)
        switch = AriSwitch(settings=settings)
        seen: list[base.SwitchEvent] = []
        call_over, stream_over = anyio.Event(), anyio.Event()

        async def consume() -> None:
            async for event in switch.events():
                seen.append(event)
                if isinstance(event, base.CallEnded):
                    call_over.set()
            stream_over.set()

        async with anyio.create_task_group() as tg:
            await switch.connect()
            tg.start_soon(consume)
            await switch.originate("busy", "+79500000002", caller_id=None, ring_timeout=30)
            with anyio.fail_after(2):
                await call_over.wait()
            await switch.close()
            with anyio.fail_after(2):
                await stream_over.wait()  # the stream ends instead of waiting forever
        assert isinstance(seen[-1], base.CallEnded)
        assert seen[-1].call_id == "busy"
        assert seen[-1].cause is HangupCause.USER_BUSY

        async with switch:  # connecting again gives a fresh stream
            await switch.originate("again", "+79500000002", caller_id=None, ring_timeout=30)
            events = await collect_until_ended(switch, {"again"})
        assert events[-1] == base.CallEnded(
            "again", HangupCause.USER_BUSY, detail="dialstatus=BUSY cause=17"
        )
