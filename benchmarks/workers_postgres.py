"""Several workers on one PostgreSQL campaign: contacts finished per second, lease latency (#17).

One generated campaign (``--contacts``, default 2,000) against the simulated switch on the
shared fast clock (``--speed``), run to its end: the drill's reminder that offers a transfer
to ``--operators`` operators (20) under power pacing (3 calls per idle operator), so the
campaign's ``--lines`` (60) are the ceiling and the workers and the database the limit.
(A broadcast script, which fills the lines without operators, is the better load, but on
the ``workers`` branch of 11:10 UTC a broadcast worker dies within seconds on "attempt ...
was never begun"; see the #17 fleet report.) The configurations:

- ``postgresql, N workers`` for N in ``--workers`` (default 1, 2, 4): N processes of
  ``autoinformer run campaign.toml --store URL --worker wN --speed X`` started together;
- ``postgresql, one process``: the same command without ``--worker`` (no leases: what the
  leases cost);
- ``sqlite, one process``: ``--store campaign.sqlite`` without ``--worker`` (SQLite keeps a
  campaign for one process).

Contacts per second = the campaign's contacts / the wall time from the first process's start
to the last one's exit (every contact closed: checked). A run in which a worker fails is
not counted; the failures are kept in the results (``failed_runs``) and the exit code is 1.
Lease latency: each worker's summary has its store calls' p50 and p99 (``worker.lease_ms``:
``take_leases``, ``begin_leased_attempt``, ``release_lease``); a configuration's p50 is the
median of its workers', its p99 the worst of its workers'. Every figure is the median of
``--runs`` runs (default 3), each on a fresh schema.

The server: ``--url`` or ``AUTOINFORMER_TEST_POSTGRES_URL``, else a throwaway cluster. Run
with ``nice``: the machine is shared. ``python benchmarks/workers_postgres.py [--out DIR]``
writes ``DIR/workers_postgres.json`` and ``DIR/workers_postgres.png`` (default
``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SRC = HERE.parent / "src"
CALLS = ("take_leases", "begin_leased_attempt", "release_lease")


def _drill() -> Any:
    """The kill -9 drill's module: its campaign, its process fleet, its checks."""
    spec = importlib.util.spec_from_file_location(
        "workers_kill9", HERE / "drills" / "workers_kill9.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["workers_kill9"] = module
    spec.loader.exec_module(module)
    return module


drill = _drill()


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    """A PostgreSQL server's URL: ``url``, the tests' variable, or a throwaway cluster."""
    sys.path.insert(0, str(SRC))
    from autoinformer.testing.postgres import ENV, start_cluster, stop_cluster

    url = url or os.environ.get(ENV)
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="workers-pg-") as tmp:
        started = start_cluster(Path(tmp))
        try:
            yield started
        finally:
            stop_cluster(Path(tmp))


@contextlib.contextmanager
def schema(url: str) -> Iterator[str]:
    """A fresh schema on ``url`` for one run, dropped afterwards."""
    from autoinformer.testing.postgres import in_schema

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with drill._connect(url) as db:
        db.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield in_schema(url, name)
    finally:
        with drill._connect(url) as db:
            db.execute(f'DROP SCHEMA "{name}" CASCADE')


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def _summary(text: str) -> dict[str, Any]:
    return dict(json.loads(text[text.index("{") :]))


