"""OperatorQueue state and the statistics built on it."""

from __future__ import annotations

import pytest

from autoinformer.errors import SettingsError
from autoinformer.queues.base import Operator, OperatorQueue, OperatorState
from autoinformer.queues.stats import summarize
from autoinformer.queues.strategies import LongestIdle


def _queue() -> OperatorQueue:
    ops = [Operator(id=f"op{i}", endpoint=f"PJSIP/10{i}") for i in range(3)]
    return OperatorQueue.of("sales", ops, strategy=LongestIdle(), wrapup=10.0)


def test_a_call_cycle_ends_in_wrapup_then_idle_and_counts() -> None:
    q = _queue()
    assert [m.position for m in q.members] == [0, 1, 2]
    op = q.pick(0.0)
    assert op is not None
    assert op.id == "op0"
    q.ringing(op.id, 0.0)
    q.talking(op.id, 1.0)
    q.call_ended(op.id, 61.0)
    assert q.status("op0").state is OperatorState.WRAPUP
    assert "op0" not in [m.operator.id for m in q.idle(65.0)]
    assert "op0" in [m.operator.id for m in q.idle(71.0)]
    # longest idle: op0 just finished, so op1 is next
    picked = q.pick(72.0)
    assert picked is not None
    assert picked.id == "op1"
    summary = summarize(q, now=100.0, since=0.0)
    assert summary.calls == 1
    assert summary.talk_seconds == pytest.approx(60.0)
    assert summary.operators[0].talk_share == pytest.approx(0.6)
    assert summary.by_state["idle"] == 3


def test_talking_operator_counts_the_ongoing_call() -> None:
    q = _queue()
    q.talking("op2", 10.0)
    s = summarize(q, now=40.0, since=0.0)
    op2 = s.operators[2]
    assert op2.state is OperatorState.TALKING
    assert op2.talk_seconds == pytest.approx(30.0)
    assert s.by_state["talking"] == 1


def test_paused_operators_get_no_calls() -> None:
    q = _queue()
    for op in ("op0", "op1", "op2"):
        q.pause(op, 0.0)
    assert q.pick(1.0) is None
    q.pause("op1", 2.0, paused=False)
    picked = q.pick(3.0)
    assert picked is not None
    assert picked.id == "op1"


def test_queue_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match=r"queue\.max_wait"):
        OperatorQueue(name="q", max_wait=-1)


def test_member_order_is_recorded_however_the_queue_is_built() -> None:
    from autoinformer.queues.base import OperatorStatus
    from autoinformer.queues.strategies import RoundRobin

    members = [
        OperatorStatus(operator=Operator(id=f"op{i}", endpoint=f"SIP/{i}")) for i in range(3)
    ]
    q = OperatorQueue(name="q", members=members, strategy=RoundRobin())
    picks = []
    for t in range(6):
        op = q.pick(float(t))
        assert op is not None
        picks.append(op.id)
    assert picks == ["op0", "op1", "op2", "op0", "op1", "op2"]
