"""AriSettings from the campaign file, the dial-string template, audio delivery, and the
reference checker that keeps the fake server honest."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from autoinformer.backends import load_backend
from autoinformer.backends.ari import AriSettings, AriSwitch, render_endpoint
from autoinformer.backends.ari.audio import MediaPublisher, content_name
from autoinformer.backends.base import Media
from autoinformer.errors import BackendError, MediaError, SettingsError
from autoinformer.testing.ari_spec import AriSpec, bundled_reference_dir

REFERENCE = bundled_reference_dir()


def write_wav(path: Path, *, rate: int = 8000, channels: int = 1, seconds: float = 0.1) -> Path:
    """A real WAV file (silence) in the format asked for."""
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(channels)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(b"\0\0" * channels * int(rate * seconds))
    return path


TABLE = {
    "kind": "ari",
    "url": "http://pbx.example:8088",
    "username": "dialer",
    "password_env": "PBX_PASSWORD",
    "app": "autoinformer",
    "endpoint": "PJSIP/{digits}@trunk",
    "audio": "sounds_dir",
    "sounds_dir": "/var/lib/asterisk/sounds/autoinformer",
}


def test_from_settings_reads_the_password_from_the_environment() -> None:
    switch = AriSwitch.from_settings(TABLE, environ={"PBX_PASSWORD": "s3cret-pw"})
    assert load_backend("ari") is AriSwitch
    settings = switch.settings
    assert settings.password == "s3cret-pw"
    assert settings.base_url == "http://pbx.example:8088/ari"
    assert settings.sounds_dir == Path("/var/lib/asterisk/sounds/autoinformer")
    assert "s3cret-pw" not in repr(switch)
    assert "s3cret-pw" not in repr(settings)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"password_env": "NOT_SET"}, "backend.password_env", "not set"),
        ({"password": "inline"}, "backend.password", "password_env"),
        ({"endpoint": "PJSIP/{phone}@trunk"}, "backend.endpoint", "{phone}"),
        ({"endpoint": "PJSIP/trunk"}, "backend.endpoint", "placeholder"),
        ({"endpoint": "{digits}"}, "backend.endpoint", "TECH/resource"),
        ({"url": "pbx:8088"}, "backend.url", "http"),
        ({"url": "http://user:pw@pbx:8088"}, "backend.url", "credentials"),
        ({"app": "my app"}, "backend.app", "spaces"),
        ({"audio": "ftp"}, "backend.audio", "sounds_dir"),
        ({"audio": "http"}, "backend.media_url", "http"),
        ({"request_timeout": 0}, "backend.request_timeout", "positive"),
        ({"colour": "blue"}, "backend.colour", "unknown key"),
    ],
)
def test_bad_settings_name_the_field(change: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        AriSwitch.from_settings({**TABLE, **change}, environ={"PBX_PASSWORD": "x"})
    assert info.value.field == field
    assert words in info.value.message


def test_keyword_settings_build_the_same_switch() -> None:
    table = {k: v for k, v in TABLE.items() if k != "kind"}
    switch = AriSwitch(**table, environ={"PBX_PASSWORD": "pw-1"})
    assert (
        switch.settings == AriSwitch.from_settings(TABLE, environ={"PBX_PASSWORD": "pw-1"}).settings
    )
    direct = AriSwitch(AriSettings(url="http://pbx:8088", password="pw-2"))
    assert direct.settings.password == "pw-2"
    with pytest.raises(SettingsError, match="either"):
        AriSwitch(direct.settings, url="http://other:8088")


@pytest.mark.parametrize("password", ["inline", ""])
def test_a_password_key_is_refused_the_same_way_everywhere(password: str) -> None:
    # The keyword form is what `[backend] kind = "ari"` builds in the CLI: it must refuse a
    # password written into the campaign file exactly as from_settings does.
    errors = []
    for build in (
        lambda: AriSwitch(url="http://pbx:8088", password=password),
        lambda: AriSwitch.from_settings({"url": "http://pbx:8088", "password": password}),
        lambda: AriSettings.from_settings({"url": "http://pbx:8088", "password": password}),
    ):
        with pytest.raises(SettingsError) as info:
            build()
        errors.append(info.value)
    for error in errors:
        assert error.field == "backend.password"
        assert "password_env" in error.message
    assert all(password not in str(e) for e in errors if password)


def test_campaign_file_backend_table_builds_the_switch(tmp_path: Path) -> None:
    from autoinformer.campaign_file import load_campaign_file

    body = """
