"""The measuring harness the switch load benchmarks share (``ari_load.py``, ``esl_load.py``).

A benchmark starts its fake server in a separate process (:func:`start_server`), opens its
switch and hands it to :func:`drive`, which sets up ``calls`` calls at ``rate`` per second,
holds them up for a second, hangs them up at the same rate and measures, on the client's
event loop only: the set-up rate achieved, peak concurrent answered calls, the originate round
trip, the time from originate to ``CallAnswered`` and the event-loop lag (how late a 5 ms
sleep wakes up) through the whole run. :func:`main` runs that per event loop and run, prints
the Markdown table of the medians and writes the JSON and the PNG.

Not a benchmark itself (``run_all.py`` skips names starting with ``_``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import anyio

from autoinformer.backends import base

RESULTS = Path(__file__).resolve().parent / "results"
PASSWORD = "bench-secret"
LAG_PERIOD = 0.005
"""Seconds the loop-lag probe sleeps; how much later it wakes is the lag."""
PATIENCE = 60.0
"""Seconds to wait for every call to be answered (and later to end) before giving up."""


class LoadSwitch(Protocol):
    """What :func:`drive` needs of a switch (AriSwitch and EslSwitch have it)."""

    def events(self) -> AsyncIterator[base.SwitchEvent]: ...

    async def originate(
        self, call_id: str, destination: str, *, caller_id: str | None, ring_timeout: float
    ) -> None: ...

    async def hangup(self, call_id: str) -> None: ...


def start_server(
    module: str, args: list[str], banner: str, where: Callable[[str], str] = str.strip
) -> tuple[subprocess.Popen[str], str]:
    """Run ``python -m module args``; return it and where it listens, once it says so.

    Args:
        module: the fake server's module.
        args: its command line.
        banner: what its first line says before the address.
        where: turns the rest of that line into the address to give :func:`main`'s ``one_run``.

    Raises:
        RuntimeError: the first line it prints does not contain ``banner``.
    """
    command = [sys.executable, "-m", module, *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if banner not in line:
        proc.kill()
        raise RuntimeError(f"fake server did not start: {line!r}")
    return proc, where(line.split(banner, 1)[1])


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _paced(count: int, rate: float, start_one: Callable[[int], None]) -> float:
    """Call ``start_one(i)`` for i < count at ``rate`` per second; the seconds it took."""
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await anyio.sleep(delay)
        start_one(i)
    return time.perf_counter() - start


async def drive(
    connect: AbstractAsyncContextManager[LoadSwitch],
    *,
    calls: int,
    rate: float,
    tag: str,
    extra: Callable[[Any], dict[str, Any]] = lambda switch: {},
    diagnose: Callable[[Any], str] = lambda switch: "",
) -> dict[str, Any]:
    """One run: ``calls`` calls set up at ``rate``/s through the switch ``connect`` opens.

    Args:
        connect: opens (and at the end closes) the switch under load.
        calls: how many calls; every one must be answered.
        rate: set-ups (and later hang-ups) per second.
        tag: prefix of the call ids (unique per run).
        extra: further figures read from the switch at the end (after ``errors``).
        diagnose: more to say when not every call was answered.

    Returns:
        The run's figures; keys starting with ``_`` are time series for the plot.

    Raises:
        RuntimeError: not every call was answered within :data:`PATIENCE` seconds.
    """
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

    async def consume(switch: LoadSwitch) -> None:
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

    async def originate(switch: LoadSwitch, call_id: str) -> None:
        sent_at[call_id] = start = time.perf_counter()
        try:
            await switch.originate(
                call_id, "+79500000001", caller_id="+74950000000", ring_timeout=30
            )
        except Exception as exc:  # counted and reported, the run goes on
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        originate_rtt.append(time.perf_counter() - start)

    async with connect as switch, anyio.create_task_group() as tg:
        tg.start_soon(lag_monitor)
        tg.start_soon(consume, switch)
        ramp_seconds = await _paced(
            calls, rate, lambda i: tg.start_soon(originate, switch, f"{tag}-{i}")
        )
        with anyio.move_on_after(PATIENCE):
            await all_answered.wait()
        if not all_answered.is_set():
            raise RuntimeError(
                f"only {len(answered)} of {calls} answered; {len(ended)} ended; "
                f"errors: {errors[:3]}; early ends: {early[:3]}{diagnose(switch)}"
            )
        peak = max(n for _, n in concurrency)
        await anyio.sleep(1.0)  # hold every call up for a second
        hanging_up = True
        await _paced(calls, rate, lambda i: tg.start_soon(switch.hangup, f"{tag}-{i}"))
        with anyio.fail_after(PATIENCE):
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
        **extra(switch),
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


def plot(run: dict[str, Any], path: Path, title: str) -> None:
    """Loop lag (with the 10 ms budget) and answered calls up, over the run."""
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
    fig.suptitle(f"{title}: {run['calls']} calls at {run['target_rate']:g}/s (asyncio)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parser(description: str) -> argparse.ArgumentParser:
    """The options every load benchmark takes."""
    options = argparse.ArgumentParser(description=description)
    options.add_argument("--calls", type=int, default=1000)
    options.add_argument("--rate", type=float, default=200.0)
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--loops", default="asyncio,trio")
    options.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS,
        help="where the JSON and the PNG go (a short trial run: somewhere else)",
    )
    return options


def main(
    name: str,
    title: str,
    server: str,
    options: argparse.Namespace,
    start: Callable[[], tuple[subprocess.Popen[str], str]],
    one_run: Callable[[str, str], Awaitable[dict[str, Any]]],
    settings: dict[str, Any] | None = None,
) -> int:
    """Every run on every loop, each against a fresh server; the table, the JSON, the PNG.

    Args:
        name: the file stem of the results (``NAME.json``, ``NAME.png``).
        title: the switch measured, for the table and the plot.
        server: what it runs against, for the table.
        options: from :func:`parser` (``calls``, ``rate``, ``runs``, ``loops``,
            ``results_dir``).
        start: starts the fake server; returns it and where it listens.
        one_run: ``one_run(address, tag)`` measures one run (see :func:`drive`).
        settings: more settings to record in the JSON, after ``runs``.

    Returns:
        0 (the exit status).
    """
    results: Path = options.results_dir
    results.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "calls": options.calls,
        "rate": options.rate,
        "runs": options.runs,
        **(settings or {}),
    }
    rows = []
    for loop in options.loops.split(","):
        runs = []
        for n in range(options.runs):
            proc, address = start()
            try:
                runs.append(anyio.run(one_run, address, f"{loop}{n}", backend=loop))
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        if loop == "asyncio":
            plot(runs[len(runs) // 2], results / f"{name}.png", title)
        keys = [k for k in runs[0] if not k.startswith("_")]
        median = {k: statistics.median(r[k] for r in runs) for k in keys}
        summary[loop] = {"median": median, "runs": [{k: r[k] for k in keys} for r in runs]}
        rows.append((loop, median))
    print(
        f"{title} against the {server} (separate process), {options.calls} calls at "
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
    (results / f"{name}.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0
