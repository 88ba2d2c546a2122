"""What the compliance defaults cost and what they hold: intake check, abandon guard, demo rates.

Four measurements (wall times are the median of several runs):

1. Intake: microseconds per contact to decide whether a contact can be called, with only the
   missing-variable check (before) and with the speech template's full check (now), for a
   plain template and a ``<currency>`` one.
2. The abandon guard: the demo's campaign (press 1 for an operator) on 1,000 contacts in
   virtual time, in two scenarios (the demo's 2 operators with 20% of listeners pressing 1;
   one operator with 60%), per pacing policy, with the guard on (``abandon_cap=0.03``) and
   off (``abandon_cap=1.0``): wall seconds, dials, answered, abandoned and the abandon rate.
3. ``autoinformer demo`` itself (100 contacts) over seeds 1-10: the worst abandon rate per
   pacing.
4. Answering machines (``machines``): the cap is abandons over *live* answers (47 CFR
   64.1200(a)(7)), and the core reports ``Observation.MACHINE`` so that the guard and the
   predictive policy take a machine off the answers they count. The demo's campaign with
   machine detection on, half the listeners pressing 1, 3,000 debtors (more than a day
   calls), its first day (the 7 hours from the simulator's 13:00 start to the 20:00 close,
   Moscow time), each pacing guarded, seeds 1-10, at machine rates 0, 0.3 and 0.6: the
   guard as it is (``fixed``) and one that never hears MACHINE (``old``: machines counted as
   live answers, as before the fix). Reported per row: live answers and abandons over the
   seeds, the pooled abandon rate and the worst seed's, and what holding the cap costs:
   transfers per operator-hour and operator occupancy (talk time over the shift).
5. The guard's spread margin (``spread``): measurement 4 (the guard hearing MACHINE) at
   several ``AbandonGuard.z``, the standard deviations of the in-flight calls' abandons the
   guard keeps in hand (``z = 0``: only their mean and the fixed ``reserve``, the guard before
   the margin; its worst seed ended at 3.06%).

Run: ``python benchmarks/core_compliance.py`` (prints Markdown tables, writes
``benchmarks/results/core_compliance.json``); ``python benchmarks/core_compliance.py machines``
reruns only that measurement (its key in the JSON; the others are kept); the sections are
``intake``, ``guard``, ``demo``, ``machines`` and ``spread``.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from autoinformer.backends.base import Bridged, CallEnded
from autoinformer.campaign import Campaign
from autoinformer.cli.demo import demo_campaign, demo_contacts, demo_model
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.core.intake import missing_variables, skip_reason
from autoinformer.pacing import BroadcastPacing, PacingPolicy, PredictivePacing, ProgressivePacing
from autoinformer.pacing.base import Observation, PacingObservation
from autoinformer.queues.base import Operator
from autoinformer.script import Script, play, say
from autoinformer.sim.driver import DEFAULT_START, Simulation, simulate
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
        campaign = Campaign(
            name="bench", script=Script.of(play("sound:g"), say(text)), timezone="UTC"
        )
        core = DialerCore(campaign=campaign)
        tpl, lang = core.templates, campaign.lang
        before = _median_time(lambda t=tpl: [missing_variables(t, c) for c in contacts])
        now = _median_time(lambda t=tpl, la=lang: [skip_reason(t, la, c) for c in contacts])
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


MACHINE_RATES = (0.0, 0.3, 0.6)
MACHINE_SEEDS = tuple(range(1, 11))
MACHINE_CONTACTS = 3_000  # more than the first day calls: the dialler never runs short
MACHINE_PRESS = 0.5  # listeners pressing 1 (as in tests/core/test_core_machines.py)
SHIFT_S = 7 * 3600.0  # DEFAULT_START is 13:00 in Moscow; the demo's calling window shuts at 20:00


@attrs.define(kw_only=True)
class MachineBlindGuard(AbandonGuard):
    """The guard before ``Observation.MACHINE``: neither it nor the policy it holds hears a
    machine verdict, so every machine's answer stays a live answer in the cap's denominator."""

    def observe(self, observation: PacingObservation) -> None:
        if observation.kind is not Observation.MACHINE:
            super().observe(observation)


@attrs.define(kw_only=True)
class _TalkClock(Simulation):
    """A simulation that adds up operator talk: from a bridge to the first hang-up in it."""

    talk_s: float = attrs.field(default=0.0, init=False)
    _opened: dict[str, float] = attrs.field(factory=dict, init=False)  # bridge id -> when
    _bridge_of: dict[str, str] = attrs.field(factory=dict, init=False)  # call id -> bridge id

    def _feed(self, event: e.Event) -> None:
        if isinstance(event, Bridged):
            self._opened.setdefault(event.bridge_id, self.now)
            self._bridge_of[event.call_id] = event.bridge_id
        elif isinstance(event, CallEnded) and event.call_id in self._bridge_of:
            opened = self._opened.pop(self._bridge_of.pop(event.call_id), None)
            if opened is not None:
                self.talk_s += self.now - opened
        super()._feed(event)

    def talk_until(self, end: float) -> float:
        """Operator talk seconds up to ``end``, the talks still going on then included."""
        return self.talk_s + sum(end - opened for opened in self._opened.values())


def _machine_day(
    pacing: str, rate: float, seed: int, guard: Callable[..., AbandonGuard]
) -> dict[str, Any]:
    """One first day of the demo's campaign with answering machines; its counts."""
    campaign = attrs.evolve(demo_campaign(), machine_detection=True)
    model = PopulationModel(
        seed=seed, machine_rate=rate, digit_rates={"1": MACHINE_PRESS}, talk_median_s=60.0
    )
    policy = guard(inner=PACINGS[pacing](), cap=campaign.abandon_cap)
    sim = _TalkClock(campaign=campaign, model=model, pacing=policy)
    sim.at(DEFAULT_START, e.ContactsAdded(demo_contacts(MACHINE_CONTACTS, seed)))
    end = DEFAULT_START + SHIFT_S
    result = sim.run(until=end)
    if len(result.progress) >= MACHINE_CONTACTS:
        raise RuntimeError("the list ran out within the day: raise MACHINE_CONTACTS")
    outcomes = result.outcomes()
    live, abandoned, _ = _rates(outcomes)
    return {
        "live": live,
        "abandoned": abandoned,
        "machines": outcomes["machine"],
        "transfers": outcomes["transferred"],
        "dials": len(result.records),
        "talk_s": sim.talk_until(end),
    }


