"""What the compliance defaults cost and what they hold: intake check, abandon guard, demo rates.

Three measurements, each the median of several runs:

1. Intake: microseconds per contact to decide whether a contact can be called, with only the
   missing-variable check (before) and with the speech template's full check (now), for a
   plain template and a ``<currency>`` one.
2. The abandon guard: the demo's campaign (press 1 for an operator) on 1,000 contacts in
   virtual time, in two scenarios (the demo's 2 operators with 20% of listeners pressing 1;
   one operator with 60%), per pacing policy, with the guard on (``abandon_cap=0.03``) and
   off (``abandon_cap=1.0``): wall seconds, dials, answered, abandoned and the abandon rate.
3. ``autoinformer demo`` itself (100 contacts) over seeds 1-10: the worst abandon rate per
   pacing.

Run: ``python benchmarks/core_compliance.py`` (prints Markdown tables, writes
``benchmarks/results/core_compliance.json``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from autoinformer.campaign import Campaign
from autoinformer.cli.demo import demo_campaign, demo_contacts, demo_model
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core.intake import missing_variables, skip_reason
from autoinformer.pacing import BroadcastPacing, PacingPolicy, PredictivePacing, ProgressivePacing
from autoinformer.queues.base import Operator
from autoinformer.script import Script, play, say
from autoinformer.sim.driver import simulate
from autoinformer.sim.model import PopulationModel

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = 5
ANSWERED = ("delivered", "hung_up_early", "transferred", "abandoned")
PACINGS: dict[str, Callable[[], PacingPolicy]] = {
    "progressive": ProgressivePacing,
    "predictive": PredictivePacing,
    "broadcast": BroadcastPacing,
}


def _median_time(fn: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def intake_rows() -> list[dict[str, Any]]:
    contacts = [
        Contact(id=f"c{i}", phones=(f"+7950{i:07d}",), variables={"BALANCE": f"-{i}.50"})
        for i in range(5_000)
    ]
    rows = []
    for label, text in (
        ("plain", "Your debt is {BALANCE} RUB."),
        ("currency", "Your debt is <currency>{BALANCE|abs} RUB</currency>."),
    ):
        campaign = Campaign(name="bench", script=Script.of(play("sound:g"), say(text)))
        core = DialerCore(campaign=campaign)
        before = _median_time(lambda core=core: [missing_variables(core, c) for c in contacts])
        now = _median_time(lambda core=core: [skip_reason(core, c) for c in contacts])
        rows.append(
            {
                "template": label,
                "missing_only_us": round(before / len(contacts) * 1e6, 1),
                "full_check_us": round(now / len(contacts) * 1e6, 1),
            }
        )
    return rows


def _rates(outcomes: dict[str, int]) -> tuple[int, int, float]:
    answered = sum(outcomes[name] for name in ANSWERED)
    abandoned = outcomes["abandoned"]
    return answered, abandoned, abandoned / answered if answered else 0.0


SCENARIOS = {  # name: (operators, share of listeners pressing 1)
    "demo: 2 operators, 20% press 1": (2, 0.2),
    "busy: 1 operator, 60% press 1": (1, 0.6),
}


def _scenario(operators: int) -> Campaign:
    campaign = demo_campaign()
    queue = attrs.evolve(
        campaign.queues["operators"],
        operators=tuple(Operator(f"op{i}", f"PJSIP/{101 + i}") for i in range(operators)),
    )
    return attrs.evolve(campaign, queues=[queue])


def guard_rows() -> list[dict[str, Any]]:
    contacts = demo_contacts(1_000, 7)
    rows = []
    for scenario, (operators, press) in SCENARIOS.items():
        for name, make in PACINGS.items():
            for cap in (0.03, 1.0):
                campaign = attrs.evolve(_scenario(operators), abandon_cap=cap)
                results: list[Any] = []

                def run(
                    campaign: Campaign = campaign,
                    make: Any = make,
                    results: list[Any] = results,
                    press: float = press,
                ) -> None:
                    model = PopulationModel(seed=7, digit_rates={"1": press}, talk_median_s=60.0)
                    results.append(simulate(campaign, contacts, model=model, pacing=make()))

                wall = _median_time(run, runs=3)
                result = results[-1]
                answered, abandoned, rate = _rates(result.outcomes())
                rows.append(
                    {
                        "scenario": scenario,
                        "pacing": name,
                        "guard": cap < 1.0,
                        "wall_s": round(wall, 3),
                        "dials": len(result.records),
                        "virtual_h": round((result.ended_at - result.started_at) / 3600, 1),
                        "answered": answered,
                        "abandoned": abandoned,
                        "abandon_rate": round(rate, 4),
                    }
                )
    return rows


def demo_rows() -> list[dict[str, Any]]:
    rows = []
    for name, make in PACINGS.items():
        rates = []
        for seed in range(1, 11):
            result = simulate(
                demo_campaign(), demo_contacts(100, seed), model=demo_model(seed), pacing=make()
            )
            rates.append(_rates(result.outcomes())[2])
        rows.append(
            {
                "pacing": name,
                "seeds": 10,
                "median_rate": round(statistics.median(rates), 4),
                "worst_rate": round(max(rates), 4),
            }
        )
    return rows


def main() -> None:
    intake, guard, demo = intake_rows(), guard_rows(), demo_rows()
    print("| template | missing-variable check (us/contact) | full template check (us/contact) |")
    print("|---|---:|---:|")
    for r in intake:
        print(f"| {r['template']} | {r['missing_only_us']} | {r['full_check_us']} |")
    print()
    print(
        "| scenario | pacing | guard | wall s | dials | virtual h | answered | abandoned | rate |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in guard:
        print(
            f"| {r['scenario']} | {r['pacing']} | {'on' if r['guard'] else 'off'} "
            f"| {r['wall_s']} | {r['dials']} "
            f"| {r['virtual_h']} | {r['answered']} | {r['abandoned']} | {r['abandon_rate']:.1%} |"
        )
    print()
    print("| pacing | demo seeds | median abandon rate | worst |")
    print("|---|---:|---:|---:|")
    for r in demo:
        print(f"| {r['pacing']} | {r['seeds']} | {r['median_rate']:.1%} | {r['worst_rate']:.1%} |")
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "benchmark": "core_compliance",
        "runs": RUNS,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "load": os.getloadavg()[0],
        "intake": intake,
        "guard": guard,
        "demo": demo,
    }
    (RESULTS / "core_compliance.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
