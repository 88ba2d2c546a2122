"""``autoinformer run --worker NAME``: what is refused before anyone is called, and what a
worker's summary says (#17)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autoinformer.cli import main
from autoinformer.cli._fleet import LeaseTimings, WorkerTally
from autoinformer.cli._stores import campaign_lock
from autoinformer.errors import StoreError
from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.testing.postgres_fixture import postgres_url as _postgres_url

EXAMPLE = Path(__file__).parents[2] / "examples" / "campaign"

postgres_url = _postgres_url


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    target = tmp_path / "campaign"
    shutil.copytree(EXAMPLE, target)
    return target / "campaign.toml"


def test_a_worker_on_a_sqlite_store_exits_2_and_says_why(
    toml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "c.sqlite"
    argv = ["run", str(toml), "--store", str(store), "--worker", "w1", "--speed", "500"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--worker needs a PostgreSQL store (--store postgresql://...)" in err
    assert f"the SQLite file {store}" in err
    assert not store.exists()  # nothing opened, nobody called


def test_a_worker_without_a_store_exits_2(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(toml), "--worker", "w1", "--speed", "500"]) == 2
    assert "not a temporary SQLite file" in capsys.readouterr().err


def test_lease_ttl_goes_with_worker(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(toml), "--lease-ttl", "5"]) == 2
    assert "--lease-ttl goes with --worker NAME" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["", "w 1", ".w1", "x" * 65, "w1;drop"])
def test_a_bad_worker_name_exits_2(
    toml: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql://dialer@127.0.0.1:1/calls"  # never reached: the name is checked first
    assert main(["run", str(toml), "--store", url, "--worker", name, "--speed", "9"]) == 2
    assert "a worker name is 1-64 letters" in capsys.readouterr().err


def test_sim_workers_need_a_fast_clock(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://dialer@127.0.0.1:1/calls"
    assert main(["run", str(toml), "--store", url, "--worker", "w1"]) == 2
    assert "--worker with kind = sim needs --speed X" in capsys.readouterr().err


def test_a_non_positive_lease_ttl_exits_2(toml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://dialer@127.0.0.1:1/calls"
    argv = ["run", str(toml), "--store", url, "--worker", "w1", "--speed", "9", "--lease-ttl", "0"]
    assert main(argv) == 2
    assert "--lease-ttl: expected a number of seconds > 0" in capsys.readouterr().err


def test_help_says_how_to_run_three_workers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    for name in ("w1", "w2", "w3"):
        assert f"--store postgresql://dialer@db/calls --worker {name}" in out
    assert "--lease-ttl" in out


class _Store:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def take_leases(self, campaign: str) -> list[str]:
        self.calls.append(campaign)
        return [campaign]


def test_lease_timings_time_the_instance_s_calls_and_keep_their_results() -> None:
    store = _Store()
    timings = LeaseTimings()
    timings.watch(store)  # type: ignore[arg-type]
    assert [store.take_leases(f"c{i}") for i in range(100)] == [[f"c{i}"] for i in range(100)]
    assert store.calls == [f"c{i}" for i in range(100)]
    figures = timings.to_dict()
    assert list(figures) == ["take_leases"]  # the calls this store lacks are not made up
    assert figures["take_leases"]["count"] == 100
    assert 0 <= figures["take_leases"]["p50"] <= figures["take_leases"]["p99"]
    assert type(store) is _Store


def test_a_worker_s_tally_counts_its_attempts_and_contacts() -> None:
    tally = WorkerTally("w2", lease_ttl=5.0)

    def record(contact: str, no: int, outcome: Outcome | None) -> AttemptRecord:
        return AttemptRecord(
            attempt_id=f"{contact}-{no}",
            campaign="c",
            contact_id=contact,
            attempt_no=no,
            number="+79500000000",
            caller_id=None,
            started_at=1.0,
            outcome=outcome,
        )

    for rec in (
        record("a", 1, Outcome.NO_ANSWER),
        record("a", 2, Outcome.DELIVERED),
        record("b", 1, Outcome.DELIVERED),
        record("c", 1, None),
    ):
        tally(rec)
    got = tally.to_dict()
    assert got["name"] == "w2"
    assert got["lease_ttl_seconds"] == 5.0
    assert got["attempts"] == 4
    assert got["contacts"] == 3
    assert got["outcomes"] == {"delivered": 2, "no_answer": 1, "unknown": 1}


def test_the_campaign_lock_lets_one_worker_start_at_a_time(postgres_url: str) -> None:
    with campaign_lock(postgres_url, "HOA debt"):
        with (
            pytest.raises(StoreError, match="start lock"),
            campaign_lock(postgres_url, "HOA debt", wait=0.2),
        ):
            pass  # pragma: no cover - the lock is held above
        with campaign_lock(postgres_url, "another campaign", wait=0.2):
            pass  # campaigns do not wait for each other
    with campaign_lock(postgres_url, "HOA debt", wait=0.2):
        pass  # released when the block ended


def test_a_dead_worker_s_start_lock_is_released_by_the_server(postgres_url: str) -> None:
    """A worker killed while it imports the list does not block the others: its session
    (and the lock) ends with its connection."""
    import psycopg

    db = psycopg.connect(postgres_url, autocommit=True)
    db.execute("SELECT pg_advisory_lock(hashtextextended('autoinformer:campaign:c', 0))")
    with pytest.raises(StoreError), campaign_lock(postgres_url, "c", wait=0.2):
        pass  # pragma: no cover
    db.close()  # the process died: its connection is gone
    with campaign_lock(postgres_url, "c", wait=5.0):
        pass


def test_a_worker_at_another_speed_than_the_live_ones_exits_2(
    postgres_url: str, toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    from autoinformer.cli._fleet import CLOCK_KEY, SEEN_KEY
    from autoinformer.clock import DEFAULT_START, ClockAnchor
    from autoinformer.store.postgres import PostgresStore

    with PostgresStore(postgres_url) as store:  # workers at --speed 100 beat a second ago
        anchor = ClockAnchor(speed=100.0, start=DEFAULT_START, wall=time.time() - 10)
        store.set_meta("HOA debt", CLOCK_KEY, anchor.to_text())
        store.set_meta("HOA debt", SEEN_KEY, repr(time.time() - 1))
    argv = ["run", str(toml), "--store", postgres_url, "--worker", "w9", "--speed", "50"]
    assert main(argv) == 2
    assert "the campaign's other workers run at --speed 100" in capsys.readouterr().err
    with PostgresStore(postgres_url) as store:
        assert ClockAnchor.from_text(store.get_meta("HOA debt", CLOCK_KEY)) == anchor
        assert list(store.attempts("HOA debt")) == []  # nobody was called
