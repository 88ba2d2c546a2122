"""Reconciling a dead worker's attempts in flight (``backends/orphans.reconcile_taken_over``):
the switch's own record where it can, ``unknown`` always, written once whoever tries."""

from __future__ import annotations

from typing import Any

import pytest

from autoinformer.backends.base import Orphan
from autoinformer.backends.orphans import TAKEN_OVER_DETAIL, reconcile_taken_over
from autoinformer.backends.sim import SimSwitch
from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord


class LeftUp(SimSwitch):
    """A switch that still has some calls another worker placed (a shared switch)."""

    def __init__(self, up: dict[str, bool]) -> None:
        super().__init__()
        self.up = dict(up)  # call id -> answered
        self.hung_up: list[str] = []

    async def orphans(self, campaign: str) -> list[Orphan]:
        return [Orphan(cid, (f"chan-{cid}",), answered) for cid, answered in self.up.items()]

    async def hangup_orphan(self, orphan: Orphan) -> None:
        self.hung_up.append(orphan.call_id)
        self.up.pop(orphan.call_id, None)


def _open(call_id: str) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=call_id,
        campaign="c",
        contact_id=call_id.upper(),
        attempt_no=1,
        number="+79500000001",
        caller_id=None,
        started_at=100.0,
    )


@pytest.mark.anyio
async def test_calls_still_up_are_hung_up_and_every_attempt_is_recorded_once() -> None:
    switch = LeftUp({"a": True, "live-worker-call": False})  # "b" is not on this switch
    written: dict[str, AttemptRecord] = {"c": _open("c")}  # another worker finished "c" first

    async def finish(record: AttemptRecord) -> bool:
        if record.attempt_id in written:
            return False
        written[record.attempt_id] = record
        return True

    done = await reconcile_taken_over(
        switch, [_open("a"), _open("b"), _open("c")], now=500.0, finish=finish
    )
    assert switch.hung_up == ["a"]  # only the dead worker's call: a live worker's is left alone
    assert "live-worker-call" in switch.up
    assert [r.attempt_id for r in done] == ["a", "b"]
    for record in done:
        assert record.outcome is Outcome.UNKNOWN
        assert record.ended_at == 500.0
        assert record.detail.startswith(TAKEN_OVER_DETAIL)
    assert "answered on the switch, hung up" in written["a"].detail
    assert "not on this worker's switch" in written["b"].detail
    assert written["c"].outcome is None  # the first result stands


@pytest.mark.anyio
async def test_nothing_to_reconcile_asks_the_switch_nothing() -> None:
    class Silent(SimSwitch):
        async def orphans(self, campaign: str) -> list[Orphan]:
            raise AssertionError("not asked")

    async def finish(record: AttemptRecord) -> Any:
        raise AssertionError("nothing to write")

    assert await reconcile_taken_over(Silent(), [], now=0.0, finish=finish) == []
