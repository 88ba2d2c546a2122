"""AriSwitch under load: 1,000 concurrent calls set up at 200 per second from one process.

The fake ARI server runs in a separate process (``python -m autoinformer.testing.fake_ari``,
real time: callees ring 1 s, answer and stay until we hang up; its per-event check against
events.json is off to leave the CPU to the client), so the event loop measured here is only the
client's: REST requests, the event WebSocket, decoding and the call tracker.

Measured per run: the set-up rate actually achieved, peak concurrent answered calls, the
originate round trip (p50/p99), time from originate to CallAnswered (p50/p99), and event-loop
lag (how late a 5 ms sleep wakes up; p50/p99/max) sampled through the whole run. The table
gives the median of the runs for each event loop. Rerun: ``python benchmarks/ari_load.py``
(``--calls 1000 --rate 200 --runs 3``). Writes ``benchmarks/results/ari_load.json`` and
``ari_load.png`` (loop lag and concurrent calls over time, from one asyncio run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio

from autoinformer.backends import base
from autoinformer.backends.ari import AriSettings, AriSwitch

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PASSWORD = "bench-secret"
LAG_PERIOD = 0.005


def start_fake() -> tuple[subprocess.Popen[str], str]:
    """The fake server in its own process; its URL once it listens."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autoinformer.testing.fake_ari",
            "--port",
            "0",
            "--time-scale",
            "1",
            "--password",
            PASSWORD,
            "--no-event-check",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "fake ARI on " not in line:
        proc.kill()
        raise RuntimeError(f"fake server did not start: {line!r}")
    return proc, line.split("fake ARI on ")[1].split()[0]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_run(
    url: str, calls: int, rate: float, tag: str, connections: int = 4
) -> dict[str, Any]:
    settings = AriSettings(
        url=url,
        username="autoinformer",
        password=PASSWORD,
        endpoint="PJSIP/{digits}@trunk",
        max_connections=connections,
    )
    originate_rtt: list[float] = []
    to_answer: list[float] = []
    sent_at: dict[str, float] = {}
    lags: list[tuple[float, float]] = []
    concurrency: list[tuple[float, int]] = []
    answered: set[str] = set()
    ended: set[str] = set()
    all_answered = anyio.Event()
    all_ended = anyio.Event()
    errors: list[str] = []
    early: list[str] = []
    hanging_up = False
    t0 = time.perf_counter()
    cpu0 = time.process_time()

    async def lag_monitor() -> None:
        while True:
            before = time.perf_counter()
            await anyio.sleep(LAG_PERIOD)
            lags.append((before - t0, time.perf_counter() - before - LAG_PERIOD))

    async def consume(switch: AriSwitch) -> None:
        async for event in switch.events():
            now = time.perf_counter()
            if isinstance(event, base.CallAnswered):
                answered.add(event.call_id)
                to_answer.append(now - sent_at[event.call_id])
                concurrency.append((now - t0, len(answered) - len(ended)))
                if len(answered) == calls:
                    all_answered.set()
            elif isinstance(event, base.CallEnded):
                ended.add(event.call_id)
                if event.call_id not in answered or not hanging_up:
                    early.append(event.detail)
                concurrency.append((now - t0, len(answered) - len(ended)))
                if len(ended) == calls:
                    all_ended.set()

    async def originate(switch: AriSwitch, call_id: str) -> None:
        sent_at[call_id] = start = time.perf_counter()
        try:
            await switch.originate(
                call_id, "+79500000001", caller_id="+74950000000", ring_timeout=30
            )
        except Exception as exc:  # counted and reported, the run goes on
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        originate_rtt.append(time.perf_counter() - start)

    async with AriSwitch(settings=settings) as switch, anyio.create_task_group() as tg:
        tg.start_soon(lag_monitor)
        tg.start_soon(consume, switch)
        ramp_start = time.perf_counter()
        for i in range(calls):
            target = ramp_start + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await anyio.sleep(delay)
            tg.start_soon(originate, switch, f"{tag}-{i}")
        ramp_seconds = time.perf_counter() - ramp_start
        with anyio.move_on_after(60):
            await all_answered.wait()
        if not all_answered.is_set():
            raise RuntimeError(
                f"only {len(answered)} of {calls} answered; {len(ended)} ended; "
                f"errors: {errors[:3]}; early ends: {early[:3]}; gaps: {switch.gaps}"
            )
        peak = max(n for _, n in concurrency)
        await anyio.sleep(1.0)  # hold 1,000 calls up for a second
        hanging_up = True
        hangup_start = time.perf_counter()
        for i in range(calls):
            target = hangup_start + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await anyio.sleep(delay)
            tg.start_soon(switch.hangup, f"{tag}-{i}")
        with anyio.fail_after(60):
            await all_ended.wait()
        tg.cancel_scope.cancel()
    cpu = time.process_time() - cpu0
    lag_ms = [lag * 1000 for _, lag in lags]
    return {
        "calls": calls,
        "target_rate": rate,
        "achieved_rate": calls / ramp_seconds,
        "peak_concurrent": peak,
        "errors": len(errors),
        "originate_p50_ms": pct(originate_rtt, 0.5) * 1000,
        "originate_p99_ms": pct(originate_rtt, 0.99) * 1000,
        "answer_p50_ms": pct(to_answer, 0.5) * 1000,
        "answer_p99_ms": pct(to_answer, 0.99) * 1000,
        "client_cpu_ms_per_call": cpu / calls * 1000,
        "client_cpu_share": cpu / (time.perf_counter() - t0),
        "lag_p50_ms": pct(lag_ms, 0.5),
        "lag_p99_ms": pct(lag_ms, 0.99),
        "lag_max_ms": max(lag_ms),
        "_lags": lags,
        "_concurrency": concurrency,
    }


