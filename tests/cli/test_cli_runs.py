"""``demo`` / ``run`` say what they are doing (#14): the store path at start, how to resume on
Ctrl-C, a wait outside the calling hours, skip reasons; and the smaller CLI fixes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.cli import _running as running
from autoinformer.cli import build_parser, main
from autoinformer.cli.demo import demo_campaign, demo_contacts, demo_model
from autoinformer.clock import ScaledClock
from autoinformer.contacts.model import Contact
from autoinformer.runtime import Runtime
from autoinformer.script import Script, say
from autoinformer.store.memory import MemoryStore
from autoinformer.store.sqlite import SqliteStore
from autoinformer.summary import RunSummary
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

anyio_backend = virtual_anyio_backend  # the async tests: both loops, in virtual time


# --- the store path and Ctrl-C -----------------------------------------------------------------


def test_ctrl_c_on_demo_prints_the_store_and_how_to_resume(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "autoinformer", "demo", "--speed", "1", "--contacts", "5", "-v"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # a suite started in the background (``pytest &``) ignores SIGINT, and so would the
        # child: give it the default a terminal's Ctrl-C meets
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # printed before the first call: the run is under way
    assert first.startswith("store: ")
    path = first.split()[1]
    assert Path(path).parent.parent == tmp_path  # the temporary store
    assert f"autoinformer demo --speed 1 --contacts 5 -v --store {path}" in first
    for line in proc.stderr:  # --verbose logs each journal write: wait for the first call
        if "journaled begin" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted: every finished attempt is in " + path in err
    assert f"To carry on: autoinformer demo --speed 1 --contacts 5 -v --store {path}" in err
    assert out == ""  # no summary of a run that did not finish
    with SqliteStore(path) as store:  # the store is there to resume, its contacts kept
        assert len(list(store.contacts("HOA debt (demo)"))) == 5
        assert list(store.attempts("HOA debt (demo)"))


def test_a_given_store_is_not_announced_but_a_temporary_one_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--contacts", "3", "--json", "--store", str(tmp_path / "d.sqlite")]) == 0
    assert "store:" not in capsys.readouterr().err
    assert main(["demo", "--contacts", "3", "--json"]) == 0
    captured = capsys.readouterr()
    store = json.loads(captured.out)["store"]
    assert f"store: {store} (temporary; to carry on after an interruption:" in captured.err


def test_resume_command_replaces_the_store_option() -> None:
    argv = ["run", "c.toml", "--store", "old.sqlite", "--json"]
    assert running.resume_command(argv, Path("/t/new db.sqlite")) == (
        "autoinformer run c.toml --json --store '/t/new db.sqlite'"
    )
    assert running.resume_command(["demo", "--store=x"], Path("y")) == (
        "autoinformer demo --store y"
    )


# --- waiting outside the calling hours -----------------------------------------------------


class _StopOnWait(logging.Handler):
    """Keeps the waiting messages and stops the runtime at the first one."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(logging.INFO)
        self.runtime = runtime
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.runtime.stop()


@pytest.mark.anyio
async def test_runtime_outside_the_calling_hours_says_when_the_next_call_is_allowed() -> None:
    late = 1_767_304_800.0  # 2026-01-01 22:00 UTC: after the 09:00-20:00 default
    clock = LoopClock(start=late)  # virtual time: the wait for 09:00 takes no real time
    campaign = Campaign(name="late", script=Script.of(say("hello")), timezone="UTC")
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=MemoryStore(), clock=clock)
        handler = _StopOnWait(runtime)
        logger = logging.getLogger("autoinformer.runtime.wait")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            with anyio.fail_after(30):  # virtual seconds: the first message stops the run
                summary = await runtime.run([Contact(id="a", phones=("+79500000001",))])
        finally:
            logger.removeHandler(handler)
    (message,) = handler.messages
    assert message.startswith("waiting: no call to place until 2026-01-02 09:00")
    assert "(in 11 h 00 min)" in message
    assert "outside the calling hours mon-sun 09:00-20:00 (UTC)" in message
    assert summary.attempts == 0  # nobody was called at night


def test_the_cli_prints_the_waiting_message_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    running.setup_logging(verbose=False)
    logging.getLogger("autoinformer.runtime.wait").info("waiting: no call to place until X")
    assert "waiting: no call to place until X\n" in capsys.readouterr().err


