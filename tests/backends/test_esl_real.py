"""The backend against a real FreeSWITCH (opt-in, marker ``real_freeswitch``).

Get one (Debian 12, amd64)::

    bash ../shared/pbx/install.sh && bash ../shared/pbx/start.sh freeswitch
    AUTOINFORMER_ESL_HOST=127.0.0.1 python -m pytest tests/backends/test_esl_real.py

The defaults follow that test PBX (``../shared/pbx/README.md``): ESL port 8021, password
``ClueCon``, customers ``loopback/{digits}/default`` (the last digit picks the behaviour),
operator ``loopback/op100/default``. Override with ``AUTOINFORMER_ESL_PORT``,
``AUTOINFORMER_ESL_PASSWORD``, ``AUTOINFORMER_ESL_DIAL``, ``AUTOINFORMER_ESL_OPERATOR`` and
``AUTOINFORMER_ESL_MACHINE`` (a number answered by a machine; none on the test PBX).

The restart test stops and starts the server with the PBX's own scripts
(``AUTOINFORMER_PBX_DIR``, set by ``.ci/run``; skipped when it is not set) and
always starts it again.
"""

from __future__ import annotations

import contextlib
import os
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from autoinformer.backends.base import (
    BackendGap,
    CallAnswered,
    CallEnded,
    Media,
    Orphan,
    PlaybackFinished,
    Switch,
    SwitchEvent,
)
from autoinformer.backends.esl import EslSwitch
from autoinformer.errors import MediaError
from autoinformer.outcomes import HangupCause
from autoinformer.testing.conformance import CHECKS, SwitchHarness

HOST = os.environ.get("AUTOINFORMER_ESL_HOST")
PORT = int(os.environ.get("AUTOINFORMER_ESL_PORT", "8021"))
PASSWORD = os.environ.get("AUTOINFORMER_ESL_PASSWORD", "ClueCon")
DIAL = os.environ.get("AUTOINFORMER_ESL_DIAL", "loopback/{digits}/default")
OPERATOR = os.environ.get("AUTOINFORMER_ESL_OPERATOR", "loopback/op100/default")
PBX_DIR = Path(os.environ.get("AUTOINFORMER_PBX_DIR", "/nonexistent-pbx-scripts"))
"""The test PBX's start.sh/stop.sh: only from the variable (.ci/run sets it), never a path
outside the checkout."""

pytestmark = [
    pytest.mark.real_freeswitch,
    pytest.mark.skipif(
        not HOST,
        reason=(
            "no real FreeSWITCH: run `bash ../shared/pbx/install.sh && bash "
            "../shared/pbx/start.sh freeswitch`, then set AUTOINFORMER_ESL_HOST=127.0.0.1"
        ),
    ),
]


def real_switch(**options: object) -> EslSwitch:
    assert HOST is not None
    return EslSwitch(host=HOST, port=PORT, password=PASSWORD, dial=DIAL, **options)  # type: ignore[arg-type]


def real_harness() -> SwitchHarness:
    @contextlib.asynccontextmanager
    async def connect() -> AsyncIterator[Switch]:
        async with real_switch() as switch:
            yield switch

    return SwitchHarness(
        connect=connect,
        speed=1.0,
        slack=3.0,
        operator_endpoint=OPERATOR,
        media=Media(builtin="tone_stream://%(500,0,800)"),
        media_seconds=0.5,
        missing_media=Media(builtin="/nonexistent/autoinformer-missing.wav"),
        machine_number=os.environ.get("AUTOINFORMER_ESL_MACHINE"),
        refused_destination="refused:+79500000001",
        ring_timeout=6.0,
    )


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance_on_real_freeswitch(
    check: Callable[[SwitchHarness], Awaitable[None]],
) -> None:
    await check(real_harness())


class Events:
    """Every SwitchEvent of a switch, and a way to wait for one."""

    def __init__(self, switch: Switch) -> None:
        self.switch = switch
        self.seen: list[SwitchEvent] = []
        self._changed = anyio.Event()

    async def read(self) -> None:
        async for event in self.switch.events():
            self.seen.append(event)
            self._changed.set()
            self._changed = anyio.Event()

    async def wait(
        self, kind: type[SwitchEvent], within: float, where: Callable[..., bool] = lambda e: True
    ) -> SwitchEvent:
        with anyio.fail_after(within):
            while True:
                for event in self.seen:
                    if isinstance(event, kind) and where(event):
                        return event
                await self._changed.wait()


@contextlib.asynccontextmanager
async def session(**options: object) -> AsyncIterator[tuple[EslSwitch, Events]]:
    async with real_switch(**options) as switch, anyio.create_task_group() as tg:
        events = Events(switch)
        tg.start_soon(events.read)
        try:
            yield switch, events
        finally:
            tg.cancel_scope.cancel()


def tone_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:  # 8 kHz mono 16-bit, 0.5 s of silence
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 4000)
    return path


