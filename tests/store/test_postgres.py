"""What only the PostgreSQL store has to get right: its schema on open, shared use by several
processes, and keeping a password out of what it prints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.records import AttemptRecord
from autoinformer.store.urls import has_password, is_postgres_url, redacted
from autoinformer.testing.postgres import free_port


def _store(url: str, **kw: object):  # type: ignore[no-untyped-def]
    from autoinformer.store.postgres import PostgresStore

    return PostgresStore(url, **kw)  # type: ignore[arg-type]


def test_urls_are_told_from_paths_and_their_passwords_hidden() -> None:
    assert is_postgres_url("postgresql://u@h/db")
    assert is_postgres_url("POSTGRES://h")
    assert not is_postgres_url("campaign.sqlite")
    assert not is_postgres_url("/var/lib/postgresql/x.db")
    assert has_password("postgresql://u:s3cret@h:5432/db")
    assert has_password("postgresql://u@h/db?sslmode=require&password=s3cret")
    assert not has_password("postgresql://u@h/db?sslmode=require")
    assert redacted("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert (
        redacted("postgresql://u@h/db?password=s3cret&sslmode=require")
        == "postgresql://u@h/db?password=***&sslmode=require"
    )
    assert redacted("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redacted("postgresql:///db") == "postgresql:///db"  # the local socket keeps its //
    assert redacted("postgresql:///db?password=x&host=/run") == (
        "postgresql:///db?password=***&host=/run"
    )


def test_opening_twice_keeps_the_data_and_the_schema_version(postgres_url: str) -> None:
    with _store(postgres_url) as first:
        first.add_contacts("debt", [Contact(id="c1", name="A", phones=("+79508880001",))])
        version = first.schema_version
    with _store(postgres_url) as second:
        assert second.schema_version == version
        assert [c.id for c, _ in second.contacts("debt")] == ["c1"]


def test_workers_opening_at_once_migrate_once(postgres_url: str) -> None:
    """Eight processes' first open at the same moment: one creates the schema, none fails."""
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def open_one() -> None:
        start.wait()
        try:
            _store(postgres_url, pool_size=1).close()
        except BaseException as exc:  # pragma: no cover - the failure we test for
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    import psycopg

    with psycopg.connect(postgres_url) as db:
        versions = db.execute("SELECT version FROM autoinformer_schema ORDER BY 1").fetchall()
    assert [v for (v,) in versions] == list(range(1, len(versions) + 1))


def test_a_newer_schema_is_refused_with_advice(postgres_url: str) -> None:
    _store(postgres_url).close()
    import psycopg

    with psycopg.connect(postgres_url) as db:
        db.execute("INSERT INTO autoinformer_schema (version) VALUES (999)")
    with pytest.raises(StoreError, match=r"version 999, newer .* upgrade autoinformer"):
        _store(postgres_url)


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    pytest.importorskip("psycopg", reason="pip install -e '.[postgres]'")
    url = f"postgresql://nobody:s3cret@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(StoreError, match=r"cannot open store 'postgresql://nobody:\*\*\*@") as err:
        _store(url, connect_timeout=2)
    assert "s3cret" not in str(err.value)


def test_a_key_value_conninfo_is_shown_without_its_password() -> None:
    pytest.importorskip("psycopg", reason="pip install -e '.[postgres]'")
    port = free_port()
    with pytest.raises(StoreError) as err:
        _store(f"host=127.0.0.1 port={port} user=dialer password=s3cret", connect_timeout=2)
    assert "s3cret" not in str(err.value)
    assert "user=dialer" in str(err.value)


def test_two_processes_cannot_begin_the_same_attempt(postgres_url: str) -> None:
    """The unique key holds across connections: the second writer gets a StoreError."""
    with _store(postgres_url) as one, _store(postgres_url) as two:
        record = AttemptRecord(
            attempt_id="a",
            campaign="k",
            contact_id="c",
            attempt_no=1,
            number="+1",
            caller_id=None,
            started_at=1.0,
        )
        one.begin_attempt(record)
        with pytest.raises(StoreError, match="already begun"):
            two.begin_attempt(
                AttemptRecord(
                    attempt_id="b",
                    campaign="k",
                    contact_id="c",
                    attempt_no=1,
                    number="+1",
                    caller_id=None,
                    started_at=1.0,
                )
            )
        assert [a.attempt_id for a in two.unfinished_attempts("k")] == ["a"]


def test_postgres_keeps_every_acknowledged_write_after_kill_9(postgres_url: str) -> None:
    """A writer acknowledges each journaled attempt on stdout; we SIGKILL it mid-stream."""
    writer = textwrap.dedent(
        f"""
        from autoinformer.records import AttemptRecord
        from autoinformer.store.postgres import PostgresStore
        store = PostgresStore({postgres_url!r})
        i = 0
        while True:
            i += 1
            store.begin_attempt(AttemptRecord(attempt_id=f"a{{i}}", campaign="k",
                contact_id=f"c{{i}}", attempt_no=1, number="+1", caller_id=None, started_at=i))
            print(i, flush=True)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    acknowledged = 0
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 200:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with _store(postgres_url) as store:
        ids = {a.attempt_id for a in store.unfinished_attempts("k")}
    assert acknowledged >= 200
    assert {f"a{i}" for i in range(1, acknowledged + 1)} <= ids


def test_positions_count_per_campaign_even_with_adders_at_once(postgres_url: str) -> None:
    """Two processes adding to one campaign at the same moment: every contact once, positions
    distinct; another campaign's positions start at 1 again."""
    people = [Contact(id=f"c{i}", name=f"P{i}", phones=(f"+7950888{i:04d}",)) for i in range(400)]
    start = threading.Barrier(2)
    added: list[int] = []

    def add(part: list[Contact]) -> None:
        with _store(postgres_url, pool_size=1) as mine:
            start.wait()
            added.append(mine.add_contacts("debt", part))

    threads = [threading.Thread(target=add, args=(people[k::2],)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    import psycopg

    with _store(postgres_url) as store:
        store.add_contacts("other", people[:3])
        assert sorted(added) == [200, 200]
        assert len(list(store.contacts("debt"))) == 400
    with psycopg.connect(postgres_url) as db:
        seqs = [
            s
            for (s,) in db.execute(
                "SELECT seq FROM autoinformer_contacts WHERE campaign = 'debt' ORDER BY seq"
            )
        ]
        other = [
            s
            for (s,) in db.execute(
                "SELECT seq FROM autoinformer_contacts WHERE campaign = 'other' ORDER BY seq"
            )
        ]
    assert seqs == list(range(1, 401))
    assert other == [1, 2, 3]


def test_big_reads_stream_in_pages_in_order(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autoinformer.store import postgres

    monkeypatch.setattr(postgres, "_PAGE", 7)
    people = [Contact(id=f"c{i}", name=f"P{i}", phones=(f"+7950888{i:04d}",)) for i in range(30)]
    with _store(postgres_url) as store:
        store.add_contacts("debt", people)
        for i in range(22):
            store.begin_attempt(
                AttemptRecord(
                    attempt_id=f"a{i}",
                    campaign="debt",
                    contact_id=f"c{i % 3}",
                    attempt_no=i,
                    number="+1",
                    caller_id=None,
                    started_at=float(i),
                )
            )
        assert [c.id for c, _ in store.contacts("debt")] == [p.id for p in people]
        assert [a.attempt_id for a in store.attempts("debt")] == [f"a{i}" for i in range(22)]
        assert [a.attempt_no for a in store.attempts("debt", "c1")] == list(range(1, 22, 3))
