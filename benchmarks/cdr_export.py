"""Statistics and call-detail-record export: speed and memory for large campaigns.

Measures, as the median of several runs, on records generated lazily (a generator, as
``Store.attempts`` streams them):

- ``CampaignStats.from_records`` over N records;
- ``write_cdr_csv`` and ``write_cdr_xlsx`` (openpyxl write-only mode) of N records to a file;

and, in a separate run under ``tracemalloc``, the peak Python memory of each export at two
sizes, to show that memory stays flat as the export grows (nothing is held per row).

Run: ``python benchmarks/cdr_export.py [--rows 50000] [--runs 3]``; writes
``benchmarks/results/cdr_export.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.stats import CampaignStats, write_cdr_csv, write_cdr_xlsx

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

_OUTCOMES = [
    Outcome.DELIVERED,
    Outcome.DELIVERED,
    Outcome.NO_ANSWER,
    Outcome.BUSY,
    Outcome.TRANSFERRED,
    Outcome.HUNG_UP_EARLY,
    Outcome.MACHINE,
    Outcome.UNREACHABLE,
]


def records(n: int) -> Iterator[AttemptRecord]:
    """``n`` plausible attempts over an 8-hour day, without holding them in memory."""
    t0 = 1_768_557_600.0
    for i in range(n):
        outcome = _OUTCOMES[i % len(_OUTCOMES)]
        started = t0 + (i * 28_800.0) / n
        answered = started + 7.0 if outcome.answered else None
        yield AttemptRecord(
            attempt_id=f"a{i}",
            campaign="bench",
            contact_id=f"debtor-{i // 2:07d}",
            attempt_no=1 + i % 2,
            number=f"+7950{i:07d}",
            caller_id="+74950000000",
            started_at=started,
            answered_at=answered,
            ended_at=(answered or started) + 20.0 + i % 50,
            outcome=outcome,
            cause=16 if answered else 19,
            digits="1" if outcome is Outcome.TRANSFERRED else "",
            operator="ivanova" if outcome is Outcome.TRANSFERRED else None,
            machine=outcome is Outcome.MACHINE,
        )


def timed(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    n = args.rows
    results: dict[str, object] = {"python": platform.python_version(), "rows": n, "runs": args.runs}

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "calls.csv"
        xlsx_path = Path(tmp) / "calls.xlsx"
        jobs: dict[str, Callable[[int], object]] = {
            "CampaignStats.from_records": lambda k: CampaignStats.from_records(
                records(k), rate_per_minute="1.8"
            ),
            "write_cdr_csv": lambda k: write_cdr_csv(records(k), csv_path),
            "write_cdr_xlsx": lambda k: write_cdr_xlsx(records(k), xlsx_path),
        }
        rows = {}
        for name, job in jobs.items():
            seconds = timed(lambda job=job: job(n), args.runs)  # type: ignore[misc]
            small = peak_mb(lambda job=job: job(n // 10))  # type: ignore[misc]
            large = peak_mb(lambda job=job: job(n))  # type: ignore[misc]
            rows[name] = {
                "seconds": seconds,
                "rows_per_second": n / seconds,
                f"peak_mb_{n // 10}": small,
                f"peak_mb_{n}": large,
            }
        rows["write_cdr_csv"]["file_mb"] = csv_path.stat().st_size / 1e6
        rows["write_cdr_xlsx"]["file_mb"] = xlsx_path.stat().st_size / 1e6
    results["jobs"] = rows

    print(
        f"| job ({n:,} records) | s (median of {args.runs}) | records/s "
        f"| peak MB at {n // 10:,} | peak MB at {n:,} |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['seconds']:.2f} | {row['rows_per_second']:,.0f} "
            f"| {row[f'peak_mb_{n // 10}']:.1f} | {row[f'peak_mb_{n}']:.1f} |"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cdr_export.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