[campaign]
name = "ari-file"
timezone = "Europe/Moscow"

[[script]]
play = "sound:hello-world"

[backend]
kind = "ari"
url = "http://pbx.example:8088"
username = "dialer"
password_env = "PBX_PASSWORD"
endpoint = "Local/{digits}@phones"
"""
    path = tmp_path / "campaign.toml"
    path.write_text(body, encoding="utf-8")
    spec = load_campaign_file(path)
    assert spec.backend == "ari"
    switch = AriSwitch(**spec.backend_settings, environ={"PBX_PASSWORD": "pw-3"})
    assert switch.settings.endpoint == "Local/{digits}@phones"
    assert switch.settings.password == "pw-3"
    path.write_text(body + 'password = "inline"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"backend\.password: .*password_env"):
        AriSwitch(**load_campaign_file(path).backend_settings, environ={"PBX_PASSWORD": "x"})


def test_missing_url_is_named() -> None:
    table = {k: v for k, v in TABLE.items() if k != "url"}
    with pytest.raises(SettingsError, match=r"backend\.url: missing"):
        AriSettings.from_settings(table, environ={"PBX_PASSWORD": "x"})


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("PJSIP/{digits}@trunk", "PJSIP/79508881234@trunk"),
        ("SIP/{number}", "SIP/+79508881234"),
        ("Local/{national}@phones", "Local/89508881234@phones"),
    ],
)
def test_render_endpoint(template: str, expected: str) -> None:
    assert render_endpoint(template, "+79508881234") == expected


def test_render_endpoint_wants_e164() -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        render_endpoint("PJSIP/{digits}@trunk", "89508881234")


def test_events_url_follows_the_scheme() -> None:
    assert AriSettings(url="https://pbx/ari/").events_url == "wss://pbx/ari/events?app=autoinformer"


@pytest.mark.anyio
async def test_sounds_dir_delivery_copies_once_under_the_content_hash(tmp_path: Path) -> None:
    source = write_wav(tmp_path / "greeting.WAV")
    sounds = tmp_path / "asterisk-sounds"
    publisher = MediaPublisher(settings=AriSettings(url="http://pbx:8088", sounds_dir=sounds))
    uri = await publisher.uri(Media(path=source))
    name = content_name(source)
    assert name.startswith("greeting-")
    assert name.endswith(".wav")
    assert uri == f"sound:autoinformer/{Path(name).stem}"
    assert (sounds / name).read_bytes() == source.read_bytes()
    assert await publisher.uri(Media(path=source)) == uri
    assert await publisher.uri(Media(builtin="hello-world")) == "sound:hello-world"
    assert await publisher.uri(Media(builtin="tone:ring;tonezone=us")) == "tone:ring;tonezone=us"


@pytest.mark.anyio
async def test_sounds_dir_names_are_safe_and_the_subdir_is_configurable(tmp_path: Path) -> None:
    source = write_wav(tmp_path / "Долг 525 руб; (final) v2.wav")
    settings = AriSettings(url="http://pbx:8088", sounds_dir=tmp_path / "s", sounds_subdir="ai/x")
    uri = await MediaPublisher(settings=settings).uri(Media(path=source))
    name = uri.removeprefix("sound:ai/x/")
    assert uri.startswith("sound:ai/x/")
    assert "/" not in name
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in name), name
    assert name.startswith("525_")
    assert name.split("-")[-1].isalnum()
    for bad in ("../up", "/abs", "a b", ""):
        with pytest.raises(SettingsError, match="sounds_subdir"):
            AriSettings(url="http://pbx:8088", sounds_subdir=bad)


@pytest.mark.anyio
async def test_wav_formats_asterisk_reads_and_refuses(tmp_path: Path) -> None:
    publisher = MediaPublisher(settings=AriSettings(url="http://pbx:8088", sounds_dir=tmp_path))
    wide = write_wav(tmp_path / "wide.wav", rate=16000)
    assert content_name(wide).endswith(".wav16")  # Asterisk's format_wav reads 16 kHz as .wav16
    assert (await publisher.uri(Media(path=wide))).startswith("sound:autoinformer/wide-")
    with pytest.raises(MediaError, match="44100 Hz, 16-bit, 2 channel"):
        await publisher.uri(Media(path=write_wav(tmp_path / "cd.wav", rate=44100, channels=2)))
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF fake wav bytes")
    with pytest.raises(MediaError, match="not a WAV file"):
        await publisher.uri(Media(path=junk))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("builtin", "words"),
    [
        ("tts:Press 1, 2", "cannot speak text"),
        ("tts:hello", "cannot speak text"),
        ("hello-world,beep", "comma"),
        ("sound:beep,sound:beep", "comma"),
        ("bogus:whatever", "plays only"),
        ("hello\nworld", "line breaks"),
    ],
)
async def test_builtins_asterisk_cannot_play_are_refused(builtin: str, words: str) -> None:
    publisher = MediaPublisher(settings=AriSettings(url="http://pbx:8088"))
    with pytest.raises(MediaError, match=words):
        await publisher.uri(Media(builtin=builtin))
    assert await publisher.uri(Media(builtin="sound:http://h/x")) == "sound:http://h/x"


@pytest.mark.anyio
async def test_http_delivery_names_a_url(tmp_path: Path) -> None:
    source = write_wav(tmp_path / "speech.wav")
    settings = AriSettings(
        url="http://pbx:8088",
        audio="http",
        media_url="http://dialer.lan:8000/media/",
        media_dir=tmp_path / "served",
    )
    uri = await MediaPublisher(settings=settings).uri(Media(path=source))
    name = content_name(source)
    assert uri == f"sound:http://dialer.lan:8000/media/{name}"
    assert (tmp_path / "served" / name).exists()


@pytest.mark.anyio
async def test_media_problems_are_library_errors(tmp_path: Path) -> None:
    no_dir = MediaPublisher(settings=AriSettings(url="http://pbx:8088"))
    with pytest.raises(SettingsError, match="sounds_dir"):
        await no_dir.uri(Media(path=tmp_path / "x.wav"))
    publisher = MediaPublisher(settings=AriSettings(url="http://pbx:8088", sounds_dir=tmp_path))
    with pytest.raises(BackendError, match="cannot deliver"):
        await publisher.uri(Media(path=tmp_path / "missing.wav"))


# --- the reference checker ---------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> AriSpec:
    return AriSpec.load(REFERENCE if REFERENCE.is_dir() else None)


def test_bundled_reference_has_every_resource() -> None:
    names = {file.name for file in REFERENCE.glob("*.json")}
    assert {"channels.json", "bridges.json", "events.json", "playbacks.json"} <= names
    assert AriSpec.load(REFERENCE).match("POST", "/channels") is not None


def test_checker_catches_bad_requests(spec: AriSpec) -> None:
    found = spec.match("POST", "/channels")
    assert found is not None
    op, _ = found
    assert spec.check_request(op, [("endpoint", "PJSIP/1@t"), ("app", "a")], None) == []
    problems = spec.check_request(
        op, [("app", "a"), ("timeout", "4.5"), ("channelID", "x")], {"variables": {"A": 1}}
    )
    assert any("required parameter 'endpoint' missing" in p for p in problems)
    assert any("timeout='4.5' is not a int" in p for p in problems)
    assert any("unknown query parameter 'channelID'" in p for p in problems)
    assert any("object of strings" in p for p in problems)
    hangup = spec.match("DELETE", "/channels/abc")
    assert hangup is not None
    assert hangup[1] == {"channelId": "abc"}
    assert spec.check_request(hangup[0], [("reason", "angry")], None)
    assert spec.match("POST", "/channels/abc/teleport") is None
    create = spec.match("POST", "/channels/create")
    assert create is not None
    assert create[0].nickname == "create"


def test_checker_catches_bad_events(spec: AriSpec) -> None:
    good = {
        "type": "ChannelDtmfReceived",
        "application": "a",
        "timestamp": "2026-11-22T03:16:50.335+0000",
        "digit": "1",
        "duration_ms": 100,
        "channel": {
            "id": "c",
            "name": "PJSIP/x",
            "state": "Up",
            "protocol_id": "",
            "caller": {"name": "", "number": ""},
            "connected": {"name": "", "number": ""},
            "accountcode": "",
            "dialplan": {
                "context": "d",
                "exten": "s",
                "priority": 1,
                "app_name": "",
                "app_data": "",
            },
            "creationtime": "2026-11-22T03:16:50.335+0000",
            "language": "en",
        },
    }
    assert spec.check_event(good) == []
    bad = {**good, "duration_ms": "100", "colour": "red"}
    del bad["digit"]
    problems = spec.check_event(bad)
    assert any("duration_ms: expected int" in p for p in problems)
    assert any("'colour' is not in the ChannelDtmfReceived model" in p for p in problems)
    assert any("required field 'digit' missing" in p for p in problems)
    assert spec.check_event({"type": "Teleported"})
