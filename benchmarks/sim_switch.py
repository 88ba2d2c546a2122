"""Simulated switch: model draw speed, SimSwitch throughput, and event lateness on a ScaledClock.

Three measurements, each the median of several runs:

1. Model draws per second (``PartiesModel`` and ``PopulationModel``): the cost the discrete-event
   driver pays per originate.
2. SimSwitch throughput in virtual time: N calls to a ``PopulationModel`` population, one reader
   that plays a 5 s message on answer and hangs up when it ends, a clock that jumps to the next
   due event (so only the switch's own overhead is timed). Calls and events per real second, on
   asyncio and on trio.
3. Event lateness on ``ScaledClock(speed)``: how late (in model seconds) ``CallAnswered`` reaches
   the reader compared with when the model says it happens. This is what bounds the speed a
   runtime test can use: lateness grows with speed because real scheduling jitter is multiplied.

Run: ``python benchmarks/sim_switch.py [--calls 5000] [--runs 5]``; writes
``benchmarks/results/sim_switch.json`` and ``sim_switch_lateness.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import anyio
import anyio.lowlevel
import attrs

from autoinformer.backends.base import CallAnswered, CallEnded, Media, PlaybackFinished
from autoinformer.backends.sim import SimSwitch
from autoinformer.clock import ScaledClock
from autoinformer.sim.model import PartiesModel, PopulationModel

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


@attrs.define
class JumpClock:
    """Virtual time for one reader: sleeping jumps straight to the deadline."""

    t: float = 1_767_261_600.0

    def now(self) -> float:
        return self.t

    async def sleep_until(self, deadline: float) -> None:
        await anyio.lowlevel.checkpoint()
        self.t = max(self.t, deadline)


def draws_per_second(model: PartiesModel | PopulationModel, n: int) -> float:
    numbers = [f"+7950{i:07d}" for i in range(n)]
    start = time.perf_counter()
    for number in numbers:
        model.callee(number, 1)
    return n / (time.perf_counter() - start)


async def throughput(calls: int) -> tuple[float, int]:
    """Real seconds to run ``calls`` calls to completion, and the number of events."""
    clock = JumpClock()
    switch = SimSwitch(model=PopulationModel(seed=1), clock=clock, builtin_seconds={"message": 5.0})
    events = 0
    start = time.perf_counter()
    async with switch:
        for i in range(calls):
            await switch.originate(f"c{i}", f"+7950{i:07d}", caller_id=None, ring_timeout=30)
        left = calls
        async for event in switch.events():
            events += 1
            if isinstance(event, CallAnswered):
                await switch.play(event.call_id, Media(builtin="message"), playback_id="m")
            elif isinstance(event, PlaybackFinished) and event.completed:
                await switch.hangup(event.call_id)
            elif isinstance(event, CallEnded):
                left -= 1
                if not left:
                    break
    return time.perf_counter() - start, events


async def lateness(speed: float, calls: int = 60) -> list[float]:
    """Model seconds between when each CallAnswered is due and when the reader gets it.

    The reader runs while calls are being placed (as the runtime's event loop does); calls are
    spread over a few model seconds so answers do not all fall due at one instant.
    """
    clock = ScaledClock(speed=speed)
    due: dict[str, float] = {}
    late: list[float] = []
    async with SimSwitch(clock=clock) as switch:

        async def read() -> None:
            async for event in switch.events():
                if isinstance(event, CallAnswered):
                    late.append(clock.now() - due[event.call_id])
                    await switch.hangup(event.call_id)
                    if len(late) == calls:
                        return

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            for i in range(calls):
                call_id = f"c{i}"
                due[call_id] = clock.now() + 1.0  # party 1 answers after 1 s of ringing
                await switch.originate(call_id, "+79508880001", caller_id=None, ring_timeout=30)
                await clock.sleep_until(clock.now() + 0.05 * (i % 5))
    return late


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    results: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "runs": args.runs,
    }
    draws = {
        name: statistics.median(draws_per_second(model, 20_000) for _ in range(args.runs))
        for name, model in (
            ("PartiesModel", PartiesModel()),
            ("PopulationModel", PopulationModel()),
        )
    }
    results["draws_per_second"] = draws

    switch_rows = {}
    for backend in ("asyncio", "trio"):
        samples = [anyio.run(throughput, args.calls, backend=backend) for _ in range(args.runs)]
        seconds = statistics.median(s for s, _ in samples)
        events = samples[0][1]
        switch_rows[backend] = {
            "calls": args.calls,
            "events": events,
            "seconds": seconds,
            "calls_per_second": args.calls / seconds,
            "events_per_second": events / seconds,
        }
    results["virtual_time_throughput"] = switch_rows

    late_rows = {}
    for speed in (10.0, 100.0, 1000.0):
        samples = sorted(x for _ in range(3) for x in anyio.run(lateness, speed))
        late_rows[str(int(speed))] = {
            "median": statistics.median(samples),
            "p95": samples[int(0.95 * (len(samples) - 1))],
            "max": samples[-1],
        }
    results["lateness_model_seconds"] = late_rows

    print("| model | draws/s (median) |")
    print("|---|---:|")
    for name, value in draws.items():
        print(f"| {name} | {value:,.0f} |")
    print()
    print(
        f"| SimSwitch, virtual time | calls | events | s (median of {args.runs}) "
        "| calls/s | events/s |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for backend, row in switch_rows.items():
        print(
            f"| {backend} | {row['calls']} | {row['events']} | {row['seconds']:.3f} "
            f"| {row['calls_per_second']:,.0f} | {row['events_per_second']:,.0f} |"
        )
    print()
    print("| ScaledClock speed | lateness median (model s) | p95 | max |")
    print("|---:|---:|---:|---:|")
    for speed, row in late_rows.items():
        print(f"| {speed} | {row['median']:.4f} | {row['p95']:.4f} | {row['max']:.4f} |")

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sim_switch.json").write_text(json.dumps(results, indent=2) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 0
    fig, ax = plt.subplots(figsize=(5, 3.2))
    speeds = [int(s) for s in late_rows]
    ax.plot(speeds, [late_rows[str(s)]["median"] for s in speeds], "o-", label="median")
    ax.plot(speeds, [late_rows[str(s)]["p95"] for s in speeds], "s--", label="p95")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ScaledClock speed (model s per real s)")
    ax.set_ylabel("event lateness (model s)")
    ax.set_title("SimSwitch: how late events arrive")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "sim_switch_lateness.png", dpi=100)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
