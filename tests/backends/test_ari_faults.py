"""AriSwitch under faults: the event WebSocket dropping mid-call, REST errors, slow events,
a slow consumer, a server that never answers, wrong credentials.

In virtual time (:mod:`autoinformer.testing.virtual_time`): the fake's callees, its late
replies and late events, the switch's timeouts and reconnection pauses all run on the loop's
clock, which jumps only when no byte is on the wire. A race the test sets up ("the answer
overtakes a reply sent 5 s late") therefore always goes the way it was set up, however busy
the machine; on a scaled real-time clock a 40 ms margin decided it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import anyio
import anyio.abc
import attrs
import httpx
import pytest

from autoinformer.backends import base
from autoinformer.backends.ari import AriSettings, AriSwitch
from autoinformer.errors import (
    BackendTimeout,
    BackendUnavailable,
    CallNotFound,
    OriginateError,
    WrongCallState,
)
from autoinformer.outcomes import HangupCause
from autoinformer.testing.ari_harness import ari_harness
from autoinformer.testing.ari_spec import bundled_reference_dir
from autoinformer.testing.conformance import check_hangup_cause, check_transfer
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

REFERENCE = bundled_reference_dir()
E = TypeVar("E", bound=base.SwitchEvent)

pytestmark = pytest.mark.anyio
anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual
WAIT = 10.0
"""Model seconds to wait for an event: only a guard against a hang (time is virtual)."""


def make_fake(**options: Any) -> FakeAri:
    options.setdefault("time_scale", 1.0)
    return FakeAri(reference_dir=REFERENCE, builtin_seconds={"beep": 0.5}, **options)


def make_switch(fake: FakeAri, **settings: Any) -> AriSwitch:
    settings.setdefault("endpoint", "PJSIP/{digits}@trunk")
    settings.setdefault("password", fake.password)
    return AriSwitch(settings=AriSettings(url=fake.url, username=fake.username, **settings))


async def next_of(
    events: AsyncIterator[base.SwitchEvent], kind: type[E], call_id: str | None = None
) -> E:
    """The next event of ``kind`` (about ``call_id``), within :data:`WAIT`."""
    with anyio.fail_after(WAIT):
        async for event in events:
            if isinstance(event, kind) and call_id in (None, getattr(event, "call_id", None)):
                return event
    raise AssertionError("event stream ended")


async def answered(switch: AriSwitch, call_id: str, number: str) -> None:
    await switch.originate(call_id, number, caller_id="+74950000000", ring_timeout=10)
    await next_of(switch.events(), base.CallAnswered, call_id)


async def test_websocket_drop_mid_call_adopts_loses_and_hangs_up_orphans() -> None:
    async with make_fake() as fake, make_switch(fake) as switch:
        await answered(switch, "stays", "+79500000001")
        await answered(switch, "leaves", "+79500000011")
        # A channel in our application that this process does not know (an earlier run's).
        async with httpx.AsyncClient(auth=(fake.username, fake.password)) as raw:
            reply = await raw.post(
                f"{fake.url}/ari/channels",
                params={"endpoint": "PJSIP/1@trunk", "app": "autoinformer", "channelId": "orphan"},
            )
            assert reply.status_code == 200
        with anyio.fail_after(WAIT):
            await fake.wait_until(lambda: fake.pbx.channels["orphan"].in_stasis)

        fake.refuse_websocket = True
        await fake.drop_websocket()
        await switch.hangup("leaves")  # REST still works; its events are lost with the socket
        assert "leaves" not in fake.pbx.channels
        fake.refuse_websocket = False

        gap = await next_of(switch.events(), base.BackendGap)
        assert gap.adopted == ("stays",)
        assert gap.lost == ("leaves",)
        assert gap.seconds > 0
        ended = await next_of(switch.events(), base.CallEnded, "leaves")
        assert ended.answered
        assert "lost during an event gap" in ended.detail
        with anyio.fail_after(WAIT):
            await fake.wait_until(lambda: "orphan" not in fake.pbx.channels)
        # The adopted call is still ours: play on it and hear the end.
        await switch.play("stays", base.Media(builtin="beep"), playback_id="after-gap")
        done = await next_of(switch.events(), base.PlaybackFinished, "stays")
        assert done == base.PlaybackFinished("stays", "after-gap", completed=True)
        assert switch.gaps == 1
        assert fake.violations == []


async def test_rest_errors_become_library_errors() -> None:
    async with make_fake() as fake, make_switch(fake) as switch:
        fake.fail_next("originate", 400)
        with pytest.raises(OriginateError, match="HTTP 400"):
            await switch.originate("refused", "+79500000001", caller_id=None, ring_timeout=5)
        fake.fail_next("originate", 503)
        with pytest.raises(BackendUnavailable):
            await switch.originate("away", "+79500000001", caller_id=None, ring_timeout=5)
        with pytest.raises(OriginateError, match=r"E\.164"):
            await switch.originate("bad", "8-950-000", caller_id=None, ring_timeout=5)

        with pytest.raises(CallNotFound):
            await switch.play("nobody", base.Media(builtin="beep"), playback_id="p1")
        await switch.originate("ringing", "+79500000003", caller_id=None, ring_timeout=30)
        with pytest.raises(WrongCallState):  # 409: not in Stasis until answered
            await switch.play("ringing", base.Media(builtin="beep"), playback_id="p2")
        with pytest.raises(WrongCallState, match="422"):
            await switch.bridge("b1", ("ringing",))
        assert fake.pbx.bridges == {}  # the half-made bridge was removed
        await switch.hangup("nobody")  # gone already: not an error
        await switch.stop_playback("ringing", "never-started")

        await switch.hangup("ringing")
        ended = await next_of(switch.events(), base.CallEnded, "ringing")
        assert ended.cause is HangupCause.NORMAL_CLEARING
        assert not ended.answered
        assert fake.violations == []


@pytest.mark.parametrize(
    ("status", "on_originate", "on_play"),
    [
        (400, OriginateError, None),  # Asterisk refused the media: a failed playback
        (404, OriginateError, CallNotFound),
        (409, OriginateError, WrongCallState),
        (412, OriginateError, WrongCallState),
        (422, OriginateError, WrongCallState),
        (401, BackendUnavailable, BackendUnavailable),
        (403, BackendUnavailable, BackendUnavailable),
        (500, BackendUnavailable, BackendUnavailable),
        (503, BackendUnavailable, BackendUnavailable),
    ],
)
async def test_each_rest_status_becomes_its_library_error(
    status: int, on_originate: type[Exception], on_play: type[Exception] | None
) -> None:
    async with make_fake() as fake, make_switch(fake) as switch:
        fake.fail_next("originate", status)
        with pytest.raises(on_originate, match=str(status)) as refused:
            await switch.originate("c1", "+79500000001", caller_id=None, ring_timeout=5)
        await answered(switch, "c1", "+79500000001")  # nothing was left behind under the id
        fake.fail_next("play", status)
        if on_play is None:
            await switch.play("c1", base.Media(builtin="beep"), playback_id="p1")
            finished = await next_of(switch.events(), base.PlaybackFinished, "c1")
            assert not finished.completed
            assert "HTTP 400: injected failure" in finished.error
            errors = [refused.value]
        else:
            with pytest.raises(on_play, match=str(status)) as failed:
                await switch.play("c1", base.Media(builtin="beep"), playback_id="p1")
            errors = [refused.value, failed.value]
        for error in errors:
            assert not isinstance(error, httpx.HTTPError)
            assert fake.password not in str(error)


@pytest.mark.parametrize("failing", ["create", "addChannel"])
async def test_a_failed_bridge_does_not_tie_the_calls_together(failing: str) -> None:
    async with make_fake() as fake, make_switch(fake) as switch:
        await answered(switch, "cust", "+79500000001")
        await switch.originate(
            "agent", "PJSIP/operator-1001", caller_id=None, ring_timeout=10, operator=True
        )
        await next_of(switch.events(), base.CallAnswered, "agent")
        fake.fail_next(failing, 500)
        with pytest.raises(BackendUnavailable):
            await switch.bridge("br-1", ("cust", "agent"))
        await switch.hangup("agent")  # the core gives the operator leg up
        await next_of(switch.events(), base.CallEnded, "agent")
        # The customer is not hung up as a bridge peer: it is still there to play to.
        await switch.play("cust", base.Media(builtin="beep"), playback_id="after")
        done = await next_of(switch.events(), base.PlaybackFinished, "cust")
        assert done.completed
        assert "cust" in fake.pbx.channels
        assert fake.requests.count(("DELETE", "hangup")) == 1
        assert fake.pbx.bridges == {}


@pytest.mark.parametrize("check", [check_hangup_cause, check_transfer], ids=lambda c: c.__name__)
async def test_slow_events_still_conform(check: Any) -> None:
    # Every event reaches the client 2 s after the one before it (so after the REST reply
    # that caused it): replies and events race the other way round from the usual. Events
    # queue up behind each other, hence the slack (it was 2 real s at 100 model s per s).
    harness = ari_harness(REFERENCE, time_scale=1.0, event_delay=2.0)
    await check(attrs.evolve(harness, slack=200.0))


async def test_slow_consumer_loses_nothing(caplog: pytest.LogCaptureFixture) -> None:
    numbers = ["+79500000002", "+79500000004", "+79500000005", "+79500000009", "+79500000012"]
    async with make_fake() as fake, make_switch(fake, event_buffer=1) as switch:
        for i, number in enumerate(numbers):
            await switch.originate(f"c{i}", number, caller_id=None, ring_timeout=5)
        with anyio.fail_after(WAIT):
            await fake.wait_until(lambda: not fake.pbx.channels)
        ends: list[base.CallEnded] = []
        with anyio.fail_after(WAIT):
            async for event in switch.events():
                if isinstance(event, base.CallEnded):
                    ends.append(event)
                    if len(ends) == len(numbers):
                        break
        assert sorted(e.call_id for e in ends) == [f"c{i}" for i in range(len(numbers))]
        assert "consumer of ARI events is slow" in caplog.text


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A server on 127.0.0.1 that accepts connections and never answers; yields its URL."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def hold(stream: anyio.abc.ByteStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, hold)
        yield f"http://127.0.0.1:{port}"
        tg.cancel_scope.cancel()


async def test_a_server_that_never_answers_times_out() -> None:
    async with silent_server() as url:
        switch = AriSwitch(settings=AriSettings(url=url, password="pw", request_timeout=0.2))
        switch._client.open()
        switch.connected = True  # as if the event stream were up: only REST is under test
        try:
            with pytest.raises(BackendTimeout, match=r"no reply within 0\.2 s"):
                await switch.originate("t1", "+79500000001", caller_id=None, ring_timeout=5)
        finally:
            await switch._client.aclose()


async def test_connect_to_a_server_that_never_answers_gives_up() -> None:
    async with silent_server() as url:
        switch = AriSwitch(settings=AriSettings(url=url, password="pw", request_timeout=0.2))
        with anyio.fail_after(3), pytest.raises(BackendUnavailable, match="event stream"):
            await switch.connect()  # the WebSocket upgrade is never answered
        assert not switch.connected


async def test_events_that_overtake_the_originate_reply_are_not_lost() -> None:
    async with make_fake() as fake, make_switch(fake) as switch:
        # The reply leaves 5 s late: the callee (rings 1 s) has answered and StasisStart
        # reached us before originate() returns.
        fake.delay_reply("originate", 5.0)
        await switch.originate("quick", "+79500000001", caller_id=None, ring_timeout=30)
        assert fake.pbx.channels["quick"].in_stasis
        await next_of(switch.events(), base.CallAnswered, "quick")


async def test_resync_failure_still_reports_the_gap() -> None:
    async with make_fake() as fake, make_switch(fake) as switch:
        await answered(switch, "c1", "+79500000001")
        fake.fail_next("list", 500)  # GET /channels fails after the reconnect
        await fake.drop_websocket()
        gap = await next_of(switch.events(), base.BackendGap)
        assert gap.adopted == ("c1",)
        assert gap.lost == ()
        await switch.hangup("c1")
        ended = await next_of(switch.events(), base.CallEnded, "c1")
        assert ended.answered


async def test_originate_reply_too_late_hangs_the_call_up() -> None:
    async with make_fake() as fake, make_switch(fake, request_timeout=0.5) as switch:
        fake.delay_reply("originate", 5.0)  # Asterisk placed the call, the reply is late
        with pytest.raises(BackendTimeout):
            await switch.originate("late", "+79500000003", caller_id=None, ring_timeout=300)
        with anyio.fail_after(WAIT):
            await fake.wait_until(lambda: "late" not in fake.pbx.channels)
        assert ("DELETE", "hangup") in fake.requests
        await switch.originate("next", "+79500000002", caller_id=None, ring_timeout=30)
        seen: list[base.SwitchEvent] = []
        with anyio.fail_after(WAIT):
            async for event in switch.events():
                seen.append(event)
                if isinstance(event, base.CallEnded) and event.call_id == "next":
                    break
        # The ringing that overtook the missing reply was reported, so the call is closed
        # with a CallEnded (and nothing about it follows); the next call goes on as usual.
        late = [e for e in seen if getattr(e, "call_id", None) == "late"]
        assert late[0] == base.CallProgress("late", "ringing")
        assert late[-1] == base.CallEnded(
            "late",
            HangupCause.NORMAL_TEMPORARY_FAILURE,
            detail="dialstatus=RINGING cause=41 originate failed: originate late: "
            "no reply within 0.5 s",
        )
        assert [e for e in late if isinstance(e, base.CallEnded)] == late[-1:]


async def test_an_answer_that_overtakes_a_lost_originate_reply_is_closed() -> None:
    async with make_fake() as fake, make_switch(fake, request_timeout=3.0) as switch:
        fake.delay_reply("originate", 5.0)
        async with anyio.create_task_group() as tg:

            async def originate() -> None:
                with pytest.raises(BackendTimeout):
                    await switch.originate("up", "+79500000001", caller_id=None, ring_timeout=30)

            tg.start_soon(originate)
            # The callee answers (1 s) long before the request times out (3 s).
            await next_of(switch.events(), base.CallAnswered, "up")
            ended = await next_of(switch.events(), base.CallEnded, "up")
        assert ended.answered
        assert ended.cause is HangupCause.NORMAL_TEMPORARY_FAILURE
        with anyio.fail_after(WAIT):
            await fake.wait_until(lambda: "up" not in fake.pbx.channels)  # and hung up


async def test_wrong_password_is_refused_without_showing_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_fake() as fake:
        switch = make_switch(fake, password="hunter2-wrong")
        with pytest.raises(BackendUnavailable) as info:
            await switch.connect()
        assert "401" in str(info.value)
        assert "hunter2" not in str(info.value)
        assert "hunter2" not in repr(switch)
        assert "hunter2" not in caplog.text
        assert switch.connected is False


async def test_application_replaced_ends_the_older_stream_without_a_fight() -> None:
    async with make_fake() as fake, make_switch(fake) as first, make_switch(fake) as second:
        with anyio.fail_after(WAIT):
            async for event in first.events():
                raise AssertionError(f"the replaced switch got {event!r}")
        assert first.replaced
        await answered(second, "c1", "+79500000001")
        assert not second.replaced
        assert fake.websocket_connected("autoinformer")
