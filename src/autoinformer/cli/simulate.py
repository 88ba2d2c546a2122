"""``autoinformer simulate``: one shift of a campaign in virtual time, for capacity planning.

Runs the fast pacing simulator (autoinformer.sim.pacing) with the chosen pacing policy and
prints the shift's figures, as text or as JSON (``--json``). With ``--contacts N`` it answers
"when will this list be done?" (``finished_after_s``). The predictive policy may hang up calls
still ringing after ``--release-after`` seconds (default 15, the legal floor) when more answers
are coming than operators to take them; ``--no-release`` (or ``--release-after 0``) turns that
off. The figures count them (``released``) and the answers they cost (``answers_forgone``).

``--pacing uccx|vicidial-ratio|vicidial-adapt|issabel`` run the field's policies as the pacing
benchmark emulates them (autoinformer.pacing.baselines: baselines to compare with, not
recommendations); ``--answer-rate-schedule "0:0.35,2h:0.08"`` steps the answer rate during the
shift, as the benchmark's stress cases do. The simulator asks the pacing every second as well
as at each event, as the dialer core does (``--decide-every``), so its figures are the core's.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import PACING_POLL, BroadcastPacing, PacingPolicy
from autoinformer.pacing.baselines import (
    AnswerRatePowerPacing,
    UccxPacing,
    VicidialMethod,
    VicidialPacing,
)
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.pacing.progressive import PowerPacing, ProgressivePacing
from autoinformer.sim.pacing import Scenario, simulate

__all__ = ["register"]

EXIT_OK, EXIT_USAGE = 0, 2


def _cadence(text: str) -> float:
    """``--decide-every``: seconds >= 0 (0: at the simulator's events only)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds (like 1), got {text!r}") from None
    if not value >= 0.0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be 0 (events only) or more seconds, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``simulate`` sub-command."""
    p = subparsers.add_parser(
        "simulate",
        help="simulate a shift of dialling (pacing, operators, abandons) in virtual time",
        description=__doc__,
    )
    p.add_argument(
        "--agents",
        type=int,
        default=20,
        help="operators logged in (default 20); with --pacing broadcast also the line limit",
    )
    p.add_argument(
        "--answer-rate", type=float, default=0.3, help="answer probability (default 0.3)"
    )
    p.add_argument(
        "--answer-rate-drift",
        type=float,
        default=0.0,
        metavar="A",
        help="answer probability is P + A cos(2 pi t / shift)",
    )
    p.add_argument(
        "--answer-rate-schedule",
        default="",
        metavar="STEPS",
        help="an answer rate that steps during the shift, START:RATE steps from the shift's"
        ' start (like "0:0.35,2h:0.08"); replaces --answer-rate',
    )
    p.add_argument(
        "--ring",
        default="5,25",
        metavar="LO,HI",
        help="seconds an answered call rings, uniform between LO and HI (default 5,25)",
    )
    p.add_argument(
        "--no-answer-timeout",
        type=float,
        default=25.0,
        metavar="S",
        help="seconds an unanswered call rings before it is given up (default 25; no shorter"
        " than the longest --ring)",
    )
    p.add_argument(
        "--talk-mean",
        type=float,
        default=120.0,
        metavar="S",
        help="mean seconds an operator talks with a callee (default 120)",
    )
    p.add_argument(
        "--talk-cv",
        type=float,
        default=1.0,
        metavar="C",
        help="spread of the (lognormal) talk time: its standard deviation / mean; 0: every"
        " talk lasts --talk-mean (default 1)",
    )
    p.add_argument(
        "--wrap",
        type=float,
        default=10.0,
        metavar="S",
        help="operator wrap-up seconds after each call (default 10)",
    )
    p.add_argument("--hours", type=float, default=8.0, help="shift length (default 8)")
    p.add_argument("--contacts", type=int, default=None, help="list size (default: unlimited)")
    p.add_argument(
        "--pacing",
        choices=("broadcast", "progressive", "power", "predictive", *BASELINES),
        default="predictive",
        help="how many calls to launch (default predictive: from the answer rate; power: "
        "--ratio lines per idle operator; progressive: one per idle operator; broadcast: "
        "every line). Baselines, the field's policies as the benchmark emulates them: uccx"
        " (Cisco UCCX, lines per idle operator corrected from the abandon rate), vicidial-ratio"
        " (VICIdial RATIO, --ratio lines per agent, default 1.5), vicidial-adapt (VICIdial"
        " ADAPT_AVERAGE, 3%% drop target), issabel (1 / answer rate lines per idle operator)",
    )
    p.add_argument(
        "--ratio",
        type=float,
        default=None,
        help="lines per idle operator (power, default 2) or per agent (vicidial-ratio, default"
        " 1.5)",
    )
    p.add_argument(
        "--release-after",
        type=float,
        default=15.0,
        metavar="S",
        help="predictive: may hang up calls still ringing after S seconds when more answers are"
        " coming than operators (default 15, the legal floor; 0 disables)",
    )
    p.add_argument(
        "--no-release",
        action="store_true",
        help="predictive: never hang up a ringing call (same as --release-after 0)",
    )
    p.add_argument(
        "--abandon-hourly-cap",
        type=float,
        default=None,
        metavar="RATE",
        help="predictive: also keep abandons under RATE of the live answers in every clock hour"
        " (like 0.03), not only over the shift; it costs occupancy (docs/pacing.md)",
    )
    p.add_argument(
        "--decide-every",
        type=_cadence,
        default=PACING_POLL,
        metavar="S",
        help="ask the pacing every S seconds as well as at each event, as the dialer core does"
        " (default %(default)g, the core's cadence); 0: at events only, as the figures before"
        " issue #18 were made",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="random seed: same seed, same figures (default 0)"
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(handler=run)


_OPTIONS = {
    "answer_rate_schedule": "--answer-rate-schedule",
    "ring_max": "--ring",
    "ring_min": "--ring",
    "no_answer_timeout": "--no-answer-timeout",
    "answer_rate": "--answer-rate",
    "answer_rate_drift": "--answer-rate-drift",
}


def _scenario(args: argparse.Namespace, **settings: Any) -> Scenario:
    """The scenario, its errors naming the command-line option rather than the field."""
    try:
        return Scenario(**settings)
    except SettingsError as exc:
        field, _, where = exc.field.partition(" ")  # "answer_rate_schedule step 2 start"
        if field in _OPTIONS:
            message = f"{where}: {exc.message}" if where else exc.message
            raise SettingsError(_OPTIONS[field], message) from None
        raise


def _ring(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise SettingsError(
            "--ring", f"expected LO,HI in seconds (like 5,25), got {text!r}"
        ) from None
    return lo, hi


BASELINES = ("uccx", "vicidial-ratio", "vicidial-adapt", "issabel")
"""The field's policies (:mod:`autoinformer.pacing.baselines`), as ``--pacing`` names them."""


def _policy(args: argparse.Namespace) -> PacingPolicy:
    if args.pacing == "broadcast":
        return BroadcastPacing()
    if args.pacing == "progressive":
        return ProgressivePacing()
    if args.pacing == "power":
        return PowerPacing(ratio=2.0 if args.ratio is None else args.ratio)
    if args.pacing == "uccx":
        return UccxPacing()
    if args.pacing == "vicidial-ratio":
        try:
            return VicidialPacing(dial_level=1.5 if args.ratio is None else args.ratio)
        except SettingsError as exc:
            raise SettingsError("--ratio", exc.message) from None
    if args.pacing == "vicidial-adapt":
        return VicidialPacing(method=VicidialMethod.ADAPT_AVERAGE)
    if args.pacing == "issabel":
        return AnswerRatePowerPacing()
    after = None if args.no_release or args.release_after == 0 else args.release_after
    try:
        return PredictivePacing(release_after=after, abandon_hourly_cap=args.abandon_hourly_cap)
    except SettingsError as exc:  # name the option, not the setting
        if exc.field.endswith("abandon_hourly_cap"):
            raise SettingsError("--abandon-hourly-cap", exc.message) from None
        raise SettingsError(
            "--release-after", f"must be 0 (off) or >= 15 seconds, got {args.release_after:g}"
        ) from exc


def run(args: argparse.Namespace) -> int:
    """Simulate and print; exit 2 with a message naming the option on bad settings."""
    try:
        lo, hi = _ring(args.ring)
        broadcast = args.pacing == "broadcast"
        scenario = _scenario(
            args,
            agents=args.agents,
            answer_rate=args.answer_rate,
            answer_rate_drift=args.answer_rate_drift,
            answer_rate_schedule=args.answer_rate_schedule,
            ring_min=lo,
            ring_max=hi,
            no_answer_timeout=args.no_answer_timeout,
            talk_mean=args.talk_mean,
            talk_cv=args.talk_cv,
            wrapup=args.wrap,
            hours=args.hours,
            contacts=args.contacts,
            # broadcast has no operators to pace by: one line per "agent" is the line limit
            lines=args.agents if broadcast else None,
        )
        policy = _policy(args)
    except SettingsError as exc:
        print(f"autoinformer simulate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    bar = _progress_bar(scenario.shift_seconds)
    try:
        result = simulate(
            scenario,
            policy,
            args.seed,
            progress=bar.update if bar else None,
            decide_every=args.decide_every or None,
        )
    finally:
        if bar is not None:
            bar.close()
    figures = result.as_dict()
    if args.json:
        print(json.dumps(figures, indent=2))
        return EXIT_OK
    print(
        f"{args.pacing} pacing, {args.agents} operators, {args.hours:g} h"
        f" (seed {args.seed}):\n"
        f"  occupancy            {100 * result.occupancy:.1f}%\n"
        f"  abandoned            {result.abandoned} of {result.answers} live answers"
        f" ({100 * result.abandon_rate:.2f}%)\n"
        f"  dials                {result.dials}\n"
        f"  released ringing     {result.released}"
        f" ({result.answers_forgone} of them would have answered)\n"
        f"  connects per op-hour {result.connects_per_agent_hour:.1f}\n"
        f"  idle s per connect   {result.idle_per_connect_s:.1f}"
    )
    if args.contacts is not None:
        done = result.finished_after_s
        print(
            "  list finished after  "
            + ("not within the shift" if done is None else f"{done / 3600:.2f} h")
        )
    return EXIT_OK


class _Bar:
    def __init__(self, total: float) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=round(total), unit="s", file=sys.stderr, leave=False)
        self._at = 0

    def update(self, t: float) -> None:
        step = round(t) - self._at
        if step > 0:
            self._bar.update(step)
            self._at += step

    def close(self) -> None:
        self._bar.close()


def _progress_bar(total: float) -> _Bar | None:
    """A tqdm bar on stderr for long runs when stderr is a terminal."""
    if not sys.stderr.isatty() or total < 4 * 3600:
        return None
    return _Bar(total)
