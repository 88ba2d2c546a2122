"""Backend settings checked against the script before anyone is called (#13 item 5): an
Asterisk that cannot see our audio files, a FreeSWITCH mapping that leaves a file out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autoinformer.campaign import Campaign
from autoinformer.cli import main
from autoinformer.errors import SettingsError
from autoinformer.preflight import check_backend
from autoinformer.script import Script, play, say

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "campaign"


def _campaign(*steps: object) -> Campaign:
    return Campaign(name="pf", timezone="UTC", script=Script.of(*steps))  # type: ignore[arg-type]


def test_ari_without_sounds_dir_is_refused_when_the_script_plays_a_file() -> None:
    campaign = _campaign(play("/srv/audio/greeting.wav"))
    with pytest.raises(SettingsError) as raised:
        check_backend(campaign, "ari", {"url": "http://pbx:8088"})
    assert raised.value.field == "backend.sounds_dir"
    assert "script[0].play" in raised.value.message
    # what makes it playable: either way of getting files to Asterisk
    check_backend(campaign, "ari", {"url": "http://pbx:8088", "sounds_dir": "/srv/snd"})
    check_backend(campaign, "ari", {"url": "http://pbx:8088", "audio": "http"})


def test_ari_speech_is_a_file_too_but_switch_sounds_are_not() -> None:
    with pytest.raises(SettingsError, match="synthesised speech"):
        check_backend(_campaign(say("Hello {name}")), "ari", {"url": "http://pbx:8088"})
    check_backend(_campaign(play("sound:hello-world")), "ari", {"url": "http://pbx:8088"})
    check_backend(_campaign(play("/srv/a.wav")), "sim", {})


def test_esl_files_must_be_inside_a_mapped_audio_dir(tmp_path: Path) -> None:
    inside, outside = tmp_path / "audio" / "a.wav", tmp_path / "elsewhere" / "b.wav"
    mapped = {"audio_dir": str(tmp_path / "audio"), "switch_audio_dir": "/mnt/audio"}
    check_backend(_campaign(play(str(inside))), "esl", mapped)
    with pytest.raises(SettingsError) as raised:
        check_backend(_campaign(play(str(inside)), play(str(outside))), "esl", mapped)
    assert raised.value.field == "script[1].play"
    assert "audio_dir" in raised.value.message
    # no mapping: FreeSWITCH plays our paths as they are (one machine)
    check_backend(_campaign(play(str(outside))), "esl", {"audio_dir": str(tmp_path / "audio")})
    # speech rendered outside the mapped directory would fail every call
    with pytest.raises(SettingsError) as raised:
        check_backend(_campaign(say("Hi")), "esl", mapped, speech_dir=tmp_path / "cache")
    assert raised.value.field == "speech.cache"
    check_backend(_campaign(say("Hi")), "esl", mapped, speech_dir=tmp_path / "audio" / "tts")


def test_run_stops_before_connecting_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("campaign.toml", "debtors.csv", "greeting.wav"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    toml = tmp_path / "campaign.toml"
    text = toml.read_text().replace(
        'kind = "sim"                    # sim | ari | esl',
        'kind = "ari"\nurl = "http://127.0.0.1:9"',  # nothing listens: never reached
    )
    toml.write_text(text)
    code = main(["run", str(toml), "--store", str(tmp_path / "s.sqlite")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "backend.sounds_dir" in err
    assert "script[0].play" in err