def plot(run: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    xs, ys = zip(*run["_lags"], strict=True)
    ax1.plot(xs, [y * 1000 for y in ys], linewidth=0.6)
    ax1.axhline(10, color="red", linestyle="--", linewidth=0.8, label="10 ms budget")
    ax1.set_ylabel("event-loop lag (ms)")
    ax1.legend(loc="upper right")
    cx, cy = zip(*run["_concurrency"], strict=True)
    ax2.step(cx, cy, where="post")
    ax2.set_ylabel("answered calls up")
    ax2.set_xlabel("seconds")
    fig.suptitle(f"AriSwitch: {run['calls']} calls at {run['target_rate']:g}/s (asyncio)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--loops", default="asyncio,trio")
    parser.add_argument(
        "--max-connections", type=int, default=AriSettings.__attrs_attrs__.max_connections.default
    )
    options = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    summary: dict[str, Any] = {
        "calls": options.calls,
        "rate": options.rate,
        "runs": options.runs,
        "max_connections": options.max_connections,
    }
    rows = []
    for loop in options.loops.split(","):
        runs = []
        for n in range(options.runs):
            proc, url = start_fake()
            try:
                runs.append(
                    anyio.run(
                        one_run,
                        url,
                        options.calls,
                        options.rate,
                        f"{loop}{n}",
                        options.max_connections,
                        backend=loop,
                    )
                )
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        if loop == "asyncio":
            plot(runs[len(runs) // 2], RESULTS / "ari_load.png")
        keys = [k for k in runs[0] if not k.startswith("_")]
        median = {k: statistics.median(r[k] for r in runs) for k in keys}
        summary[loop] = {"median": median, "runs": [{k: r[k] for k in keys} for r in runs]}
        rows.append((loop, median))
    print(
        f"AriSwitch against the fake ARI server (separate process), {options.calls} calls at "
        f"{options.rate:g}/s, median of {options.runs} runs\n"
    )
    print(
        "| loop | set-ups/s | peak up | errors | originate p50/p99 ms | answer p50/p99 ms "
        "| loop lag p50/p99/max ms | client CPU ms/call |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for loop, m in rows:
        print(
            f"| {loop} | {m['achieved_rate']:.0f} | {m['peak_concurrent']:.0f} | "
            f"{m['errors']:.0f} | {m['originate_p50_ms']:.1f} / {m['originate_p99_ms']:.1f} | "
            f"{m['answer_p50_ms']:.0f} / {m['answer_p99_ms']:.0f} | "
            f"{m['lag_p50_ms']:.2f} / {m['lag_p99_ms']:.2f} / {m['lag_max_ms']:.1f} | "
            f"{m['client_cpu_ms_per_call']:.2f} |"
        )
    load = os.getloadavg()[0]
    print(
        f"\n{os.cpu_count()} CPUs, load average {load:.1f} at the end (other work on the "
        "machine shows up as loop lag)."
    )
    summary["load_average"] = load
    (RESULTS / "ari_load.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
