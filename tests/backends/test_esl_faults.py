"""Faults: the connection dropped mid-call, ``-ERR`` replies, a slow consumer, a slow reader.

In virtual time like ``test_esl_switch`` (whose ``session`` these tests share): the fake's
callees, the switch's timeouts and reconnection pauses run on the loop's clock, which jumps
only when no byte is on the wire; waits are in model seconds.
"""

from __future__ import annotations

import logging

import anyio
import anyio.lowlevel
import pytest
from test_esl_switch import session

from autoinformer.backends.base import (
    BackendGap,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    Media,
)
from autoinformer.errors import (
    BackendTimeout,
    BackendUnavailable,
    CallNotFound,
    OriginateError,
    WrongCallState,
)
from autoinformer.outcomes import HangupCause
from autoinformer.testing.fake_esl import FakeEslServer
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

pytestmark = pytest.mark.anyio
anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


async def test_dropped_connection_mid_call_reconnects_and_resyncs() -> None:
    async with session() as (server, switch, rec):
        for call_id in ("stays", "goes"):
            await switch.originate(call_id, "+79500000001", caller_id=None, ring_timeout=4)
            await rec.wait_for(CallAnswered, call_id, 3)
        server.accepting = False
        await server.drop_connections()
        # While we are away, one call ends: its events are lost with the connection.
        server.hang_up(server.channel_for("goes").uuid)
        with pytest.raises(BackendUnavailable):
            await switch.originate("meanwhile", "+79500000001", caller_id=None, ring_timeout=4)
        await anyio.sleep(1.0)  # the outage lasts 1 s (of virtual time: it takes none)
        server.accepting = True
        with anyio.fail_after(5):
            while not any(isinstance(e, BackendGap) for e in rec.events):
                await rec._changed.wait()
        gap = next(e for e in rec.events if isinstance(e, BackendGap))
        assert gap.adopted == ("stays",)
        assert gap.lost == ("goes",)
        assert gap.seconds >= 1.0
        ended = await rec.wait_for(CallEnded, "goes", 1)
        assert rec.events.index(gap) < rec.events.index(ended), "CallEnded follows the gap"
        assert ended.answered
        assert "connection" in ended.detail
        # Resubscribed: the adopted call still reports, and commands work again.
        assert server.connections == 2
        assert sum(c.startswith("event plain") for c in server.commands) == 2
        await switch.hangup("stays", HangupCause.CALL_REJECTED)
        ended = await rec.wait_for(CallEnded, "stays", 2)
        assert ended.cause is HangupCause.CALL_REJECTED
        rec.assert_ended_last("goes")
        rec.assert_ended_last("stays")


async def test_hangup_during_the_gap_is_repeated_after_it() -> None:
    async with session() as (server, switch, rec):
        await switch.originate("c1", "+79500000001", caller_id=None, ring_timeout=4)
        await rec.wait_for(CallAnswered, "c1", 3)
        server.accepting = False
        await server.drop_connections()
        await switch.hangup("c1", HangupCause.USER_BUSY)  # cannot reach the switch: no error
        assert server.channels  # still up on the switch
        server.accepting = True
        ended = await rec.wait_for(CallEnded, "c1", 5 * 50)
        assert ended.cause is HangupCause.USER_BUSY
        assert not server.channels


async def test_orphan_of_a_lost_reply_is_hung_up_after_reconnect() -> None:
    async with session({"drop_after": "^originate"}) as (server, switch, rec):
        with pytest.raises(BackendUnavailable):
            await switch.originate("orphan", "+79500000001", caller_id=None, ring_timeout=4)
        [channel] = server.channels.values()
        server.drop_after = None
        await server.wait_until(lambda: not server.channels)  # the resync kills the orphan
        assert any(c.startswith(f"bgapi uuid_kill {channel.uuid}") for c in server.commands)
        assert rec.of("orphan") == []
        gap = next(e for e in rec.events if isinstance(e, BackendGap))
        assert gap.adopted == gap.lost == ()


async def test_unanswered_originate_times_out_and_its_channel_is_killed() -> None:
    async with session({"mute": "^originate"}, command_timeout=0.3) as (server, switch, rec):
        with pytest.raises(BackendTimeout):
            await switch.originate("slow", "+79500000001", caller_id=None, ring_timeout=4)
        await server.wait_until(lambda: not server.channels)
        assert any(c.startswith("bgapi uuid_kill") for c in server.commands)
        assert rec.of("slow") == []


async def test_keeps_reconnecting_through_a_long_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # FreeSWITCH is stopped for 300 s, five times reconnect_for: the switch says so loudly
    # but never gives up; the call it had is gone with the restart and ends after the gap.
    caplog.set_level(logging.WARNING)
    async with session(reconnect_for=60) as (server, switch, rec):
        await switch.originate("c1", "+79500000001", caller_id=None, ring_timeout=4)
        await rec.wait_for(CallAnswered, "c1", 3)
        assert switch.connected
        await server.stop()
        await anyio.sleep(300.0)  # virtual time
        assert not switch.connected
        with anyio.fail_after(0.001), pytest.raises(BackendUnavailable, match="not connected"):
            await switch.originate("c2", "+79500000001", caller_id=None, ring_timeout=4)
        assert not any(isinstance(e, CallEnded) for e in rec.of("c1"))  # nothing decided
        errors = [r for r in caplog.records if "away for" in r.getMessage()]
        assert 4 <= len(errors) <= 6  # at 60 s, then every 60 s
        server.start()
        with anyio.fail_after(10):
            while not any(isinstance(e, BackendGap) for e in rec.events):
                await rec._changed.wait()
        gap = next(e for e in rec.events if isinstance(e, BackendGap))
        assert gap.lost == ("c1",)
        assert gap.seconds >= 300
        ended = await rec.wait_for(CallEnded, "c1", 1)
        assert ended.answered
        assert switch.connected
        await switch.originate("c3", "+79500000001", caller_id=None, ring_timeout=4)
        await rec.wait_for(CallAnswered, "c3", 3)


