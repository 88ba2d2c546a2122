"""`autoinformer run` resumed: reading the campaign file's list again, or not (issue #13 item 7).

``benchmarks/resume_scale.py`` measures the start of a run from a store that already holds
1M contacts. ``autoinformer run CAMPAIGN.toml --store S`` resumes by being run again, and before
its store is touched it used to read and validate the whole list file again (~20 s and every
contact in memory at 1M rows). Now the first start remembers the list's fingerprint in the
store (``autoinformer.cli._list_memo``) and a resume with the same list skips the file.

Each measurement is one child process doing what ``run`` does with the list before the run
starts (``cli.run._contact_list`` on the store): ``first``, on an empty SQLite store, reads the
CSV, checks it and remembers it, then writes the contacts as the run's start does; ``resume``,
on that store, finds the list unchanged; ``before``, the list read again as every start did
before the memo (``cli.run.load_contacts``). Reported: seconds and the child's peak RSS
(``VmHWM``), median of ``--runs``.

Run: ``python benchmarks/run_list_resume.py [--contacts 1000000] [--runs 3]``; writes
``benchmarks/results/run_list_resume.json``.
"""

from __future__ import annotations

import argparse
import json
import os
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

CAMPAIGN = """\
[campaign]
name = "list resume"
region = "RU"
timezone = "Europe/Moscow"
contacts = "list.csv"

[[script]]
say = "Ваш долг <currency>%VAR:BALANCE|debt% RUB</currency>"

[backend]
kind = "sim"
"""


def build(folder: Path, size: int) -> Path:
    """A seed-000-shaped list of ``size`` rows (distinct numbers and balances)."""
    with (folder / "list.csv").open("w", encoding="utf-8") as out:
        out.write('"NAME", "PHONE_NUMBER", "USER_VARS"\n')
        for i in range(size):
            out.write(f'"Person {i}", "7916{i:07d}", "BALANCE = -{i % 9000 + 10}.{i % 100:02d}"\n')
    (folder / "campaign.toml").write_text(CAMPAIGN, encoding="utf-8")
    return folder / "campaign.toml"


def child(mode: str, toml: str, store_path: str) -> None:
    from autoinformer.campaign_file import load_campaign_file
    from autoinformer.cli import run as run_cli
    from autoinformer.store.sqlite import SqliteStore

    spec = load_campaign_file(Path(toml))
    started = time.perf_counter()
    with SqliteStore(Path(store_path), durability="normal") as store:
        if mode == "before":
            contacts, _ = run_cli.load_contacts(spec)
            count = len(contacts)
        else:
            contacts, _ = run_cli._contact_list(spec, store)
            count = len(contacts)
            if mode == "first":  # what the run's start then does with them
                seconds = time.perf_counter() - started
                store.add_contacts(spec.campaign.name, contacts)
                print(json.dumps({"seconds": seconds, "contacts": count, "rss_mb": _peak_mb()}))
                return
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "contacts": count, "rss_mb": _peak_mb()}))


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(mode: str, toml: Path, store: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(toml), str(store)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    runs: dict[str, list[dict[str, Any]]] = {"first": [], "resume": [], "before": []}
    with tempfile.TemporaryDirectory() as tmp:
        toml = build(Path(tmp), args.contacts)
        for _ in range(args.runs):
            store = Path(tmp) / "store.sqlite"
            for leftover in Path(tmp).glob("store.sqlite*"):
                leftover.unlink()
            runs["first"].append(measure("first", toml, store))
            runs["resume"].append(measure("resume", toml, store))
            runs["before"].append(measure("before", toml, store))
    summary = {
        mode: {
            "seconds": round(statistics.median(r["seconds"] for r in rows), 3),
            "peak_rss_mb": round(statistics.median(r["rss_mb"] for r in rows), 1),
            "contacts_handed_to_the_run": rows[0]["contacts"],
        }
        for mode, rows in runs.items()
    }
    summary["speedup_resume_vs_before"] = round(
        summary["before"]["seconds"] / max(summary["resume"]["seconds"], 1e-9), 1
    )
    report = {"contacts": args.contacts, "runs": args.runs, "median": summary}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "run_list_resume.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
