"""The stores (memory, SQLite, PostgreSQL) honour one contract; SQLite survives a kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.store import SqliteStore, Store


def _contacts(n: int) -> list[Contact]:
    return [
        Contact(id=f"c{i}", name=f"Person {i}", phones=(f"+7950888{i:04d}",), variables={"B": "1"})
        for i in range(n)
    ]


def _attempt(contact: str, no: int, **kw: object) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=f"{contact}-{no}",
        campaign="debt",
        contact_id=contact,
        attempt_no=no,
        number="+79508880001",
        caller_id="+74950000000",
        started_at=1000.0 + no,
        **kw,  # type: ignore[arg-type]
    )


def test_contacts_keep_order_and_ignore_duplicates(store: Store) -> None:
    assert store.add_contacts("debt", _contacts(3)) == 3
    assert store.add_contacts("debt", _contacts(5)) == 2
    rows = list(store.contacts("debt"))
    assert [c.id for c, _ in rows] == ["c0", "c1", "c2", "c3", "c4"]
    contact, progress = rows[0]
    assert contact.phones == ("+79508880000",)
    assert contact.variables == {"B": "1"}
    assert progress.state is ContactState.PENDING
    assert list(store.contacts("other")) == []


def test_progress_round_trips(store: Store) -> None:
    store.add_contacts("debt", _contacts(1))
    store.save_progress(
        "debt",
        ContactProgress(contact_id="c0", state=ContactState.SCHEDULED, attempts=2, next_at=5.5),
    )
    ((_, progress),) = store.contacts("debt")
    assert progress == ContactProgress(
        contact_id="c0", state=ContactState.SCHEDULED, attempts=2, next_at=5.5
    )
    with pytest.raises(StoreError, match="no contact"):
        store.save_progress("debt", ContactProgress(contact_id="nobody"))


def test_attempt_journal_and_reconciliation(store: Store) -> None:
    store.add_contacts("debt", _contacts(2))
    store.begin_attempt(_attempt("c0", 1))
    store.begin_attempt(_attempt("c1", 1))
    assert {a.attempt_id for a in store.unfinished_attempts("debt")} == {"c0-1", "c1-1"}
    done = _attempt(
        "c0", 1, answered_at=1003.0, ended_at=1020.0, outcome=Outcome.DELIVERED, digits="1"
    )
    store.finish_attempt(done)
    assert [a.attempt_id for a in store.unfinished_attempts("debt")] == ["c1-1"]
    assert list(store.attempts("debt", "c0")) == [done]
    assert done.talk_seconds == 17.0


def test_the_same_attempt_cannot_be_begun_twice(store: Store) -> None:
    store.begin_attempt(_attempt("c0", 1))
    clash = AttemptRecord(
        attempt_id="other-id",
        campaign="debt",
        contact_id="c0",
        attempt_no=1,
        number="+1",
        caller_id=None,
        started_at=0,
    )
    with pytest.raises(StoreError, match="already begun"):
        store.begin_attempt(clash)


def test_finishing_needs_a_begun_attempt_and_an_outcome(store: Store) -> None:
    with pytest.raises(StoreError, match="never begun"):
        store.finish_attempt(_attempt("c0", 1, outcome=Outcome.BUSY))
    store.begin_attempt(_attempt("c0", 1))
    with pytest.raises(StoreError, match="without an outcome"):
        store.finish_attempt(_attempt("c0", 1))


def test_meta(store: Store) -> None:
    assert store.get_meta("debt", "seed") is None
    store.set_meta("debt", "seed", "7")
    store.set_meta("debt", "seed", "8")
    assert store.get_meta("debt", "seed") == "8"


def test_sqlite_keeps_every_acknowledged_write_after_kill_9(tmp_path: Path) -> None:
    """A writer acknowledges each journaled attempt on stdout; we SIGKILL it mid-stream."""
    db = tmp_path / "crash.db"
    writer = textwrap.dedent(
        f"""
        import sys
        from autoinformer.records import AttemptRecord
        from autoinformer.store import SqliteStore
        store = SqliteStore({str(db)!r}, durability="normal")
        i = 0
        while True:
            i += 1
            store.begin_attempt(AttemptRecord(attempt_id=f"a{{i}}", campaign="k",
                contact_id=f"c{{i}}", attempt_no=1, number="+1", caller_id=None, started_at=i))
            print(i, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = 0
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = SqliteStore(db)
    ids = {a.attempt_id for a in store.unfinished_attempts("k")}
    store.close()
    assert {f"a{i}" for i in range(1, acknowledged + 1)} <= ids
