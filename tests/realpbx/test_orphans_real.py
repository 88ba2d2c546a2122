"""``kill -9`` of ``autoinformer run`` mid-call on a real switch (issue #13 item 4).

The first process is killed while its call is up (a person on the line, the message playing);
the call stays on the switch (an ARI channel in our application, a parked FreeSWITCH channel).
The next ``autoinformer run`` on the same store must hang it up before it dials anything and
record the attempt ``unknown`` ("left up by a process that died"); 10 s later no channel of the
campaign is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import attrs
import pytest

from autoinformer.backends import load_backend
from autoinformer.backends.base import Orphan
from autoinformer.backends.orphans import ORPHAN_DETAIL
from autoinformer.outcomes import Outcome
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.realpbx import RealPbx, run_campaign, wait_until, write_campaign


def orphans(pbx: RealPbx, campaign: str) -> list[Orphan]:
    """The campaign's calls on the switch, seen by a switch object of our own."""
    options = {k: v for k, v in pbx.backend.items() if k != "kind"}
    if pbx.kind == "ari":
        options["app"] = f"{options.get('app', 'autoinformer')}-side"

    async def listing() -> list[Orphan]:
        cls = load_backend(pbx.kind)
        if pbx.kind == "ari":
            switch = cls(**options, environ=pbx.environ())
        else:
            options.pop("password_env", None)
            switch = cls(**options, password=pbx.password)
        async with switch:
            return list(await switch.orphans(campaign))

    return anyio.run(listing)


@pytest.mark.real_pbx
@pytest.mark.timeout(300)
def test_kill_9_mid_call_then_the_next_run_hangs_the_orphan_up(
    pbx: RealPbx, tmp_path: Path
) -> None:
    name = f"orphans {pbx.kind} {os.getpid()}"
    if pbx.kind == "ari":  # an application of our own: no one else's events are taken
        pbx = attrs.evolve(pbx, backend={**pbx.backend, "app": f"orphans-{os.getpid()}"})
    # one person who answers and stays on the line; one attempt (an orphan is not retried)
    path = write_campaign(
        tmp_path, pbx, "", lines=1, numbers=["+79508881231"], attempts=1, name=name
    )
    store = tmp_path / "campaign.sqlite"
    first = subprocess.Popen(
        [sys.executable, "-m", "autoinformer", "run", str(path), "--store", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=pbx.environ(),
    )
    try:
        wait_until(lambda: any(o.answered for o in orphans(pbx, name)), 60, "the call answered")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    left = orphans(pbx, name)
    assert [o.answered for o in left] == [True], "the killed process's call should be up"
    with SqliteStore(store) as db:
        assert [r.outcome for r in db.attempts(name)] == [None]

    summary = run_campaign(path, store, pbx, timeout=120)

    assert summary["unfinished"] == 0, summary
    with SqliteStore(store) as db:
        (record,) = list(db.attempts(name))
    assert record.attempt_id == left[0].call_id
    assert record.outcome is Outcome.UNKNOWN
    assert record.detail.startswith(ORPHAN_DETAIL), record.detail
    assert "answered on the switch" in record.detail
    time.sleep(10)  # the measure: nothing of the campaign left 10 s later
    assert orphans(pbx, name) == []
