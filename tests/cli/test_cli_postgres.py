"""``--store postgresql://...`` and ``store = "postgresql://..."``: runs journaled in PostgreSQL,
and a password in a URL refused before anything is opened or printed (#17)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autoinformer.campaign_file import load_campaign_file
from autoinformer.cli import main
from autoinformer.errors import SettingsError
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.postgres_fixture import postgres_url as _postgres_url

postgres_url = _postgres_url

EXAMPLE = Path(__file__).parents[2] / "examples" / "campaign"


def _campaign(tmp_path: Path, store_line: str | None) -> Path:
    """The example campaign, with ``store_line`` added to its ``[campaign]`` table."""
    target = tmp_path / "campaign"
    shutil.copytree(EXAMPLE, target)
    toml = target / "campaign.toml"
    if store_line is not None:
        text = toml.read_text()
        toml.write_text(text.replace('name = "HOA debt"\n', f'name = "HOA debt"\n{store_line}\n'))
    return toml


def _all_day(toml: Path) -> Path:
    """The campaign calling all day, every day: a fast run does not wait for the morning."""
    text = toml.read_text().replace('"09:00-20:00"', '"00:00-24:00"').replace("mon-fri", "mon-sun")
    toml.write_text(text)
    return toml


def _postgres(url: str):  # type: ignore[no-untyped-def]
    from autoinformer.store.postgres import PostgresStore

    return PostgresStore(url)


def test_demo_journals_into_postgres_and_resumes_there(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["demo", "--contacts", "40", "--json", "--store", postgres_url]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["store"] == postgres_url
    with _postgres(postgres_url) as store:
        attempts = list(store.attempts(summary["campaign"]))
        contacts = list(store.contacts(summary["campaign"]))
    assert len(attempts) == summary["attempts"] > 0
    assert len(contacts) == 40
    assert main(argv) == 0  # the same store again: carried on, nobody's attempt begun twice
    again = json.loads(capsys.readouterr().out)
    with _postgres(postgres_url) as store:
        ids = [a.attempt_id for a in store.attempts(summary["campaign"])]
    assert len(ids) == len(set(ids)) == again["attempts"] >= summary["attempts"]


def test_a_password_in_store_is_refused_without_being_echoed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--store", "postgresql://dialer:s3cret@127.0.0.1/calls"]) == 2
    err = capsys.readouterr().err
    assert "use PGPASSWORD or ~/.pgpass" in err
    assert "s3cret" not in err


def test_run_takes_the_store_from_the_campaign_file(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _campaign(tmp_path, f"store = {json.dumps(postgres_url)}")
    assert load_campaign_file(toml).store == postgres_url
    assert main(["run", str(toml), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["store"] == postgres_url
    with _postgres(postgres_url) as store:
        assert len(list(store.attempts("HOA debt"))) == summary["attempts"] > 0


def test_store_on_the_command_line_wins_over_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _campaign(tmp_path, 'store = "in-file.sqlite"')
    assert load_campaign_file(toml).store == str(toml.parent / "in-file.sqlite")
    given = tmp_path / "given.sqlite"
    assert main(["run", str(toml), "--json", "--store", str(given)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["store"] == str(given)
    assert not (toml.parent / "in-file.sqlite").exists()
    with SqliteStore(given) as store:
        assert len(list(store.attempts("HOA debt"))) == summary["attempts"]


def test_a_sqlite_store_in_the_file_is_relative_to_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = _campaign(tmp_path, 'store = "results/debt.sqlite"')
    (toml.parent / "results").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(toml), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["store"] == str(toml.parent / "results" / "debt.sqlite")
    assert (toml.parent / "results" / "debt.sqlite").is_file()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://dialer:s3cret@db.example/calls",
        "postgres://dialer@db.example/calls?password=s3cret",
    ],
)
def test_a_password_in_the_campaign_file_is_a_settings_error(tmp_path: Path, url: str) -> None:
    toml = _campaign(tmp_path, f"store = {json.dumps(url)}")
    with pytest.raises(SettingsError) as caught:
        load_campaign_file(toml)
    assert caught.value.field == "campaign.store"
    assert "use PGPASSWORD or ~/.pgpass" in caught.value.message
    assert "s3cret" not in str(caught.value)


def test_run_with_a_password_in_the_file_exits_2_and_calls_nobody(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _campaign(tmp_path, 'store = "postgresql://dialer:s3cret@127.0.0.1/calls"')
    assert main(["run", str(toml)]) == 2
    captured = capsys.readouterr()
    assert "campaign.store" in captured.err
    assert "s3cret" not in captured.err + captured.out


def test_report_and_export_read_a_postgres_store(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--contacts", "30", "--json", "--store", postgres_url]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert main(["report", postgres_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["campaign"] == summary["campaign"]
    assert report["attempts"] == summary["attempts"]
    assert report["by_outcome"] == summary["outcomes"]
    out = tmp_path / "calls.csv"
    assert main(["export", postgres_url, "--format", "csv", "--out", str(out)]) == 0
    capsys.readouterr()
    assert len(out.read_text().splitlines()) == summary["attempts"] + 1  # a header line


def test_report_on_a_database_without_a_store_says_so_and_creates_nothing(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    assert main(["report", postgres_url]) == 2
    assert "no autoinformer store in that database" in capsys.readouterr().err
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT to_regclass('autoinformer_contacts')").fetchone() == (None,)
    assert main(["export", "postgresql://dialer:s3cret@127.0.0.1/x", "--format", "csv"]) == 2
    err = capsys.readouterr().err
    assert "use PGPASSWORD or ~/.pgpass" in err
    assert "s3cret" not in err


def test_the_async_runtime_journals_into_postgres_from_its_worker_threads(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--speed``: the anyio runtime on the simulated switch, store calls from threads."""
    argv = ["demo", "--contacts", "15", "--speed", "3000", "--json", "--store", postgres_url]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["mode"] == "scaled time"
    with _postgres(postgres_url) as store:
        attempts = list(store.attempts(summary["campaign"]))
        assert store.unfinished_attempts(summary["campaign"]) == []
    assert len(attempts) == summary["attempts"] > 0
    assert all(a.outcome is not None for a in attempts)