def _machine_row(
    name: str, rate: float, guard: Callable[..., AbandonGuard], operator_h: float
) -> dict[str, Any]:
    """The first days of seeds 1-10 for one pacing and machine rate, pooled."""
    days = [_machine_day(name, rate, seed, guard) for seed in MACHINE_SEEDS]
    live = sum(d["live"] for d in days)
    abandoned = sum(d["abandoned"] for d in days)
    rates = [d["abandoned"] / d["live"] if d["live"] else 0.0 for d in days]
    return {
        "pacing": name,
        "machine_rate": rate,
        "seeds": len(days),
        "live_answers": live,
        "abandoned": abandoned,
        "pooled_rate": round(abandoned / live, 4) if live else 0.0,
        "max_rate": round(max(rates), 4),
        "seed_rates": [round(r, 4) for r in rates],
        "machines": sum(d["machines"] for d in days),
        "dials": sum(d["dials"] for d in days),
        "transfers": sum(d["transfers"] for d in days),
        "transfers_per_operator_h": round(sum(d["transfers"] for d in days) / operator_h, 2),
        "occupancy": round(sum(d["talk_s"] for d in days) / operator_h / 3600, 3),
    }


def _operator_h() -> float:
    operators = len(demo_campaign().queues["operators"].operators)
    return len(MACHINE_SEEDS) * operators * SHIFT_S / 3600


def machine_rows() -> list[dict[str, Any]]:
    operator_h = _operator_h()
    rows = []
    for name in PACINGS:
        for rate in MACHINE_RATES:
            for label, guard in (("fixed", AbandonGuard), ("old", MachineBlindGuard)):
                row = _machine_row(name, rate, guard, operator_h)
                rows.append({"pacing": name, "machine_rate": rate, "guard": label} | row)
    return rows


