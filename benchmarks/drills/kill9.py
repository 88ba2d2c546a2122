"""Drill: ``kill -9`` at random points of a 10k-contact campaign, resumed until done (#13).

Three ways of running the same kind of campaign, each killed ``--kills`` times with SIGKILL
(30% at a random moment, often during the load or the reconciliation; the others after a
random number of journal writes, among the calls) and resumed on the same SQLite store until
it finishes:

- ``demo``: ``autoinformer demo`` in virtual time (the discrete-event driver), seed 000's
  reminder with two operators;
- ``run``: ``autoinformer run campaign.toml`` in virtual time, a broadcast reminder of a
  generated list against the ``[sim]`` population;
- ``speed``: the same file with ``--speed X``: the anyio runtime against the simulated switch
  on a scaled clock.

After every kill the journal is compared with the one before it, and at the end the whole
campaign is checked. Reported per mode:

- lost: attempts journaled before a kill and missing after it;
- rewritten: finished attempts whose result changed afterwards;
- double calls: two calls to one contact at once (overlapping attempts) or one attempt
  number journaled twice;
- outside the window: calls placed outside the calling hours (callee-local, as the dialer
  judges them);
- over budget: contacts with more placed attempts than the retry budget;
- retried too soon: a retry before the retry policy allows it after the previous attempt's
  end (an attempt reconciled ``unknown`` ends when it was reconciled);
- done: contacts reached, against the same campaign run without a kill.

Every kill lands while the campaign runs: a kill is aimed within what is left of the run (the
journal writes left, and the wall time left as the run without kills measured it), and a run
that ends before its kill is undone (the store restored from a copy taken before it) and
aimed again, shorter, without being counted; ``aimed`` and ``too_late`` report those.

Run: ``python benchmarks/drills/kill9.py`` (``--contacts 10000 --kills 50 --modes demo,run,speed``;
``--quick`` for 1,000 contacts and 10 kills). Writes benchmarks/results/drill_kill9.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core.dialer import is_not_placed
from autoinformer.outcomes import Outcome
from autoinformer.policy.zones import callee_zones
from autoinformer.records import AttemptRecord

RESULTS = Path(__file__).resolve().parents[1] / "results"
KILL_CAP_SECONDS = 300.0
"""A kill waiting for journal writes lands after this long at the latest."""
TIMED_SHARE = 0.3
"""The share of kills at a random moment (often in the load or the reconciliation); the others
land after a random number of journal writes (among the calls)."""
CAMPAIGN_TOML = """\
[campaign]
name = "drill"
contacts = "contacts.csv"
region = "RU"
lines = {lines}
min_delivered_seconds = 10

[campaign.window]
days = "mon-sun"
hours = "09:00-20:00"
timezone = "Europe/Moscow"

[campaign.retry]
attempts = 3
interval = "20m"

[[script]]
play = "sound:greeting"

[[script]]
say = "Your debt is {{BALANCE}} roubles. Please pay it this week."

[backend]
kind = "sim"

[sim]
seed = {seed}
"""


def _write_campaign(workdir: Path, contacts: int, seed: int, lines: int) -> Path:
    rng = random.Random(seed)
    rows = ['"NAME", "PHONE_NUMBER", "USER_VARS"']
    numbers: set[int] = set()
    while len(numbers) < contacts:
        numbers.add(rng.randrange(10**7))
    for i, n in enumerate(sorted(numbers, key=lambda _: rng.random())):
        rows.append(f'"Debtor {i + 1}", "+7950{n:07d}", "BALANCE = {rng.randrange(50, 9000)}"')
    (workdir / "contacts.csv").write_text("\n".join(rows) + "\n")
    path = workdir / "campaign.toml"
    path.write_text(CAMPAIGN_TOML.format(lines=lines, seed=seed))
    return path


class Mode:
    """How to start one mode's run, and the campaign and contacts it runs (for the checks)."""

    def __init__(self, name: str, args: argparse.Namespace, workdir: Path) -> None:
        self.name = name
        base = [sys.executable, "-m", "autoinformer"]
        if name == "demo":
            from autoinformer.cli.demo import demo_campaign, demo_contacts

            self.argv = [*base, "demo", "--contacts", str(args.contacts), "--seed", "1"]
            self.campaign: Campaign = demo_campaign(lines=10)
            self.contacts: list[Contact] = demo_contacts(args.contacts, 1)
        else:
            from autoinformer.campaign_file import load_campaign_file
            from autoinformer.cli.run import load_contacts

            lines = 30 if name == "speed" else 100
            toml = _write_campaign(workdir, args.contacts, 7, lines)
            self.argv = [*base, "run", str(toml)]
            if name == "speed":
                self.argv += ["--speed", str(args.speed)]
            spec = load_campaign_file(toml)
            self.campaign = spec.campaign
            self.contacts = load_contacts(spec)[0]
        self.argv.append("--json")
        self.kill_after = (2.0, 8.0) if name == "speed" else (1.0, 4.0)
        if args.kill_after:
            low, high = (float(x) for x in args.kill_after.split(","))
            self.kill_after = (low, high)

    def command(self, store: Path) -> list[str]:
        return [*self.argv, "--store", str(store)]