def test_run_as_a_worker_says_its_name_and_what_it_finished(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``run --worker``: one worker of the campaign (#17); alone, it finishes all of it."""
    from autoinformer.clock import ClockAnchor

    toml = _all_day(_campaign(tmp_path, None))
    argv = ["run", str(toml), "--store", postgres_url, "--worker", "w1", "--speed", "500"]
    assert main([*argv, "--lease-ttl", "5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    worker = summary["worker"]
    assert worker["name"] == "w1"
    assert worker["lease_ttl_seconds"] == 5.0
    assert worker["attempts"] == summary["attempts"] > 0  # alone: every attempt is its own
    assert sum(worker["outcomes"].values()) == worker["attempts"]
    assert {"take_leases", "begin_leased_attempt", "release_lease"} <= set(worker["lease_ms"])
    with _postgres(postgres_url) as store:
        anchor = ClockAnchor.from_text(store.get_meta("HOA debt", "fleet_clock"))
        attempts = list(store.attempts("HOA debt"))
    assert anchor is not None
    assert anchor.speed == 500
    assert len(attempts) == summary["attempts"]
    assert len({a.attempt_id for a in attempts}) == len(attempts)
    # a second worker: the list is not imported again, the clock is the one laid
    assert main([*argv[:-4], "--worker", "w2", "--speed", "500", "--json"]) == 0
    captured = capsys.readouterr()
    again = json.loads(captured.out)
    assert "is unchanged since the store read it" in captured.err
    assert again["worker"]["name"] == "w2"
    assert again["attempts"] == summary["attempts"] + again["worker"]["attempts"]
    assert sum(again["contacts"].values()) == sum(summary["contacts"].values())
    with _postgres(postgres_url) as store:
        assert ClockAnchor.from_text(store.get_meta("HOA debt", "fleet_clock")) == anchor


def test_a_lone_worker_runs_its_campaign_to_the_end(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Retries still scheduled keep a worker running (an earlier workers branch exited)."""
    toml = _all_day(_campaign(tmp_path, None))
    argv = ["run", str(toml), "--store", postgres_url, "--worker", "w1", "--speed", "500"]
    assert main([*argv, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    open_ = {k: v for k, v in summary["contacts"].items() if k in ("pending", "scheduled")}
    assert not any(open_.values()), summary["contacts"]