SPREAD_Z = (0.0, 1.0, 2.0, 4.0, 6.0)


def spread_rows() -> list[dict[str, Any]]:
    """The machines measurement (guard hearing MACHINE) at several ``AbandonGuard.z``: how many
    standard deviations of the in-flight calls' abandons the guard keeps in hand. ``z = 0`` is
    the guard before it counted the spread (only the fixed ``reserve`` of 2 abandons)."""
    operator_h = _operator_h()
    rows = []
    for z in SPREAD_Z:
        guard = functools.partial(AbandonGuard, z=z)
        for name in PACINGS:
            for rate in MACHINE_RATES:
                rows.append({"z": z} | _machine_row(name, rate, guard, operator_h))
    return rows


def _print_spread(rows: list[dict[str, Any]]) -> None:
    print(
        "| z | pacing | machines | live answers | abandoned | pooled rate | worst seed "
        "| transfers/op-h | occupancy |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['z']:g} | {r['pacing']} | {r['machine_rate']:.0%} | {r['live_answers']} "
            f"| {r['abandoned']} | {r['pooled_rate']:.1%} | {r['max_rate']:.2%} "
            f"| {r['transfers_per_operator_h']} | {r['occupancy']:.1%} |"
        )


def _print_intake(rows: list[dict[str, Any]]) -> None:
    print("| template | missing-variable check (us/contact) | full template check (us/contact) |")
    print("|---|---:|---:|")
    for r in rows:
        print(f"| {r['template']} | {r['missing_only_us']} | {r['full_check_us']} |")


def _print_guard(rows: list[dict[str, Any]]) -> None:
    print(
        "| scenario | pacing | guard | wall s | dials | virtual h | answered | abandoned | rate |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['scenario']} | {r['pacing']} | {'on' if r['guard'] else 'off'} "
            f"| {r['wall_s']} | {r['dials']} "
            f"| {r['virtual_h']} | {r['answered']} | {r['abandoned']} | {r['abandon_rate']:.1%} |"
        )


def _print_demo(rows: list[dict[str, Any]]) -> None:
    print("| pacing | demo seeds | median abandon rate | worst |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['pacing']} | {r['seeds']} | {r['median_rate']:.1%} | {r['worst_rate']:.1%} |")


def _print_machines(rows: list[dict[str, Any]]) -> None:
    print(
        "| pacing | machines | guard | live answers | abandoned | pooled rate | worst seed "
        "| transfers/op-h | occupancy | dials |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['pacing']} | {r['machine_rate']:.0%} | {r['guard']} | {r['live_answers']} "
            f"| {r['abandoned']} | {r['pooled_rate']:.1%} | {r['max_rate']:.2%} "
            f"| {r['transfers_per_operator_h']} | {r['occupancy']:.1%} | {r['dials']} |"
        )


SECTIONS: dict[str, tuple[Callable[[], list[dict[str, Any]]], Callable[..., None]]] = {
    "intake": (intake_rows, _print_intake),
    "guard": (guard_rows, _print_guard),
    "demo": (demo_rows, _print_demo),
    "machines": (machine_rows, _print_machines),
    "spread": (spread_rows, _print_spread),
}


def main(argv: Sequence[str]) -> int:
    wanted = list(argv) or list(SECTIONS)
    unknown = [name for name in wanted if name not in SECTIONS]
    if unknown:
        print(f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
        return 2
    path = RESULTS / "core_compliance.json"
    payload: dict[str, Any] = {}
    if path.exists() and len(wanted) < len(SECTIONS):
        payload = json.loads(path.read_text())  # the sections not rerun are kept
    payload.update(
        {
            "benchmark": "core_compliance",
            "runs": RUNS,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "load": os.getloadavg()[0],
        }
    )
    for name in wanted:
        measure, show = SECTIONS[name]
        payload[name] = rows = measure()
        show(rows)
        print()
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
