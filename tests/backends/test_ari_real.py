"""The conformance suite, playback truth and machine detection against a real Asterisk (opt-in).

Get the test PBX and point the tests at it::

    bash ../shared/pbx/install.sh && bash ../shared/pbx/start.sh asterisk
    AUTOINFORMER_ARI_URL=http://127.0.0.1:8088 python -m pytest tests/backends/test_ari_real.py

The defaults are that PBX's conventions: user and password ``ari``
(``AUTOINFORMER_ARI_USERNAME``, ``AUTOINFORMER_ARI_PASSWORD``), customers
``Local/{digits}@phones`` (``AUTOINFORMER_ARI_ENDPOINT``; the last digit picks the callee's
behaviour), operator ``Local/100@operators`` (``AUTOINFORMER_ARI_OPERATOR``), our files in
``/opt/realpbx/asterisk/var/lib/asterisk/sounds/autoinformer`` when that directory is on this
machine (``AUTOINFORMER_ARI_SOUNDS_DIR``). Machine detection needs the ``autoinformer-amd``
context of ``docs/backends/asterisk.md``; the test PBX does not ship it, so the test adds it for
the running server through AMI (``AUTOINFORMER_AMI``, default ``admin:admin@<ARI host>:5038``;
``dialplan add extension``, gone at the next restart). ``AUTOINFORMER_ARI_MACHINE``: a number
a machine answers (the test PBX has none).
"""

from __future__ import annotations

import contextlib
import math
import os
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import anyio
import pytest

from autoinformer.backends import base
from autoinformer.backends.ari import AriSettings, AriSwitch
from autoinformer.backends.base import Media, Switch
from autoinformer.errors import MediaError, OriginateError
from autoinformer.testing.conformance import CHECKS, SwitchHarness

E = TypeVar("E", bound=base.SwitchEvent)
URL = os.environ.get("AUTOINFORMER_ARI_URL")
SOUNDS = Path(
    os.environ.get(
        "AUTOINFORMER_ARI_SOUNDS_DIR", "/opt/realpbx/asterisk/var/lib/asterisk/sounds/autoinformer"
    )
)

pytestmark = [
    pytest.mark.real_asterisk,
    pytest.mark.skipif(
        not URL,
        reason="needs a real Asterisk: bash ../shared/pbx/install.sh && bash "
        "../shared/pbx/start.sh asterisk, then set AUTOINFORMER_ARI_URL=http://127.0.0.1:8088",
    ),
]


def settings(**extra: object) -> AriSettings:
    assert URL is not None
    values: dict[str, object] = {
        "url": URL,
        "username": os.environ.get("AUTOINFORMER_ARI_USERNAME", "ari"),
        "password": os.environ.get("AUTOINFORMER_ARI_PASSWORD", "ari"),
        "endpoint": os.environ.get("AUTOINFORMER_ARI_ENDPOINT", "Local/{digits}@phones"),
        **extra,
    }
    return AriSettings(**values)  # type: ignore[arg-type]


def real_harness() -> SwitchHarness:
    @contextlib.asynccontextmanager
    async def connect() -> AsyncIterator[Switch]:
        async with AriSwitch(settings=settings()) as switch:
            yield switch

    return SwitchHarness(
        connect=connect,
        speed=1.0,
        slack=3.0,
        operator_endpoint=os.environ.get("AUTOINFORMER_ARI_OPERATOR", "Local/100@operators"),
        media=Media(builtin="beep"),
        media_seconds=0.4,  # Asterisk's beep.wav plays about 0.4 s
        long_media=Media(builtin="tone:ring;tonezone=us"),  # a tone plays until stopped
        missing_media=Media(builtin="autoinformer/does-not-exist"),
        machine_number=os.environ.get("AUTOINFORMER_ARI_MACHINE"),
        refused_destination="refused:+79500000001",
        ring_timeout=6.0,
    )


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance_on_real_asterisk(
    check: Callable[[SwitchHarness], Awaitable[None]],
) -> None:
    await check(real_harness())


# --- beyond the suite --------------------------------------------------------------------


async def _next(switch: AriSwitch, kind: type[E], call_id: str, within: float = 8.0) -> E:
    with anyio.fail_after(within):
        async for event in switch.events():
            if isinstance(event, kind) and getattr(event, "call_id", None) == call_id:
                return event
    raise AssertionError("the event stream ended")


