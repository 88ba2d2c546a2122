"""Simulator speed: S3 (8 hours, 100 operators) on one core, side by side with SimPy.

Run ``python benchmarks/pacing/speed.py`` (``--runs N``). It prints a Markdown table and writes
benchmarks/results/pacing_speed.json. Timings are the median of several runs, in one process,
one core; the SimPy model is the same scenario in the natural SimPy style (operators as a
``simpy.Resource``, one process per call) with progressive pacing and the same people (common
random numbers), so both also report the same occupancy.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import simpy

from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.pacing.progressive import ProgressivePacing
from autoinformer.sim.pacing import SCENARIOS, Scenario, simulate

RESULTS = Path(__file__).resolve().parents[1] / "results"


def simpy_progressive(s: Scenario, seed: int) -> dict[str, float]:
    """Progressive dialling of scenario ``s`` written the way SimPy models usually are."""
    rng = random.Random(seed)
    sigma = math.sqrt(math.log1p(s.talk_cv**2))
    mu = math.log(s.talk_mean) - sigma * sigma / 2
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=s.agents)
    shift = s.shift_seconds
    stats = {"dials": 0.0, "answers": 0.0, "busy": 0.0}

    def call(req: Any, u: float, ring: float, talk: float) -> Any:
        if u < s.answer_probability(env.now):
            yield env.timeout(ring)
            stats["answers"] += 1
            start = env.now
            yield env.timeout(talk)
            yield env.timeout(s.wrapup)
            if start < shift:
                stats["busy"] += min(env.now, shift) - start
        else:
            yield env.timeout(s.no_answer_timeout)
        agents.release(req)

    def dialer() -> Any:
        while True:
            req = agents.request()
            yield req
            if env.now >= shift:
                agents.release(req)
                return
            u = rng.random()
            ring = s.ring_min + (s.ring_max - s.ring_min) * rng.random()
            talk = rng.lognormvariate(mu, sigma)
            stats["dials"] += 1
            env.process(call(req, u, ring, talk))

    env.process(dialer())
    env.run()
    stats["occupancy"] = stats["busy"] / (s.agents * shift)
    return stats


def _interleaved(fns: list[Any], runs: int) -> list[tuple[float, Any]]:
    """Median time of each function, run in turns so they share the machine's load alike."""
    times: list[list[float]] = [[] for _ in fns]
    outs: list[Any] = [None] * len(fns)
    for i in range(runs):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[k] = fn(i)
            times[k].append(time.perf_counter() - t0)
    return [(statistics.median(t), out) for t, out in zip(times, outs, strict=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args(argv)
    s3 = SCENARIOS["S3"]
    runs = args.runs

    (t_pred, r_pred), (t_shut, r_shut), (t_prog, r_prog), (t_simpy, r_simpy) = _interleaved(
        [
            lambda i: simulate(s3, PredictivePacing(), i),
            lambda i: simulate(s3, PredictivePacing(release_after=None), i),
            lambda i: simulate(s3, ProgressivePacing(), i, decide_every=None),  # as SimPy decides
            lambda i: simpy_progressive(s3, i),
        ],
        runs,
    )
    rows = [
        ("ours, predictive (decisions included)", t_pred, r_pred.dials, r_pred.occupancy),
        ("ours, predictive, release valve shut", t_shut, r_shut.dials, r_shut.occupancy),
        ("ours, progressive", t_prog, r_prog.dials, r_prog.occupancy),
        ("SimPy, progressive", t_simpy, int(r_simpy["dials"]), r_simpy["occupancy"]),
    ]
    report = {
        "scenario": s3.name,
        "runs": runs,
        "median_seconds": {name: t for name, t, _, _ in rows},
        "dials_last_run": {name: d for name, _, d, _ in rows},
        "occupancy_last_run": {name: o for name, _, _, o in rows},
        "simpy_over_ours_progressive": t_simpy / t_prog,
        "predictive_under_1s": t_pred < 1.0,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pacing_speed.json").write_text(json.dumps(report, indent=2))
    print(f"# Simulator speed: {s3.name}, 8 h, {s3.agents} operators (median of {runs} runs)\n")
    print("| simulator | median s | dials | occupancy |")
    print("|---|---|---|---|")
    for name, t, d, o in rows:
        print(f"| {name} | {t:.3f} | {d} | {100 * o:.1f}% |")
    print(f"\nSimPy / ours (progressive): {t_simpy / t_prog:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
