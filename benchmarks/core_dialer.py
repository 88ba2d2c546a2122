"""How fast the dialer core decides: whole campaigns through the virtual-time driver.

Each case runs a broadcast campaign (greeting + personalised amount, retries) against the
seeded population model in virtual time and reports dials per second of wall time, the core's
share of it (the same events replayed through ``DialerCore.handle`` alone), and the events
handled. Median of several runs. The pacing suite of issue #5 pushes ~50,000 dials through
logic like this, so the 50,000-dial case is the one to watch.

Run: ``python benchmarks/core_dialer.py`` (prints a Markdown table, writes
``benchmarks/results/core_dialer.json``).
"""

from __future__ import annotations

import statistics
import sys
import time

import attrs
from _core_harness import print_table, write_results

from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore, events
from autoinformer.policy.retry import RetryPolicy
from autoinformer.script import Script, play, say
from autoinformer.sim.driver import DEFAULT_START, Simulation, simulate
from autoinformer.sim.model import PopulationModel

RUNS = 5
CASES = [(2_000, 30), (10_000, 100), (34_000, 300)]  # contacts, lines


def _campaign(lines: int) -> Campaign:
    return Campaign(
        name="bench",
        script=Script.of(play("sound:greeting"), say("Your debt is {BALANCE} RUB.")),
        lines=lines,
        retry=RetryPolicy.simple(attempts=2, interval="10m"),
        timezone="UTC",  # named since #14 (no implicit UTC); the figures were measured in UTC
    )


def _contacts(n: int) -> list[Contact]:
    return [
        Contact(id=f"c{i}", phones=(f"+7950{i:07d}",), variables={"BALANCE": f"-{i % 997}.50"})
        for i in range(n)
    ]


@attrs.define(kw_only=True)
class _Recording(Simulation):
    """A simulation that keeps the (time, event) stream it feeds the core, for replay."""

    fed: list[tuple[float, events.Event]] = attrs.field(factory=list, init=False)

    def _feed(self, event: events.Event) -> None:
        self.fed.append((self.now, event))
        super()._feed(event)


def _replay_seconds(campaign: Campaign, contacts: list[Contact]) -> float:
    """Seconds the core alone spends on the events of one run (driver and model excluded)."""
    sim = _Recording(campaign=campaign, model=PopulationModel(seed=1))
    sim.at(DEFAULT_START, events.ContactsAdded(contacts))
    sim.run()
    core = DialerCore(campaign=campaign)
    started = time.perf_counter()
    for now, event in sim.fed:
        core.handle(now, event)
    return time.perf_counter() - started


def main() -> int:
    rows = []
    for n, lines in CASES:
        campaign, contacts = _campaign(lines), _contacts(n)
        walls, dials, events = [], 0, 0
        for _ in range(RUNS):
            started = time.perf_counter()
            result = simulate(campaign, contacts, model=PopulationModel(seed=1))
            walls.append(time.perf_counter() - started)
            dials, events = len(result.records), result.events
        core_s = statistics.median(_replay_seconds(campaign, contacts) for _ in range(3))
        wall = statistics.median(walls)
        rows.append(
            {
                "contacts": n,
                "lines": lines,
                "dials": dials,
                "events": events,
                "wall_s": round(wall, 3),
                "dials_per_s": round(dials / wall),
                "core_s": round(core_s, 3),
                "core_us_per_event": round(core_s / events * 1e6, 1),
            }
        )
    columns = {
        "contacts": "contacts",
        "lines": "lines",
        "dials": "dials",
        "events": "events",
        "wall s": "wall_s",
        "dials/s": "dials_per_s",
        "core s": "core_s",
        "core µs/event": "core_us_per_event",
    }
    print_table(columns, rows)
    write_results("core_dialer", rows, runs=RUNS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