@pytest.mark.anyio
async def test_playback_truth_on_real_freeswitch(tmp_path: Path) -> None:
    wav = tone_wav(tmp_path / "rendered message.wav")  # a space, as a user's file may have
    async with session() as (switch, events):
        await switch.originate("truth", "+79508881231", caller_id=None, ring_timeout=10)
        await events.wait(CallAnswered, 10)
        with pytest.raises(MediaError, match="TTS"):  # raw text never reaches the switch
            await switch.play("truth", Media(builtin="tts:hello"), playback_id="text")
        # Played at once on the answer: the backend announced it after the park, so it plays.
        await switch.play("truth", Media(path=wav), playback_id="file")
        await switch.play("truth", Media(builtin="/nonexistent/gone.wav"), playback_id="gone")
        await switch.play("truth", Media(builtin="hello-world.wav"), playback_id="sound")

        def done(playback_id: str) -> Callable[[SwitchEvent], bool]:
            return lambda e: e.playback_id == playback_id

        played = await events.wait(PlaybackFinished, 10, done("file"))
        assert played == PlaybackFinished("truth", "file", completed=True)
        gone = await events.wait(PlaybackFinished, 10, done("gone"))
        assert gone == PlaybackFinished(
            "truth", "gone", completed=False, error="FILE NOT FOUND (/nonexistent/gone.wav)"
        )
        sound = await events.wait(PlaybackFinished, 10, done("sound"))
        assert sound == PlaybackFinished("truth", "sound", completed=True)
        await switch.hangup("truth")
        await events.wait(CallEnded, 10)


async def _pbx(action: str) -> None:
    script = PBX_DIR / f"{action}.sh"
    result = await anyio.run_process(["bash", str(script), "freeswitch"], check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]


@pytest.mark.anyio
async def test_server_restart_mid_call_is_a_gap_with_the_calls_lost() -> None:
    if not (PBX_DIR / "stop.sh").exists():
        pytest.skip(f"no PBX scripts at {PBX_DIR} (set AUTOINFORMER_PBX_DIR)")
    try:
        async with session(reconnect_for=120.0) as (switch, events):
            await switch.originate("held", "+79508881231", caller_id=None, ring_timeout=10)
            await switch.originate("ringing", "+79508881233", caller_id=None, ring_timeout=30)
            await events.wait(CallAnswered, 10)
            await _pbx("stop")
            await _pbx("start")
            gap = await events.wait(BackendGap, 60)
            assert isinstance(gap, BackendGap)
            assert gap.adopted == ()
            assert gap.seconds > 0
            # A graceful stop hangs the calls up (and says so) before the socket closes; calls
            # whose end was not heard are lost in the gap. Either way: one CallEnded each.
            for call_id, answered in (("held", True), ("ringing", False)):
                end = await events.wait(CallEnded, 10, lambda e, c=call_id: e.call_id == c)
                assert isinstance(end, CallEnded)
                assert end.answered is answered
                ends = [e for e in events.seen if isinstance(e, CallEnded) and e.call_id == call_id]
                assert len(ends) == 1
                if call_id in gap.lost:
                    assert end.detail == "ended while the connection was down"
                    assert events.seen.index(end) > events.seen.index(gap)
                else:
                    assert end.cause is HangupCause.NORMAL_TEMPORARY_FAILURE, end
                    assert end.detail.endswith("SYSTEM_SHUTDOWN"), end
                    assert events.seen.index(end) < events.seen.index(gap)
            # The switch works again: a new call goes through on the new connection.
            await switch.originate("after", "+79508881232", caller_id=None, ring_timeout=10)
            busy = await events.wait(CallEnded, 10, lambda e: e.call_id == "after")
            assert isinstance(busy, CallEnded)
            assert busy.cause.name == "USER_BUSY"
    finally:
        with anyio.CancelScope(shield=True):
            await _pbx("start")  # never leave the server stopped


@pytest.mark.anyio
async def test_orphans_left_by_a_dead_process_are_hung_up_on_real_freeswitch() -> None:
    # Issue #13 item 4: a process dies (its switch object closes without hanging up); the next
    # one finds its parked calls by their channel variables and hangs them up.
    tag = f"real-orphans-{os.getpid()}-{anyio.current_time():.0f}"
    ids = [f"{tag}-{i}" for i in range(3)]
    variables = {"AUTOINFORMER_CAMPAIGN": tag}
    async with real_switch() as dead:
        for call_id in ids:
            await dead.originate(
                call_id, "+79500000001", caller_id=None, ring_timeout=10, variables=variables
            )
        answered: set[str] = set()
        with anyio.fail_after(10):
            async for event in dead.events():
                if isinstance(event, CallAnswered):
                    answered.add(event.call_id)
                    if answered == set(ids):
                        break
    async with real_switch() as switch:
        orphans: list[Orphan] = []
        with anyio.fail_after(5):  # FreeSWITCH's channel list lags its channels a little
            while len(orphans) < len(ids):
                orphans = await switch.orphans(tag)
                await anyio.sleep(0.2)
        assert sorted(o.call_id for o in orphans) == ids
        assert all(o.answered for o in orphans)
        assert await switch.orphans("some-other-campaign") == []
        for orphan in orphans:
            await switch.hangup_orphan(orphan)
        with anyio.fail_after(10):
            while await switch.orphans(tag):  # noqa: ASYNC110 - polling the real server
                await anyio.sleep(0.2)