async def _answered(switch: AriSwitch, call_id: str, number: str = "+79500000001") -> None:
    await switch.originate(call_id, number, caller_id=None, ring_timeout=10)
    await _next(switch, base.CallAnswered, call_id)


def _call_id(name: str) -> str:
    return f"real-{name}-{os.getpid()}-{anyio.current_time():.0f}"


@pytest.mark.anyio
async def test_a_missing_sound_is_a_failed_playback_not_a_delivered_one() -> None:
    async with AriSwitch(settings=settings()) as switch:
        call = _call_id("missing")
        await _answered(switch, call)
        await switch.play(call, Media(builtin="autoinformer/does-not-exist"), playback_id="pb-x")
        finished = await _next(switch, base.PlaybackFinished, call)
        assert finished.playback_id == "pb-x"
        assert not finished.completed
        assert "sound:autoinformer/does-not-exist" in finished.error
        await switch.play(call, Media(builtin="beep"), playback_id="pb-ok")  # the call goes on
        finished = await _next(switch, base.PlaybackFinished, call)
        assert finished == base.PlaybackFinished(call, "pb-ok", completed=True)
        await switch.hangup(call)
        ended = await _next(switch, base.CallEnded, call)
        assert ended.answered


@pytest.mark.anyio
async def test_a_playback_cut_short_by_the_callee_is_not_an_error() -> None:
    async with AriSwitch(settings=settings()) as switch:
        call = _call_id("cut")
        await _answered(switch, call, "+79500000006")  # hangs up 2 s after answer
        await switch.play(call, Media(builtin="tone:ring;tonezone=us"), playback_id="pb-long")
        finished = await _next(switch, base.PlaybackFinished, call)
        assert finished == base.PlaybackFinished(call, "pb-long", completed=False)
        await _next(switch, base.CallEnded, call)


@pytest.mark.anyio
async def test_builtins_asterisk_cannot_play_are_refused_before_the_request() -> None:
    async with AriSwitch(settings=settings()) as switch:
        call = _call_id("text")
        await _answered(switch, call)
        for media in ("tts:Press 1, 2", "hello-world,beep", "bogus:whatever"):
            with pytest.raises(MediaError):
                await switch.play(call, Media(builtin=media), playback_id="pb-no")
        await switch.hangup(call)
        events = []
        with anyio.fail_after(8):
            async for event in switch.events():
                events.append(event)
                if isinstance(event, base.CallEnded):
                    break
        assert not [e for e in events if isinstance(e, base.PlaybackFinished)]


@pytest.mark.anyio
@pytest.mark.skipif(not SOUNDS.is_dir(), reason="Asterisk's sounds directory is not here")
async def test_our_wav_reaches_asterisk_through_sounds_dir(tmp_path: Path) -> None:
    wav = tmp_path / "Напоминание о долге (v1).wav"
    with wave.open(str(wav), "wb") as audio:  # 0.6 s of a 440 Hz tone, 8 kHz mono 16-bit
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(
            b"".join(
                int(8000 * math.sin(2 * math.pi * 440 * n / 8000)).to_bytes(
                    2, "little", signed=True
                )
                for n in range(4800)
            )
        )
    async with AriSwitch(settings=settings(sounds_dir=SOUNDS)) as switch:
        call = _call_id("wav")
        await _answered(switch, call)
        started = anyio.current_time()
        await switch.play(call, Media(path=wav), playback_id="pb-wav")
        finished = await _next(switch, base.PlaybackFinished, call)
        assert finished == base.PlaybackFinished(call, "pb-wav", completed=True)
        assert anyio.current_time() - started >= 0.4  # it really played
        await switch.hangup(call)
        await _next(switch, base.CallEnded, call)


@pytest.mark.anyio
async def test_an_id_asterisk_still_has_is_a_clear_originate_error() -> None:
    async with (
        AriSwitch(settings=settings()) as first,
        AriSwitch(settings=settings(app="autoinformer-other")) as second,
    ):
        call = _call_id("dup")
        await _answered(first, call)
        with pytest.raises(OriginateError, match="already has a channel with this id"):
            await second.originate(call, "+79500000001", caller_id=None, ring_timeout=10)
        with pytest.raises(OriginateError, match="in progress"):
            await first.originate(call, "+79500000001", caller_id=None, ring_timeout=10)
        await first.hangup(call)
        ended = await _next(first, base.CallEnded, call)
        assert ended.answered


