"""The release valve shut: what was tried to close the gap, and the hourly cap's hours.

Run ``python benchmarks/pacing/shut_valve.py`` (``--seeds N``, ``--hour-seeds N``,
``--workers N``, ``--out DIR``; about four minutes on 2 cores). It prints Markdown tables and
writes ``pacing_shut_valve.json`` into ``--out`` (default benchmarks/results/).

1. *Controller variants with the valve shut* (``release_after=None``), on S1-S6 over the
   suite's seeds, against the valve open: a set point nearer the cap (less headroom, or none:
   the aim), a longer or shorter look-ahead, a softer brake; and (#18, the shut valve's own
   launch rule) the time-resolved rule (answers by each second of the ring window against the
   operators free by then, ``ablations.MultiHorizon``) and launches spread out (:class:`Spread`:
   beyond progressive, at most 2 or 4 times the mean launch rate). ``--shut-only all`` (or
   ``"NAME;NAME"``) runs this table alone into ``pacing_shut_valve_variants.json``. The launch
   rule's own variants (better estimates, oracles, other horizons) are in ``ablations.py``;
   how much information could close the gap at all is ``shut_bound.py``.
2. *The hourly cap with the valve shut*, as it was (the hour's answers projected at its own
   pace, a fixed guard of two abandons) and as shipped (the projection no faster than the
   progressive fallback, the calls in flight priced at 3 standard deviations and a launch cut
   to what the hour can absorb, both at the latest launches' answer rate when it shows a
   rise, and the valve never hanging up a call an idle operator covers), on more seeds than
   the suite (``--hour-seeds``, default 30): the hours over 3%, the worst hour, the worst seed
   over the shift and the occupancy. At the simulator's default cadence (asked every second,
   as the dialer core asks).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ablations import MultiHorizon
from stress import CASES
from suite import CAP, RESULTS


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class Spread(PredictivePacing):
    """Launches spread out: beyond what progressive would launch, at most ``pace`` times the
    campaign's mean launch rate (operators over ``(ring + talk + wrap-up) p``, from the learnt
    estimates), through a bucket one second deep (at least one call): a batch the launch rule
    wants at once goes out over the next seconds, as the rule is asked again every second."""

    pace: float = 2.0
    _tokens: float = attrs.field(init=False, default=1.0)
    _last: float = attrs.field(init=False, default=0.0)

    def decide(
        self,
        now: float,
        lines_free: int,
        dialing: int,
        waiting: int,
        logged_in: int,
        idle: int,
        wrapup: int,
        talking: int,
    ) -> int:
        n = super().decide(now, lines_free, dialing, waiting, logged_in, idle, wrapup, talking)
        floor = max(0, idle - dialing - waiting)
        cycle = self._ring.mean + self._mean_talk(now) + self._wrap_mean
        rate = self.pace * logged_in / (cycle * max(self._p_now, 0.005))
        depth = max(1.0, rate)
        self._tokens = min(depth, self._tokens + rate * (now - self._last))
        self._last = now
        extra = n - floor
        if extra > 0:
            extra = min(extra, int(self._tokens))
            self._tokens -= extra
            n = floor + extra
        return n


SHUT: dict[str, dict[str, Any]] = {
    "valve open (the default)": {},
    "valve shut": {"release_after": None},
    # the shut valve's controller (#18, shut_controller.py): its margin raised by
    # shut_z_offset * ln(0.25 / p) while p < 0.25 (0.3, shipped); before, and a uniform raise
    "shut, no answer-rate offset (shut_z_offset 0)": {"release_after": None, "shut_z_offset": 0.0},
    "shut, uniform prior +0.5, no answer-rate offset": {
        "release_after": None,
        "shut_z_offset": 0.0,
        "z_start": 2.35,
    },
    "shut, headroom 0.5 sd": {"release_after": None, "headroom": 0.5},
    "shut, no headroom (set point 0.97 cap)": {"release_after": None, "headroom": 0.0},
    "shut, look-ahead +2 s": {"release_after": None, "look_extra": -2.0},
    "shut, look-ahead -2 s": {"release_after": None, "look_extra": -6.0},
    "shut, brake halved": {"release_after": None, "brake": 0.2},
    "shut, time-resolved launch rule": {"release_after": None, "model": "multi-horizon"},
    # its margin at 3% runs about 0.5 higher than the shipped rule's (shut_bound.py): the prior
    "shut, time-resolved launch rule, z prior +0.6": {
        "release_after": None,
        "model": "multi-horizon",
        "z_start": 2.45,
    },
    "shut, launches spread (2x the mean pace)": {"release_after": None, "model": "spread"},
    "shut, launches spread (4x the mean pace)": {
        "release_after": None,
        "model": "spread",
        "pace": 4.0,
    },
}
MODELS: dict[str, type[PredictivePacing]] = {
    "predictive": PredictivePacing,
    "multi-horizon": MultiHorizon,  # answers by each second of the ring window (ablations.py)
    "spread": Spread,
}
SUITE = ["S1", "S2", "S3", "S4", "S5", "S6"]

_BEFORE: dict[str, Any] = {
    "hourly_floor": False,
    "hourly_in_flight": None,
    "hourly_fast_memory": None,
    "hourly_recent_window": None,
}
HOURLY: dict[str, dict[str, Any]] = {
    "hourly cap, shut, before": {"release_after": None, "abandon_hourly_cap": CAP, **_BEFORE},
    "hourly cap, shut, as shipped": {"release_after": None, "abandon_hourly_cap": CAP},
    "hourly cap, open, before": {"abandon_hourly_cap": CAP, **_BEFORE},
    "hourly cap, open, as shipped": {"abandon_hourly_cap": CAP},
}
HOUR_CASES = ["L50", "S4", "S5", "DROP", "RISE", "RING60"]


def _run(job: tuple[str, str, str, int]) -> dict[str, Any]:
    table, case, variant, seed = job
    kw = dict((SHUT if table == "shut" else HOURLY)[variant])
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
        "abandoned": r.abandoned,
        "answers": r.answers,
        "hours": hours,
    }


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    hours = [h for r in runs for h in r["hours"]]
    return {
        "seeds": len(runs),
        "occupancy": sum(r["occupancy"] for r in runs) / len(runs),
        "abandon_max": max(r["abandon_rate"] for r in runs),
        "abandon_pooled": sum(r["abandoned"] for r in runs)
        / max(1, sum(r["answers"] for r in runs)),
        "worst_hour": max(hours, default=0.0),
        "hours_over_cap": sum(h > CAP for h in hours),
        "hours": len(hours),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--hour-seeds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--shut-only",
        default="",
        help="only the valve-shut table, these variants (';'-separated; 'all'), into"
        " pacing_shut_valve_variants.json",
    )
    parser.add_argument(
        "--hours-only",
        default=None,
        help="run only the hourly table, these variants (';'-separated, 'all' for every one);"
        " writes pacing_shut_valve_hours.json",
    )
    args = parser.parse_args(argv)
    if args.shut_only:
        return _shut_only(args)
    hourly = HOURLY
    if args.hours_only is not None:
        names = [v.strip() for v in args.hours_only.split(";") if v.strip()]
        hourly = HOURLY if names == ["all"] else {v: HOURLY[v] for v in names}
        args.seeds = 0
    jobs = [("shut", c, v, s) for c in SUITE for v in SHUT for s in range(args.seeds)]
    jobs += [
        ("hourly", c, v, s) for c in HOUR_CASES for v in hourly for s in range(args.hour_seeds)
    ]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        runs = list(pool.map(_run, jobs, chunksize=4))
    report: dict[str, Any] = {"cap": CAP, "seeds": args.seeds, "hour_seeds": args.hour_seeds}
    tables = [("hourly", hourly, HOUR_CASES)]
    if args.hours_only is None:
        tables.insert(0, ("shut", SHUT, SUITE))
    for table, variants, cases in tables:
        report[table] = {
            v: {
                c: _summary(
                    [r for r in runs if (r["table"], r["variant"], r["case"]) == (table, v, c)]
                )
                for c in cases
            }
            for v in variants
        }
    report["wall_seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    name = "pacing_shut_valve.json" if args.hours_only is None else "pacing_shut_valve_hours.json"
    (args.out / name).write_text(json.dumps(report, indent=2))
    print(render(report) if args.hours_only is None else render_hours(report))
    return 0


def _shut_only(args: argparse.Namespace) -> int:
    """The valve-shut table alone (the valve open always in it, as the reference)."""
    chosen = list(SHUT) if args.shut_only == "all" else args.shut_only.split(";")
    variants = ["valve open (the default)", *(v for v in chosen if v != "valve open (the default)")]
    jobs = [("shut", c, v, s) for c in SUITE for v in variants for s in range(args.seeds)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        runs = list(pool.map(_run, jobs, chunksize=2))
    report: dict[str, Any] = {"cap": CAP, "seeds": args.seeds}
    report["shut"] = {
        v: {c: _summary([r for r in runs if (r["variant"], r["case"]) == (v, c)]) for c in SUITE}
        for v in variants
    }
    report["wall_seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pacing_shut_valve_variants.json").write_text(json.dumps(report, indent=2))
    print(render(report))
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render(report: dict[str, Any]) -> str:
    """Two Markdown tables: the shut-valve variants on S1-S6, the hourly cap's hours."""
    lines = [
        f"Valve-shut variants ({report['seeds']} seeds): occupancy (worst seed), points against"
        " the valve open",
        "",
        "| variant | " + " | ".join(SUITE) + " |",
        "|---|" + "---|" * len(SUITE),
    ]
    shut = report["shut"]
    open_ = shut["valve open (the default)"]
    for v, by_case in shut.items():
        cells = [
            f"{_pct(e['occupancy'])} ({_pct(e['abandon_max'])})"
            + ("" if v == "valve open (the default)" else
               f" {100 * (e['occupancy'] - open_[c]['occupancy']):+.1f}")
            for c, e in by_case.items()
        ]  # fmt: skip
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    if "hourly" not in report:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        f"Hourly cap 3% ({report['hour_seeds']} seeds): occupancy, hours over 3% / hours,"
        " worst hour, worst seed over the shift",
        "",
        "| variant | " + " | ".join(HOUR_CASES) + " |",
        "|---|" + "---|" * len(HOUR_CASES),
    ]
    for v, by_case in report.get("hourly", {}).items():
        cells = [
            f"{_pct(e['occupancy'])}, {e['hours_over_cap']}/{e['hours']},"
            f" {_pct(e['worst_hour'])}, {_pct(e['abandon_max'])}"
            for e in by_case.values()
        ]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_hours(report: dict[str, Any]) -> str:
    """The hourly cap's table alone (``--hours-only``)."""
    lines = [
        f"Hourly cap 3% ({report['hour_seeds']} seeds): occupancy, hours over 3% / hours,"
        " worst hour, worst seed over the shift",
        "",
        "| variant | " + " | ".join(HOUR_CASES) + " |",
        "|---|" + "---|" * len(HOUR_CASES),
    ]
    for v, by_case in report["hourly"].items():
        cells = [
            f"{_pct(e['occupancy'])}, {e['hours_over_cap']}/{e['hours']},"
            f" {_pct(e['worst_hour'])}, {_pct(e['abandon_max'])}"
            for e in by_case.values()
        ]
        lines.append(f"| {v} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