async def test_err_replies_become_our_errors() -> None:
    async with session({"refuse": "^originate"}) as (server, switch, rec):
        with pytest.raises(OriginateError, match="-ERR refused"):
            await switch.originate("r", "+79500000001", caller_id=None, ring_timeout=4)
        server.refuse = None
        await switch.originate("a", "+79500000001", caller_id=None, ring_timeout=4)
        await switch.originate("b", "+79500000001", caller_id=None, ring_timeout=4)
        await rec.wait_for(CallAnswered, "a", 3)
        await rec.wait_for(CallAnswered, "b", 3)
        # The switch forgets "b" behind our back: sendmsg and uuid_bridge get -ERR.
        server.channels.pop(server.channel_for("b").uuid)
        with pytest.raises(CallNotFound, match="invalid session id"):
            await switch.play("b", Media(builtin="tone_stream://%(100,0,800)"), playback_id="p")
        with pytest.raises(WrongCallState, match="-ERR"):
            await switch.bridge("br", ("a", "b"))
        await switch.hangup("a")
        await rec.wait_for(CallEnded, "a", 2)
        assert rec.of("r") == []


async def test_a_stalled_consumer_never_stalls_the_reader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)
    async with FakeEslServer(speed=50) as server:
        from autoinformer.backends.esl import EslSwitch

        async with EslSwitch(port=server.port, event_buffer=100) as switch:
            # Nobody reads switch.events(); a DTMF storm of 3,000 events arrives.
            await switch.originate("c1", "+79500000001", caller_id=None, ring_timeout=4)
            await server.wait_until(
                lambda: any(c.call_id == "c1" and c.answered_at for c in server.channels.values())
            )
            channel = server.channel_for("c1")
            for burst in range(30):
                for _ in range(100):
                    server.emit("DTMF", channel, **{"DTMF-Digit": str(burst % 10)})
                await anyio.lowlevel.checkpoint()
            # The reader kept up: the switch did not drop us and commands still work.
            await switch.hangup("c1")
            await server.wait_until(lambda: not server.channels)
            assert server.dropped_listeners == 0
            assert server.listeners == 1
            assert switch.dropped_events > 2_000
            assert "behind" in caplog.text
            received = []
            with anyio.fail_after(2):
                async for event in switch.events():
                    received.append(event)
                    if isinstance(event, CallEnded):
                        break
            # 90 ordinary events fit; the last tenth of the buffer kept the call's end.
            assert len(received) == 91
            assert switch.events().statistics().current_buffer_used == 0  # type: ignore[attr-defined]
            assert [type(e) for e in received[:3]] == [CallProgress, CallAnswered, DigitReceived]
            assert isinstance(received[-1], CallEnded)


async def test_fake_drops_a_listener_that_stops_reading() -> None:
    """Negative control: a client that never reads is dropped, as FreeSWITCH does."""
    async with FakeEslServer(speed=50, max_backlog=500) as server:
        stream = await anyio.connect_tcp("127.0.0.1", server.port)
        await stream.send(b"auth ClueCon\n\nevent plain ALL\n\n")
        await server.wait_until(lambda: server.commands[-1:] == ["event plain ALL"])
        await stream.send(b"bgapi originate {origination_uuid=u1}sofia/gw/79500000001 &park()\n\n")
        await server.wait_until(lambda: "u1" in server.channels)
        channel = server.channels["u1"]
        with anyio.fail_after(10):
            while server.dropped_listeners == 0:
                for _ in range(200):
                    server.emit("DTMF", channel, **{"DTMF-Digit": "1"})
                await anyio.lowlevel.checkpoint()
        await server.wait_until(lambda: server.listeners == 0)
        await stream.aclose()


async def test_a_job_result_that_never_comes_times_out() -> None:
    """The +OK arrives but the BACKGROUND_JOB never does: the wait has a deadline too."""
    async with session({"silent_jobs": "^uuid_bridge"}, command_timeout=0.3) as (
        server,
        switch,
        rec,
    ):
        for call_id in ("a", "b"):
            await switch.originate(call_id, "+79500000001", caller_id=None, ring_timeout=4)
            await rec.wait_for(CallAnswered, call_id, 3)
        with anyio.fail_after(5), pytest.raises(BackendTimeout, match="uuid_bridge"):
            await switch.bridge("br", ("a", "b"))
        assert any(c.startswith("bgapi uuid_bridge") for c in server.commands)
        await switch.hangup("a")  # the switch still works afterwards
        await rec.wait_for(CallEnded, "a", 2)
