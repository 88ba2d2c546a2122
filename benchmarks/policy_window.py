"""Campaign policies at dialer speed: call window, callee zones, gate and caller-ID carousel.

Rerun: ``python benchmarks/policy_window.py`` (add ``--ops 2000 --runs 3`` for a quicker run).

The dialer asks these questions once per contact per dial attempt (and the scheduler once per
sleeping contact), so a campaign of 100,000 contacts asks each of them ~100,000 times a pass.
Each row is the time of one call, median over ``--runs`` runs of ``--ops`` calls each (the
inputs cycle through a fixed, seeded set of instants and numbers, so runs are comparable):

- ``CallWindow.allows``: one zone (Moscow, mon-fri 09:00-20:00, holidays); and in strict mode
  over the 16 zones a Russian mobile number may be in;
- ``CallWindow.next_allowed``: from random instants (a third inside the window, the rest
  closed: nights, weekends, holidays), one zone and strict (16 zones, the narrow overlap);
- ``callee_zones``: warm (numbers seen before: phonenumbers' answer is memoised) and cold
  (every call a number never seen, memo cleared), for a mix of Russian, US, UK and Indonesian
  numbers;
- ``next_call_time``: window + contact limits (2 h interval, 2 a day, 7 in 7 days) with a
  history of 3 attempts;
- ``CallerIdCarousel.pick``: a pool of 20 numbers in 4 countries, per strategy, with a daily cap
  of 200 per number and a 2 s cool-down, one pick every 0.2 s of campaign time for 500
  contacts (sticky retries). Picks that find every number capped return None and count too:
  with the default 5,000 picks the caps (20 x 200) run out after 4,000, so the table shows
  the share of None picks next to the strategy.

Prints a Markdown table; writes ``benchmarks/results/policy_window.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoinformer.policy import (
    CallerIdCarousel,
    CallerIdPool,
    CallWindow,
    ContactLimits,
    callee_zones,
    next_call_time,
    number_zones,
)
from autoinformer.policy import zones as zones_module

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
UTC = dt.UTC
START = dt.datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
RU_MOBILE = "+79508881234"

WINDOW = CallWindow.parse(
    days="mon-fri",
    hours="09:00-20:00",
    timezone="Europe/Moscow",
    holidays=["2026-01-01..2026-01-08", "2026-02-23", "2026-03-09", "2026-05-01", "2026-05-11"],
)
STRICT = CallWindow.parse(days="daily", hours="09:00-20:00", timezone="Europe/Moscow", strict=True)
LIMITS = ContactLimits(min_interval="2h", per_day=2, per_7_days=7)
POOL = [
    *(f"+7495{n:07d}" for n in range(1000001, 1000006)),
    *(f"+7812{n:07d}" for n in range(2000001, 2000006)),
    *(f"+1212555{n:04d}" for n in range(101, 106)),
    *(f"+6221{n:08d}" for n in range(30000001, 30000006)),
]


def instants(n: int, seed: int) -> list[dt.datetime]:
    """``n`` instants spread over 2026 (to the second)."""
    rng = random.Random(seed)
    return [START + dt.timedelta(seconds=rng.randrange(360 * 86400)) for _ in range(n)]


def numbers(n: int, seed: int, fresh: bool) -> list[str]:
    """A mix of Russian (mobile and Moscow), US, UK and Indonesian numbers; ``fresh``: all
    distinct (a list of ``n`` different people), else drawn from 50 numbers."""
    rng = random.Random(seed)
    prefixes = ["+7950", "+7495", "+1760", "+1212", "+447400", "+62812"]
    count = n if fresh else 50
    made = [f"{rng.choice(prefixes)}{i:07d}"[:13] for i in range(1000000, 1000000 + count)]
    rng.shuffle(made)
    return [made[i % len(made)] for i in range(n)]


def per_call(fn: Callable[[int], object], ops: int, runs: int) -> dict[str, float]:
    """Median and spread of the time of one call (µs) over ``runs`` runs of ``ops`` calls."""
    fn(0)  # warm imports and memo tables the steady state has warm
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        for i in range(ops):
            fn(i)
        times.append((time.perf_counter() - begin) / ops * 1e6)
    return {
        "median_us": statistics.median(times),
        "min_us": min(times),
        "max_us": max(times),
    }


def measure(ops: int, runs: int) -> list[dict[str, Any]]:
    at = instants(ops, 1)
    ru_zones = callee_zones(RU_MOBILE, None, "Europe/Moscow", START, strict=True)
    moscow = (WINDOW.timezone,)
    warm = numbers(ops, 2, fresh=False)
    rows: list[tuple[str, Callable[[int], object]]] = [
        ("CallWindow.allows, 1 zone", lambda i: WINDOW.allows(at[i], moscow)),
        (
            f"CallWindow.allows, strict ({len(ru_zones)} zones)",
            lambda i: STRICT.allows(at[i], ru_zones),
        ),
        ("CallWindow.next_allowed, 1 zone", lambda i: WINDOW.next_allowed(at[i], moscow)),
        (
            f"CallWindow.next_allowed, strict ({len(ru_zones)} zones)",
            lambda i: STRICT.next_allowed(at[i], ru_zones),
        ),
        (
            "callee_zones, warm",
            lambda i: callee_zones(warm[i], None, "Europe/Moscow", at[i]),
        ),
    ]
    out: list[dict[str, Any]] = []
    for name, fn in rows:
        out.append({"operation": name, **per_call(fn, ops, runs)})

    # Cold: every call a number never seen (the memo is cleared before each run).
    cold_times = []
    for run in range(runs):
        fresh = numbers(ops, 100 + run, fresh=True)
        number_zones.cache_clear()
        zones_module._number_zone_objects.cache_clear()
        begin = time.perf_counter()
        for i in range(ops):
            callee_zones(fresh[i], None, "Europe/Moscow", at[i])
        cold_times.append((time.perf_counter() - begin) / ops * 1e6)
    out.append(
        {
            "operation": "callee_zones, cold (new numbers)",
            "median_us": statistics.median(cold_times),
            "min_us": min(cold_times),
            "max_us": max(cold_times),
        }
    )

    histories = [[t - dt.timedelta(hours=h) for h in (3, 20, 50)] for t in at]
    out.append(
        {
            "operation": "next_call_time (window + limits, 3 past attempts)",
            **per_call(
                lambda i: next_call_time(
                    at[i],
                    window=WINDOW,
                    number_e164=warm[i],
                    limits=LIMITS,
                    history=histories[i],
                ),
                ops,
                runs,
            ),
        }
    )

    callees = numbers(ops, 3, fresh=False)
    for strategy in ("round_robin", "random", "lru", "local"):
        pool = CallerIdPool(
            POOL, strategy=strategy, sticky=True, daily_cap=200, cooldown="2s", seed=1
        )
        times = []
        nones = 0
        for _ in range(runs):
            carousel = CallerIdCarousel(pool)
            moment = START + dt.timedelta(hours=8)
            begin = time.perf_counter()
            for i in range(ops):
                # one pick every 0.2 s of campaign time, 500 contacts cycling (retries: sticky)
                if carousel.pick(callees[i], f"c{i % 500}", moment + dt.timedelta(seconds=i / 5)):
                    continue
                nones += 1
            times.append((time.perf_counter() - begin) / ops * 1e6)
        out.append(
            {
                "operation": f"CallerIdCarousel.pick, {strategy} (20 numbers)",
                "median_us": statistics.median(times),
                "min_us": min(times),
                "max_us": max(times),
                "none_share": nones / (ops * runs),
            }
        )
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=5_000, help="calls per run (default 5000)")
    parser.add_argument(
        "--runs", type=int, default=5, help="runs (default 5); the median is reported"
    )
    args = parser.parse_args(argv)
    rows = measure(args.ops, args.runs)
    print(f"{args.runs} runs x {args.ops} calls; median (min..max) per call\n")
    print("| operation | median µs | min..max µs | calls/s (median) |")
    print("|---|---:|---:|---:|")
    for row in rows:
        extra = f" ({row['none_share']:.0%} None)" if "none_share" in row else ""
        print(
            f"| {row['operation']}{extra} | {row['median_us']:.1f} | "
            f"{row['min_us']:.1f}..{row['max_us']:.1f} | {1e6 / row['median_us']:,.0f} |"
        )
    RESULTS.mkdir(exist_ok=True)
    result = {
        "benchmark": "policy_window",
        "ops_per_run": args.ops,
        "runs": args.runs,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": rows,
    }
    path = RESULTS / "policy_window.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
