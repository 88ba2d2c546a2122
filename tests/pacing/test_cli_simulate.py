"""``autoinformer simulate``."""

from __future__ import annotations

import json

import pytest

from autoinformer.cli import main


def test_json_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--agents", "5", "--hours", "1", "--json", "--seed", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("occupancy", "abandon_rate", "connects_per_agent_hour", "idle_per_connect_s"):
        assert isinstance(out[key], float)
    for key in ("dials", "answers", "abandoned"):
        assert isinstance(out[key], int)
    assert 0.0 <= out["occupancy"] <= 1.0
    assert 0.0 <= out["abandon_rate"] <= 1.0


def test_capacity_question_with_contacts(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--pacing", "progressive", "--contacts", "300", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dials"] == 300
    assert 0 < out["finished_after_s"] < 8 * 3600


def test_power_and_drift_and_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "simulate",
        "--pacing",
        "power",
        "--ratio",
        "2",
        "--hours",
        "1",
        "--answer-rate",
        "0.22",
        "--answer-rate-drift",
        "0.12",
        "--ring",
        "5,20",
    ]
    assert main(args) == 0
    assert "occupancy" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ring", "5"], "--ring"),
        (["--answer-rate", "1.5"], "answer_rate"),
        (["--pacing", "power", "--ratio", "0.3"], "pacing.ratio"),
    ],
)
def test_bad_settings_exit_2_and_name_the_option(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", *args]) == 2
    assert message in capsys.readouterr().err


def _figures(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    args = ["simulate", "--answer-rate", "0.22", "--answer-rate-drift", "0.12", "--hours", "1"]
    assert main([*args, "--json", "--seed", "1", *extra]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_release_by_default_and_its_cost_in_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    out = _figures(capsys)
    released, forgone = out["released"], out["answers_forgone"]
    assert isinstance(released, int)
    assert isinstance(forgone, int)
    assert 0 < forgone < released
    for key in ("occupancy", "abandon_rate", "dials", "dials_per_agent_hour"):
        assert key in out, "every earlier key is still there"


@pytest.mark.parametrize("off", [["--no-release"], ["--release-after", "0"]])
def test_release_can_be_turned_off(off: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = _figures(capsys, *off)
    assert out["released"] == out["answers_forgone"] == 0


def test_a_later_release_releases_fewer(capsys: pytest.CaptureFixture[str]) -> None:
    early = _figures(capsys)["released"]
    late = _figures(capsys, "--release-after", "20")["released"]
    assert isinstance(early, int)
    assert isinstance(late, int)
    assert late < early


def test_a_release_under_the_legal_floor_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--release-after", "10"]) == 2
    assert "--release-after" in capsys.readouterr().err
