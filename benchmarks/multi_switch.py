"""Several switches behind one campaign (#17): what an outage of one of two switches costs.

A broadcast campaign (a 20 s message, 3 attempts 2 minutes apart, the ``PopulationModel``
population) runs on the anyio runtime in virtual time over a :class:`SwitchSet` of two
simulated switches with 10 lines each. Scenarios:

- ``one switch``: one SimSwitch, 20 lines (the reference, no set);
- ``both up``: the set, campaign lines 20;
- ``away 30 min, lines 20``: switch ``a`` goes away 10 minutes in and comes back 30 minutes
  later; the campaign keeps its 20 lines, so the 10 beyond ``b``'s fail "not placed" and the
  core probes (the limitation docs/backends/several.md describes);
- ``away 30 min, lines 10``: the same outage, the campaign given what one switch has;
- ``away for good, lines 20``: ``a`` never comes back (its calls written off after 60 s);
- ``away 30 min, weights``: the 30-minute outage with ``weight = 1`` each and no caps.

Per scenario: model minutes to the end, contacts reached (done), attempts placed, attempts
journaled "not placed", calls written off or reported lost by a switch, and the wall seconds
of the run: each the median of ``--runs`` runs (virtual time and a seeded population, but where
the outage falls among the calls moves a little from run to run).

Run: ``python benchmarks/multi_switch.py [--contacts 1000] [--runs 3]``; writes
``benchmarks/results/multi_switch.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from autoinformer.backends.multi import Member, SwitchSet
from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core.dialer import is_not_placed
from autoinformer.outcomes import ContactState
from autoinformer.policy.retry import RetryPolicy
from autoinformer.runtime import Runtime
from autoinformer.script import Script, play
from autoinformer.sim.model import PopulationModel
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.virtual_time import START, LoopClock, VirtualTimeLoop, counted_run_sync

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

SCENARIOS: dict[str, dict[str, Any]] = {
    "one switch": {"set": False, "lines": 20},
    "both up": {"set": True, "lines": 20},
    "away 30 min, lines 20": {"set": True, "lines": 20, "away": (600.0, 2400.0)},
    "away 30 min, lines 10": {"set": True, "lines": 10, "away": (600.0, 2400.0)},
    "away for good, lines 20": {"set": True, "lines": 20, "away": (600.0, None)},
    "away 30 min, weights": {"set": True, "lines": 20, "away": (600.0, 2400.0), "weights": True},
}


async def run_one(contacts: int, scenario: dict[str, Any]) -> dict[str, Any]:
    clock = LoopClock()
    model = PopulationModel(seed=7)
    sound = {"sound:message": 20.0}
    a = SimSwitch(model=model, clock=clock, builtin_seconds=sound)
    b = SimSwitch(model=model, clock=clock, builtin_seconds=sound)
    switch: Any = a
    if scenario["set"]:
        if scenario.get("weights"):  # shares of new calls, no cap: b may take all 20
            members = [Member(a, name="a", weight=1), Member(b, name="b", weight=1)]
        else:
            members = [Member(a, name="a", lines=10), Member(b, name="b", lines=10)]
        switch = SwitchSet(members, clock=clock)
    campaign = Campaign(
        timezone="UTC",
        name="bench",
        script=Script.of(play("sound:message")),
        lines=scenario["lines"],
        retry=RetryPolicy.simple(attempts=3, interval="2m"),
    )
    people = [Contact(id=f"c{i:05d}", phones=(f"+7950{i:07d}",)) for i in range(contacts)]
    store = MemoryStore()
    away = scenario.get("away")

    async def hurt() -> None:
        assert away is not None
        await clock.sleep_until(START + away[0])
        a.go_away()
        if away[1] is not None:
            await clock.sleep_until(START + away[1])
            a.come_back()

    started = time.perf_counter()
    async with switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock)
        async with anyio.create_task_group() as tg:
            if away is not None:
                tg.start_soon(hurt)
            summary = await runtime.run(people)
            tg.cancel_scope.cancel()
        status = switch.status() if isinstance(switch, SwitchSet) else ()
    wall = time.perf_counter() - started
    attempts = list(store.attempts("bench"))
    states = [p.state for _, p in store.contacts("bench")]
    return {
        "model_minutes": round((max(r.ended_at or 0 for r in attempts) - START) / 60, 1),
        "done": states.count(ContactState.DONE),
        "unfinished": sum(
            s in (ContactState.PENDING, ContactState.SCHEDULED, ContactState.IN_CALL)
            for s in states
        ),
        "placed": sum(not is_not_placed(r) for r in attempts),
        "not_placed": sum(is_not_placed(r) for r in attempts),
        "lost_in_gaps": sum(g.lost for g in summary.switch_gaps),
        "written_off": sum(s.written_off for s in status),
        "placed_per_switch": {s.name: s.placed for s in status},
        "wall_seconds": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("autoinformer").setLevel(logging.CRITICAL)  # outages are the point
    anyio.to_thread.run_sync = counted_run_sync  # type: ignore[assignment]  # virtual time
    rows = []
    for name, scenario in SCENARIOS.items():
        runs = [
            anyio.run(
                run_one,
                args.contacts,
                scenario,
                backend="asyncio",
                backend_options={"loop_factory": VirtualTimeLoop},
            )
            for _ in range(args.runs)
        ]
        # virtual time, but the interleaving of the outage with the calls (worker threads of
        # the store) moves a little from run to run: each figure is the median of the runs
        row: dict[str, Any] = {"scenario": name}
        for key, value in runs[0].items():
            if isinstance(value, dict):
                row[key] = {k: statistics.median(r[key][k] for r in runs) for k in value}
            else:
                row[key] = statistics.median(r[key] for r in runs)
        row["wall_seconds"] = round(row["wall_seconds"], 2)
        rows.append(row)
    print(
        "| scenario | minutes to the end | reached | placed | not placed | written off "
        "| per switch | wall s |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for row in rows:
        per = ", ".join(f"{k} {v:g}" for k, v in row["placed_per_switch"].items()) or "-"
        print(
            f"| {row['scenario']} | {row['model_minutes']:g} | {row['done']:g} "
            f"| {row['placed']:g} | {row['not_placed']:g} | {row['written_off']:g} | {per} "
            f"| {row['wall_seconds']:g} |"
        )
    RESULTS.mkdir(exist_ok=True)
    out = {
        "contacts": args.contacts,
        "runs": args.runs,
        "python": platform.python_version(),
        "rows": rows,
    }
    (RESULTS / "multi_switch.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