# --- machine detection --------------------------------------------------------------------

AMD_CONTEXT = (
    "s,1,AMD(2500,1500,800,3500)",
    "s,2,Stasis(autoinformer,amd,${AMDSTATUS},${AMDCAUSE})",
    "s,3,Hangup()",
)


async def _ami_command(command: str) -> str:
    """One AMI ``Command`` action (login, command, logoff); its output."""
    assert URL is not None
    spec = os.environ.get("AUTOINFORMER_AMI", f"admin:admin@{urlsplit(URL).hostname}:5038")
    credentials, _, address = spec.rpartition("@")
    user, _, secret = credentials.partition(":")
    host, _, port = address.partition(":")
    message = (
        f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n\r\n"
        f"Action: Command\r\nActionID: cmd\r\nCommand: {command}\r\n\r\n"
        "Action: Logoff\r\n\r\n"
    )
    received = b""
    with anyio.fail_after(5):
        async with await anyio.connect_tcp(host, int(port or 5038)) as stream:
            await stream.send(message.encode())
            with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                while True:
                    received += await stream.receive()
    return received.decode(errors="replace")


async def _ensure_amd_context() -> None:
    try:
        shown = await _ami_command("dialplan show s@autoinformer-amd")
    except (OSError, TimeoutError) as exc:
        pytest.skip(f"no autoinformer-amd context and no AMI to add it ({exc})")
    if "AMD(" in shown:
        return
    for line in AMD_CONTEXT:
        await _ami_command(f"dialplan add extension {line} into autoinformer-amd")
    if "AMD(" not in await _ami_command("dialplan show s@autoinformer-amd"):
        pytest.skip("could not add the autoinformer-amd context through AMI")


@pytest.mark.anyio
async def test_machine_detection_round_trip() -> None:
    """The call leaves Stasis for AMD() and comes back with a verdict; it can then play.

    The test PBX's callees are Local channels whose dialplan sends no audio AMD() can hear,
    so AMD() says NOTSURE (TOOLONG) for each of them: reported as a person.
    """
    await _ensure_amd_context()
    async with AriSwitch(settings=settings()) as switch:
        call = _call_id("amd")
        await switch.originate(
            call, "+79500000001", caller_id=None, ring_timeout=10, detect_machine=True
        )
        await _next(switch, base.CallAnswered, call)
        verdict = await _next(switch, base.MachineDetected, call, within=10)
        assert verdict == base.MachineDetected(call, machine=False)
        await switch.play(call, Media(builtin="beep"), playback_id="pb-after")
        finished = await _next(switch, base.PlaybackFinished, call)
        assert finished.completed
        await switch.hangup(call)
        await _next(switch, base.CallEnded, call)


@pytest.mark.anyio
async def test_orphans_left_by_a_dead_process_are_hung_up_on_real_asterisk() -> None:
    # Issue #13 item 4: a process dies (its switch object closes without hanging up); the next
    # one finds its calls by their AUTOINFORMER_CAMPAIGN variable and hangs them up.
    tag = _call_id("orphans")
    ids = [f"{tag}-{i}" for i in range(3)]
    variables = {"AUTOINFORMER_CAMPAIGN": tag}
    async with AriSwitch(settings=settings(app=f"{tag}-dead")) as dead:
        for call_id in ids:
            await dead.originate(
                call_id, "+79500000001", caller_id=None, ring_timeout=10, variables=variables
            )
        answered: set[str] = set()
        with anyio.fail_after(10):
            async for event in dead.events():
                if isinstance(event, base.CallAnswered):
                    answered.add(event.call_id)
                    if answered == set(ids):
                        break
    async with AriSwitch(settings=settings(app=f"{tag}-next")) as switch:
        orphans = await switch.orphans(tag)
        assert sorted(o.call_id for o in orphans) == ids
        assert all(o.answered and o.since is not None for o in orphans)
        assert await switch.orphans("some-other-campaign") == []
        for orphan in orphans:
            await switch.hangup_orphan(orphan)
        with anyio.fail_after(10):
            while await switch.orphans(tag):  # noqa: ASYNC110 - polling the real server
                await anyio.sleep(0.2)
