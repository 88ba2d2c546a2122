"""Fail early, fail loud (#14): recordings and template variables are checked before anyone is
called; a recording the switch cannot play is a failed attempt, never a delivered one."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import pytest

from autoinformer.campaign import Campaign
from autoinformer.campaign_file import load_campaign_file
from autoinformer.cli import main
from autoinformer.contacts.model import Contact
from autoinformer.errors import SettingsError
from autoinformer.outcomes import Outcome
from autoinformer.policy.schedule import CallWindow
from autoinformer.preflight import (
    MAX_MESSAGE_SECONDS,
    check_templates,
    list_columns,
    overnight_hours,
)
from autoinformer.script import Script, play, say
from autoinformer.sim.driver import simulate
from autoinformer.store.sqlite import SqliteStore

EXAMPLE = Path(__file__).parents[1] / "examples" / "campaign"


def _campaign_dir(tmp_path: Path, *replace: tuple[str, str], append: str = "") -> Path:
    """A copy of the example campaign with some lines of its TOML changed."""
    target = tmp_path / "campaign"
    shutil.copytree(EXAMPLE, target)
    toml = target / "campaign.toml"
    text = toml.read_text()
    for old, new in replace:
        assert old in text
        text = text.replace(old, new)
    toml.write_text(text + append)
    return toml


def _wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(b"\x80" * int(8000 * seconds))
    return path


# --- item 5: every recording the script names is checked when the campaign is loaded ---------


def test_a_missing_play_file_stops_the_load_naming_the_step(tmp_path: Path) -> None:
    toml = _campaign_dir(tmp_path, ('play = "greeting.wav"', 'play = "greting.wav"'))
    with pytest.raises(SettingsError) as caught:
        load_campaign_file(toml)
    assert caught.value.field == "script[0].play"
    assert "greting.wav" in caught.value.message
    assert "file not found" in caught.value.message


def test_run_with_a_missing_play_file_calls_nobody_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _campaign_dir(tmp_path, ('play = "greeting.wav"', 'play = "greting.wav"'))
    store = tmp_path / "run.sqlite"
    assert main(["run", str(toml), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "script[0].play" in err
    assert "greting.wav: file not found" in err
    assert not store.exists()  # stopped before the store was even opened


@pytest.mark.parametrize(
    ("replace", "append", "field"),
    [
        (
            ('menu = "Press 1', 'menu = "play:press1.wav"\n# "Press 1'),
            "",
            "script[2].menu",
        ),
        (('"3" = "opt_out"', '"3" = "play:bye.wav"'), "", "script[2].options.3"),
        (
            ('region = "RU"', 'region = "RU"\nabandon_message = "sorry.wav"'),
            "",
            "campaign.abandon_message",
        ),
        (
            ("wrapup = 10", 'wrapup = 10\nhold_music = "hold.wav"'),
            "",
            "queues.operators.hold_music",
        ),
    ],
)
def test_every_recording_the_campaign_names_is_checked(
    tmp_path: Path, replace: tuple[str, str], append: str, field: str
) -> None:
    toml = _campaign_dir(tmp_path, replace, append=append)
    with pytest.raises(SettingsError) as caught:
        load_campaign_file(toml)
    assert caught.value.field == field
    assert "file not found" in caught.value.message


def test_a_recording_that_does_not_decode_or_is_too_long_is_refused(tmp_path: Path) -> None:
    toml = _campaign_dir(tmp_path)
    (toml.parent / "greeting.wav").write_bytes(b"RIFF this is not audio at all")
    with pytest.raises(SettingsError) as caught:
        load_campaign_file(toml)
    assert caught.value.field == "script[0].play"
    assert "cannot decode" in caught.value.message

    _wav(toml.parent / "greeting.wav", MAX_MESSAGE_SECONDS + 1)
    with pytest.raises(SettingsError) as caught:
        load_campaign_file(toml)
    assert "long" in caught.value.message

    _wav(toml.parent / "greeting.wav", 2.0)  # a good one loads
    assert load_campaign_file(toml).campaign.name == "HOA debt"


def test_switch_sounds_are_not_files_and_are_not_checked(tmp_path: Path) -> None:
    toml = _campaign_dir(tmp_path, ('play = "greeting.wav"', 'play = "sound:hello-world"'))
    assert load_campaign_file(toml).campaign.script.files() == ["sound:hello-world"]


def test_the_virtual_time_driver_fails_a_playback_of_a_missing_file(tmp_path: Path) -> None:
    """The fast simulator plays the file as a switch would: a missing one is a failed
    attempt ("playback failed: ..."), never delivered."""
    campaign = Campaign(
        name="c", script=Script.of(play(str(tmp_path / "greting.wav"))), timezone="UTC"
    )
    result = simulate(campaign, [Contact(id="p", phones=("+79500000001",))])  # answers
    assert result.records  # failed attempts are retried by policy: each one failed
    for record in result.records:
        assert record.outcome is Outcome.FAILED
        assert "playback failed" in record.detail
        assert "greting.wav (file not found)" in record.detail


# --- item 4: template variables are checked against the list's columns -----------------------


def test_a_template_variable_typo_stops_run_before_the_first_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _campaign_dir(tmp_path, ("{BALANCE|abs}", "{BALANSE|abs}"))
    store = tmp_path / "run.sqlite"
    assert main(["run", str(toml), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "script[1].say: unknown variable BALANSE (the list has: BALANCE)" in err
    assert not store.exists()  # nobody was called


def test_check_templates_names_menu_prompts_and_accepts_any_case() -> None:
    script = Script.of(say("Hello {name}, you owe {balance}"))
    check_templates(script, ["BALANCE"])  # case-insensitive; name is built in
    with pytest.raises(SettingsError) as caught:
        check_templates(Script.of(say("{A} and {B}")), ["A"])
    assert caught.value.field == "script[0].say"
    assert caught.value.message == "unknown variable B (the list has: A)"


def test_list_columns_is_the_union_of_the_contacts_variables() -> None:
    contacts = [
        Contact(id="a", phones=("+79500000001",), variables={"BALANCE": "1"}),
        Contact(id="b", phones=("+79500000002",), variables={"BALANCE": "2", "DUE": "x"}),
    ]
    assert list_columns(contacts) == ["BALANCE", "DUE"]


def test_skipped_contacts_are_counted_by_reason_in_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A contact whose own row lacks the variable is skipped; the summary says why."""
    toml = _campaign_dir(tmp_path)
    debtors = toml.parent / "debtors.csv"
    lines = debtors.read_text().splitlines()
    lines[2] = lines[2].replace("BALANCE = -525.19", "DUE = 2026-01-16")
    debtors.write_text("\n".join(lines) + "\n")
    store = tmp_path / "run.sqlite"
    main(["run", str(toml), "--store", str(store), "--json"])
    summary = json.loads(capsys.readouterr().out)
    (entry,) = summary["skipped"]
    assert entry["reason"] == "missing variable(s): BALANCE"
    assert entry["count"] == 1
    assert len(entry["examples"]) == 1
    with SqliteStore(store) as opened:
        (progress,) = [p for c, p in opened.contacts("HOA debt") if c.id == entry["examples"][0]]
    assert progress.reason == "missing variable(s): BALANCE"

    main(["run", str(toml), "--store", str(store)])  # resumed: the text summary says it too
    out = capsys.readouterr().out
    assert "skipped contacts: 1" in out
    assert f"1  missing variable(s): BALANCE (e.g. {entry['examples'][0]})" in out


# --- item 8: calling hours past midnight are pointed out -------------------------------------


def test_overnight_hours_are_found_and_daytime_or_all_day_are_not() -> None:
    night = CallWindow.parse(days="mon-fri", hours="20:00-09:00", timezone="Europe/Moscow")
    assert overnight_hours(night)[0] == "mon 20:00-09:00"
    assert len(overnight_hours(night)) == 5
    assert overnight_hours(CallWindow.parse(hours="09:00-20:00")) == []
    assert overnight_hours(CallWindow.any_time()) == []


def test_run_says_when_the_calling_hours_run_past_midnight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _campaign_dir(tmp_path, ('hours = "09:00-20:00"', 'hours = "20:00-09:00"'))
    main(["run", str(toml), "--store", str(tmp_path / "s.sqlite"), "--json"])
    captured = capsys.readouterr()
    assert "run past midnight (mon 20:00-09:00" in captured.err
    assert json.loads(captured.out)["overnight_hours"][0] == "mon 20:00-09:00"
