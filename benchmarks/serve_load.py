"""``autoinformer serve`` under a dashboard's load: API latency, and what it costs a campaign.

The scene of issue #16: a server holding 50 campaigns, 20 dashboard clients streaming one
campaign's events (``GET /api/campaigns/{id}/events``), and pollers listing the 50 campaigns
and reading the big one's status, while that campaign calls 10,000 contacts on the simulated
switch (``[sim] speed``). Measured:

1. API latency while it runs: p50 / p99 / max of ``GET /api/campaigns`` (50 campaigns) and of
   ``GET /api/campaigns/{id}``, timed by the client over loopback.
2. The campaign's wall time, from ``POST .../start`` to its ``end`` event, against the same
   campaign (same file, list, seed and speed) run without the server: ``autoinformer run
   --speed`` (its ``wall_seconds``). The ratio is the server's cost to the campaign.

The server runs in its own process (``autoinformer serve``, uvicorn); the clients in this one.
Each figure is the median of ``--runs`` runs. Run: ``python benchmarks/serve_load.py [--runs 3]
[--contacts 10000] [--speed 200]``; writes ``benchmarks/results/serve_load.json``. The machine
is shared (2 CPUs): the figures are what one run of this script saw, not a guarantee.

``--store postgresql://...`` runs both (the server, and ``run`` without it) on PostgreSQL,
each run in a fresh schema of that database, and writes ``serve_load_postgres.json``;
``--output NAME`` names the results file instead. ``docs/serve.md`` compares the stores with
``--contacts 2000`` (a PostgreSQL campaign of 10,000 outlasts the sim's calling day).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SRC = HERE.parent / "src"
TOKEN = "bench-token"
CAMPAIGNS = 50
SSE_CLIENTS = 20
POLLERS = 2
POLL_PAUSE = 0.25
"""Seconds each poller waits between requests (two pollers: about 8 requests a second, on
top of the 20 event streams: the latency probe is not itself the load)."""
SMALL_LIST = 20


def campaign(name: str, lines: int, *, contacts: str = "", speed: float | None = None) -> str:
    """The campaign file: a broadcast of one ``say`` step on the simulated switch."""
    tables = {
        "campaign": [f'name = "{name}"', 'region = "RU"', f"lines = {lines}"]
        + ['timezone = "Europe/Moscow"']
        + ([f'contacts = "{contacts}"'] if contacts else []),
        "campaign.window": ['days = "mon-sun"', 'hours = "09:00-20:00"'],
        "campaign.retry": ["attempts = 1"],
        "backend": ['kind = "sim"'],
        "sim": ["seed = 3"] + ([f"speed = {speed}"] if speed is not None else []),
    }
    text = "\n\n".join(f"[{key}]\n" + "\n".join(rows) for key, rows in tables.items())
    return text + '\n\n[[script]]\nsay = "Hello {name}, your debt is {BALANCE} roubles."\n'


def contact_list(count: int, start: int = 0) -> str:
    rows = ["phone,name,BALANCE"]
    rows += [f"+7495{start + i:07d},Person {start + i},-{i}.50" for i in range(count)]
    return "\n".join(rows) + "\n"


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(SRC) + os.pathsep + out.get("PYTHONPATH", "")
    out["AUTOINFORMER_TOKEN"] = TOKEN
    return out


def fresh_schema(url: str) -> str:
    """``url`` pointed at a new, empty schema of its database (one per run)."""
    import uuid

    import psycopg

    sys.path.insert(0, str(SRC))
    from autoinformer.testing.postgres import in_schema

    schema = f"serve_load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{schema}"')
    return in_schema(url, schema)


def baseline(
    tmp: Path, contacts: int, speed: float, lines: int, store: str | None = None
) -> dict[str, Any]:
    """The campaign without the server: ``autoinformer run --speed`` in its own process."""
    (tmp / "list.csv").write_text(contact_list(contacts), encoding="utf-8")
    (tmp / "campaign.toml").write_text(
        campaign("load", lines, contacts="list.csv"), encoding="utf-8"
    )
    done = subprocess.run(
        [
            *(sys.executable, "-m", "autoinformer", "run", str(tmp / "campaign.toml")),
            *("--speed", str(speed), "--json", "--store", store or str(tmp / "base.sqlite")),
        ],
        env=env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    summary = json.loads(done.stdout)
    return {"wall_seconds": summary["wall_seconds"], "attempts": summary["attempts"]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(store: Path | str, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "autoinformer", "serve", "--port", str(port), "--store", str(store)],
        env=env(),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError("the server exited before it listened")
        if "Uvicorn running on" in line:
            return proc
    proc.kill()
    raise RuntimeError("the server did not start within 60 s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def load(base: str, contacts: int, speed: float, lines: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=SSE_CLIENTS + POLLERS + 4)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=120, limits=limits
    ) as client:
        toml = {"Content-Type": "application/toml"}
        csv = {"Content-Type": "text/csv"}
        for i in range(CAMPAIGNS - 1):
            made = await client.post(
                "/api/campaigns", content=campaign(f"other {i}", 5), headers=toml
            )
            made.raise_for_status()
            await client.post(
                f"/api/campaigns/{made.json()['id']}/contacts",
                content=contact_list(SMALL_LIST, 10_000_000 + i * SMALL_LIST),
                headers=csv,
            )
        made = await client.post(
            "/api/campaigns", content=campaign("load", lines, speed=speed), headers=toml
        )
        made.raise_for_status()
        big = made.json()["id"]
        upload_started = time.perf_counter()
        report = await client.post(
            f"/api/campaigns/{big}/contacts", content=contact_list(contacts), headers=csv
        )
        report.raise_for_status()
        upload_seconds = time.perf_counter() - upload_started
        listed = (await client.get("/api/campaigns")).json()
        assert len(listed) == CAMPAIGNS, len(listed)

        finished = anyio.Event()
        ended_at: list[float] = []
        events: list[int] = []
        latency: dict[str, list[float]] = {"list": [], "status": []}
        timed: list[tuple[float, float, str]] = []  # (sent at, seconds, kind)

        calling: list[float] = []  # when the first result reached a dashboard

        async def dashboard() -> None:
            count = 0
            async with client.stream("GET", f"/api/campaigns/{big}/events") as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("event: "):
                        count += 1
                        if line == "event: end":
                            break
                    elif (
                        not calling and line.startswith("data: {") and '"attempts": 0,' not in line
                    ):
                        calling.append(time.perf_counter())
            events.append(count)
            ended_at.append(time.perf_counter())
            finished.set()

        async def poller() -> None:
            while not finished.is_set():
                for kind, url in (("list", "/api/campaigns"), ("status", f"/api/campaigns/{big}")):
                    t = time.perf_counter()
                    answer = await client.get(url)
                    latency[kind].append(time.perf_counter() - t)
                    timed.append((t, time.perf_counter() - t, kind))
                    answer.raise_for_status()
                    await anyio.sleep(POLL_PAUSE)

        async with anyio.create_task_group() as tg:
            for _ in range(SSE_CLIENTS):
                tg.start_soon(dashboard)
            started = time.perf_counter()
            (await client.post(f"/api/campaigns/{big}/start")).raise_for_status()
            for _ in range(POLLERS):
                tg.start_soon(poller)
        final = (await client.get(f"/api/campaigns/{big}")).json()
    steady = {
        kind: [took for at, took, k in timed if k == kind and calling and at >= calling[0]]
        for kind in latency
    }
    worst = max(timed, key=lambda x: x[1])
    return {
        "wall_seconds": round(min(ended_at) - started, 3),
        "attempts": final["attempts"],
        "state": final["state"],
        "upload_seconds": round(upload_seconds, 3),
        "sse_events_per_client": statistics.median(events),
        "requests": {k: len(v) for k, v in latency.items()},
        "latency_ms": {kind: summary(values) for kind, values in latency.items()},
        "latency_while_calling_ms": {kind: summary(values) for kind, values in steady.items()},
        "first_result_after_seconds": round(calling[0] - started, 3) if calling else None,
        "worst_request": {
            "kind": worst[2],
            "sent_after_start_seconds": round(worst[0] - started, 3),
            "ms": round(1000 * worst[1], 1),
        },
    }


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(1000 * statistics.median(values), 2),
        "p99": round(1000 * percentile(values, 99), 2),
        "max": round(1000 * max(values), 2),
    }


def served(
    tmp: Path, contacts: int, speed: float, lines: int, store: str | None = None
) -> dict[str, Any]:
    port = free_port()
    proc = start_server(store or tmp / "serve.sqlite", port)
    try:
        return anyio.run(load, f"http://127.0.0.1:{port}", contacts, speed, lines)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--speed", type=float, default=200.0)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument(
        "--store", default=None, help="a postgresql:// URL: run on PostgreSQL (default SQLite)"
    )
    parser.add_argument("--output", default=None, help="the results file's name (in results/)")
    args = parser.parse_args()
    postgres = args.store is not None
    runs: list[dict[str, Any]] = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
            store = fresh_schema(args.store) if postgres else None
            alone = baseline(Path(tmp), args.contacts, args.speed, args.lines, store)
        with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
            store = fresh_schema(args.store) if postgres else None
            loaded = served(Path(tmp), args.contacts, args.speed, args.lines, store)
        runs.append({"baseline": alone, "served": loaded})
        print(
            f"run {run + 1}: alone {alone['wall_seconds']:.1f} s, served "
            f"{loaded['wall_seconds']:.1f} s, list p99 {loaded['latency_ms']['list']['p99']} ms "
            f"(while calling {loaded['latency_while_calling_ms']['list']['p99']} ms), worst "
            f"{loaded['worst_request']}",
            file=sys.stderr,
            flush=True,
        )

    def med(path: str) -> float:
        values = []
        for run in runs:
            value: Any = run
            for key in re.split(r"\.", path):
                value = value[key]
            values.append(float(value))
        return round(statistics.median(values), 3)

    result = {
        "benchmark": "serve_load",
        "setup": {
            "campaigns_listed": CAMPAIGNS,
            "sse_clients": SSE_CLIENTS,
            "pollers": POLLERS,
            "poll_pause_seconds": POLL_PAUSE,
            "contacts": args.contacts,
            "lines": args.lines,
            "speed": args.speed,
            "store": "postgresql" if postgres else "sqlite",
            "runs": args.runs,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "median": {
            "baseline_wall_seconds": med("baseline.wall_seconds"),
            "served_wall_seconds": med("served.wall_seconds"),
            "wall_ratio_served_to_alone": round(
                statistics.median(
                    r["served"]["wall_seconds"] / r["baseline"]["wall_seconds"] for r in runs
                ),
                3,
            ),
            "list_p50_ms": med("served.latency_ms.list.p50"),
            "list_p99_ms": med("served.latency_ms.list.p99"),
            "status_p50_ms": med("served.latency_ms.status.p50"),
            "status_p99_ms": med("served.latency_ms.status.p99"),
            "list_p99_while_calling_ms": med("served.latency_while_calling_ms.list.p99"),
            "status_p99_while_calling_ms": med("served.latency_while_calling_ms.status.p99"),
            "worst_request_ms": med("served.worst_request.ms"),
            "first_result_after_start_seconds": med("served.first_result_after_seconds"),
            "upload_seconds": med("served.upload_seconds"),
        },
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    name = args.output or ("serve_load_postgres.json" if postgres else "serve_load.json")
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    m = result["median"]
    print(f"| figure (median of {args.runs} runs) | value |")
    print("|---|---|")
    for key, value in m.items():
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
