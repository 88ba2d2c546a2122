"""The PostgreSQL store against SQLite: journal throughput and lease latency (#17).

Measures, as the median of several runs, each on a fresh store:

- contacts added per second (``add_contacts`` of N contacts, chunked as the stores do);
- begin/finish round trips per second: ``begin_attempt`` then ``finish_attempt`` for M
  attempts, one after the other, each a committed transaction (what the runtime does per call);
- (PostgreSQL only) ``take_leases`` of one contact at a time: the median and p99 latency a
  worker waits to be handed its next contact.

SQLite is measured both ways the project uses it: ``durability="normal"`` (what ``run`` and
``demo`` open: WAL, no fsync per commit, survives kill -9) and ``"full"`` (fsync per commit,
survives power loss, as PostgreSQL's default ``synchronous_commit = on`` does). Ratios are
PostgreSQL / SQLite-normal and PostgreSQL / SQLite-full (the like-for-like durability).

The server: ``--url`` or ``AUTOINFORMER_TEST_POSTGRES_URL``; without either, a throwaway cluster
is started in a temporary directory (Debian's ``postgresql`` package) and stopped at the end.
Each run gets its own schema, dropped afterwards.

Run: ``python benchmarks/store_postgres.py [--contacts 20000] [--attempts 2000] [--runs 3]``;
writes ``benchmarks/results/store_postgres.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from autoinformer.contacts.model import Contact
from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.store.base import Store
from autoinformer.store.postgres import PostgresStore
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.postgres import ENV, in_schema, start_cluster, stop_cluster

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def contacts(n: int) -> list[Contact]:
    return [
        Contact(
            id=f"debtor-{i:07d}",
            name=f"Person {i}",
            phones=(f"+7950{i:07d}",),
            variables={"BALANCE": str(-100 - i % 900), "FLAT": str(i % 300)},
        )
        for i in range(n)
    ]


def attempt(i: int, outcome: Outcome | None = None) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=f"a{i}",
        campaign="bench",
        contact_id=f"debtor-{i:07d}",
        attempt_no=1,
        number=f"+7950{i:07d}",
        caller_id="+74950000000",
        started_at=1000.0 + i,
        answered_at=None if outcome is None else 1007.0 + i,
        ended_at=None if outcome is None else 1030.0 + i,
        outcome=outcome,
        cause=None if outcome is None else 16,
    )


@contextlib.contextmanager
def postgres_server(url: str | None) -> Iterator[str]:
    """The given server, or a throwaway cluster for the benchmark's duration."""
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        os.chmod(tmp, 0o755)
        directory = Path(tmp) / "cluster"
        try:
            yield start_cluster(directory)
        finally:
            stop_cluster(directory)


@contextlib.contextmanager
def fresh_postgres(url: str) -> Iterator[PostgresStore]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with PostgresStore(in_schema(url, schema)) as store:
            yield store
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextlib.contextmanager
def fresh_sqlite(durability: Any) -> Iterator[SqliteStore]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        SqliteStore(Path(tmp) / "bench.sqlite", durability=durability) as store,
    ):
        yield store


def add_rate(opener: Callable[[], Any], people: list[Contact]) -> float:
    with opener() as store:
        start = time.perf_counter()
        store.add_contacts("bench", people)
        return len(people) / (time.perf_counter() - start)


def journal_rate(opener: Callable[[], Any], m: int) -> float:
    with opener() as store:
        s: Store = store
        start = time.perf_counter()
        for i in range(m):
            s.begin_attempt(attempt(i))
            s.finish_attempt(attempt(i, Outcome.DELIVERED))
        return m / (time.perf_counter() - start)


def lease_latencies(url: str, people: list[Contact], takes: int) -> list[float]:
    with fresh_postgres(url) as store:
        store.add_contacts("bench", people)
        samples = []
        for _ in range(takes):
            start = time.perf_counter()
            taken = store.take_leases("bench", "w1", now=0.0, ttl=60.0, limit=1)
            samples.append(time.perf_counter() - start)
            assert len(taken) == 1
        return samples


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--attempts", type=int, default=2_000)
    parser.add_argument("--takes", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default=os.environ.get(ENV))
    args = parser.parse_args()
    people = contacts(args.contacts)

    with postgres_server(args.url) as url:
        with psycopg.connect(url) as db:
            server = db.execute("SHOW server_version").fetchone()
            sync = db.execute("SHOW synchronous_commit").fetchone()
        stores: dict[str, Callable[[], Any]] = {
            "postgresql": lambda: fresh_postgres(url),
            "sqlite_normal": lambda: fresh_sqlite("normal"),
            "sqlite_full": lambda: fresh_sqlite("full"),
        }
        rows: dict[str, dict[str, float]] = {}
        for name, opener in stores.items():
            adds = [add_rate(opener, people) for _ in range(args.runs)]
            trips = [journal_rate(opener, args.attempts) for _ in range(args.runs)]
            rows[name] = {
                "contacts_added_per_second": statistics.median(adds),
                "begin_finish_round_trips_per_second": statistics.median(trips),
            }
        lease_runs = [
            lease_latencies(url, people[: args.takes], args.takes) for _ in range(args.runs)
        ]
    base = rows["sqlite_normal"]
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "postgresql": server[0] if server else None,
        "synchronous_commit": sync[0] if sync else None,
        "contacts": args.contacts,
        "attempts": args.attempts,
        "runs": args.runs,
        "stores": rows,
        "postgresql_over_sqlite_normal": {key: rows["postgresql"][key] / base[key] for key in base},
        "postgresql_over_sqlite_full": {
            key: rows["postgresql"][key] / rows["sqlite_full"][key] for key in base
        },
        "take_leases_one_at_a_time": {
            "takes": args.takes,
            "median_ms": statistics.median(statistics.median(r) for r in lease_runs) * 1e3,
            "p99_ms": statistics.median(p99(r) for r in lease_runs) * 1e3,
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "store_postgres.json").write_text(json.dumps(results, indent=2) + "\n")
    print("| store | contacts added/s | begin+finish round trips/s |")
    print("| --- | ---: | ---: |")
    for name, row in rows.items():
        print(
            f"| {name} | {row['contacts_added_per_second']:,.0f} "
            f"| {row['begin_finish_round_trips_per_second']:,.0f} |"
        )
    ratios = results["postgresql_over_sqlite_normal"]
    full = results["postgresql_over_sqlite_full"]
    print(
        f"\nPostgreSQL / SQLite-normal: adds {ratios['contacts_added_per_second']:.2f}x, "
        f"round trips {ratios['begin_finish_round_trips_per_second']:.2f}x; "
        f"PostgreSQL / SQLite-full: adds {full['contacts_added_per_second']:.2f}x, "
        f"round trips {full['begin_finish_round_trips_per_second']:.2f}x; "
        f"take_leases: median {results['take_leases_one_at_a_time']['median_ms']:.2f} ms, "
        f"p99 {results['take_leases_one_at_a_time']['p99_ms']:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
