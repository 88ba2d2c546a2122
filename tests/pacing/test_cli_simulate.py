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
        (["--answer-rate", "1.5"], "--answer-rate"),
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


@pytest.mark.parametrize(
    ("pacing", "kind"),
    [
        ("uccx", "UccxPacing"),
        ("vicidial-ratio", "VicidialPacing"),
        ("vicidial-adapt", "VicidialPacing"),
        ("issabel", "AnswerRatePowerPacing"),
    ],
)
def test_baselines_run_and_never_release(
    pacing: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from autoinformer.cli import build_parser
    from autoinformer.cli.simulate import _policy

    args = build_parser().parse_args(["simulate", "--pacing", pacing])
    assert type(_policy(args)).__name__ == kind
    out = _figures(capsys, "--pacing", pacing)
    assert out["released"] == 0, "the field's policies never hang up a ringing call"
    assert isinstance(out["answers"], int)
    assert out["answers"] > 0


def test_vicidial_adapt_is_adapt_average_and_ratio_sets_the_dial_level() -> None:
    from autoinformer.cli import build_parser
    from autoinformer.cli.simulate import _policy
    from autoinformer.pacing.baselines import VicidialMethod, VicidialPacing

    parser = build_parser()
    adapt = _policy(parser.parse_args(["simulate", "--pacing", "vicidial-adapt"]))
    assert isinstance(adapt, VicidialPacing)
    assert adapt.method is VicidialMethod.ADAPT_AVERAGE
    ratio = _policy(parser.parse_args(["simulate", "--pacing", "vicidial-ratio", "--ratio", "2"]))
    assert isinstance(ratio, VicidialPacing)
    assert ratio.level == 2.0


def test_a_stepping_answer_rate_moves_the_answers(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["simulate", "--pacing", "progressive", "--hours", "2", "--json", "--seed", "3"]
    assert main([*base, "--answer-rate-schedule", "0:0.35,1h:0.08"]) == 0
    stepped = json.loads(capsys.readouterr().out)
    assert main([*base, "--answer-rate", "0.35"]) == 0
    steady = json.loads(capsys.readouterr().out)
    assert isinstance(stepped["answers"], int)
    assert isinstance(steady["answers"], int)
    assert stepped["answers"] < 0.8 * steady["answers"], "the second hour answers far less"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--answer-rate-schedule", "0:0.35,2h"],
            ["--answer-rate-schedule", "step 2", "START:RATE"],
        ),
        (["--answer-rate-schedule", "1h:0.3"], ["--answer-rate-schedule", "start at 0"]),
        (["--answer-rate-schedule", "0:0.3,soon:0.1"], ["--answer-rate-schedule", "step 2 start"]),
        (["--answer-rate-schedule", "0:0.3,1h:2"], ["--answer-rate-schedule", "(0, 1]"]),
        (["--ring", "1,60"], ["--ring", "60 s", "no-answer timeout (25 s)"]),
        (["--abandon-hourly-cap", "3"], ["--abandon-hourly-cap"]),
        (["--pacing", "vicidial-ratio", "--ratio", "20"], ["--ratio", "10.0"]),
    ],
)
def test_bad_new_options_exit_2_with_a_clear_message(
    args: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", *args]) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err


def test_a_long_ring_with_a_long_enough_timeout_runs(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["simulate", "--ring", "1,60", "--no-answer-timeout", "60", "--hours", "1", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["answers"] > 0


def test_the_hourly_cap_holds_every_hour(capsys: pytest.CaptureFixture[str]) -> None:
    figures = _figures(capsys, "--abandon-hourly-cap", "0.03", "--hours", "3")
    assert isinstance(figures["worst_hour_abandon_rate"], float)
    assert figures["worst_hour_abandon_rate"] <= 0.03