# --- the typed summary ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_runtime_run_returns_a_typed_summary_with_the_old_json_keys() -> None:
    clock = LoopClock()
    campaign = Campaign(name="t", script=Script.of(say("Hello {NAME2}")), timezone="UTC")
    contacts = [
        Contact(id="a", phones=("+79500000001",), variables={"NAME2": "Ann"}),
        Contact(id="b", phones=("+79500000011",)),  # no NAME2: skipped
    ]
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=MemoryStore(), clock=clock)
        with anyio.fail_after(600):  # virtual seconds: a hang fails at once
            summary = await runtime.run(contacts)
    assert isinstance(summary, RunSummary)
    assert summary.attempts == 1
    assert summary.outcomes["delivered"] == 1
    assert summary.switch_gaps == ()
    (skip,) = summary.skipped
    assert (skip.reason, skip.count, skip.examples) == ("missing variable(s): NAME2", 1, ("b",))
    data = summary.to_dict()
    assert set(data) == {
        "campaign", "attempts", "outcomes", "contacts", "unfinished", "skipped", "sms"
    }  # fmt: skip
    assert "switch_gaps" not in data  # only when the connection dropped, as before
    assert summary["attempts"] == 1  # read like the dict it replaced
    json.dumps(data)


def test_demo_prints_skip_reasons_in_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    skipped = data["skipped"]
    assert sum(s["count"] for s in skipped) == data["contacts"]["skipped"] > 0
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert f"skipped contacts: {data['contacts']['skipped']}" in out
    assert f"{skipped[0]['reason']} (e.g. {skipped[0]['examples'][0]}" in out


# --- demo --speed progress and --pacing power ----------------------------------------------


class _Bar:
    def __init__(self, total: int | None, unit: str) -> None:
        self.total, self.unit, self.done, self.closed = total, unit, 0, False

    def update(self, n: int) -> None:
        self.done += n

    def close(self) -> None:
        self.closed = True


def test_the_speed_progress_bar_counts_contacts_out_of_a_total(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bars: list[_Bar] = []

    def factory(total: int | None, unit: str = "contact") -> _Bar:
        bars.append(_Bar(total, unit))
        return bars[-1]

    monkeypatch.setattr(running, "_progress_bar", factory)
    clock = ScaledClock(speed=2000)
    contacts = demo_contacts(6, seed=3)
    campaign = demo_campaign(retry_interval="10s")
    with SqliteStore(tmp_path / "s.sqlite") as store:
        summary = running.run_realtime(
            campaign,
            contacts,
            store,
            switch=lambda: SimSwitch(model=demo_model(3), clock=clock),
            clock=clock,
            progress=True,
        )
    (bar,) = bars
    assert (bar.total, bar.unit) == (6, "contact")
    called = sum(n for state, n in summary["contacts"].items() if state != "skipped")
    assert bar.done == called  # one step per finished contact, whatever its attempts
    assert summary["attempts"] > called  # some needed retries: attempts are not contacts
    assert bar.closed


def test_demo_offers_power_pacing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["demo", "--pacing", "power", "--json", "--store", str(tmp_path / "p.sqlite")]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pacing"] == "power"
    assert summary["abandon_rate"] <= 0.03


# --- help text -----------------------------------------------------------------------------


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                out += _parsers(sub)
    return out


def test_help_has_no_restructuredtext_markup(capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["run"], ["demo"], ["say"], ["simulate"], ["report"], ["export"], []):
        with pytest.raises(SystemExit) as done:
            main([*command, "--help"])
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert "``" not in out, command
        assert ":func:`" not in out
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "docs/quickstart.md" in capsys.readouterr().out  # the text stays, the marks go


def test_every_option_of_every_command_has_help() -> None:
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, f"{parser.prog} {action.option_strings or action.dest}"


# --- contacts template ---------------------------------------------------------------------


def test_contacts_template_refuses_a_csv_name_and_keeps_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_name = tmp_path / "list.csv"
    assert main(["contacts", "template", str(csv_name)]) == 2
    assert "give it a .xlsx name" in capsys.readouterr().err
    assert not csv_name.exists()

    out = tmp_path / "list.xlsx"
    out.write_bytes(b"my own work")
    assert main(["contacts", "template", str(out)]) == 2
    assert "--force overwrites it" in capsys.readouterr().err
    assert out.read_bytes() == b"my own work"
    assert main(["contacts", "template", str(out), "--force"]) == 0
    assert out.read_bytes()[:2] == b"PK"  # a workbook now
