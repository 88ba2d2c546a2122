"""The shut valve's controller (#18): its margin raised where the answer rate is low.

Run ``python benchmarks/pacing/shut_controller.py`` (``--seeds N`` for S1-S6 and the stress
cases, default 10; ``--small-seeds N`` for T2, T3, T5, default 60; ``--tries-seeds N`` for the
tries on S2 and S4, default 10; ``--workers N``, default 2; ``--only NAME,..`` cases;
``--no-tries``; ``--out DIR``). About 15 minutes on 2 cores. It prints Markdown tables and
writes ``pacing_shut_controller.json`` into ``--out`` (default benchmarks/results/).

1. *Before and after*: the valve shut (``release_after=None``) and the hourly cap with the
   valve shut, with ``shut_z_offset=0`` (the controller as it was) and as shipped, on S1-S6
   and the stress cases, at the simulator's default cadence (asked every second, as the core
   asks): mean occupancy, the worst seed's abandons, the worst single hour on any seed.
2. *Tries* on S2 and S4 (the cases where the controller costs the shut valve most against a
   fixed margin in hindsight): a uniform prior offset, a softer brake, a set point at the aim,
   abandons of a burst let into the integral gradually (:class:`BurstDeferred`), and fixed
   margins (no controller, no brake, no guard) read where the worst of the seeds is at 3%.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stress import CASES
from suite import CAP, RESULTS


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class BurstDeferred(PredictivePacing):
    """Abandons of a burst (each within ``burst_gap`` s of the one before) count one at once in
    the integral and the brake; the rest are let in over the next ``burst_spread`` answers (an
    exponential time constant), so a burst does not make the margin jump by several steps."""

    burst_gap: float = 30.0
    burst_spread: float = 50.0
    _held: float = attrs.field(init=False, default=0.0)
    _seen_abandons: int = attrs.field(init=False, default=0)
    _seen_answers: int = attrs.field(init=False, default=0)
    _last_abandon: float = attrs.field(init=False, default=-math.inf)

    def _shut_correction(self, short: float) -> float:
        add = super()._shut_correction(short)
        if self.release_after is not None:
            return add
        live = self._live
        if live.answers > self._seen_answers:
            self._held *= math.exp(-(live.answers - self._seen_answers) / self.burst_spread)
        self._seen_answers = live.answers
        new = live.abandons - self._seen_abandons
        if new > 0:
            self._held += new if self._now - self._last_abandon < self.burst_gap else new - 1
            self._last_abandon = self._now
        self._seen_abandons = live.abandons
        over = short if short > 0.0 else 0.0
        rest = short - self._held
        brake = self._brake_now()
        return add - self._gain_now * self._held - brake * (over - (rest if rest > 0.0 else 0.0))


SHUT: dict[str, Any] = {"release_after": None}
BEFORE: dict[str, Any] = {"release_after": None, "shut_z_offset": 0.0}
HOURLY: dict[str, Any] = {"release_after": None, "abandon_hourly_cap": CAP}
VARIANTS: dict[str, dict[str, Any]] = {
    "shut, before (shut_z_offset 0)": BEFORE,
    "shut, as shipped": SHUT,
    "hourly cap, shut, before": {**HOURLY, "shut_z_offset": 0.0},
    "hourly cap, shut, as shipped": HOURLY,
}
_FIXED = {**BEFORE, "gain": 0.0, "z_team_slope": 0.0, "brake": 0.0, "guard": -1e9}
TRIES: dict[str, dict[str, Any]] = {
    "shut, before (shut_z_offset 0)": BEFORE,
    "shut, as shipped": SHUT,
    "shut, uniform prior +0.5 (z_start 2.35)": {**BEFORE, "z_start": 2.35},
    "shut, uniform prior +0.7, brake 0.2, headroom 0": {
        **BEFORE,
        "z_start": 2.55,
        "brake": 0.2,
        "headroom": 0.0,
    },
    "shut, brake 0.2": {**BEFORE, "brake": 0.2},
    "shut, burst abandons deferred (30 s, 50 answers)": {**BEFORE, "model": "burst"},
    "shut, burst deferred, uniform prior +0.5": {**BEFORE, "model": "burst", "z_start": 2.35},
    **{f"fixed z {z} (no controller, brake, guard)": {**_FIXED, "z_start": z} for z in (
        1.6, 1.7, 1.8, 1.9, 2.0, 2.1
    )},
}  # fmt: skip
MODELS: dict[str, type[PredictivePacing]] = {
    "predictive": PredictivePacing,
    "burst": BurstDeferred,
}
SUITE = ["S1", "S2", "S3", "S4", "S5", "S6"]
SMALL = ["T2", "T3", "T5"]
STRESS = ["L50", "SHORT", "DROP", "RISE", "RING60"]


def _run(job: tuple[str, str, str, int]) -> dict[str, Any]:
    table, case, variant, seed = job
    kw = dict((VARIANTS if table == "compare" else TRIES)[variant])
    model = MODELS[kw.pop("model", "predictive")]
    r = simulate(CASES[case], model(**kw), seed)
    hours = r.hourly_abandon_rates
    return {
        "table": table,
        "case": case,
        "variant": variant,
        "seed": seed,
        "occupancy": r.occupancy,
        "abandon_rate": r.abandon_rate,
        "worst_hour": max(hours, default=0.0),
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seeds": len(runs),
        "occupancy": sum(r["occupancy"] for r in runs) / len(runs),
        "abandon_max": max(r["abandon_rate"] for r in runs),
        "abandon_mean": sum(r["abandon_rate"] for r in runs) / len(runs),
        "worst_hour": max(r["worst_hour"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--small-seeds", type=int, default=60)
    parser.add_argument("--tries-seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="cases, comma-separated")
    parser.add_argument("--no-tries", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    cases = args.only.split(",") if args.only else SUITE + SMALL + STRESS
    jobs = [
        ("compare", c, v, s)
        for c in cases
        for v in VARIANTS
        for s in range(args.small_seeds if c in SMALL else args.seeds)
    ]
    tries = [] if args.no_tries else [c for c in ("S2", "S4") if c in cases]
    jobs += [("tries", c, v, s) for c in tries for v in TRIES for s in range(args.tries_seeds)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        runs = list(pool.map(_run, jobs, chunksize=2))
    report: dict[str, Any] = {
        "cap": CAP,
        "seeds": args.seeds,
        "small_seeds": args.small_seeds,
        "tries_seeds": args.tries_seeds,
    }
    for table, variants, cs in (("compare", VARIANTS, cases), ("tries", TRIES, tries)):
        report[table] = {
            v: {
                c: _summary(
                    [r for r in runs if (r["table"], r["variant"], r["case"]) == (table, v, c)]
                )
                for c in cs
            }
            for v in variants
        }
    report["wall_seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    name = "pacing_shut_controller" + ("" if not args.only else "_partial")
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2))
    text = render(report)
    (args.out / f"{name}.md").write_text(text)
    print(text)
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def render(report: dict[str, Any]) -> str:
    """Markdown: per case, occupancy (worst seed, worst hour), and the change after - before."""
    lines: list[str] = []
    for table, title in (
        ("compare", "The shut valve before and after (occupancy; worst seed; worst hour)"),
        ("tries", "Tries on S2 and S4 (occupancy; worst seed; mean abandons; worst hour)"),
    ):
        rows = report.get(table, {})
        cases = list(next(iter(rows.values()), {}))
        if not cases:
            continue
        seeds = f"{report['seeds']} seeds ({report['small_seeds']} for T2, T3, T5)"
        if table == "tries":
            seeds = f"{report.get('tries_seeds', report['seeds'])} seeds"
        lines += [
            f"{title}, {seeds}",
            "",
            "| variant | " + " | ".join(cases) + " |",
            "|---|" + "---|" * len(cases),
        ]
        for v, by_case in rows.items():
            cells = [
                f"{_pct(e['occupancy'])}; {_pct(e['abandon_max'])}; "
                + (f"{_pct(e['abandon_mean'])}; " if table == "tries" else "")
                + _pct(e["worst_hour"])
                for e in by_case.values()
            ]
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
        if table == "compare":
            for before, after in (
                ("shut, before (shut_z_offset 0)", "shut, as shipped"),
                ("hourly cap, shut, before", "hourly cap, shut, as shipped"),
            ):
                cells = [
                    f"{100 * (rows[after][c]['occupancy'] - rows[before][c]['occupancy']):+.2f}"
                    for c in cases
                ]
                lines.append(f"| {after} - before (points) | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
