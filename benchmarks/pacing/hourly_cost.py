"""The hourly cap's cost and its hours at the dialer core's cadence (issue #18).

Run ``python benchmarks/pacing/hourly_cost.py`` (``--seeds N``, ``--workers N``, ``--only
T2,S1``, ``--out DIR``; about ten minutes on 2 cores). It prints a Markdown table and writes
``pacing_hourly_cost.{json,md}`` into ``--out`` (default benchmarks/results/).

``PredictivePacing(abandon_hourly_cap=0.03)``, valve open and shut, on the stress cases and
S1-S6, asked every second as the core asks (the simulator's default): occupancy, the worst
seed, the worst clock hour of any seed and how many hours went over 3%, releases per
operator-hour, and the points against progressive and against the default policy
(``PredictivePacing()``, same valve) on the same seeds (``--defaults FILE``: read the
default's figures from a run of ``stress.py`` at 1 s on the same seeds instead, e.g.
``benchmarks/results/pacing_stress.json``; the hourly cap's changes leave the default
run for run the same). On the small teams (T2, T3, T5, S2)
it also runs the in-flight reserve at 2 standard deviations (``hourly_in_flight=2.0``, as
first shipped), the setting the small teams pay for.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.pacing.progressive import ProgressivePacing
from autoinformer.sim.pacing import simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stress import CASES
from suite import CAP, RESULTS

SMALL = ["T2", "T3", "T5", "S2"]
VARIANTS: dict[str, dict[str, Any] | None] = {
    "progressive": None,
    "default": {},
    "default, shut": {"release_after": None},
    "hourly cap": {"abandon_hourly_cap": CAP},
    "hourly cap, shut": {"abandon_hourly_cap": CAP, "release_after": None},
    "hourly cap, 2 sd": {"abandon_hourly_cap": CAP, "hourly_in_flight": 2.0},
    "hourly cap, 2 sd, shut": {
        "abandon_hourly_cap": CAP,
        "hourly_in_flight": 2.0,
        "release_after": None,
    },
}
_SMALL_ONLY = {"hourly cap, 2 sd", "hourly cap, 2 sd, shut"}
_DEFAULTS = {"default": "predictive", "default, shut": "predictive, no release"}  # stress.py


def _run(job: tuple[str, str, int]) -> dict[str, Any]:
    case, variant, seed = job
    kw = VARIANTS[variant]
    policy = ProgressivePacing() if kw is None else PredictivePacing(**kw)
    r = simulate(CASES[case], policy, seed)
    hours = r.hourly_abandon_rates
    return {
        "case": case,
        "variant": variant,
        "seed": seed,
        "occupancy": r.occupancy,
        "abandon_rate": r.abandon_rate,
        "hours": hours,
        "released_per_agent_hour": r.released_per_agent_hour,
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    hours = [h for r in runs for h in r["hours"]]
    n = len(runs)
    return {
        "seeds": n,
        "occupancy": sum(r["occupancy"] for r in runs) / n,
        "abandon_max": max(r["abandon_rate"] for r in runs),
        "worst_hour": max(hours, default=0.0),
        "hours_over_cap": sum(h > CAP for h in hours),
        "hours": len(hours),
        "released_per_agent_hour": sum(r["released_per_agent_hour"] for r in runs) / n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated case names (T3,DROP,S1)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--defaults", type=Path, default=None, help="stress.py's JSON at 1 s for the default"
    )
    args = parser.parse_args(argv)
    cases = [c for c in args.only.split(",") if c] or list(CASES)
    skip = set(_DEFAULTS) if args.defaults is not None else set()
    jobs = [
        (c, v, s)
        for c in cases
        for v in VARIANTS
        if (v not in _SMALL_ONLY or c in SMALL) and v not in skip
        for s in range(args.seeds)
    ]
    jobs.sort(key=lambda j: CASES[j[0]].agents * CASES[j[0]].hours, reverse=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        runs = list(pool.map(_run, jobs, chunksize=2))
    report: dict[str, Any] = {"cap": CAP, "seeds": args.seeds, "cases": {}}
    for c in cases:
        entry = {
            v: _summary([r for r in runs if (r["case"], r["variant"]) == (c, v)])
            for v in VARIANTS
            if (v not in _SMALL_ONLY or c in SMALL) and v not in skip
        }
        if args.defaults is not None:
            entry.update(_read_defaults(args.defaults, c, args.seeds))
        report["cases"][c] = {v: entry[v] for v in VARIANTS if v in entry}
    report["wall_seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "pacing_hourly_cost" if not args.only else "pacing_hourly_cost_partial"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    md = render(report)
    (args.out / f"{stem}.md").write_text(md)
    print(md)
    return 0


def _read_defaults(path: Path, case: str, seeds: int) -> dict[str, dict[str, Any]]:
    """The default's figures on ``case`` from a stress.py report asked every second."""
    report = json.loads(path.read_text())
    if report.get("decide_every") != 1.0:
        raise SystemExit(f"{path}: not asked every second ({report.get('decide_every')})")
    out = {}
    for ours, name in _DEFAULTS.items():
        t = report["cases"][case]["policies"][name]
        if t["seeds"] != seeds:
            raise SystemExit(f"{path}: {case} on {t['seeds']} seeds, not {seeds}")
        out[ours] = {
            "seeds": seeds,
            "occupancy": t["occupancy"],
            "abandon_max": t["abandon_max"],
            "worst_hour": t["worst_hour_abandon"],
            "hours_over_cap": None,
            "hours": None,
            "released_per_agent_hour": t["released_per_agent_hour"],
        }
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _cell(e: dict[str, Any], against: dict[str, Any] | None, prog: dict[str, Any]) -> str:
    vs = "" if against is None else f"{100 * (e['occupancy'] - against['occupancy']):+.1f} / "
    over = "" if e["hours"] is None else f" ({e['hours_over_cap']}/{e['hours']})"
    return (
        f"{_pct(e['occupancy'])} ({vs}{100 * (e['occupancy'] - prog['occupancy']):+.1f}),"
        f" {_pct(e['abandon_max'])}, {_pct(e['worst_hour'])}{over},"
        f" {e['released_per_agent_hour']:.1f}"
    )


def render(report: dict[str, Any]) -> str:
    """One table: per case, the default and the hourly cap, valve open and shut."""
    lines = [
        f"# The hourly cap's cost, asked every second ({report['seeds']} seeds)",
        "",
        "Cells: occupancy (points against the default with the same valve / against"
        " progressive), worst seed, worst hour (hours over 3% / hours), releases per"
        " operator-hour. Default cells: against progressive only.",
        "",
        "| case | progressive | default | default, shut | hourly cap | hourly cap, shut"
        " | hourly cap, 2 sd | hourly cap, 2 sd, shut |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c, by in report["cases"].items():
        prog = by["progressive"]
        cells = [_pct(prog["occupancy"])]
        for v, base in (
            ("default", None),
            ("default, shut", None),
            ("hourly cap", by["default"]),
            ("hourly cap, shut", by["default, shut"]),
            ("hourly cap, 2 sd", by["default"]),
            ("hourly cap, 2 sd, shut", by["default, shut"]),
        ):
            cells.append(_cell(by[v], base, prog) if v in by else "")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
