"""The core's parts on their own: each takes values and returns values, and none knows the
dialer that composes them (issue #19)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from autoinformer.backends.base import (
    BackendGap,
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    LinesAvailable,
    MachineDetected,
    PlaybackFinished,
)
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.core import dialer
from autoinformer.core import events as e
from autoinformer.core.book import Slot
from autoinformer.core.calls import SWITCH_GRACE, Call, CallTable, Stage
from autoinformer.core.effects import Arm, Observe, hang_up
from autoinformer.core.gates import DNC_RETRY, Close, Gates, Go, Hold
from autoinformer.core.intake import DUPLICATE_REASON, Intake
from autoinformer.core.operators import OperatorDesk
from autoinformer.core.throttle import MAX_BACKOFF, Throttle
from autoinformer.core.timers import Timers, disarm
from autoinformer.outcomes import ContactState, HangupCause
from autoinformer.pacing.base import Observation
from autoinformer.policy.schedule import CallWindow
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.script import Script, play, transfer

CORE = Path(dialer.__file__).parent
NOON = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC).timestamp()  # a Monday


def _call(call_id: str = "a", now: float = NOON) -> Call:
    contact = Contact(id=f"k-{call_id}", phones=("+79500000001",))
    record = AttemptRecord(
        attempt_id=call_id,
        campaign="t",
        contact_id=contact.id,
        attempt_no=1,
        number="+79500000001",
        caller_id=None,
        started_at=now,
    )
    return Call(call_id=call_id, slot=Slot(contact=contact), record=record)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize(
    "part", sorted(p.name for p in CORE.glob("*.py") if p.name not in ("dialer.py", "__init__.py"))
)
def test_no_part_imports_the_dialer(part: str) -> None:
    assert "autoinformer.core.dialer" not in _imports(CORE / part)


def test_every_event_type_has_its_one_handler() -> None:
    switch_events = (
        BackendGap,
        Bridged,
        CallAnswered,
        CallEnded,
        CallProgress,
        DigitReceived,
        MachineDetected,
        PlaybackFinished,
        LinesAvailable,  # a switch set's members came or went
    )
    core_events = (
        e.Abort,
        e.CallbackDone,
        e.CommandFailed,
        e.ContactCancelled,
        e.ContactsAdded,
        e.ContactsRestored,
        e.Pause,
        e.Resume,
        e.Stop,
        e.Tick,
        e.LinesGranted,  # several workers (autoinformer.workers)
        e.CampaignTotals,
        e.AttemptRefused,
        e.ContactsReleased,
    )
    table = dialer._HANDLERS
    assert set(table) == {*switch_events, *core_events}
    assert len(set(table.values())) == len(table), "one handler per event type"


def test_timers_fire_in_time_order_then_arming_order_and_a_rearmed_kind_voids_the_old() -> None:
    timers = Timers()
    a, b = _call("a"), _call("b")
    calls = {"a": a, "b": b}
    timers.arm(NOON + 5, a, "max")
    timers.arm(NOON + 2, b, "ring")
    timers.arm(NOON + 2, a, "ring")
    timers.arm(NOON + 9, a, "max")  # voids the first "max"
    assert timers.next_time(calls) == NOON + 2
    assert [(call.call_id, k) for call, k in timers.due(NOON + 5, calls)] == [
        ("b", "ring"),
        ("a", "ring"),
    ]
    disarm(a, "max")
    assert timers.next_time(calls) is None  # disarmed: nothing live is left
    timers.arm(NOON + 20, b, "gone")
    assert timers.next_time({"a": a}) is None, "a call no longer in progress has no timers"


def test_timers_due_is_lazy_a_timer_armed_meanwhile_for_now_fires_too() -> None:
    timers = Timers()
    a, b = _call("a"), _call("b")
    calls = {"a": a, "b": b}
    timers.arm(NOON, a, "ring")
    fired = []
    for call, kind in timers.due(NOON, calls):
        fired.append((call.call_id, kind))
        if call is a:
            timers.arm(NOON, b, "settle")
    assert fired == [("a", "ring"), ("b", "settle")]


def test_call_table_counts_dialling_until_answered_or_released_and_keeps_placing_order() -> None:
    table = CallTable()
    first, second, third = _call("a"), _call("b"), _call("c")
    for call in (first, second, third):
        table.placed(call)
    assert (len(table), table.dialing, list(table.ringing)) == (3, 3, ["a", "b", "c"])
    table.answered(second)
    table.stop_dialing(third)  # released while ringing
    assert (table.dialing, list(table.ringing)) == (1, ["a", "c"])
    third.stage = Stage.ENDING
    table.stop_dialing(third)  # no longer dialling: not counted twice
    assert table.dialing == 1
    assert table.remove("c") is third
    assert table.remove("c") is None
    assert (len(table), list(table.ringing)) == (2, ["a"])


def test_hang_up_returns_the_hangup_and_the_gone_timer_once() -> None:
    call = _call()
    results = hang_up(call, NOON, HangupCause.USER_BUSY)
    assert results == [
        c.Hangup("a", HangupCause.USER_BUSY),
        Arm(NOON + SWITCH_GRACE, call, "gone"),
    ]
    assert call.stage is Stage.ENDING
    assert hang_up(call, NOON + 1) == []


def test_throttle_backs_off_after_refusals_and_probes_one_call_at_a_time() -> None:
    throttle = Throttle()
    assert throttle.allowed(5) == 5
    throttle.refused(NOON, "a")
    assert throttle.hold_until == NOON + 1
    assert throttle.allowed(5) == 1
    throttle.placed("b")
    assert throttle.waiting()
    throttle.refused(NOON + 1, "b")
    assert throttle.hold_until == NOON + 3
    assert throttle.probe is None
    for k in range(10):
        throttle.refused(NOON + 10 + k, "x")
    assert throttle.hold_until == NOON + 19 + MAX_BACKOFF
    throttle.placed("p")
    throttle.reported("other")
    assert throttle.waiting(), "only a report on the probe ends the probing"
    throttle.reported("p")
    assert (throttle.probing, throttle.probe, throttle.hold_until) == (False, None, 0.0)


def test_throttle_marks_the_switch_down_when_it_cannot_be_reached() -> None:
    throttle = Throttle()
    throttle.unreachable(NOON, "a")
    assert throttle.switch_down
    assert throttle.hold_until == NOON + 1
    throttle.placed("b")
    throttle.unreachable(NOON + 1, "b")  # the probe failed too: twice as long
    assert throttle.hold_until == NOON + 3
    throttle.back()
    assert not throttle.switch_down
    assert not throttle.waiting()


def test_gates_return_a_verdict_and_change_nothing() -> None:
    listed = {"+79500000001"}
    gates = Gates(lambda number: number in listed)
    campaign = Campaign(name="t", script=Script.of(play("sound:x")), timezone="UTC")
    two = Slot(contact=Contact(id="k", phones=("+79500000001", "+79500000002")))
    verdict = gates.check(NOON, two, campaign)
    assert isinstance(verdict, Go)
    assert (verdict.index, verdict.number) == (1, "+79500000002")
    assert two.number_index == 0
    assert two.state is ContactState.PENDING
    one = Slot(contact=Contact(id="j", phones=("+79500000001",)))
    assert gates.check(NOON, one, campaign) == Close(ContactState.SKIPPED, "do-not-call list")
    gates.opt_out("+79500000002")
    assert gates.blocked("+79500000002")


def test_gates_hold_a_contact_while_the_list_cannot_answer_or_the_window_is_shut() -> None:
    def broken(number: str) -> bool:
        raise OSError("gone")

    campaign = Campaign(
        name="t",
        script=Script.of(play("sound:x")),
        timezone="UTC",
        window=CallWindow.parse(days="mon-sun", hours="09:00-20:00", timezone="UTC"),
    )
    slot = Slot(contact=Contact(id="k", phones=("+79500000001",)))
    gates = Gates(broken)
    verdict = gates.check(NOON, slot, campaign)
    assert isinstance(verdict, Hold)
    assert verdict.until == NOON + DNC_RETRY
    assert verdict.reason is not None
    assert "OSError: gone" in verdict.reason
    assert gates.dnc_errors == 1
    night = NOON + 10 * 3600  # 22:00 UTC
    verdict = Gates().check(night, slot, campaign)
    assert verdict == Hold(NOON + 21 * 3600)  # 09:00 the next day, no reason to save


def test_intake_returns_the_progress_to_save_and_claims_each_number_once() -> None:
    campaign = Campaign(name="t", script=Script.of(play("sound:x")), timezone="UTC")
    intake = Intake(campaign, {})
    first = Contact(id="a", phones=("+79500000001",))
    twin = Contact(id="b", phones=("+79500000001",))
    out = intake.add((first, twin, Contact(id="c", phones=())))
    assert [
        (s.progress.contact_id, s.progress.reason) for s in out if isinstance(s, c.SaveProgress)
    ] == [
        ("b", DUPLICATE_REASON),
        ("c", "no phone number"),
    ]
    assert intake.added == 3
    assert intake.add((first,)) == []
    assert intake.added == 3
    slot = intake.book.slots["a"]
    number = intake.begin(slot, 0, dt.datetime.fromtimestamp(NOON, tz=dt.UTC))
    saved = intake.in_call(slot, "call-1")
    assert number == 1
    assert saved.progress.state is ContactState.IN_CALL
    assert intake.not_placed(slot)[0].progress.state is ContactState.PENDING  # type: ignore[union-attr]
    assert (intake.unplaced("a"), slot.history) == (1, [])


def test_the_desk_returns_its_commands_and_effects_for_a_transfer() -> None:
    queue = QueueSettings(name="desk", operators=[Operator("anna", "PJSIP/101")], max_wait=30.0)
    desk = OperatorDesk.from_settings({"desk": queue}, abandon_message=None)
    call = _call("a")
    call.stage, call.answered_at = Stage.SCRIPT, NOON
    results = desk.transfer(NOON + 1, {"a": call}, call, "desk")
    assert results[0] == Arm(NOON + 31, call, "queue")
    originates = [r for r in results if isinstance(r, c.Originate)]
    assert [(o.call_id, o.number, o.operator) for o in originates] == [("a-op1", "PJSIP/101", True)]
    assert desk.leg_call("a-op1") == "a"
    assert desk.leg_call("a") is None
    assert call.stage is Stage.OPERATOR_RINGING
    expired = desk.wait_expired(NOON + 31, call)
    assert c.Hangup("a-op1") in expired  # the ringing leg is dropped
    observed = [r.observation.kind for r in expired if isinstance(r, Observe)]
    assert observed == [Observation.ABANDONED]
    assert c.Hangup("a", HangupCause.NORMAL_CLEARING) in expired  # no message: hung up
    assert call.stage is Stage.ENDING


def test_a_transfer_step_reaches_the_desk_through_the_core() -> None:
    campaign = Campaign(
        name="t",
        timezone="UTC",
        script=Script.of(transfer("desk")),
        queues=[QueueSettings(name="desk", operators=[Operator("anna", "PJSIP/101")])],
    )
    core = dialer.DialerCore(campaign=campaign)
    out = core.handle(NOON, e.ContactsAdded((Contact(id="k", phones=("+79500000001",)),)))
    [placed] = [o for o in out if isinstance(o, c.Originate)]
    out = core.handle(NOON + 3, CallAnswered(placed.call_id))
    legs = [o for o in out if isinstance(o, c.Originate) and o.operator]
    assert [leg.number for leg in legs] == ["PJSIP/101"]
    assert core.legs == {legs[0].call_id: placed.call_id}
