"""``DialerCore.operators()``: the operators' states, calls taken and current calls as copies,
the public read a dashboard uses instead of the core's operator desk.

Pure: the core is fed events by hand, in order, and each snapshot is checked against what the
desk decided at that step.
"""

from __future__ import annotations

import attrs
import pytest

from autoinformer.backends.base import Bridged, CallAnswered, CallEnded
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.operators import OperatorSnapshot
from autoinformer.outcomes import HangupCause
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator, OperatorState
from autoinformer.queues.strategies import Linear, RingAll
from autoinformer.script import Script, play, transfer
from autoinformer.sim.driver import DEFAULT_START

T0 = DEFAULT_START
A, B, C = Operator("a", "PJSIP/a"), Operator("b", "PJSIP/b"), Operator("c", "PJSIP/c")
IDLE, RINGING, TALKING, WRAPUP = (
    OperatorState.IDLE,
    OperatorState.RINGING,
    OperatorState.TALKING,
    OperatorState.WRAPUP,
)


def _core(*queues: QueueSettings) -> DialerCore:
    script = Script.of(transfer(queues[0].name)) if queues else Script.of(play("hello"))
    campaign = Campaign(
        timezone="UTC",
        name="snap",
        script=script,
        lines=1,
        queues=list(queues),
        retry=RetryPolicy.simple(attempts=1),
    )
    return DialerCore(campaign=campaign)


def _queue(name: str, *operators: Operator, ring_all: bool = False) -> QueueSettings:
    return QueueSettings(
        name=name,
        operators=operators,
        strategy=RingAll if ring_all else Linear,
        max_wait=30.0,
        ring_timeout=15.0,
        wrapup=10.0,
    )


def _rows(core: DialerCore) -> list[tuple[str, str, OperatorState, int, str | None]]:
    return [(o.id, o.queue, o.state, o.calls, o.call_id) for o in core.operators()]


def _answered(core: DialerCore) -> tuple[str, dict[str, str]]:
    """Place the one contact's call and answer it (the script transfers at once): the call
    id and the operator legs rung, endpoint -> leg id."""
    out = core.handle(T0, e.ContactsAdded([Contact(id="x", phones=("+79500000001",))]))
    call_id = next(cmd.call_id for cmd in out if isinstance(cmd, c.Originate))
    out = core.handle(T0 + 2, CallAnswered(call_id))
    legs = {cmd.number: cmd.call_id for cmd in out if isinstance(cmd, c.Originate) and cmd.operator}
    return call_id, legs


def test_a_campaign_without_queues_has_no_operators() -> None:
    assert _core().operators() == ()


def test_before_any_call_every_member_is_idle_in_member_order() -> None:
    core = _core(_queue("desk", B, A, C))
    assert _rows(core) == [
        ("b", "desk", IDLE, 0, None),
        ("a", "desk", IDLE, 0, None),
        ("c", "desk", IDLE, 0, None),
    ]


def test_an_operator_in_two_queues_has_a_snapshot_in_each() -> None:
    core = _core(_queue("sales", A, B), _queue("help", B))
    assert [(o.id, o.queue) for o in core.operators()] == [
        ("a", "sales"),
        ("b", "sales"),
        ("b", "help"),
    ]


def test_snapshots_follow_a_call_from_ringing_to_wrapup() -> None:
    core = _core(_queue("desk", A, B, C, ring_all=True))
    call_id, legs = _answered(core)
    assert _rows(core) == [(op, "desk", RINGING, 0, call_id) for op in "abc"]

    core.handle(T0 + 4, CallAnswered(legs["PJSIP/b"]))
    core.handle(T0 + 4.1, Bridged(call_id, f"{call_id}-br"))
    assert _rows(core) == [
        ("a", "desk", IDLE, 0, None),  # lost the race: hung up, idle at once
        ("b", "desk", TALKING, 1, call_id),
        ("c", "desk", IDLE, 0, None),
    ]

    core.handle(T0 + 30, CallEnded(call_id, HangupCause.NORMAL_CLEARING))
    core.handle(T0 + 30.1, CallEnded(legs["PJSIP/b"], HangupCause.NORMAL_CLEARING))
    assert _rows(core)[1] == ("b", "desk", WRAPUP, 1, None)
    # the wrap-up (10 s) runs out with no event to the core: as of a time, it is over
    assert [(o.state, o.calls) for o in core.operators(T0 + 40.0)][1] == (WRAPUP, 1)
    assert [(o.state, o.calls) for o in core.operators(T0 + 40.1)][1] == (IDLE, 1)
    assert _rows(core)[1] == ("b", "desk", WRAPUP, 1, None), "reading changed nothing"


def test_a_snapshot_is_a_copy_that_later_events_leave_alone() -> None:
    core = _core(_queue("desk", A))
    before = core.operators()
    call_id, _legs = _answered(core)
    assert before == (OperatorSnapshot(id="a", queue="desk", state=IDLE, calls=0),)
    assert core.operators()[0].call_id == call_id
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        before[0].state = RINGING  # type: ignore[misc]
