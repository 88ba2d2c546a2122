"""Does a campaign in the dialer core reach the fast simulator's occupancy? (issue #18, item 3)

The pacing suite measures policies in the fast simulator (:mod:`autoinformer.sim.pacing`); a
user runs them through :class:`~autoinformer.core.DialerCore`. This runs the same scenario both
ways on the same seeds: S1 (20 operators, 8 h) and the small-team cases T2 and T3 (2 and 3
operators, 4 h),
with predictive pacing (valve open and shut) and progressive, and compares occupancy (talk plus
wrap-up inside the shift over logged-in time) and the abandon rate.

The core's side: a campaign whose script transfers every answered call to one queue of the
scenario's operators (``max_wait`` = the scenario's patience, ``wrapup`` its wrap-up, ring
timeout its no-answer timeout, one attempt per contact, no window, no abandon guard on top of
the policy: ``abandon_cap=1.0``), driven in virtual time by :mod:`autoinformer.sim.driver` (the
simulated switch's virtual-time face) against a model built from the scenario. New calls stop
at the shift's end (``Pause``); calls in progress finish, and busy time is counted inside the
shift only, as the fast simulator does.

Same people: lead ``i`` (the fast simulator's i-th launched call, the core's contact ``i``:
one attempt each, dialled in order) draws the same answer draw, ring time and talk time from
the seed in both. The model is asked for an operator's talk per operator leg
(``operator(endpoint, n)``, not knowing whom the leg will be bridged to), so the driver here
gives the operator leg, at the bridge, the talk drawn for the callee it is bridged to.

The core polls the pacing every second (and wakes when a ringing call becomes eligible for
release), and so does the fast simulator by default (``simulate(decide_every=PACING_POLL)``);
that is the comparison. A last column runs the fast simulator at its own events only
(``decide_every=None``, its default until #18's third session): the predictive policy's launch
rule and release valve move with the ringing calls' ages alone, and asked less often they dial
and release less.

Run ``python benchmarks/pacing/core_agreement.py`` (``--seeds N``, ``--out DIR``); it writes
``pacing_core_agreement.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.outcomes import Outcome
from autoinformer.pacing.base import PACING_POLL, PacingPolicy
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.pacing.progressive import ProgressivePacing
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.queues.base import Operator
from autoinformer.script import Script, transfer
from autoinformer.sim.driver import DEFAULT_START, Simulation
from autoinformer.sim.model import CalleeFate, OperatorFate
from autoinformer.sim.pacing import SCENARIOS, Scenario, simulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stress import STRESS

RESULTS = Path(__file__).resolve().parents[1] / "results"
DECIDE_EVERY = PACING_POLL  # the core's pacing poll, the simulator's default cadence
CASES = {"S1": SCENARIOS["S1"], "T2": STRESS["T2"], "T3": STRESS["T3"]}
POLICIES: dict[str, Any] = {
    "predictive": PredictivePacing,
    "predictive, no release": lambda: PredictivePacing(release_after=None),
    "progressive": ProgressivePacing,
}


@attrs.define
class ScenarioModel:
    """The fast simulator's people as a :class:`~autoinformer.sim.model.CallModel`.

    ``draws[i]`` are lead ``i``'s (answer draw, ring, talk), taken from ``random.Random(seed)``
    in the fast simulator's order; the contact's number carries ``i``. ``clock`` gives the
    virtual time since the shift's start (an answer rate that moves is read at dialling).
    """

    scenario: Scenario
    draws: list[tuple[float, float, float]]
    clock: Any

    def callee(self, number: str, attempt_no: int) -> CalleeFate:
        u, ring, _ = self.draws[int(number[-7:])]
        if u < self.scenario.answer_probability(self.clock()):
            return CalleeFate(answers=True, ring_s=ring, patience_s=self.scenario.patience)
        return CalleeFate(answers=False, ring_s=self.scenario.no_answer_timeout)

    def operator(self, endpoint: str, call_no: int) -> OperatorFate:
        """Answers at once; its talk is set at the bridge (the callee's, see the module)."""
        return OperatorFate(answers=True, answer_s=0.0, talk_s=0.0)


def draws(scenario: Scenario, seed: int, n: int) -> list[tuple[float, float, float]]:
    """The first ``n`` leads' numbers, drawn as :func:`~autoinformer.sim.pacing.simulate` does."""
    rng = random.Random(seed)
    sigma = math.sqrt(math.log1p(scenario.talk_cv**2))
    mu = math.log(scenario.talk_mean) - sigma * sigma / 2.0
    lo, span = scenario.ring_min, scenario.ring_max - scenario.ring_min
    out = []
    for _ in range(n):
        u = rng.random()
        ring = lo + span * rng.random()
        out.append((u, ring, rng.lognormvariate(mu, sigma)))
    return out


@attrs.define(kw_only=True)
class _Measured(Simulation):
    """The driver, counting operator busy time inside the shift at each bridge."""

    shift_end: float = 0.0
    wrapup: float = 0.0
    talks: list[float] = attrs.field(factory=list)  # by lead
    busy: float = 0.0
    bridges: int = 0
    _leads: dict[str, int] = attrs.field(factory=dict)  # callee call id -> lead

    def _originate(self, cmd: c.Originate) -> None:
        if not cmd.operator:
            self._leads[cmd.call_id] = int(cmd.number[-7:])
        super()._originate(cmd)

    def _bridge(self, cmd: c.Bridge) -> None:
        lead = next((self._leads[i] for i in cmd.call_ids if i in self._leads), None)
        for call_id in cmd.call_ids:
            leg = self._legs.get(call_id)
            if lead is not None and leg is not None and leg.operator:
                leg.talk_s = self.talks[lead]
        super()._bridge(cmd)
        for call_id in cmd.call_ids:
            leg = self._legs.get(call_id)
            if leg is not None and leg.operator and leg.bridge == cmd.bridge_id:
                if self.now < self.shift_end:
                    self.busy += min(self.now + leg.talk_s + self.wrapup, self.shift_end) - self.now
                self.bridges += 1


def run_core(scenario: Scenario, policy: PacingPolicy, seed: int) -> dict[str, Any]:
    """One shift of ``scenario`` through DialerCore in virtual time."""
    per_hour = 3600.0 / scenario.no_answer_timeout * 1.5  # more than any policy dials
    n = int(scenario.agents * scenario.hours * per_hour) + 100
    desk = QueueSettings(
        name="desk",
        operators=tuple(Operator(f"op{i}", f"SIP/op{i}") for i in range(scenario.agents)),
        max_wait=scenario.patience,
        wrapup=scenario.wrapup,
    )
    campaign = Campaign(
        name="agreement",
        script=Script.of(transfer("desk")),
        lines=100_000,
        queues=[desk],
        window=CallWindow.any_time(),
        retry=RetryPolicy(attempts=1, ring_timeout=scenario.no_answer_timeout),
        limits=None,
        abandon_cap=1.0,
        timezone="UTC",
        max_call_seconds=1e6,
    )
    sim: _Measured
    leads = draws(scenario, seed, n)
    model = ScenarioModel(scenario, leads, lambda: sim.now - DEFAULT_START)
    shift_end = DEFAULT_START + scenario.shift_seconds
    sim = _Measured(
        campaign=campaign,
        model=model,
        pacing=policy,
        shift_end=shift_end,
        wrapup=scenario.wrapup,
        talks=[talk for _, _, talk in leads],
    )
    contacts = [Contact(id=f"c{i}", phones=(f"+7950{i:07d}",)) for i in range(n)]
    sim.at(DEFAULT_START, e.ContactsAdded(contacts))
    sim.at(shift_end, e.Pause())
    result = sim.run(until=shift_end + 3600.0)
    outcomes = result.outcomes()
    answered = sum(1 for r in result.records if r.answered_at is not None)
    abandoned = outcomes[Outcome.ABANDONED.value]
    return {
        "occupancy": sim.busy / (scenario.agents * scenario.shift_seconds),
        "abandon_rate": abandoned / answered if answered else 0.0,
        "dials": len(result.records),
        "answers": answered,
        "connects": sim.bridges,
        "events": result.events,
    }


def _run(job: tuple[str, str, int]) -> dict[str, Any]:
    case, name, seed = job
    scenario = CASES[case]
    t0 = time.perf_counter()
    core = run_core(scenario, POLICIES[name](), seed)
    t1 = time.perf_counter()
    fast = simulate(scenario, POLICIES[name](), seed, decide_every=None)  # events only
    t2 = time.perf_counter()
    ticked = simulate(scenario, POLICIES[name](), seed, decide_every=DECIDE_EVERY)
    return {
        "case": case,
        "policy": name,
        "seed": seed,
        "core": core,
        "core_seconds": t1 - t0,
        "fast": {
            "occupancy": fast.occupancy,
            "abandon_rate": fast.abandon_rate,
            "dials": fast.dials,
            "answers": fast.answers,
            "connects": fast.connects,
        },
        "fast_seconds": t2 - t1,
        "fast_every_1s": {
            "occupancy": ticked.occupancy,
            "abandon_rate": ticked.abandon_rate,
            "dials": ticked.dials,
            "released": ticked.released,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--small-seeds", type=int, default=20, help="seeds for T2 and T3 (cheap)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args(argv)
    seeds = {"S1": args.seeds, "T2": args.small_seeds, "T3": args.small_seeds}
    jobs = [(cs, p, s) for cs in CASES for p in POLICIES for s in range(seeds[cs])]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        runs = list(pool.map(_run, jobs))
    rows = []
    for cs in CASES:
        for p in POLICIES:
            rs = [r for r in runs if r["case"] == cs and r["policy"] == p]
            core = [r["core"]["occupancy"] for r in rs]
            fast = [r["fast"]["occupancy"] for r in rs]
            ticked = [r["fast_every_1s"]["occupancy"] for r in rs]
            gaps = [a - b for a, b in zip(core, ticked, strict=True)]
            rows.append(
                {
                    "case": CASES[cs].name,
                    "policy": p,
                    "seeds": len(rs),
                    "core_occupancy": statistics.mean(core),
                    "fast_occupancy": statistics.mean(fast),
                    "gap_points": 100.0 * (statistics.mean(core) - statistics.mean(fast)),
                    "gap_points_median_seed": 100.0
                    * statistics.median(a - b for a, b in zip(core, fast, strict=True)),
                    "core_abandon_max": max(r["core"]["abandon_rate"] for r in rs),
                    "fast_abandon_max": max(r["fast"]["abandon_rate"] for r in rs),
                    "fast_every_1s_occupancy": statistics.mean(ticked),
                    "gap_every_1s_points": 100.0 * statistics.mean(gaps),
                    "gap_every_1s_se": 100.0 * statistics.stdev(gaps) / math.sqrt(len(gaps))
                    if len(gaps) > 1
                    else 0.0,
                    "core_dials": statistics.mean(r["core"]["dials"] for r in rs),
                    "fast_dials": statistics.mean(r["fast"]["dials"] for r in rs),
                    "fast_every_1s_dials": statistics.mean(r["fast_every_1s"]["dials"] for r in rs),
                    "core_connects": statistics.mean(r["core"]["connects"] for r in rs),
                    "fast_connects": statistics.mean(r["fast"]["connects"] for r in rs),
                    "core_seconds_median": statistics.median(r["core_seconds"] for r in rs),
                    "fast_seconds_median": statistics.median(r["fast_seconds"] for r in rs),
                }
            )
    lines = [
        f"# Dialer core against the fast simulator (same people; S1 {args.seeds} seeds,"
        f" T2 and T3 {args.small_seeds})",
        "",
        "The fast simulator asks the policy every second, as the core does (its default); the"
        " gap is the core's mean occupancy less the fast simulator's, with its standard error"
        " over seeds. The last columns: the fast simulator at its events only.",
        "",
        "| case | policy | core occupancy | fast occupancy | gap, points (se)"
        " | fast, events only | gap to it (median seed) | dials core / fast / events only"
        " | abandons worst seed core / events only | connects core / events only"
        " | s per run core / events only |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['policy']} | {100 * r['core_occupancy']:.2f}%"
            f" | {100 * r['fast_every_1s_occupancy']:.2f}% | {r['gap_every_1s_points']:+.2f}"
            f" ({r['gap_every_1s_se']:.2f})"
            f" | {100 * r['fast_occupancy']:.2f}% | {r['gap_points']:+.2f}"
            f" ({r['gap_points_median_seed']:+.2f})"
            f" | {r['core_dials']:.0f} / {r['fast_every_1s_dials']:.0f} / {r['fast_dials']:.0f}"
            f" | {100 * r['core_abandon_max']:.2f}% / {100 * r['fast_abandon_max']:.2f}%"
            f" | {r['core_connects']:.0f} / {r['fast_connects']:.0f}"
            f" | {r['core_seconds_median']:.1f} / {r['fast_seconds_median']:.2f} |"
        )
    md = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pacing_core_agreement.json").write_text(
        json.dumps({"seeds": seeds, "rows": rows, "runs": runs}, indent=2)
    )
    (args.out / "pacing_core_agreement.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
