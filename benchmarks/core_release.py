"""What releasing ringing calls costs the dialer core, and what it does, in one campaign.

The same predictive campaign (a "press 1 for an operator" script, the seeded population model,
10 operators, 60 lines) runs through the virtual-time driver and the dialer core twice: with
``PredictivePacing()`` (it may ask the core to release calls that have rung 15 s) and with
``PredictivePacing(release_after=None)`` (never). Reported per variant: wall time (median of
several runs), events, the core's microseconds per event, calls released, answers, abandons
and the abandon rate. Same seed, same callees: the difference is the release alone.

Run: ``python benchmarks/core_release.py`` (prints a Markdown table, writes
``benchmarks/results/core_release.json``).
"""

from __future__ import annotations

import statistics
import sys
import time

from _core_harness import print_table, write_results

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import Outcome
from autoinformer.pacing import PredictivePacing
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.queues.base import Operator
from autoinformer.script import Script, menu, transfer
from autoinformer.sim.driver import simulate
from autoinformer.sim.model import PopulationModel

RUNS = 5
CONTACTS = 4_000
LINES = 60
OPERATORS = 10


def _campaign() -> Campaign:
    desk = QueueSettings(
        name="desk",
        operators=tuple(Operator(f"op{i}", f"PJSIP/{100 + i}") for i in range(OPERATORS)),
        max_wait=20.0,
    )
    return Campaign(
        name="bench-release",
        script=Script.of(menu("Press 1 for an operator.", {"1": transfer("desk")})),
        lines=LINES,
        queues=[desk],
        window=CallWindow.any_time(),
        retry=RetryPolicy(attempts=2, default_delay=600.0, ring_timeout=30),
        abandon_cap=1.0,  # the predictive policy keeps its own 3% cap; no guard on top
    )


def _model() -> PopulationModel:
    return PopulationModel(seed=7, ring_median_s=12.0, ring_sigma=0.6, digit_rates={"1": 0.5})


def _contacts() -> list[Contact]:
    return [Contact(id=f"c{i}", phones=(f"+7950{i:07d}",)) for i in range(CONTACTS)]


def _variant(name: str, release_after: float | None) -> dict[str, object]:
    campaign, contacts = _campaign(), _contacts()
    walls: list[float] = []
    result = None
    for _ in range(RUNS):
        pacing = PredictivePacing(release_after=release_after)
        started = time.perf_counter()
        result = simulate(campaign, contacts, model=_model(), pacing=pacing)
        walls.append(time.perf_counter() - started)
    assert result is not None
    outcomes = result.outcomes()
    released = sum("released by the dialer" in r.detail for r in result.records)
    answered = sum(1 for r in result.records if r.answered_at is not None)
    abandoned = outcomes[Outcome.ABANDONED.value]
    wall = statistics.median(walls)
    return {
        "variant": name,
        "dials": len(result.records),
        "events": result.events,
        "wall_s": round(wall, 3),
        "us_per_event": round(wall / result.events * 1e6, 1),
        "released": released,
        "answered": answered,
        "abandoned": abandoned,
        "abandon_rate": round(abandoned / answered, 4) if answered else 0.0,
    }


def main() -> int:
    rows = [_variant("release_after=15", 15.0), _variant("release_after=None", None)]
    columns = {
        "variant": "variant",
        "dials": "dials",
        "events": "events",
        "wall s": "wall_s",
        "µs/event": "us_per_event",
        "released": "released",
        "answered": "answered",
        "abandoned": "abandoned",
        "abandon rate": "abandon_rate",
    }
    print_table(columns, rows, left=1)
    write_results(
        "core_release", rows, runs=RUNS, contacts=CONTACTS, lines=LINES, operators=OPERATORS
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