def _journal(store: Path) -> dict[str, AttemptRecord]:
    if not store.exists():
        return {}
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT attempt_id, campaign, contact_id, attempt_no, number, started_at, "
            "answered_at, ended_at, outcome, detail FROM attempts"
        ).fetchall()
    out = {}
    for aid, camp, cid, no, number, started, answered, ended, outcome, detail in rows:
        out[aid] = AttemptRecord(
            attempt_id=aid,
            campaign=camp,
            contact_id=cid,
            attempt_no=no,
            number=number,
            caller_id=None,
            started_at=started,
            answered_at=answered,
            ended_at=ended,
            outcome=Outcome(outcome) if outcome else None,
            detail=detail or "",
        )
    return out


def _done(store: Path) -> int:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM contacts WHERE state = 'done'").fetchone()[0])


def _count(store: Path) -> int:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=0.05) as db:
            return int(db.execute("SELECT count(*) FROM attempts").fetchone()[0])
    except sqlite3.Error:  # not created yet, or busy: ask again
        return -1


STORE_SUFFIXES = ("", "-wal")
"""The files of one SQLite store in WAL mode that hold its data (the ``-shm`` index is rebuilt
from the WAL by the next process that opens the store)."""


def _copy_store(source: Path, target: Path) -> None:
    """Copy a store's files (the database and its WAL) over another's, each as a new file put in
    place whole; a file the source lacks is removed from the target, and so is the target's
    ``-shm`` index (a copied or stale one is a bus error for the next reader that maps it).
    Only while no process has either store open."""
    for suffix in STORE_SUFFIXES:
        src, dst = Path(f"{source}{suffix}"), Path(f"{target}{suffix}")
        if src.exists():
            part = dst.with_name(dst.name + ".part")
            shutil.copyfile(src, part)
            os.replace(part, dst)
        else:
            dst.unlink(missing_ok=True)
    Path(f"{target}-shm").unlink(missing_ok=True)


def _kill_once(mode: Mode, store: Path, delay: float | None, growth: int) -> bool:
    """Run once and SIGKILL it: after ``delay`` s, or (``delay`` None) once ``growth`` more
    attempts were journaled (so the kill lands among the calls, not in the load); True when
    the run finished before the kill. A run that fails on its own is a defect: stop."""
    start = _count(store) if store.exists() else 0
    proc = subprocess.Popen(mode.command(store), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + (delay if delay is not None else KILL_CAP_SECONDS)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if proc.returncode != 0:
                assert proc.stderr is not None
                error = proc.stderr.read().decode(errors="replace")[-2000:]
                raise SystemExit(f"{mode.name}: a run failed on its own: {error}")
            return True
        if delay is None and _count(store) >= start + growth:
            break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return False


def _finish(mode: Mode, store: Path) -> dict[str, Any]:
    done = subprocess.run(mode.command(store), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode.name}: the final run failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout))


def _check(mode: Mode, journal: dict[str, AttemptRecord]) -> dict[str, int]:
    campaign = mode.campaign
    contacts = {c.id: c for c in mode.contacts}
    window, retry = campaign.window, campaign.retry
    per_contact: dict[str, list[AttemptRecord]] = defaultdict(list)
    for record in journal.values():
        per_contact[record.contact_id].append(record)
    found = {"double_calls": 0, "outside_window": 0, "over_budget": 0, "retried_too_soon": 0}
    for cid, records in per_contact.items():
        records.sort(key=lambda r: r.attempt_no)
        numbers = [r.attempt_no for r in records]
        found["double_calls"] += len(numbers) - len(set(numbers))
        placed = [r for r in records if not is_not_placed(r)]
        if len(placed) > retry.attempts:
            found["over_budget"] += 1
        contact = contacts[cid]
        for i, record in enumerate(placed):
            at = dt.datetime.fromtimestamp(record.started_at, dt.UTC)
            zones = callee_zones(
                record.number, contact.timezone, window.timezone, at, strict=window.strict
            )
            if not window.allows(at, zones):
                found["outside_window"] += 1
            if i == 0:
                continue
            before = placed[i - 1]
            end = before.ended_at if before.ended_at is not None else before.started_at
            if record.started_at < end:
                found["double_calls"] += 1  # two calls to one person at once
            assert before.outcome is not None
            phones = max(1, len(contact.phones))
            index = contact.phones.index(before.number) if before.number in contact.phones else 0
            decision = retry.decide(
                before.outcome, i, index, phones, dt.datetime.fromtimestamp(end, dt.UTC)
            )
            if decision.at is not None and record.started_at < decision.at.timestamp() - 1e-3:
                found["retried_too_soon"] += 1
    return found


