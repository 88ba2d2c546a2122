"""The package itself: version, CLI conventions, vocabulary."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import autoinformer
from autoinformer.cli import EXIT_BROKEN_PIPE, main
from autoinformer.outcomes import HangupCause, Outcome, outcome_for_unanswered


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert autoinformer.__version__ in capsys.readouterr().out


def test_no_command_is_bad_usage() -> None:
    assert main([]) == 2


def test_console_module_runs_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "autoinformer", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "usage: autoinformer" in proc.stdout


@pytest.mark.parametrize(
    ("cause", "outcome"),
    [
        (HangupCause.USER_BUSY, Outcome.BUSY),
        (HangupCause.NO_ANSWER, Outcome.NO_ANSWER),
        (HangupCause.CALL_REJECTED, Outcome.REJECTED),
        (HangupCause.UNALLOCATED_NUMBER, Outcome.UNREACHABLE),
        (HangupCause.NORMAL_CIRCUIT_CONGESTION, Outcome.FAILED),
        (HangupCause.INVALID_NUMBER_FORMAT, Outcome.INVALID_NUMBER),
    ],
)
def test_unanswered_causes_map_to_the_vocabulary(cause: HangupCause, outcome: Outcome) -> None:
    assert outcome_for_unanswered(cause) is outcome


def test_cause_names_from_both_switches() -> None:
    assert HangupCause.from_name("USER_BUSY") is HangupCause.USER_BUSY
    assert HangupCause.from_name("originator_cancel") is HangupCause.NORMAL_CLEARING
    assert HangupCause.from_name("NO_SUCH_THING") is HangupCause.UNSPECIFIED
    assert HangupCause.from_code("17") is HangupCause.USER_BUSY
    assert HangupCause.from_code(None) is HangupCause.UNSPECIFIED


def test_import_does_not_pull_backend_dependencies() -> None:
    code = "import sys, autoinformer; print('httpx_ws' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_api_names_resolve_and_include_what_the_docs_need() -> None:
    # what a custom pacing policy, a compliance check and a simulated run import
    needed = {
        "AbandonGuard",
        "SAFE_HOURS",
        "default_pacing",
        "PacingPolicy",
        "PacingView",
        "PacingObservation",
        "Observation",
        "ReleasingPolicy",
        "MIN_RELEASE_AFTER",
        "SimSwitch",
        "PartiesModel",
        "PopulationModel",
        "CallerIdCarousel",
        "callee_zones",
        "next_call_time",
    }
    assert needed <= set(autoinformer.__all__)
    missing = [name for name in autoinformer.__all__ if not hasattr(autoinformer, name)]
    assert missing == []
    assert len(set(autoinformer.__all__)) == len(autoinformer.__all__)
    assert autoinformer.SAFE_HOURS == "09:00-20:00"
    from autoinformer.core.abandon_guard import AbandonGuard

    assert autoinformer.AbandonGuard is AbandonGuard


@pytest.mark.parametrize("args", [["demo"], ["demo", "--json"]])
def test_output_to_a_closed_pipe_exits_quietly(args: list[str]) -> None:
    # `autoinformer demo | head -0`: the reader is gone before the first byte is written
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "autoinformer", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == EXIT_BROKEN_PIPE == 141
    assert "Traceback" not in proc.stderr
    assert "BrokenPipeError" not in proc.stderr
