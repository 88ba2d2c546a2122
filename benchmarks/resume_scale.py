"""Resume at scale (issue #13 item 7): time to the first call and peak memory at 1M contacts.

Target: the first call within 5 s and under 500 MB peak RSS at 1,000,000 contacts on SQLite,
for (a) a fresh start of a list already imported into the store, (b) a resume of a half-done
store, (c) a resume of a finished store (which must say "done" quickly).

Each measurement is one child process: it opens the store, starts ``Runtime.run()`` with the
demo campaign (seed 000: greeting, the debt spoken with ``<currency>``, press 1 for an operator,
so the abandon guard's history is restored too) on the simulated switch, and at the first
originate notes the time and its own peak RSS (``VmHWM``), then stops with the calls hung up.
(c) places no call: its time is until ``run()`` returned with the summary. Every run works on a
fresh copy of the scenario's store (built once per size with bulk SQL, in a temp dir).

Three resume paths are measured (``--paths``): ``new``, the runtime as above; ``virtual``,
``demo``/``run`` without ``--speed`` (``sim.driver.simulate`` on the store, as ``run_virtual``
calls it, stopped by the model when the first call's fate is drawn); ``speed``, ``run
--speed`` (the resumed clock from the store's latest attempt time, then the runtime; its
``resumed clock`` column is that lookup alone; not on a fresh store, which has no attempt).

The peers, at ``--peer-size`` contacts (default 100k: at 1M they take minutes and
gigabytes): the start before paging (``sim.driver.load_from_store``: read every contact and
attempt, then hand the core one ``ContactsRestored`` with all of them; the runtime and the
virtual-time driver both started so), and ``run --speed``'s resumed clock before (every
attempt read for the latest time). Ratios compare each path with its peer at that size.

Run: ``python benchmarks/resume_scale.py [SIZE ...] [--runs 3] [--peer-size 100000]
[--paths new virtual speed] [--stores DIR]`` (sizes default to 1000000). Writes
``benchmarks/results/resume_scale.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SRC = HERE.parent / "src"
CAMPAIGN = "HOA debt (demo)"
START = 1_767_261_600.0  # 2026-01-01 10:00 UTC (13:00 Moscow): the demo's calling hours
SCENARIOS = ("fresh", "half", "finished")
LABELS = {
    "new": "paged",
    "virtual": "virtual time, paged",
    "speed": "run --speed, paged",
    "old": "whole store (before)",
    "old-latest": "run --speed clock (before)",
}
"""Each child mode's row label: the runtime's start, ``demo``/``run`` in virtual time (the
driver), ``run --speed`` (the runtime after the resumed clock's aggregate), and the peers."""
PEERS = {"new": "old", "virtual": "old", "speed": "old-latest"}
"""The path each measured path is compared with (the virtual-time driver read the whole store
with ``load_from_store`` before, exactly what the ``old`` child does)."""

_CHILD = r"""
import time
t_process = time.perf_counter()
import json, sys
mode, path = sys.argv[1], sys.argv[2]

def peak_kb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))

import anyio
from autoinformer.backends.sim import SimSwitch
from autoinformer.cli.demo import demo_campaign
from autoinformer.clock import ScaledClock
from autoinformer.store.sqlite import SqliteStore

out = {}
campaign = demo_campaign()
clock = ScaledClock(speed=1.0, start=float(sys.argv[3]))
store = SqliteStore(path, durability="normal")

if mode in ("new", "speed"):
    from autoinformer.runtime import Runtime

    if mode == "speed":  # `run --speed`: the resumed clock starts after the store's last time
        from autoinformer.cli._running import latest_time

        t_latest = time.perf_counter()
        resumed_at = latest_time(store, campaign.name)
        out["latest_time_s"] = time.perf_counter() - t_latest
        if resumed_at is not None:
            clock = ScaledClock(speed=1.0, start=max(clock.start, resumed_at + 1))

    class FirstCall(SimSwitch):
        runtime = None

        async def originate(self, call_id, number, **kw):
            if "first_call_s" not in out:
                out["first_call_s"] = time.perf_counter() - t_run
                out["first_call_from_process_s"] = time.perf_counter() - t_process
                out["peak_kb_at_first_call"] = peak_kb()
                self.runtime.stop(hangup=True)
            await super().originate(call_id, number, **kw)

    async def main():
        global t_run
        async with FirstCall(clock=clock) as switch:
            runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock)
            switch.runtime = runtime
            t_run = t_latest if mode == "speed" else time.perf_counter()
            summary = await runtime.run()
            out["returned_s"] = time.perf_counter() - t_run
            out.setdefault("first_call_from_process_s", time.perf_counter() - t_process)
            out["contacts_counted"] = sum(summary.contacts.values())
            out["summary_contacts"] = dict(summary.contacts)

    anyio.run(main)
elif mode == "virtual":  # `demo`/`run` without --speed: the driver, as run_virtual calls it
    from autoinformer.cli.demo import demo_model
    from autoinformer.sim.driver import simulate
    from autoinformer.sim.model import PopulationModel

    class FirstCall(Exception):
        pass

    class Model(PopulationModel):
        def callee(self, number, attempt_no):  # drawn as the first call is placed
            out["first_call_s"] = time.perf_counter() - t_run
            out["first_call_from_process_s"] = time.perf_counter() - t_process
            out["peak_kb_at_first_call"] = peak_kb()
            raise FirstCall

    base = demo_model(1)
    model = Model(seed=base.seed, digit_rates=base.digit_rates, talk_median_s=base.talk_median_s)
    t_run = time.perf_counter()
    try:
        result = simulate(campaign, (), model=model, store=store, start=float(sys.argv[3]))
        from autoinformer.summary import summarize

        summarize(store, campaign.name)  # run_virtual's summary, as the runtime's run() has
        out["returned_s"] = time.perf_counter() - t_run
        out["first_call_from_process_s"] = time.perf_counter() - t_process
    except FirstCall:
        pass
    out["contacts_counted"] = sum(store.state_counts(campaign.name).values())
elif mode == "old-latest":  # `run --speed` before: its resumed clock read every attempt
    t_run = time.perf_counter()
    last = None
    for record in store.attempts(campaign.name):
        t = record.ended_at or record.started_at
        last = t if last is None else max(last, t)
    out["latest_time_s"] = time.perf_counter() - t_run
    out["first_call_from_process_s"] = time.perf_counter() - t_process
else:  # the start before paging: every contact and attempt read, one event for the core
    from autoinformer.core.dialer import DialerCore
    from autoinformer.core import commands as c
    from autoinformer.sim.driver import load_from_store

    t_run = time.perf_counter()
    restored, _ = load_from_store(store, campaign.name)
    core = DialerCore(campaign=campaign)
    commands = core.handle(clock.now(), restored)
    placed = any(isinstance(cmd, c.Originate) for cmd in commands)
    out["first_call_s" if placed else "returned_s"] = time.perf_counter() - t_run
    out["first_call_from_process_s"] = time.perf_counter() - t_process
    out["peak_kb_at_first_call"] = peak_kb()
    out["contacts_counted"] = len(restored.entries)
out["peak_kb"] = peak_kb()
store.close()
print(json.dumps(out))
"""


def build(path: Path, size: int, scenario: str, seed: int = 7) -> None:
    """A store of ``size`` contacts as the scenario leaves it, written with bulk SQL (the
    schema is the store's own: it is created by opening a SqliteStore first)."""
    sys.path.insert(0, str(SRC))
    from autoinformer.store.sqlite import SqliteStore

    SqliteStore(path, durability="normal").close()
    rng = random.Random(seed)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    closed = {"fresh": 0, "half": size // 2, "finished": size}[scenario]
    contacts = []
    attempts = []
    for i in range(size):
        cid = f"c{i:07d}"
        number = f"+7950{i:07d}"
        balance = f"-{rng.randint(100, 99999)}.{rng.randint(0, 99):02d}"
        state, tries, next_at, reason = "pending", 0, None, ""
        if i < closed:
            tries = rng.choice((1, 1, 2, 3))
            state = "done" if tries < 3 or rng.random() < 0.5 else "exhausted"
            if scenario == "half" and i % 10 == 0:  # a retry due within the next two hours
                state, next_at = "scheduled", START - 600 + rng.random() * 7200
            reason = "3 of 3 attempts" if state == "exhausted" else ""
        if scenario == "half" and closed <= i < closed + 10:  # calls in flight at the crash
            state, tries = "in_call", 1
        contacts.append(
            (
                CAMPAIGN,
                cid,
                i + 1,
                f"Person {i}",
                json.dumps([number]),
                json.dumps({"BALANCE": balance}),
                None,
                state,
                tries,
                next_at,
                reason,
            )
        )
        at = START - (size - i) * 0.4  # the last contacts were called in the last hours
        for no in range(1, tries + 1):
            last = no == tries
            if state == "in_call" and last:
                outcome, answered, ended = None, None, None
            elif state == "done" and last:
                outcome, answered, ended = "delivered", at + 8, at + 40
            else:
                outcome, answered, ended = rng.choice(
                    (("no_answer", None, at + 30), ("busy", None, at + 3))
                )
            attempts.append(
                (
                    f"ai-{i}-{no}",
                    CAMPAIGN,
                    cid,
                    no,
                    number,
                    None,
                    at,
                    answered,
                    ended,
                    outcome,
                    16 if outcome else None,
                    "",
                    None,
                    0,
                    "",
                    None,
                )
            )
            at += 1200
        if len(contacts) >= 50_000:
            _flush(db, contacts, attempts)
    _flush(db, contacts, attempts)
    db.execute("INSERT INTO meta VALUES (?, 'call_id_salt', 'bench')", (CAMPAIGN,))
    db.execute("COMMIT")
    db.close()


def _flush(
    db: sqlite3.Connection, contacts: list[tuple[object, ...]], attempts: list[tuple[object, ...]]
) -> None:
    db.executemany(f"INSERT INTO contacts VALUES ({', '.join('?' * 11)})", contacts)
    db.executemany(
        "INSERT INTO attempts (attempt_id, campaign, contact_id, attempt_no, number, caller_id, "
        "started_at, answered_at, ended_at, outcome, cause, digits, operator, machine, detail, "
        f"callback_result) VALUES ({', '.join('?' * 16)})",
        attempts,
    )
    contacts.clear()
    attempts.clear()


def measure(mode: str, store: Path, work: Path) -> dict[str, object]:
    """One child run on a fresh copy of ``store``."""
    copy = work / "run.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(store, copy)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(copy), str(START)],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode} run failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, object]], key: str, digits: int = 3) -> float | None:
    values = [float(r[key]) for r in runs if key in r]  # type: ignore[arg-type]
    return round(statistics.median(values), digits) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--paths",
        nargs="+",
        choices=list(PEERS),
        default=list(PEERS),
        help="resume paths to measure (default: all)",
    )
    parser.add_argument("--peer-size", type=int, default=100_000)
    parser.add_argument("--peer-runs", type=int, default=None, help="default: --runs")
    parser.add_argument(
        "--stores", type=Path, default=None, help="keep the built stores here (reused)"
    )
    parser.add_argument(
        "--rewrite", action="store_true", help="only rewrite the .md from the .json"
    )
    args = parser.parse_args()
    if args.rewrite:
        write(json.loads((RESULTS / "resume_scale.json").read_text()))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="resume-scale-") as tmp:
        work = Path(tmp)
        stores = args.stores or work
        stores.mkdir(parents=True, exist_ok=True)
        paths = args.paths
        plan = [(size, mode, args.runs) for size in args.sizes for mode in paths]
        if args.peer_size:
            if args.peer_size not in args.sizes:
                plan += [(args.peer_size, mode, args.runs) for mode in paths]
            for mode in ("old", "old-latest"):
                if any(PEERS[p] == mode for p in paths):
                    plan.append((args.peer_size, mode, args.peer_runs or args.runs))
        for size, mode, runs in plan:
            for scenario in SCENARIOS:
                if mode in ("speed", "old-latest") and scenario == "fresh":
                    continue  # no attempt yet: no clock to resume, nothing to compare
                store = stores / f"{scenario}-{size}.sqlite"
                if not store.exists():
                    t = time.perf_counter()
                    build(store, size, scenario)
                    print(f"built {scenario} {size:,} in {time.perf_counter() - t:.0f} s")
                results = [measure(mode, store, work) for _ in range(runs)]
                row = {
                    "size": size,
                    "scenario": scenario,
                    "start": LABELS[mode],
                    "latest_time_s": _median(results, "latest_time_s", 5),
                    "runs": runs,
                    "first_call_s": _median(results, "first_call_s"),
                    "done_s": _median(results, "returned_s") if scenario == "finished" else None,
                    "from_process_start_s": _median(results, "first_call_from_process_s"),
                    "peak_mb_at_first_call": round(
                        (_median(results, "peak_kb_at_first_call") or 0) / 1024, 1
                    ),
                    "peak_mb": round((_median(results, "peak_kb") or 0) / 1024, 1),
                    "contacts_counted": results[0].get("contacts_counted"),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    ratios = []
    for row in rows:
        path = next((m for m, label in LABELS.items() if label == row["start"]), "")
        if path not in PEERS or row["size"] != args.peer_size:
            continue
        old = next(
            (
                r
                for r in rows
                if r["start"] == LABELS[PEERS[path]]
                and r["size"] == row["size"]
                and r["scenario"] == row["scenario"]
            ),
            None,
        )
        if old is None:
            continue
        if path == "speed":  # the resumed clock alone: what changed on that path
            key = old_key = "latest_time_s"
        else:
            key = "done_s" if row["scenario"] == "finished" else "first_call_s"
            old_key = "first_call_s" if old["first_call_s"] is not None else "done_s"
        old_time = old[old_key] or old.get("from_process_start_s")
        ratios.append(
            {
                "size": row["size"],
                "scenario": row["scenario"],
                "path": row["start"],
                "measured": key,
                "time_ratio_old_over_new": round(float(old_time) / float(row[key]), 1)  # type: ignore[arg-type]
                if old_time and row[key]
                else None,
                # the clock's peer is the lookup alone, this row the whole start: no ratio
                "memory_ratio_old_over_new": None
                if path == "speed"
                else round(float(old["peak_mb"]) / float(row["peak_mb"]), 1),  # type: ignore[arg-type]
            }
        )
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    write({"args": settings, "rows": rows, "ratios": ratios})


def write(out: dict[str, Any]) -> None:
    """``resume_scale.json`` and its table, ``resume_scale.md``."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "resume_scale.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        "| contacts | scenario | start | first call (s) | done (s) | resumed clock (s) "
        "| from process start (s) | peak RSS at first call (MB) | peak RSS (MB) |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in out["rows"]:
        called = r["first_call_s"] is not None
        latest = r.get("latest_time_s")
        lines.append(
            f"| {r['size']:,} | {r['scenario']} | {r['start']} "
            f"| {r['first_call_s'] if called else '-'} | {r['done_s'] or '-'} "
            f"| {latest if latest is not None else '-'} | {r['from_process_start_s']} "
            f"| {r['peak_mb_at_first_call'] if called else '-'} | {r['peak_mb']} |"
        )
    for q in out["ratios"]:
        what = " (resumed clock)" if q.get("measured") == "latest_time_s" else ""
        memory = q["memory_ratio_old_over_new"]
        lines.append(
            f"\n{q['size']:,} contacts, {q['scenario']}, {q.get('path', 'paged')}{what}: "
            f"{q['time_ratio_old_over_new']}x faster"
            + (f", {memory}x less memory" if memory is not None else "")
            + " than before"
        )
    (RESULTS / "resume_scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
