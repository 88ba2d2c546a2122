"""The pacing benchmark: predictive pacing against the field's policies on six 8-hour shifts.

Run ``python benchmarks/pacing/suite.py`` (``--seeds N``, ``--quick`` for a smoke run, ``--out
DIR`` to write elsewhere than benchmarks/results/). It prints a Markdown table and writes
pacing.{json,md} and pacing_frontier.png into that folder.

Common random numbers: every policy meets the same people (lead i of seed s has the same fate
for every policy). The references are the exact progressive formula and a talk-time oracle (the
predictive policy told when each operator will be free), and the predictive policy with its
release valve shut (``release_after=None``). The predictive policy releases calls still ringing
after 15 s when more answers are coming than operators; the field's policies never do. Every
policy's released calls per operator-hour and the answers they cost (released calls that would
have answered) are reported; released calls count in the dials.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from autoinformer.pacing.base import PacingPolicy
from autoinformer.pacing.baselines import (
    AnswerRatePowerPacing,
    UccxPacing,
    VicidialMethod,
    VicidialPacing,
)
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.pacing.progressive import PowerPacing, ProgressivePacing
from autoinformer.sim.pacing import SCENARIOS, Scenario, TalkOracle, simulate

RESULTS = Path(__file__).resolve().parents[1] / "results"
CAP = 0.03

Factory = Callable[[float | None], PacingPolicy]


def _fixed_z(cls: type[PredictivePacing], **extra: Any) -> Factory:
    def make(x: float | None) -> PacingPolicy:
        if x is None:
            return cls(**extra)
        return cls(
            gain=0.0,
            z_start=x,
            z_team_slope=0.0,
            z_team_slope_settled=0.0,
            brake=0.0,
            guard=-1e9,
            **extra,
        )

    return make


# name -> (factory(knob or None for the default configuration), kind, sweep grid of the knob)
POLICIES: dict[str, tuple[Factory, str, tuple[float, ...]]] = {
    "predictive": (_fixed_z(PredictivePacing), "ours", (1.0, 1.4, 1.8, 2.2, 2.6, 3.0)),
    "predictive, no release": (
        _fixed_z(PredictivePacing, release_after=None),
        "reference",
        (1.4, 1.7, 2.0, 2.3, 2.6, 3.0),
    ),
    "progressive": (lambda x: ProgressivePacing(), "reference", ()),
    "talk oracle": (_fixed_z(TalkOracle), "reference", (0.6, 1.0, 1.4, 1.8, 2.2, 2.6)),
    "power 3.0 (tuned for S1)": (
        lambda x: PowerPacing(ratio=3.0 if x is None else x),
        "baseline",
        (1.5, 2.0, 2.5, 3.0, 3.5, 4.5, 6.0, 9.0),
    ),
    "VICIdial RATIO 1.5": (
        lambda x: VicidialPacing(dial_level=1.5 if x is None else x),
        "baseline",
        (1.1, 1.2, 1.3, 1.5, 1.8, 2.2),
    ),
    "VICIdial ADAPT_HARD_LIMIT": (
        lambda x: VicidialPacing(
            method=VicidialMethod.ADAPT_HARD_LIMIT, dropped_percentage=3.0 if x is None else x
        ),
        "baseline",
        (),
    ),
    "VICIdial ADAPT_TAPERED": (
        lambda x: VicidialPacing(
            method=VicidialMethod.ADAPT_TAPERED, dropped_percentage=3.0 if x is None else x
        ),
        "baseline",
        (),
    ),
    "VICIdial ADAPT_AVERAGE": (
        lambda x: VicidialPacing(
            method=VicidialMethod.ADAPT_AVERAGE, dropped_percentage=3.0 if x is None else x
        ),
        "baseline",
        (),
    ),
    "Issabel 1/answer-rate": (lambda x: AnswerRatePowerPacing(), "baseline", ()),
    "UCCX abandon feedback": (
        lambda x: UccxPacing(target=0.03 if x is None else x),
        "baseline",
        (0.01, 0.02, 0.03, 0.05, 0.08, 0.15, 0.3),
    ),
}


def progressive_formula(s: Scenario, steps: int = 480) -> float:
    """The exact occupancy of progressive dialling (one call per idle operator), no simulation.

    Per connect an operator waits for the failed attempts ``(1/p - 1) * no_answer_timeout`` plus
    the answered call's mean ring; occupancy is busy / (busy + that). A drifting answer rate is
    averaged over the shift.
    """
    busy = s.talk_mean + s.wrapup
    ring = (s.ring_min + s.ring_max) / 2.0
    total = 0.0
    for i in range(steps):
        p = s.answer_probability((i + 0.5) / steps * s.shift_seconds)
        idle = ring + (1.0 / p - 1.0) * s.no_answer_timeout
        total += busy / (busy + idle)
    return total / steps


def _run(args: tuple[str, str, float | None, int]) -> dict[str, Any]:
    scenario_key, policy_name, knob, seed = args
    factory = POLICIES[policy_name][0]
    t0 = time.perf_counter()
    result = simulate(SCENARIOS[scenario_key], factory(knob), seed)
    out = result.as_dict()
    out.update(
        scenario=scenario_key,
        policy=policy_name,
        knob=knob,
        seed=seed,
        seconds=time.perf_counter() - t0,
    )
    return out


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    answers = sum(r["answers"] for r in runs)
    abandoned = sum(r["abandoned"] for r in runs)
    n = len(runs)
    return {
        "seeds": n,
        "occupancy": sum(r["occupancy"] for r in runs) / n,
        "occupancy_min": min(r["occupancy"] for r in runs),
        "abandon_max": max(r["abandon_rate"] for r in runs),
        "abandon_pooled": abandoned / answers if answers else 0.0,
        "connects_per_agent_hour": sum(r["connects_per_agent_hour"] for r in runs) / n,
        "dials_per_agent_hour": sum(r["dials_per_agent_hour"] for r in runs) / n,
        "released_per_agent_hour": sum(r["released_per_agent_hour"] for r in runs) / n,
        "answers_forgone_per_agent_hour": sum(r["answers_forgone_per_agent_hour"] for r in runs)
        / n,
        "released": sum(r["released"] for r in runs),
        "answers_forgone": sum(r["answers_forgone"] for r in runs),
        "idle_per_connect_s": sum(r["idle_per_connect_s"] for r in runs) / n,
        "worst_hour_abandon": max(r["worst_hour_abandon_rate"] for r in runs),
        "passes_gate": max(r["abandon_rate"] for r in runs) <= CAP,
        "sim_seconds_median": sorted(r["seconds"] for r in runs)[n // 2],
    }


def _at_cap(points: list[tuple[float, float]]) -> float | None:
    """Occupancy at exactly 3% pooled abandons, interpolated along the sweep (None: not
    bracketed)."""
    pts = sorted(points)
    for (a0, o0), (a1, o1) in itertools.pairwise(pts):
        if a0 <= CAP <= a1 and a1 > a0:
            return o0 + (o1 - o0) * (CAP - a0) / (a1 - a0)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sweep-seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 seeds, S1 and S2 only")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder for the results (benchmarks/results)"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    scenarios = ["S1", "S2"] if args.quick else list(SCENARIOS)
    seeds = 2 if args.quick else args.seeds
    sweep_seeds = 1 if args.quick else args.sweep_seeds

    jobs: list[tuple[str, str, float | None, int]] = []
    for sc in scenarios:
        for name, (_, _, grid) in POLICIES.items():
            jobs += [(sc, name, None, seed) for seed in range(seeds)]
            for knob in grid:
                jobs += [(sc, name, knob, seed) for seed in range(sweep_seeds)]
    # longest first (S3 runs) so the pool ends together
    jobs.sort(key=lambda j: (SCENARIOS[j[0]].agents, j[1] == "talk oracle"), reverse=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        runs = list(pool.map(_run, jobs, chunksize=4))
    wall = time.perf_counter() - t0

    report: dict[str, Any] = {"cap": CAP, "seeds": seeds, "sweep_seeds": sweep_seeds}
    table: dict[str, Any] = {}
    for sc in scenarios:
        s = SCENARIOS[sc]
        entry: dict[str, Any] = {
            "scenario": s.name,
            "progressive_formula": progressive_formula(s),
            "policies": {},
        }
        for name, (_, kind, grid) in POLICIES.items():
            default = [
                r for r in runs if r["scenario"] == sc and r["policy"] == name and r["knob"] is None
            ]
            summary = _summarise(default)
            summary["kind"] = kind
            sweep = []
            for knob in grid:
                pts = [
                    r
                    for r in runs
                    if r["scenario"] == sc and r["policy"] == name and r["knob"] == knob
                ]
                sm = _summarise(pts)
                sweep.append(
                    {
                        "knob": knob,
                        "occupancy": sm["occupancy"],
                        "abandon_pooled": sm["abandon_pooled"],
                    }
                )
            summary["sweep"] = sweep
            summary["occupancy_at_3pct"] = _at_cap(
                [(p["abandon_pooled"], p["occupancy"]) for p in sweep]
            )
            entry["policies"][name] = summary
        base = [
            v["occupancy"]
            for v in entry["policies"].values()
            if v["kind"] == "baseline" and v["passes_gate"]
        ]
        entry["best_passing_baseline"] = max(base) if base else None
        pred = entry["policies"]["predictive"]
        entry["predictive_margin_points"] = (
            100.0 * (pred["occupancy"] - max(base)) if base else None
        )
        table[sc] = entry
    report["scenarios"] = table
    report["wall_seconds"] = wall

    out.mkdir(parents=True, exist_ok=True)
    (out / "pacing.json").write_text(json.dumps(report, indent=2, default=_json_default))
    md = render_markdown(report)
    (out / "pacing.md").write_text(md)
    print(md)
    try:
        plot(report, out / "pacing_frontier.png")
    except ImportError:  # pragma: no cover - matplotlib is a bench extra
        print("matplotlib missing: no plot", file=sys.stderr)
    return 0


def _json_default(value: object) -> object:
    if isinstance(value, float) and math.isinf(value):
        return None
    raise TypeError(type(value))


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def render_markdown(report: dict[str, Any]) -> str:
    """The benchmark as Markdown tables, one per scenario."""
    lines = [
        f"# Pacing benchmark ({report['seeds']} seeds per scenario, 8-hour shifts)",
        "",
        "Occupancy = (talk + wrap-up) / logged-in time. Gate: abandoned <= 3% of live answers on"
        " every seed. `@3%`: occupancy at exactly 3% pooled abandons along the policy's"
        f" aggressiveness sweep ({report['sweep_seeds']} seeds per point).",
        "",
    ]
    for entry in report["scenarios"].values():
        lines += [
            f"## {entry['scenario']}",
            "",
            f"Exact progressive formula: {_pct(entry['progressive_formula'])}. Best baseline"
            f" passing the gate: {_pct(entry['best_passing_baseline'])}; predictive margin:"
            + (
                " n/a"
                if entry["predictive_margin_points"] is None
                else f" {entry['predictive_margin_points']:+.1f} points"
            )
            + ".",
            "",
            "| policy | kind | occupancy (min) | abandon max / pooled | gate | worst hour |"
            " connects/op-h | dials/op-h | released/op-h | answers forgone/op-h"
            " | idle s/connect | @3% |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, v in entry["policies"].items():
            lines.append(
                f"| {name} | {v['kind']} | {_pct(v['occupancy'])} ({_pct(v['occupancy_min'])})"
                f" | {_pct(v['abandon_max'])} / {_pct(v['abandon_pooled'])}"
                f" | {'pass' if v['passes_gate'] else 'FAIL'} | {_pct(v['worst_hour_abandon'])}"
                f" | {v['connects_per_agent_hour']:.1f} | {v['dials_per_agent_hour']:.1f}"
                f" | {v['released_per_agent_hour']:.1f}"
                f" | {v['answers_forgone_per_agent_hour']:.2f}"
                f" | {v['idle_per_connect_s']:.1f} | {_pct(v['occupancy_at_3pct'])} |"
            )
        lines.append("")
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    """Occupancy against abandon rate per scenario: defaults as points, sweeps as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scen = report["scenarios"]
    cols = 3
    rows = math.ceil(len(scen) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False)
    for ax, (_sc, entry) in zip(axes.flat, scen.items(), strict=False):
        for i, (name, v) in enumerate(entry["policies"].items()):
            color = f"C{i}"
            if v["sweep"]:
                xs = [100 * p["abandon_pooled"] for p in v["sweep"]]
                ys = [100 * p["occupancy"] for p in v["sweep"]]
                ax.plot(xs, ys, "-", color=color, alpha=0.5, lw=1)
            marker = "*" if v["kind"] == "ours" else ("s" if v["kind"] == "reference" else "o")
            ax.plot(
                100 * v["abandon_pooled"],
                100 * v["occupancy"],
                marker,
                color=color,
                ms=11 if marker == "*" else 6,
                label=name,
            )
        ax.axvline(3.0, color="red", ls="--", lw=1)
        ax.set_xlim(-0.2, 8)
        ax.set_title(entry["scenario"])
        ax.set_xlabel("abandoned, % of live answers (pooled)")
        ax.set_ylabel("occupancy, %")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