def run_workers(
    url: str, toml: Path, workers: int, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """One run of ``workers`` worker processes to the campaign's end."""
    fleet = drill.Fleet(url, toml, args.speed, args.lease_ttl, workdir)
    started = time.perf_counter()
    for i in range(workers):
        fleet.start(f"w{i + 1}")
    for inc in fleet.incarnations:
        inc.proc.wait(timeout=args.timeout)
    wall = time.perf_counter() - started
    failures = fleet.failures()
    if failures:
        raise SystemExit(f"{workers} workers: a worker failed: {failures}")
    with drill._connect(url) as db:
        closed = drill.closed_share(db, args.contacts)
    summaries = [_summary(inc.out.read_text())["worker"] for inc in fleet.incarnations]
    lease: dict[str, dict[str, float]] = {}
    for call in CALLS:
        figures = [s["lease_ms"][call] for s in summaries if call in s.get("lease_ms", {})]
        if figures:
            lease[call] = {
                "p50": statistics.median(f["p50"] for f in figures),
                "p99": max(f["p99"] for f in figures),
            }
    return {
        "wall_seconds": wall,
        "contacts_per_second": args.contacts / wall,
        "closed_share": closed,
        "attempts_by_worker": [s["attempts"] for s in summaries],
        "lease_ms": lease,
        "attempts": sum(s["attempts"] for s in summaries),
    }


def run_single(store: str, toml: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One run of one process without ``--worker`` on ``store`` (a URL or a SQLite file)."""
    command = [sys.executable, "-m", "autoinformer", "run", str(toml), "--store", store]
    command += ["--speed", str(args.speed), "--json"]
    started = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env=_env(), timeout=args.timeout, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"one process on {store}: failed: {done.stderr[-2000:]}")
    summary = _summary(done.stdout)
    open_states = sum(summary["contacts"].get(s, 0) for s in ("pending", "scheduled", "in_call"))
    return {
        "wall_seconds": wall,
        "contacts_per_second": args.contacts / wall,
        "closed_share": 1.0 - open_states / args.contacts,
        "lease_ms": {},
        "attempts": summary["attempts"],
    }


def median_row(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The median of the runs' figures (each lease figure separately)."""
    row: dict[str, Any] = {
        "contacts_per_second": statistics.median(r["contacts_per_second"] for r in runs),
        "wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
        "closed_share_min": min(r["closed_share"] for r in runs),
        "runs": [round(r["contacts_per_second"], 1) for r in runs],
        "attempts": statistics.median(r["attempts"] for r in runs),
        "lease_ms": {},
    }
    for call in CALLS:
        have = [r["lease_ms"][call] for r in runs if call in r["lease_ms"]]
        if have:
            row["lease_ms"][call] = {
                q: round(statistics.median(h[q] for h in have), 3) for q in ("p50", "p99")
            }
    return row


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["rows"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(rows)
    left.barh(names, [rows[n]["contacts_per_second"] for n in names], color="#4878a8")
    left.set_xlabel("contacts finished per second (median)")
    left.invert_yaxis()
    left.set_title(f"{results['contacts']:,} contacts, speed {results['speed']:g}")
    worker_rows = [n for n in names if rows[n]["lease_ms"]]
    width = 0.8 / max(1, len(worker_rows))
    for i, name in enumerate(worker_rows):
        xs = [j + i * width for j in range(len(CALLS))]
        p50 = [rows[name]["lease_ms"].get(c, {}).get("p50", 0) for c in CALLS]
        p99 = [rows[name]["lease_ms"].get(c, {}).get("p99", 0) for c in CALLS]
        right.bar(xs, p99, width, alpha=0.35, color=f"C{i}")
        right.bar(xs, p50, width, color=f"C{i}", label=name)
    right.set_xticks([j + 0.4 - width / 2 for j in range(len(CALLS))], CALLS, fontsize=8)
    right.set_ylabel("ms (solid p50, pale p99)")
    right.set_title("lease calls' latency")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts on PostgreSQL")
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--operators", type=int, default=20)
    parser.add_argument("--speed", type=float, default=100.0)
    parser.add_argument(
        "--retry-interval",
        default="1m",
        help="between a contact's attempts: short, so the clock does not set the pace",
    )
    parser.add_argument("--lease-ttl", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--url", help="a PostgreSQL server (default: a throwaway cluster)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results' folder")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    runs: dict[str, list[dict[str, Any]]] = {}
    failed: dict[str, list[str]] = {}
    with server(args.url) as url, tempfile.TemporaryDirectory(prefix="workers-") as tmp:
        work = Path(tmp)
        toml = drill.write_campaign(
            work,
            args.contacts,
            lines=args.lines,
            operators=args.operators,
            interval=args.retry_interval,
        )
        with drill._connect(url) as db:
            version = db.execute("SHOW server_version").fetchone()[0]
            sync = db.execute("SHOW synchronous_commit").fetchone()[0]
        for run in range(args.runs):  # the configurations take turns: drift hits them alike
            for n in counts:
                name = f"postgresql, {n} worker{'s' if n > 1 else ''}"
                with schema(url) as here:
                    workdir = work / f"w{n}-{run}"
                    workdir.mkdir()
                    try:
                        row = run_workers(here, toml, n, args, workdir)
                    except SystemExit as exc:  # a defect: reported, the others still run
                        failed.setdefault(name, []).append(str(exc)[-3000:])
                        print(f"run {run + 1}: {name}: FAILED", flush=True)
                        continue
                runs.setdefault(name, []).append(row)
                print(f"run {run + 1}: {name}: {row['contacts_per_second']:.1f}/s", flush=True)
            with schema(url) as here:
                row = run_single(here, toml, args)
            runs.setdefault("postgresql, one process (no --worker)", []).append(row)
            row = run_single(str(work / f"sqlite-{run}.sqlite"), toml, args)
            runs.setdefault("sqlite, one process", []).append(row)
            print(f"run {run + 1}: single processes done", flush=True)
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "postgresql": version,
        "synchronous_commit": sync,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg()[0],
        "contacts": args.contacts,
        "lines": args.lines,
        "operators": args.operators,
        "speed": args.speed,
        "retry_interval": args.retry_interval,
        "lease_ttl": args.lease_ttl,
        "runs": args.runs,
        "rows": {name: median_row(rs) for name, rs in runs.items()},
        "failed_runs": failed,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "workers_postgres.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, args.out / "workers_postgres.png")
    print("| configuration | contacts/s | wall s | take p50/p99 ms | begin | release |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, row in results["rows"].items():
        cells = [
            f"{row['lease_ms'][c]['p50']:.1f} / {row['lease_ms'][c]['p99']:.1f}"
            if c in row["lease_ms"]
            else "-"
            for c in CALLS
        ]
        print(
            f"| {name} | {row['contacts_per_second']:.1f} | {row['wall_seconds']:.1f} | "
            + " | ".join(cells)
            + " |"
        )
    bad = [n for n, r in results["rows"].items() if r["closed_share_min"] < 1.0]
    if bad:
        print(f"not every contact was finished in: {', '.join(bad)}", file=sys.stderr)
    for name, errors in failed.items():
        print(f"{name}: {len(errors)} run(s) failed: {errors[0][-600:]}", file=sys.stderr)
    return 1 if bad or failed else 0


if __name__ == "__main__":
    sys.exit(main())
