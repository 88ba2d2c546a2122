"""What does and does not move the predictive policy: the ideas tried for S3 and S5, measured.

Run ``python benchmarks/pacing/ablations.py`` (``--seeds N``, ``--sweep-seeds N``; about two
minutes on 2 cores). It prints Markdown tables and writes benchmarks/results/pacing_ablations.json.

Two questions, kept apart because they have different answers:

1. *The frontier*: the occupancy a model reaches at exactly 3% pooled abandons, with a fixed
   safety margin ``z`` (no controller, no guard), interpolated along a sweep of ``z``. Variants:
   the answer rate told exactly (an oracle for drift tracking), a local linear trend on the
   answer rate (Brown's double exponential smoothing), a longer or shorter memory, and a
   multi-horizon launch rule (answers by each horizon ``h`` against operators free by
   ``h + patience``, the smallest launch over the horizons).
2. *The controller*: the default configuration and its variants (no brake, no guard, less
   headroom) on ten 8-hour shifts per scenario, and on fifty 1-hour shifts of the small team
   (a budget of about three abandons), counting the runs over 3%.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from autoinformer.pacing.base import Observation
from autoinformer.pacing.estimators import DiscountedRate
from autoinformer.pacing.predictive import _ROW_PAD, PredictivePacing, _largest_launch
from autoinformer.sim.pacing import SCENARIOS, simulate

RESULTS = Path(__file__).resolve().parents[1] / "results"
CAP = 0.03
S5 = SCENARIOS["S5"]


@attrs.define(kw_only=True)
class TrendRate:
    """Brown's linear (double exponential) smoothing of the answer rate: level + trend."""

    memory: float = 500.0
    trend: float = 1.0
    s1: float = 0.0
    w1: float = 0.0
    s2: float = 0.0
    w2: float = 0.0
    count: int = 0

    def add(self, success: bool) -> None:
        keep = 1.0 - 1.0 / self.memory
        self.s1 = self.s1 * keep + (1.0 if success else 0.0)
        self.w1 = self.w1 * keep + 1.0
        self.s2 = self.s2 * keep + self.s1 / self.w1
        self.w2 = self.w2 * keep + 1.0
        self.count += 1

    @property
    def value(self) -> float:
        if self.w1 <= 0.0:
            return 0.3
        a, b = self.s1 / self.w1, self.s2 / self.w2
        return min(0.999, max(0.001, a + self.trend * (a - b)))


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class TrendPacing(PredictivePacing):
    """The policy with a trend-corrected answer rate."""

    trend: float = 1.0

    def __attrs_post_init__(self) -> None:
        self._p = TrendRate(memory=self.memory, trend=self.trend)  # type: ignore[assignment]


