"""How much of the shut valve's gap is information: the launch rule told more, step by step.

Run ``python benchmarks/pacing/shut_bound.py`` (``--seeds N`` a sweep point, default 5;
``--default-seeds N`` for the shipped defaults, default 10; ``--probe-seeds N``, default 1;
``--workers N``; ``--only S1,S2``, default S1, S2, S4, S5, S6; ``--out DIR``; about half an
hour on 2 busy cores; ``--render FILE`` prints the tables of a saved run). It prints two
Markdown tables and writes ``pacing_shut_bound.json`` into ``--out`` (default
benchmarks/results/; a run of other cases or models writes ``pacing_shut_bound_partial.json``).

The predictive policy with its release valve shut (``release_after=None``) against the valve
open, on S1-S6 asked every second (``simulate``'s default cadence, as the dialer core asks).
Every informed variant runs with a *fixed* safety margin ``z`` (no controller, no brake, no
guard), swept, and is read at exactly 3% pooled abandons (interpolated along the sweep, as the
suite's "@3%" columns), and where the worst seed's rate is exactly 3% (the suite's gate, on
the sweep's seeds): the best margin for that scenario in hindsight, which no controller can
beat by more than its luck. The steps:

- *learnt*: the shipped launch rule on its learnt estimates (answer rate, ring times, talk);
- *true parameters*: the same rule told the scenario's answer rate ``p(t)`` (refreshed every
  5 s), the true ring-time distribution of answered calls, the no-answer timeout, the talk
  and wrap-up means;
- *+ talk oracle*: and told when each operator will be free (talk end plus wrap-up, the
  simulator's own list, as :class:`~autoinformer.sim.pacing.TalkOracle`);
- *+ talk oracle, time-resolved*: and a time-resolved rule instead of one look-ahead: for
  every second ``h`` of the ring window, the callees waiting, each ringing call's
  ``P(answer within h | rung a)`` and the new calls' ``n p G(h)`` (``G`` the ring-time
  distribution), plus ``z`` standard deviations of all of them, against the operators known
  to be free by ``h`` plus the callee's patience; the largest ``n`` every second admits. All
  a launch could know, and more (no dialer knows the talk ends): the best-informed launch
  rule a real policy could approach;
- *+ ringing calls' fates*: and told which of the calls already ringing will answer and when
  (the simulator's common random numbers replayed from the seed), the same rule with those
  answers counted as certain. Knowledge no launch can have (it is what the valve learns by
  waiting 15 s and acts on by hanging up): the ceiling, not a target;
- *learnt, time-resolved*: that rule on the learnt estimates (``ablations.MultiHorizon``): the
  rule's form without the information.

Against: the valve open at a fixed ``z`` swept the same way (learnt estimates), and the
shipped defaults (the controller) with the valve open and shut, ten seeds, with the worst
seed's abandon rate. If even the best-informed shut rule at 3% (talk oracle, time-resolved)
stays more than a point under the valve open, the gap is the action (hanging up ringing
calls), not information.

The sweep: a probe on ``--probe-seeds`` seeds over a wide grid of ``z`` finds where the pooled
abandon rate crosses 3%; then ``--seeds`` seeds at four margins around it; the crossing is
interpolated between the two that bracket it ("n/a" if none do).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from autoinformer.pacing.base import Observation
from autoinformer.pacing.estimators import DiscountedMean, DiscountedRate, RingHistogram
from autoinformer.pacing.predictive import PredictivePacing, _largest_launch
from autoinformer.sim.pacing import SCENARIOS, Scenario, simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ablations import MultiHorizon
from suite import CAP, RESULTS

SUITE = ["S1", "S2", "S3", "S4", "S5", "S6"]
# S3 is left out by default: its valve neither releases (0.3 calls an operator-hour) nor gains
# (shut and open both 95.7%, pacing_stress.md), and its runs are the slowest
DEFAULT_CASES = ["S1", "S2", "S4", "S5", "S6"]
_DIALED = Observation.DIALED


@attrs.define(kw_only=True)
class _TrueRate(DiscountedRate):
    """The answer rate as the scenario sets it at ``now`` (it still counts the trials, so the
    policy's warm-up ends as it would)."""

    scenario: Scenario = attrs.field(factory=Scenario)
    now: float = 0.0

    @property
    def value(self) -> float:
        return self.scenario.answer_probability(self.now)


@attrs.define(kw_only=True)
class _TrueRing(RingHistogram):
    """Answered calls ring uniformly between ``lo`` and ``hi`` seconds (the simulator's draw)."""

    lo: float = 5.0
    hi: float = 25.0

    @property
    def mean(self) -> float:
        return (self.lo + self.hi) / 2.0

    def survival_table(self) -> list[float]:
        span = self.hi - self.lo
        out = []
        for k in range(self.bins + 1):
            s = 1.0 if k <= self.lo else 0.0 if k >= self.hi else (self.hi - k) / span
            out.append(s)
        return out


@attrs.define(kw_only=True)
class _Fixed(DiscountedMean):
    """A mean that is told, not learnt."""

    @property
    def mean(self) -> float:
        return self.prior


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class Told(PredictivePacing):
    """The shipped launch rule told the scenario's true parameters (a reference, not a policy):
    the answer rate at the time (refreshed every 5 s), the ring-time distribution, the
    no-answer timeout, the mean talk and wrap-up."""

    scenario: Scenario = attrs.field(factory=Scenario)
    _told_at: float = attrs.field(init=False, default=-1e18)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        s = self.scenario
        self._p = _TrueRate(memory=self.memory, scenario=s)
        self._ring = _TrueRing(lo=s.ring_min, hi=s.ring_max)
        self._no_answer_after = s.no_answer_timeout
        self._wrap = _Fixed(prior=s.wrapup)
        self._wrap_mean = s.wrapup

    def _mean_talk(self, now: float) -> float:
        return self.scenario.talk_mean

    def decide(self, now: float, *rest: int) -> int:  # type: ignore[override]
        rate = self._p
        assert isinstance(rate, _TrueRate)
        rate.now = now
        if now - self._told_at >= 5.0:
            self._told_at = now
            self._row_stale = 1 << 20  # rebuild the tables with the rate now
        return super().decide(now, *rest)


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class ToldTalk(Told):
    """:class:`Told`, and when each operator will be free (the simulator's list)."""

    _free_at: list[float] = attrs.field(init=False, factory=list)

    def bind_free_times(self, free_at: list[float]) -> None:
        """The simulator hands over its live list of per-operator free times."""
        object.__setattr__(self, "_free_at", free_at)

    def _supply(
        self, now: float, idle: int, wrapup: int, talking: int, look: float
    ) -> tuple[float, float]:
        horizon = now + look
        return float(sum(1 for t in self._free_at if t <= horizon)), 0.0


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class ToldFates(ToldTalk):
    """:class:`ToldTalk`, and which ringing calls will answer and when (the simulator's
    common random numbers replayed from ``seed``), with the time-resolved launch rule.

    For each second ``h`` of the ring window: the callees waiting plus the ringing calls known
    to answer by ``now + h``, plus ``n p G(h)`` of the ``n`` new calls (``G``: P(ring <= h))
    and ``z`` standard deviations of those, against the operators free by ``now + h +
    patience``. The largest ``n`` that every second admits."""

    seed: int = 0
    _rng: random.Random = attrs.field(init=False, factory=random.Random)
    _answers_at: list[float] = attrs.field(init=False, factory=list)
    _mu: float = attrs.field(init=False, default=0.0)
    _sigma: float = attrs.field(init=False, default=1.0)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        s = self.scenario
        self._rng = random.Random(self.seed)
        self._sigma = math.sqrt(math.log1p(s.talk_cv**2))
        self._mu = math.log(s.talk_mean) - self._sigma**2 / 2.0

    def note(self, kind: Observation, now: float, seconds: float) -> None:
        if kind is _DIALED:  # the simulator's three draws for this lead, in its order
            s = self.scenario
            u = self._rng.random()
            ring = s.ring_min + (s.ring_max - s.ring_min) * self._rng.random()
            self._rng.lognormvariate(self._mu, self._sigma)
            if u < s.answer_probability(now):
                bisect.insort(self._answers_at, now + ring)
        super().note(kind, now, seconds)

    def _predict(
        self, now: float, dialing: int, waiting: int, idle: int, wrapup: int, talking: int
    ) -> int:
        s = self.scenario
        answers = self._answers_at
        del answers[: bisect.bisect_right(answers, now)]
        free = sorted(self._free_at)
        p = s.answer_probability(now)
        span = s.ring_max - s.ring_min
        best = 1 << 30
        for h in range(1, math.ceil(s.ring_max) + 1):
            g = 1.0 if h >= s.ring_max else 0.0 if h <= s.ring_min else (h - s.ring_min) / span
            q = p * g
            if q <= 1e-9:
                continue
            margin = bisect.bisect_right(free, now + h + s.patience) - waiting
            margin -= bisect.bisect_right(answers, now + h)
            n = _largest_launch(margin, 0.0, q, self._z, 1.0 - q) if margin > 0 else 0
            if n < best:
                best = n
        return best


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class ToldResolved(ToldTalk):
    """:class:`ToldTalk` with the time-resolved launch rule, the ringing calls by their ages
    (not their fates): for each second ``h`` of the ring window, the callees waiting plus each
    ringing call's ``P(answer within h | rung a)`` plus ``n p G(h)``, and ``z`` standard
    deviations of all of them, against the operators known to be free by ``now + h +
    patience``. What the fates add over this is knowledge no launch can have."""

    _table: Any = attrs.field(init=False, default=None)
    _table_p: float = attrs.field(init=False, default=-1.0)

    def _build(self, p: float) -> None:
        s = self.scenario
        surv = np.array(self._ring.survival_table() + [0.0] * 200)
        ages = np.arange(int(s.no_answer_timeout) + 2)[:, None]
        hs = np.arange(1, math.ceil(s.ring_max) + 1)[None, :]
        alive = p * surv[ages]
        self._table = np.where(alive > 0, p * (surv[ages] - surv[ages + hs]) / (alive + 1 - p), 0.0)
        self._table_p = p

    def _predict(
        self, now: float, dialing: int, waiting: int, idle: int, wrapup: int, talking: int
    ) -> int:
        self._catch_up(now, dialing)
        s = self.scenario
        p = s.answer_probability(now)
        if p != self._table_p:
            self._build(p)
        table = self._table
        hs = np.arange(1, table.shape[1] + 1)
        if self._launches:
            ages = np.minimum(table.shape[0] - 1, (now - np.array(self._launches)).astype(int))
            rows = table[np.maximum(ages, 0)]
            ringing = rows.sum(axis=0)
            var = (rows * (1.0 - rows)).sum(axis=0)
        else:
            ringing = var = np.zeros(len(hs))
        free = np.sort(np.array(self._free_at))
        supply = np.searchsorted(free, now + hs + s.patience, side="right")
        span = s.ring_max - s.ring_min
        g = np.clip((hs - s.ring_min) / span, 0.0, 1.0) if span > 0 else (hs >= s.ring_max) * 1.0
        best = 1 << 30
        for margin, v, q in zip(supply - waiting - ringing, var, p * g, strict=True):
            if q <= 1e-9:
                continue
            n = _largest_launch(float(margin), float(v), float(q), self._z, 1.0 - float(q))
            if margin <= 0:
                n = 0
            if n < best:
                best = n
        return best


SHUT: dict[str, Any] = {"release_after": None}
FIXED: dict[str, Any] = {
    "gain": 0.0,
    "z_team_slope": 0.0,
    "z_team_slope_settled": 0.0,
    "brake": 0.0,
    "guard": -1e9,
}
# label -> (class, settings, swept): the steps of information, and the references
MODELS: dict[str, tuple[type[PredictivePacing], dict[str, Any], bool]] = {
    "valve open, learnt (fixed z)": (PredictivePacing, {}, True),
    "shut, learnt (fixed z)": (PredictivePacing, SHUT, True),
    "shut, true parameters": (Told, SHUT, True),
    "shut, true parameters + talk oracle": (ToldTalk, SHUT, True),
    "shut, true parameters + talk oracle, time-resolved": (ToldResolved, SHUT, True),
    "shut, + ringing calls' fates, time-resolved": (ToldFates, SHUT, True),
    "shut, learnt, time-resolved": (MultiHorizon, {**SHUT, "slack": 2.0}, True),
    "valve open, shipped defaults": (PredictivePacing, {}, False),
    "shut, shipped defaults": (PredictivePacing, SHUT, False),
}
PROBE = (0.0, 1.0, 2.0, 3.0, 4.0)
AROUND = (-0.4, -0.12, 0.16, 0.44)


def make(label: str, case: str, seed: int, z: float | None) -> PredictivePacing:
    """The policy ``label`` for ``case`` and ``seed`` (``z``: a fixed margin, else the
    defaults)."""
    cls, settings, _ = MODELS[label]
    kw = dict(settings)
    if z is not None:
        kw |= FIXED | {"z_start": z}
    if issubclass(cls, Told):
        kw["scenario"] = SCENARIOS[case]
    if cls is ToldFates:
        kw["seed"] = seed
    return cls(**kw)


def _run(job: tuple[str, str, float | None, int]) -> dict[str, Any]:
    label, case, z, seed = job
    r = simulate(SCENARIOS[case], make(label, case, seed, z), seed)
    return {
        "label": label,
        "case": case,
        "z": z,
        "seed": seed,
        "occupancy": r.occupancy,
        "answers": r.answers,
        "abandoned": r.abandoned,
        "abandon_rate": r.abandon_rate,
        "released_per_agent_hour": r.released_per_agent_hour,
        "forgone_per_agent_hour": r.answers_forgone_per_agent_hour,
    }


def _point(runs: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(runs)
    return {
        "seeds": n,
        "occupancy": sum(r["occupancy"] for r in runs) / n,
        "abandon_pooled": sum(r["abandoned"] for r in runs)
        / max(1, sum(r["answers"] for r in runs)),
        "abandon_max": max(r["abandon_rate"] for r in runs),
        "released_per_agent_hour": sum(r["released_per_agent_hour"] for r in runs) / n,
        "forgone_per_agent_hour": sum(r["forgone_per_agent_hour"] for r in runs) / n,
    }


def _sweep(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_z: dict[float, list[dict[str, Any]]] = {}
    for r in runs:
        by_z.setdefault(r["z"], []).append(r)
    return [{"z": z} | _point(rs) for z, rs in sorted(by_z.items())]


def crossing(points: list[dict[str, Any]], key: str = "abandon_pooled") -> dict[str, float] | None:
    """Where ``key`` (the pooled abandon rate, or the worst seed's) crosses 3%, along ``z``
    (abandons falling as it grows): ``z`` and every figure interpolated there."""
    keys = ("z", "occupancy", "released_per_agent_hour", "forgone_per_agent_hour")
    for a, b in itertools.pairwise(sorted(points, key=lambda p: p["z"])):
        a0, a1 = a[key], b[key]
        if (a0 - CAP) * (a1 - CAP) <= 0.0 and a0 != a1:
            w = (a0 - CAP) / (a0 - a1)
            return {k: a[k] + (b[k] - a[k]) * w for k in keys}
    return None


def _pool(jobs: list[tuple[str, str, float | None, int]], workers: int) -> list[dict[str, Any]]:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_run, jobs, chunksize=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--probe-seeds", type=int, default=1)
    parser.add_argument("--default-seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default=",".join(DEFAULT_CASES), help="scenarios (S1-S6)")
    parser.add_argument("--models", default="", help="model labels, ';'-separated (all)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--render", type=Path, help="print the tables of a saved JSON, no runs")
    args = parser.parse_args(argv)
    if args.render is not None:
        saved = json.loads(args.render.read_text())
        print(render(saved, list(next(iter(saved["models"].values())))))
        return 0
    cases = args.only.split(",")
    labels = args.models.split(";") if args.models else list(MODELS)
    t0 = time.perf_counter()
    swept = [m for m in labels if MODELS[m][2]]
    probe_jobs = [
        (m, c, z, s) for m in swept for c in cases for z in PROBE for s in range(args.probe_seeds)
    ]
    probe = _pool(probe_jobs, args.workers)
    centre: dict[tuple[str, str], float] = {}
    for m in swept:
        for c in cases:
            pts = _sweep([r for r in probe if (r["label"], r["case"]) == (m, c)])
            at = crossing(pts)
            centre[m, c] = at["z"] if at is not None else PROBE[-1]
    jobs: list[tuple[str, str, float | None, int]] = [
        (m, c, round(centre[m, c] + d, 3), s)
        for m in swept
        for c in cases
        for d in AROUND
        for s in range(args.seeds)
    ]
    jobs += [
        (m, c, None, s)
        for m in labels
        if not MODELS[m][2]
        for c in cases
        for s in range(args.default_seeds)
    ]
    runs = _pool(jobs, args.workers)
    report: dict[str, Any] = {"cap": CAP, "seeds": args.seeds, "probe_seeds": args.probe_seeds}
    report["default_seeds"] = args.default_seeds
    table: dict[str, dict[str, Any]] = {}
    for m in labels:
        table[m] = {}
        for c in cases:
            mine = [r for r in runs if (r["label"], r["case"]) == (m, c)]
            if MODELS[m][2]:
                pts = _sweep(mine)
                table[m][c] = {
                    "sweep": pts,
                    "at_3pct": crossing(pts),
                    "worst_seed_at_3pct": crossing(pts, "abandon_max"),
                }
            else:
                table[m][c] = _point(mine)
    report["models"] = table
    report["wall_seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    name = (
        "pacing_shut_bound.json"
        if cases == DEFAULT_CASES and len(labels) == len(MODELS)
        else "pacing_shut_bound_partial.json"
    )
    (args.out / name).write_text(json.dumps(report, indent=2))
    print(render(report, cases))
    return 0


def render(report: dict[str, Any], cases: list[str]) -> str:
    """Two tables: occupancy where the pooled abandon rate is 3%, and where the worst seed's
    is (both along the fixed-``z`` sweep; the shipped defaults as run), with points against
    the valve open read the same way."""
    out = []
    for key, title in (
        ("at_3pct", "the pooled abandon rate is exactly 3%"),
        ("worst_seed_at_3pct", "the worst seed's abandon rate is exactly 3% (the suite's gate)"),
    ):
        out.append(_table(report, cases, key, title))
    return "\n".join(out)


def _table(report: dict[str, Any], cases: list[str], key: str, title: str) -> str:
    models = report["models"]
    ref_label = "valve open, learnt (fixed z)"
    ref = models.get(ref_label, {})

    def occ(m: str, c: str) -> float | None:
        e = models[m][c]
        if MODELS[m][2]:
            at = e.get(key) if key in e else _recross(e, key)
            return None if at is None else float(at["occupancy"])
        return float(e["occupancy"])

    lines = [
        f"Occupancy where {title}, along a fixed `z` swept ({report['seeds']} seeds a point;"
        " `z` there), and points against the valve open read the same way. Shipped defaults"
        f" ({report['default_seeds']} seeds): mean occupancy (worst seed's abandons).",
        "",
        "| model | " + " | ".join(cases) + " |",
        "|---|" + "---|" * len(cases),
    ]
    for m, by_case in models.items():
        cells = []
        for c in cases:
            o = occ(m, c)
            if o is None:
                cells.append("n/a")
                continue
            e = by_case[c]
            cell = f"{100 * o:.1f}%"
            if MODELS[m][2]:
                at = e.get(key) if key in e else _recross(e, key)
                assert at is not None
                cell += f" (z {at['z']:.2f})"
            else:
                cell += f" ({100 * e['abandon_max']:.1f}%)"
            r = occ(ref_label, c) if c in ref else None
            if m != ref_label and r is not None:
                cell += f" {100 * (o - r):+.1f}"
            cells.append(cell)
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _recross(entry: dict[str, Any], key: str) -> dict[str, float] | None:
    """A crossing read again from a saved sweep (a JSON written before it was stored)."""
    return crossing(
        entry["sweep"], "abandon_max" if key == "worst_seed_at_3pct" else "abandon_pooled"
    )


if __name__ == "__main__":
    sys.exit(main())
