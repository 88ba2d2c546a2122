"""The default's worst hour, before issue #18 and now (the hour ceiling, issue #18).

Run ``python benchmarks/pacing/worst_hour.py`` (``--seeds N``, ``--small-seeds N``,
``--workers N``, ``--only NAME,..``, ``--policies "NAME;NAME"``, ``--out DIR``; about 22
minutes on 2 busy cores). It prints a Markdown table and writes ``pacing_worst_hour.{json,md}`` into
``--out`` (default benchmarks/results/; a run of some cases or policies only writes
``pacing_worst_hour_partial.*``).

The issue asks that the default's worst hour be no worse than when it was filed. "Before" is the
predictive policy of commit ``5f6004e^`` (vendored unchanged in ``_before18/``, so this reruns
from any checkout), "now" the library's ``PredictivePacing()``; both with the release valve open
(the default) and shut (``release_after=None``), at the default cadence (the simulator asks
every second, as the dialer core does). "now, ceiling blind to calls in flight" is the default
with the hour ceiling as it was before its in-flight reserve (``ceiling_in_flight=None``);
"now, ceiling_trust=0.5" the default with the ceiling counting half the answers the hour is
still expected to bring, as it did until #18's fourth session.

The cases are S1-S6 and the stress cases of ``stress.py``; the small offices (T2, T3, T5) run
on 60 seeds (``--small-seeds``), the rest on 10 (``--seeds``), the same seeds for every policy
(common random numbers). Per case and policy: the worst clock hour on any seed, the hours over
3%, 4% and 5% (of all the seeds' hours), the mean occupancy and the worst seed's abandon rate
over the shift (the gate: <= 3% on every seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _before18.predictive import PredictivePacing as BeforePacing
from stress import CASES, SMALL
from suite import CAP, RESULTS

POLICIES: dict[str, Callable[[], Any]] = {
    "before #18": lambda: BeforePacing(),
    "before #18, no release": lambda: BeforePacing(release_after=None),
    "now": lambda: PredictivePacing(),
    "now, no release": lambda: PredictivePacing(release_after=None),
    "now, ceiling_trust=0.5 (until #18's fourth session)": lambda: PredictivePacing(
        ceiling_trust=0.5
    ),
    "now, ceiling blind to calls in flight": lambda: PredictivePacing(ceiling_in_flight=None),
    "now, ceiling blind to calls in flight, no release": lambda: PredictivePacing(
        ceiling_in_flight=None, release_after=None
    ),
}
THRESHOLDS = (0.03, 0.04, 0.05)


def _run(job: tuple[str, str, int]) -> dict[str, Any]:
    case, policy, seed = job
    r = simulate(CASES[case], POLICIES[policy](), seed)
    hours = r.hourly_abandon_rates
    return {
        "case": case,
        "policy": policy,
        "seed": seed,
        "occupancy": r.occupancy,
        "abandon_rate": r.abandon_rate,
        "hours": hours,
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One policy on one case over its seeds."""
    hours = [h for r in runs for h in r["hours"]]
    worst = max(runs, key=lambda r: max(r["hours"], default=0.0))
    out: dict[str, Any] = {
        "seeds": len(runs),
        "hours": len(hours),
        "occupancy": sum(r["occupancy"] for r in runs) / len(runs),
        "abandon_max": max(r["abandon_rate"] for r in runs),
        "passes_gate": max(r["abandon_rate"] for r in runs) <= CAP,
        "worst_hour": max(hours, default=0.0),
        "worst_hour_seed": worst["seed"],
    }
    for t in THRESHOLDS:
        out[f"hours_over_{round(100 * t)}"] = sum(h > t for h in hours)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--small-seeds", type=int, default=60, help="seeds of T2, T3 and T5")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results")
    parser.add_argument("--only", default="", help="comma-separated case names (T3,DROP,S1)")
    parser.add_argument("--policies", default="", help="policy names separated by ';'")
    args = parser.parse_args(argv)
    cases = [c for c in args.only.split(",") if c] or list(CASES)
    policies = [p.strip() for p in args.policies.split(";") if p.strip()] or list(POLICIES)
    jobs = [
        (c, p, s)
        for c in cases
        for p in policies
        for s in range(args.small_seeds if c in SMALL else args.seeds)
    ]
    jobs.sort(key=lambda j: CASES[j[0]].agents * CASES[j[0]].hours, reverse=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        runs = list(pool.map(_run, jobs, chunksize=2))
    report: dict[str, Any] = {
        "cap": CAP,
        "seeds": args.seeds,
        "small_seeds": args.small_seeds,
        "cases": {
            c: {
                "scenario": CASES[c].name,
                "policies": {
                    p: summarise([r for r in runs if r["case"] == c and r["policy"] == p])
                    for p in policies
                },
            }
            for c in cases
        },
        "wall_seconds": time.perf_counter() - t0,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "pacing_worst_hour"
    if args.only or args.policies:
        stem += "_partial"
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    md = render(report)
    (args.out / f"{stem}.md").write_text(md)
    print(md)
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render(report: dict[str, Any]) -> str:
    """One row per case and policy; a summary of the worst hours side by side first."""
    cases = report["cases"]
    names = list(next(iter(cases.values()))["policies"]) if cases else []
    lines = [
        f"# The worst clock hour, before #18 and now ({report['seeds']} seeds;"
        f" T2, T3, T5 {report['small_seeds']})",
        "",
        "Asked every second, as the dialer core asks. Worst hour: the highest abandon rate of"
        " any clock hour on any seed; over 3/4/5%: how many of all the seeds' hours were;"
        " occupancy: the mean over seeds; shift: the worst seed's abandon rate over the shift"
        " (the gate: <= 3%).",
        "",
        "| case | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for c, e in cases.items():
        pol = e["policies"]
        cells = [
            f"{_pct(pol[n]['worst_hour'])} ({_pct(pol[n]['occupancy'])})" if n in pol else ""
            for n in names
        ]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: worst hour (mean occupancy).", ""]
    for e in cases.values():
        lines += [
            f"## {e['scenario']}",
            "",
            "| policy | worst hour (seed) | hours over 3% / 4% / 5% (of) | occupancy"
            " | shift, worst seed | gate |",
            "|---|---|---|---|---|---|",
        ]
        for n, v in e["policies"].items():
            lines.append(
                f"| {n} | {_pct(v['worst_hour'])} ({v['worst_hour_seed']})"
                f" | {v['hours_over_3']} / {v['hours_over_4']} / {v['hours_over_5']}"
                f" ({v['hours']}) | {_pct(v['occupancy'])} | {_pct(v['abandon_max'])}"
                f" | {'pass' if v['passes_gate'] else 'FAIL'} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