@attrs.define(kw_only=True)
class _S5Rate(DiscountedRate):
    now: float = 0.0

    @property
    def value(self) -> float:
        return S5.answer_probability(self.now)


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class RateOracle(PredictivePacing):
    """S5 only: the policy told the true answer probability (refreshed every 5 s)."""

    def __attrs_post_init__(self) -> None:
        self._p = _S5Rate(memory=self.memory)

    def decide(self, now: float, *rest: int) -> int:  # type: ignore[override]
        rate = self._p
        assert isinstance(rate, _S5Rate)
        if now - rate.now > 5.0:
            rate.now = now
            self._row_stale = 1 << 20
        return super().decide(now, *rest)


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class MultiHorizon(PredictivePacing):
    """Answers expected by each horizon ``h`` against operators free by ``h + slack``."""

    horizons: tuple[int, ...] = (4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28)
    slack: float = 2.0
    _rows: list[list[float]] = attrs.field(init=False, factory=list)
    _cdf: list[float] = attrs.field(init=False, factory=list)
    _by_h: list[float] = attrs.field(init=False, factory=list)

    def note(self, kind: Observation, now: float, seconds: float) -> None:
        if kind is Observation.DIALED and self._rows:
            self._by_h = [d + r[0] for d, r in zip(self._by_h, self._rows, strict=True)]
        super().note(kind, now, seconds)

    def _resolve(self, launched_at: float) -> None:
        launches = self._launches
        if launches and self._rows:
            i = min(bisect.bisect_left(launches, launched_at - 1e-6), len(launches) - 1)
            if i > 0 and launched_at - launches[i - 1] < launches[i] - launched_at:
                i -= 1
            age = max(0, int(self._ringing_at - launches[i]))
            self._by_h = [d - r[age] for d, r in zip(self._by_h, self._rows, strict=True)]
        super()._resolve(launched_at)

    def _refresh_row(self) -> None:
        super()._refresh_row()
        p = self._p.value
        surv = self._ring.survival_table()

        def s(k: int) -> float:
            return surv[k] if k < len(surv) else 0.0

        self._rows, self._cdf = [], []
        for h in self.horizons:
            row = []
            for k in range(int(self._no_answer_after) + 1):
                den = p * s(k) + 1.0 - p
                row.append(p * (s(k) - s(k + h)) / den if den > 0 else 0.0)
            self._rows.append(row + [0.0] * _ROW_PAD)
            self._cdf.append(1.0 - s(h))
        self._by_h = [0.0] * len(self.horizons)

    def _recount(self, now: float) -> None:
        super()._recount(now)
        size = len(self._rows[0])
        ages = [min(size - 1, max(0, int(now - t))) for t in self._launches]
        self._by_h = [sum(map(r.__getitem__, ages)) for r in self._rows]

    def _predict(
        self, now: float, dialing: int, waiting: int, idle: int, wrapup: int, talking: int
    ) -> int:
        super()._predict(now, dialing, waiting, idle, wrapup, talking)  # refreshes the state
        p, talk = self._p_now, self._mean_talk(now)
        best = 1 << 30
        for h, cdf, ringing in zip(self.horizons, self._cdf, self._by_h, strict=True):
            reach = h + self.slack
            f = min(1.0, reach / talk)
            supply = idle + talking * f
            if self._wrap_starts:
                supply += bisect.bisect_right(self._wrap_starts, now + reach - self._wrap_mean)
            ringing = max(0.0, ringing)
            var = talking * f * (1.0 - f) + (ringing * (1.0 - ringing / dialing) if dialing else 0)
            if p * cdf <= 1e-6:
                continue
            margin = supply - waiting - ringing
            n = _largest_launch(margin, var, p * cdf, self._z, 1.0 - p * cdf) if margin >= 0 else -1
            best = min(best, n)
        return best


MODELS: dict[str, type[PredictivePacing]] = {
    "predictive (as shipped)": PredictivePacing,
    "answer rate told (oracle)": RateOracle,
    "trend on the answer rate": TrendPacing,
    "multi-horizon launch rule": MultiHorizon,
}

# (label, model, extra settings, scenarios); multi-horizon needs a larger z (it checks every
# horizon with the same z), hence its own grid
Z_GRID = (1.4, 1.7, 2.0, 2.3)
Z_GRID_MULTI = (1.8, 2.1, 2.4, 2.7)
FRONTIER: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("as shipped", "predictive (as shipped)", {}, ("S1", "S5")),
    ("answer rate told (oracle)", "answer rate told (oracle)", {}, ("S5",)),
    ("trend, memory 500", "trend on the answer rate", {"trend": 1.0}, ("S5",)),
    ("trend 0.5, memory 1500", "trend on the answer rate", {"trend": 0.5, "memory": 1500}, ("S5",)),
    ("memory 1000", "predictive (as shipped)", {"memory": 1000.0}, ("S5",)),
    ("multi-horizon", "multi-horizon launch rule", {}, ("S1",)),
]

CONTROLLERS: dict[str, dict[str, Any]] = {
    "default (brake 0.4 below 3 abandons)": {},
    "no brake (the previous default)": {"brake": 0.0},
    "no brake, no guard": {"brake": 0.0, "guard": -1e9},
    "headroom 0.5 sd": {"headroom": 0.5},
    "integral gain halved": {"gain": 0.025},
}


def _grid(model: str) -> tuple[float, ...]:
    return Z_GRID_MULTI if model == "multi-horizon launch rule" else Z_GRID


def _run(args: tuple[str, dict[str, Any], str, float, int]) -> tuple[float, int, int]:
    model, settings, scenario, hours, seed = args
    s = SCENARIOS[scenario]
    if hours != s.hours:
        s = attrs.evolve(s, hours=hours)
    r = simulate(s, MODELS[model](**settings), seed)
    return r.occupancy, r.answers, r.abandoned


