"""Crash safety, for real: SIGKILL the demo mid-campaign, restart it, check the store.

The demo runs in a subprocess with the anyio runtime, the simulated switch on a scaled clock
and the SQLite store; ``--verbose`` makes it log each journal write to stderr after the write
returned. The test counts those lines and kills the process at chosen points (so the kill lands
while calls are in flight), restarts it on the same store, and at the end checks what the
runtime promises: no result lost, no attempt made twice, calls in flight reconciled as
``unknown`` and retried by policy, every contact finished.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

CONTACTS = 30
BUDGET = 3  # the demo's retry policy: 3 attempts per contact
ARGS = ["--contacts", str(CONTACTS), "--speed", "60", "--retry-interval", "5s", "--lines", "6"]
DEADLINE = 60.0


def _demo(store: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "autoinformer", "demo", "--store", str(store), *ARGS, *extra]


def _attempts(store: Path) -> dict[str, tuple[str, int, str | None]]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT attempt_id, contact_id, attempt_no, outcome FROM attempts")
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _run_and_kill(store: Path, journal_lines: int) -> None:
    """Start the demo and SIGKILL it right after its ``journal_lines``-th journal write."""
    proc = subprocess.Popen(
        _demo(store, "--verbose", "--json"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen = 0
    try:
        while seen < journal_lines:
            line = lines.get(timeout=DEADLINE)
            assert line is not None, "the demo finished before the planned kill point"
            if "journaled" in line:
                seen += 1
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=DEADLINE)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_kill_dash_nine_at_several_points_loses_nothing(tmp_path: Path) -> None:
    store = tmp_path / "demo.sqlite"
    before: dict[str, tuple[str, int, str | None]] = {}
    in_flight_at_kills: set[str] = set()
    for kill_at in (5, 12, 12):  # journal writes of *this* run (each run also reconciles)
        _run_and_kill(store, kill_at)
        now = _attempts(store)
        # Nothing journaled before is lost or rewritten (except in-flight ones reconciled).
        for attempt_id, (contact, no, outcome) in before.items():
            assert attempt_id in now, f"attempt {attempt_id} vanished after a kill"
            if outcome is not None:
                assert now[attempt_id] == (contact, no, outcome), "a result was rewritten"
        in_flight_at_kills |= {a for a, (_, _, outcome) in now.items() if outcome is None}
        before = now
    assert in_flight_at_kills, "no kill landed while a call was in flight: test too weak"

    done = subprocess.run(
        _demo(store, "--json"), capture_output=True, text=True, timeout=DEADLINE, check=False
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    final = _attempts(store)

    # Every attempt that was in flight at a kill is reconciled as unknown, never dropped.
    for attempt_id in in_flight_at_kills:
        assert final[attempt_id][2] == "unknown", f"{attempt_id} not reconciled"
    assert all(outcome is not None for _, _, outcome in final.values())
    assert summary["unfinished"] == 0
    assert summary["outcomes"]["unknown"] == len(in_flight_at_kills)
    assert sum(summary["outcomes"].values()) == summary["attempts"] == len(final)

    # No contact got a second call for the same attempt; numbering has no holes; the
    # unknown attempts counted toward the budget.
    per_contact: dict[str, list[int]] = {}
    for contact, no, _ in final.values():
        per_contact.setdefault(contact, []).append(no)
    for contact, numbers in per_contact.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), contact
        assert len(numbers) <= BUDGET, f"{contact} called {len(numbers)} times"
    assert summary["contacts"].get("pending", 0) == 0
    assert summary["contacts"].get("in_call", 0) == 0
    assert summary["contacts"].get("scheduled", 0) == 0
    assert sum(summary["contacts"].values()) == CONTACTS

    # The results a reader sees in the store agree with the contacts' states.
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        done_contacts = {
            r[0] for r in db.execute("SELECT contact_id FROM contacts WHERE state = 'done'")
        }
        reached = {
            r[0]
            for r in db.execute(
                "SELECT DISTINCT contact_id FROM attempts "
                "WHERE outcome IN ('delivered', 'transferred', 'opted_out')"
            )
        }
    assert done_contacts == reached
