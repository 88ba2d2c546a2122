"""Several ``autoinformer run --worker`` processes on one PostgreSQL campaign (#17), through
the drill ``benchmarks/drills/workers_kill9.py`` at a CI size.

Four worker processes on one simulated campaign with a shared fast clock: every contact
finished, and reached at most once; no attempt id or attempt number twice; no two calls to
one person at once; the campaign's lines never exceeded (sampled from the database while it
runs, and over the whole journal afterwards); the abandon rate under its cap. Then the same
with 20 ``kill -9`` of a random worker at random points (restarted under its name, replaced
later by a new worker, or not): no finished result lost or changed.

CI size: 600 contacts (the drill's figures at 10,000 are in docs/postgres.md). The test
database commits without waiting for the disk (``synchronous_commit=off``: a server crash is
not what is tested; a killed worker's committed rows stay), so the run is bound by the
workers, not by fsync on a shared CI disk.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from autoinformer.testing.postgres_fixture import postgres_url as _postgres_url

postgres_url = _postgres_url

DRILL = Path(__file__).resolve().parents[2] / "benchmarks" / "drills" / "workers_kill9.py"
CONTACTS = 600


def _drill() -> Any:
    spec = importlib.util.spec_from_file_location("workers_kill9", DRILL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("workers_kill9", module)
    spec.loader.exec_module(module)
    return module


def _fast_commits(url: str) -> str:
    """``url`` with ``synchronous_commit=off`` added to its libpq options."""
    return url.replace("options=", "options=-csynchronous_commit%3Doff%20", 1)


def _run(url: str, tmp_path: Path, **settings: Any) -> dict[str, Any]:
    drill = _drill()
    row: dict[str, Any] = drill.drill(
        _fast_commits(url),
        drill.DrillSettings(contacts=CONTACTS, timeout=80.0, **settings),
        tmp_path,
    )
    row["problems"] = drill.problems(row)
    return row


@pytest.mark.slow
@pytest.mark.timeout(100)
def test_four_workers_finish_a_campaign_once_within_its_lines(
    postgres_url: str, tmp_path: Path
) -> None:
    row = _run(postgres_url, tmp_path, workers=4, kills=0, speed=100.0, lines=30, interval="2m")
    assert row["problems"] == [], row
    assert row["contacts_open"] == 0
    assert row["attempts"] >= CONTACTS
    # the four shared the campaign: each finished a part of it
    shares = [s["attempts"] for s in row["worker_summaries"] if s]
    assert len(shares) == 4, row["worker_summaries"]
    assert all(share > 0 for share in shares), shares
    assert sum(shares) == row["attempts"]
    # the sampler saw the calls (a check that never looked would pass anything)
    assert row["samples"] >= 20
    assert 0 < row["max_in_flight_sampled"] <= 30
    assert row["live_answers"] > 100
    assert row["abandon_rate"] <= row["abandon_cap"]


@pytest.mark.slow
@pytest.mark.timeout(100)
def test_kill_dash_nine_twenty_times_loses_nothing_and_calls_nobody_twice(
    postgres_url: str, tmp_path: Path
) -> None:
    row = _run(
        postgres_url,
        tmp_path,
        workers=4,
        kills=20,
        speed=60.0,
        lines=24,
        lease_ttl=3.0,
        interval="2m",
    )
    assert row["problems"] == [], row
    assert row["kills"] == 20
    assert row["in_flight_at_kills"] > 0, "no kill landed among calls"
    assert row["lost"] == 0
    assert row["rewritten"] == 0
    assert row["double_calls"] == 0
    assert row["reached_twice"] == 0
    assert row["unfinished"] == 0
    assert row["contacts_open"] == 0