def _at_cap(points: list[tuple[float, float]]) -> float | None:
    for (a0, o0), (a1, o1) in itertools.pairwise(sorted(points)):
        if a0 <= CAP <= a1 and a1 > a0:
            return o0 + (o1 - o0) * (CAP - a0) / (a1 - a0)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sweep-seeds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    fixed = {"gain": 0.0, "z_team_slope": 0.0, "brake": 0.0, "guard": -1e9}

    jobs: list[tuple[str, dict[str, Any], str, float, int]] = []
    for _, model, extra, scenarios in FRONTIER:
        for sc in scenarios:
            for z in _grid(model):
                settings = {**extra, **fixed, "z_start": z}
                jobs += [(model, settings, sc, 8.0, k) for k in range(args.sweep_seeds)]
    ctl_scenarios = ("S1", "S2", "S4", "S5")
    for settings in CONTROLLERS.values():
        for sc in ctl_scenarios:
            jobs += [("predictive (as shipped)", settings, sc, 8.0, k) for k in range(args.seeds)]
        jobs += [("predictive (as shipped)", settings, "S2", 1.0, k) for k in range(50)]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = iter(list(pool.map(_run, jobs, chunksize=2)))

    def take(n: int) -> list[tuple[float, int, int]]:
        return [next(results) for _ in range(n)]

    frontier: list[dict[str, Any]] = []
    for label, model, _, scenarios in FRONTIER:
        for sc in scenarios:
            pts = []
            for z in _grid(model):
                runs = take(args.sweep_seeds)
                occ = sum(r[0] for r in runs) / len(runs)
                rate = sum(r[2] for r in runs) / max(1, sum(r[1] for r in runs))
                pts.append({"z": z, "occupancy": occ, "abandon_pooled": rate})
            at = _at_cap([(p["abandon_pooled"], p["occupancy"]) for p in pts])
            frontier.append(
                {"variant": label, "scenario": sc, "z_grid": _grid(model), "sweep": pts}
                | {"at_3pct": at}
            )
    controllers: list[dict[str, Any]] = []
    for label in CONTROLLERS:
        row: dict[str, Any] = {"variant": label}
        for sc in ctl_scenarios:
            runs = take(args.seeds)
            row[sc] = {
                "occupancy": sum(r[0] for r in runs) / len(runs),
                "abandon_max": max(r[2] / r[1] for r in runs),
            }
        short = take(50)
        row["S2_1h"] = {
            "occupancy": sum(r[0] for r in short) / len(short),
            "over_cap": sum(r[2] > CAP * r[1] for r in short),
            "runs": len(short),
        }
        controllers.append(row)

    report = {"seeds": args.seeds, "sweep_seeds": args.sweep_seeds}
    report |= {"frontier": frontier, "controllers": controllers}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pacing_ablations.json").write_text(json.dumps(report, indent=2))
    print(render(report))
    return 0


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def render(report: dict[str, Any]) -> str:
    """Both tables as Markdown."""
    lines = [
        f"Frontier: occupancy at exactly 3% pooled abandons along a fixed-z sweep,"
        f" {report['sweep_seeds']} seeds per point.",
        "",
        "| variant | scenario | z swept | occupancy @3% |",
        "|---|---|---|---|",
    ]
    for f in report["frontier"]:
        grid = ", ".join(f"{z:g}" for z in f["z_grid"])
        lines.append(f"| {f['variant']} | {f['scenario']} | {grid} | {_pct(f['at_3pct'])} |")
    lines += [
        "",
        f"Controller: mean occupancy (worst seed's abandon rate), {report['seeds']} 8-hour"
        " shifts; S2 1 h: 50 one-hour shifts of 5 operators, runs over 3%.",
        "",
        "| variant | S1 | S2 | S4 | S5 | S2 1 h: occupancy, runs over 3% |",
        "|---|---|---|---|---|---|",
    ]
    for c in report["controllers"]:
        cells = [
            f"{_pct(c[sc]['occupancy'])} ({_pct(c[sc]['abandon_max'])})"
            for sc in ("S1", "S2", "S4", "S5")
        ]
        short = c["S2_1h"]
        cells.append(f"{_pct(short['occupancy'])}, {short['over_cap']}/{short['runs']}")
        lines.append(f"| {c['variant']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