def drill(mode: Mode, kills: int, seed: int, workdir: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    reference_store = workdir / f"{mode.name}-reference.sqlite"
    started = time.perf_counter()
    reference = _finish(mode, reference_store)
    reference_wall = time.perf_counter() - started
    store = workdir / f"{mode.name}-killed.sqlite"
    before: dict[str, AttemptRecord] = {}
    lost = rewritten = killed = 0
    in_flight: set[str] = set()
    snapshot = workdir / f"{mode.name}-before-kill.sqlite"
    total = max(1, int(reference["attempts"]))
    aimed = too_late = late_in_a_row = 0
    started = time.perf_counter()
    while killed < kills:
        # aim within what is left: the journal writes left (at least 2% of the run's, as a
        # killed run journals more than the run without kills) and the wall time they took
        # without kills; each kill that came too late halves the aim of the next try
        journaled = max(0, _count(store)) if store.exists() else 0
        left = max(0.02 * total, total - journaled)
        shrink = 0.5**late_in_a_row
        _copy_store(store, snapshot)
        aimed += 1
        if rng.random() < TIMED_SHARE:
            high = min(mode.kill_after[1], reference_wall * left / total) * shrink
            low = min(mode.kill_after[0], high / 2)
            finished = _kill_once(mode, store, rng.uniform(low, high), 0)
        else:
            # growth kills spread over about two thirds of the attempts left
            most = max(2, int(left * 2 / 3 / (kills - killed) * 2 * shrink))
            finished = _kill_once(mode, store, None, rng.randint(1, most))
        if finished:  # too late: undo the finished run and aim again, not counted
            too_late += 1
            late_in_a_row += 1
            if late_in_a_row > 20:
                raise SystemExit(f"{mode.name}: 20 kills in a row came after the run's end")
            _copy_store(snapshot, store)
            continue
        late_in_a_row = 0
        now = _journal(store)
        lost += sum(1 for aid in before if aid not in now)
        for aid, old in before.items():
            new = now.get(aid)
            if new is not None and old.outcome is not None and new != old:
                rewritten += 1
        in_flight |= {aid for aid, r in now.items() if r.outcome is None}
        before = now
        killed += 1
    summary = _finish(mode, store)
    wall = time.perf_counter() - started
    journal = _journal(store)
    lost += sum(1 for aid in before if aid not in journal)
    rewritten += sum(
        1 for aid, old in before.items() if old.outcome is not None and journal.get(aid, old) != old
    )
    unknown = sum(1 for r in journal.values() if r.outcome is Outcome.UNKNOWN)
    return {
        "mode": mode.name,
        "contacts": len(mode.contacts),
        "kills": killed,
        "kills_aimed": aimed,
        "kills_too_late": too_late,
        "in_flight_at_kills": len(in_flight),
        "reconciled_unknown": unknown,
        "attempts": len(journal),
        "unfinished": sum(1 for r in journal.values() if r.outcome is None),
        "lost": lost,
        "rewritten": rewritten,
        **_check(mode, journal),
        "done": _done(store),
        "done_uninterrupted": _done(reference_store),
        "attempts_uninterrupted": reference["attempts"],
        "wall_seconds": round(wall, 1),
        "wall_seconds_uninterrupted": round(reference_wall, 1),
        "summary_unfinished": summary["unfinished"],
    }


COLUMNS = (
    ("mode", "mode"),
    ("contacts", "contacts"),
    ("kills", "kills"),
    ("kills_aimed", "aimed"),
    ("reconciled_unknown", "in flight at kills (unknown)"),
    ("lost", "lost"),
    ("rewritten", "rewritten"),
    ("double_calls", "double calls"),
    ("outside_window", "outside window"),
    ("over_budget", "over budget"),
    ("retried_too_soon", "retried too soon"),
    ("unfinished", "unfinished"),
    ("done", "done"),
    ("done_uninterrupted", "done (no kill)"),
)


def table(rows: Sequence[dict[str, Any]]) -> str:
    head = "| " + " | ".join(title for _, title in COLUMNS) + " |"
    rule = "|---|" + "---:|" * (len(COLUMNS) - 1)
    body = ["| " + " | ".join(str(row[key]) for key, _ in COLUMNS) + " |" for row in rows]
    return "\n".join([head, rule, *body])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--modes", default="demo,run,speed")
    parser.add_argument("--speed", type=float, default=100.0, help="the speed mode's clock")
    parser.add_argument("--seed", type=int, default=13, help="where the kills land")
    parser.add_argument("--quick", action="store_true", help="1,000 contacts, 10 kills")
    parser.add_argument(
        "--kill-after",
        help="LOW,HIGH: each run is killed after a uniform draw of seconds in this range "
        "(default 1,4 in virtual time, 2,8 with --speed)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "drill_kill9.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.contacts, args.kills = 1000, 10
    rows = []
    with tempfile.TemporaryDirectory(prefix="kill9-") as tmp:
        for name in args.modes.split(","):
            workdir = Path(tmp) / name
            workdir.mkdir()
            row = drill(Mode(name, args, workdir), args.kills, args.seed, workdir)
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)
    print(table(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"args": vars(args) | {"out": str(args.out)}, "rows": rows}, indent=2) + "\n"
    )
    bad = sum(
        row[k]
        for row in rows
        for k in ("lost", "rewritten", "double_calls", "outside_window", "over_budget")
    )
    bad += sum(row["retried_too_soon"] + row["unfinished"] for row in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
