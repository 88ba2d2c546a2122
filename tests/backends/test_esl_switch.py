"""EslSwitch against the fake ESL server: settings, what goes on the wire, and the races.

In virtual time (:mod:`autoinformer.testing.virtual_time`): the fake's callees run at model
speed on the loop's clock, which jumps only when no byte is on the wire, so "our hang-up goes
out before the callee does X" holds however busy the machine; waits are in model seconds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from autoinformer.backends import load_backend
from autoinformer.backends.base import (
    CallAnswered,
    CallEnded,
    CallProgress,
    MachineDetected,
    Media,
    PlaybackFinished,
)
from autoinformer.backends.esl import EslSwitch
from autoinformer.backends.esl.commands import channel_vars, dial_string, media_argument
from autoinformer.errors import (
    BackendError,
    BackendUnavailable,
    CallNotFound,
    MediaError,
    OriginateError,
    SettingsError,
)
from autoinformer.outcomes import HangupCause
from autoinformer.testing.conformance import EventRecorder, SwitchHarness
from autoinformer.testing.fake_esl import FakeEslServer
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual
SPEED = 1.0  # model seconds per (virtual) second
HARNESS = SwitchHarness(connect=lambda: None, speed=SPEED, slack=2.0)  # type: ignore[arg-type, return-value]


@asynccontextmanager
async def session(
    server_options: dict[str, Any] | None = None, **switch_options: Any
) -> AsyncIterator[tuple[FakeEslServer, EslSwitch, EventRecorder]]:
    async with FakeEslServer(speed=SPEED, **(server_options or {})) as server:
        options: dict[str, Any] = {
            "port": server.port,
            "password": server.password,
            "dial": "sofia/gateway/gw1/{digits}",
            "command_timeout": 3.0,
        }
        options.update(switch_options)
        async with EslSwitch(**options) as switch, anyio.create_task_group() as tg:
            recorder = EventRecorder(switch, HARNESS)
            tg.start_soon(recorder._read)
            yield server, switch, recorder
            tg.cancel_scope.cancel()


# --- settings -------------------------------------------------------------------------------


def test_load_backend_finds_esl() -> None:
    assert load_backend("esl") is EslSwitch


def test_password_never_in_repr_and_read_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_ESL_PW", "s3cret-pw")
    switch = EslSwitch(host="fs.example", password_env="MY_ESL_PW")
    assert "s3cret-pw" not in repr(switch)
    assert "MY_ESL_PW" in repr(switch)
    assert "s3cret-pw" not in repr(EslSwitch(password="s3cret-pw"))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"password_env": "AUTOINFORMER_SURELY_UNSET_VAR"}, "backend.password_env"),
        ({"port": 0}, "backend.port"),
        ({"dial": "sofia/gateway/gw1/{phone}"}, "backend.dial"),
        ({"dial": "sofia/gateway/gw1/"}, "backend.dial"),
        ({"dial": "sofia/gateway/gw 1/{digits}"}, "backend.dial"),
        ({"switch_audio_dir": "/srv/audio"}, "backend.audio_dir"),
        ({"command_timeout": 0}, "backend.command_timeout"),
        ({"event_format": "xml"}, "backend.event_format"),
        ({"machine_detection": "magic"}, "backend.machine_detection"),
        ({"event_buffer": 0}, "backend.event_buffer"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        EslSwitch(**options)
    assert info.value.field == field


def test_from_the_backend_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESL_TEST_PASSWORD", "pw")  # a plain password is refused (#14)
    switch = EslSwitch.from_settings(
        {
            "kind": "esl",
            "host": "fs1.example",
            "port": 8022,
            "password_env": "ESL_TEST_PASSWORD",
            "dial": "sofia/gateway/gw1/{national}",
            "audio_dir": "/var/lib/autoinformer/audio",
            "audio_url": "http://dialer:8080/audio",
        }
    )
    assert switch.port == 8022
    assert switch.audio_dir == Path("/var/lib/autoinformer/audio")
    with pytest.raises(SettingsError) as info:
        EslSwitch.from_settings({"kind": "esl", "hots": "x"})
    assert info.value.field == "backend.hots"


def test_dial_templates() -> None:
    assert dial_string("sofia/gateway/gw1/{digits}", "+79508881234") == (
        "sofia/gateway/gw1/79508881234"
    )
    assert dial_string("sofia/gateway/gw1/{national}", "+79508881234") == (
        "sofia/gateway/gw1/89508881234"
    )
    assert dial_string("sofia/external/{number}@10.0.0.1", "+15551234567") == (
        "sofia/external/+15551234567@10.0.0.1"
    )
    for bad in ("+7950 888", "7950}{x", "+7950\n", "refused:+79500000001", ""):
        with pytest.raises(OriginateError, match="not a phone number"):
            dial_string("sofia/gateway/gw1/{digits}", bad)


def test_channel_variables_are_escaped() -> None:
    assert channel_vars({"a": "1", "b": "x,y", "c": "two words"}) == ("{a=1,b=x\\,y,c='two words'}")
    with pytest.raises(OriginateError, match="line break"):
        channel_vars({"a": "x\nevent plain ALL"})
    with pytest.raises(OriginateError, match="variable name"):
        channel_vars({"a b": "1"})


def test_media_mapping(tmp_path: Path) -> None:
    wav = tmp_path / "calls" / "hello.wav"
    wav.parent.mkdir()
    wav.write_bytes(b"RIFF")
    plain = {"path": wav, "builtin": None, "audio_dir": None}
    assert media_argument(**plain, switch_audio_dir=None, audio_url=None) == str(wav)
    mapped = {"path": wav, "builtin": None, "audio_dir": tmp_path}
    assert (
        media_argument(**mapped, switch_audio_dir="/mnt/audio", audio_url=None)
        == "/mnt/audio/calls/hello.wav"
    )
    assert (
        media_argument(**mapped, switch_audio_dir=None, audio_url="http://dialer:8080/a/")
        == "http_cache://http://dialer:8080/a/calls/hello.wav"
    )
    with pytest.raises(MediaError, match="not inside backend"):
        media_argument(
            path=Path("/etc/passwd"),
            builtin=None,
            audio_dir=tmp_path,
            switch_audio_dir="/mnt",
            audio_url=None,
        )


# --- on the wire ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_originate_command_and_early_answer_order() -> None:
    async with session() as (server, switch, rec):
        await switch.originate(
            "c1",
            "+79500000001",
            caller_id="+74950000000",
            ring_timeout=4.5,
            variables={"campaign": "debt, march", "contact_id": "7"},
        )
        await rec.wait_for(CallAnswered, "c1", 3)
        [line] = [c for c in server.commands if c.startswith("bgapi originate")]
        assert line.endswith("}sofia/gateway/gw1/79500000001 &park()")
        assert "originate_timeout=5" in line
        assert "ignore_early_media=true" in line
        assert "origination_caller_id_number=+74950000000" in line
        assert "campaign='debt\\, march'" in line
        channel = server.channel_for("c1")
        assert channel.variables["campaign"] == "debt, march"
        assert channel.variables["origination_uuid"] in line
        # Ringing, then one CallAnswered although CHANNEL_ANSWER precedes the job's +OK.
        kinds = [type(e) for e in rec.of("c1")]
        assert kinds == [CallProgress, CallAnswered]
        await switch.hangup("c1")
        ended = await rec.wait_for(CallEnded, "c1", 2)
        assert ended.detail == "Hangup-Cause: NORMAL_CLEARING"
        assert any(
            c.startswith(f"bgapi uuid_kill {channel.uuid} NORMAL_CLEARING") for c in server.commands
        )


@pytest.mark.anyio
async def test_failure_detail_keeps_the_switch_words() -> None:
    async with session() as (_, switch, rec):
        await switch.originate("busy", "+79500000002", caller_id=None, ring_timeout=4)
        ended = await rec.wait_for(CallEnded, "busy", 3)
        assert ended.cause is HangupCause.USER_BUSY
        assert "USER_BUSY" in ended.detail


@pytest.mark.anyio
async def test_play_a_wav_file(tmp_path: Path) -> None:
    import wave

    path = tmp_path / "hello.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 8000 * 2)  # 2 s
    async with session() as (server, switch, rec):
        await switch.originate("c1", "+79500000001", caller_id=None, ring_timeout=4)
        await rec.wait_for(CallAnswered, "c1", 3)
        await switch.play("c1", Media(path=path), playback_id="hello")
        # A local file that is not there never reaches the switch ...
        with pytest.raises(MediaError, match="no such file"):
            await switch.play("c1", Media(path=tmp_path / "missing.wav"), playback_id="lost")
        # ... one the switch cannot open is a failed playback, in the switch's words.
        await switch.play("c1", Media(builtin="/nonexistent/x.wav"), playback_id="gone")
        done = await rec.wait_for(
            PlaybackFinished, "c1", 4, where=lambda e: e.playback_id == "hello"
        )
        assert done.completed
        assert not done.error
        missing = await rec.wait_for(
            PlaybackFinished, "c1", 2, where=lambda e: e.playback_id == "gone"
        )
        assert not missing.completed
        assert missing.error == "FILE NOT FOUND (/nonexistent/x.wav)"
        assert any(c == f"sendmsg {server.channel_for('c1').uuid}" for c in server.commands)
        # A playback still going when the call ends finishes (not completed) before CallEnded.
        # (a 10-minute tone: it must still be playing when our hang-up arrives, however late)
        await switch.play("c1", Media(builtin="tone_stream://%(600000,0,800)"), playback_id="cut")
        await switch.hangup("c1")
        await rec.wait_for(CallEnded, "c1", 2)
        cut = [
            e for e in rec.of("c1") if isinstance(e, PlaybackFinished) and e.playback_id == "cut"
        ]
        assert [(e.completed, e.error) for e in cut] == [(False, "")]
        rec.assert_ended_last("c1")


@pytest.mark.anyio
async def test_hangup_before_the_channel_exists_is_deferred() -> None:
    async with session() as (server, switch, rec):
        # Our uuid_kill goes out before the fake has sent CHANNEL_CREATE for this call.
        await switch.originate("c1", "+79500000003", caller_id=None, ring_timeout=10)
        await switch.hangup("c1", HangupCause.NORMAL_CLEARING)
        ended = await rec.wait_for(CallEnded, "c1", 2)
        assert ended.cause is HangupCause.NORMAL_CLEARING
        assert not ended.answered
        assert server.channels == {}


@pytest.mark.anyio
@pytest.mark.parametrize("modules", [frozenset(), frozenset({"mod_avmd"})])
async def test_machine_detector_found_at_run_time(modules: frozenset[str]) -> None:
    # the fake beeps 1.5 s after avmd_start: a person is declared only 4 s on
    async with session({"modules": modules, "machine_numbers": ("0001",)}, avmd_timeout=4.0) as (
        _,
        switch,
        rec,
    ):
        assert switch.machine_detector == ("avmd" if modules else None)
        await switch.originate(
            "m", "+79500000001", caller_id=None, ring_timeout=4, detect_machine=True
        )
        await rec.wait_for(CallAnswered, "m", 3)
        if modules:
            verdict = await rec.wait_for(MachineDetected, "m", 4)
            assert verdict.machine
            assert verdict.beep
        await switch.hangup("m")
        await rec.wait_for(CallEnded, "m", 2)
        detected = [e for e in rec.of("m") if isinstance(e, MachineDetected)]
        assert len(detected) == (1 if modules else 0)


@pytest.mark.anyio
async def test_wrong_password_is_unavailable_and_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeEslServer(password="right-one") as server:
        switch = EslSwitch(port=server.port, password="wrong-pw-123")
        with pytest.raises(BackendUnavailable, match="authentication failed") as info:
            await switch.connect()
        assert "wrong-pw-123" not in str(info.value)
        assert "auth ****" in server.commands
    assert "wrong-pw-123" not in caplog.text


@pytest.mark.anyio
async def test_a_failed_setup_fails_connect_cleanly() -> None:
    async with FakeEslServer(refuse="^module_exists") as server:
        switch = EslSwitch(port=server.port)
        with pytest.raises(BackendError, match="refused"):
            await switch.connect()
        await server.wait_until(lambda: server.listeners == 0)
        with pytest.raises(BackendUnavailable):
            await switch.originate("c", "+79500000001", caller_id=None, ring_timeout=4)


@pytest.mark.anyio
async def test_nobody_listening_is_unavailable() -> None:
    async with FakeEslServer() as server:
        port = server.port
    with pytest.raises(BackendUnavailable, match="cannot connect"):
        await EslSwitch(port=port, connect_timeout=2).connect()


@pytest.mark.anyio
async def test_calls_on_unknown_or_ended_calls() -> None:
    async with session() as (_, switch, _rec):
        with pytest.raises(CallNotFound):
            await switch.play("nope", Media(builtin="tone_stream://%(100,0,800)"), playback_id="p")
        await switch.hangup("nope")  # nothing to do, no error
        await switch.stop_playback("nope", "p")
        with pytest.raises(OriginateError, match="not a phone number"):
            await switch.originate("x", "+7 950", caller_id=None, ring_timeout=4)
        with pytest.raises(OriginateError, match="operator endpoint"):
            await switch.originate(
                "y", "user/1001 &eval", caller_id=None, ring_timeout=4, operator=True
            )


@pytest.mark.anyio
async def test_only_bgapi_with_our_job_uuids_and_sendmsg_with_our_event_uuids() -> None:
    """Never a blocking ``api`` on the event connection; every job and app is ours to match."""
    async with session({"modules": frozenset({"mod_avmd"})}) as (server, switch, rec):
        await switch.originate("c1", "+79500000001", caller_id=None, ring_timeout=4)
        await switch.originate("op", "user/1001", caller_id=None, ring_timeout=10, operator=True)
        await rec.wait_for(CallAnswered, "c1", 3)
        await rec.wait_for(CallAnswered, "op", 3)
        await switch.play("c1", Media(builtin="tone_stream://%(100,0,800)"), playback_id="p1")
        await rec.wait_for(PlaybackFinished, "c1", 2, where=lambda e: e.playback_id == "p1")
        await switch.play("c1", Media(builtin="tone_stream://%(600000,0,800)"), playback_id="p2")
        await switch.stop_playback("c1", "p2")
        await switch.bridge("b1", ("c1", "op"))
        await switch.hangup("op", HangupCause.NORMAL_CLEARING)
        await rec.wait_for(CallEnded, "c1", 3)

        words = {line.split(" ", 1)[0] for line, _ in server.requests}
        assert words <= {"auth", "event", "filter", "bgapi", "sendmsg", "exit"}, words
        jobs = [h.get("Job-UUID") for line, h in server.requests if line.startswith("bgapi ")]
        kinds = {line.split()[1] for line, _ in server.requests if line.startswith("bgapi ")}
        assert {"originate", "uuid_break", "uuid_bridge", "uuid_kill"} <= kinds, kinds
        assert all(jobs), "a bgapi without our Job-UUID"
        assert len(set(jobs)) == len(jobs), "Job-UUIDs are reused"
        executes = [
            h for line, h in server.requests if line.startswith("sendmsg ") and h.get("event-uuid")
        ]
        played = [h for h in executes if h.get("execute-app-name") == "playback"]
        assert len(played) == 2, server.requests
        assert all(h["call-command"] == "execute" for h in executes)
        assert len({h["event-uuid"] for h in executes}) == len(executes)
        # each origination carries our own channel uuid, known before the switch answers
        originates = [line for line, _ in server.requests if line.startswith("bgapi originate")]
        uuids = [line.split("origination_uuid=", 1)[1].split(",", 1)[0] for line in originates]
        assert len(set(uuids)) == 2
        rec.assert_ended_last("c1")
        rec.assert_ended_last("op")
