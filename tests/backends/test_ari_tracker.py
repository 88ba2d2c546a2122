"""The pure parts of the ARI backend: decoder errors, cause resolution, ordering, resync."""

from __future__ import annotations

import pytest

from autoinformer.backends import base
from autoinformer.backends.ari import events as ari
from autoinformer.backends.ari.tracker import (
    LOCAL_HALF_WAIT,
    CallTracker,
    ContinueToAmd,
    HangupChannel,
    resolve_unanswered_cause,
)
from autoinformer.outcomes import HangupCause

C = HangupCause


def _ch(channel_id: str, state: str = "Up", app_data: str = "") -> dict[str, object]:
    return {
        "id": channel_id,
        "name": f"PJSIP/x-{channel_id}",
        "state": state,
        "dialplan": {"app_data": app_data},
    }


def _feed(tracker: CallTracker, event: dict[str, object], now: float = 0.0) -> list[object]:
    return list(tracker.feed(ari.decode_event(event), now))


@pytest.mark.parametrize(
    ("dialstatus", "own", "other", "expected"),
    [
        ("BUSY", 0, None, C.USER_BUSY),
        ("NOANSWER", 19, 19, C.NO_ANSWER),
        ("CONGESTION", 0, 21, C.CALL_REJECTED),  # the ;2 half knows better than the status
        ("CONGESTION", 0, None, C.NORMAL_CIRCUIT_CONGESTION),
        ("CHANUNAVAIL", 0, None, C.SUBSCRIBER_ABSENT),
        ("", 1, None, C.UNALLOCATED_NUMBER),  # a PJSIP channel carries the cause itself
        ("RINGING", 16, 16, C.NORMAL_CLEARING),  # we hung up while it rang
        ("CANCEL", 16, None, C.NORMAL_CLEARING),
        ("", 0, None, C.UNSPECIFIED),
        # Asterisk 22, recorded: the dial status is generic, a specific cause wins.
        ("NOANSWER", 21, 21, C.CALL_REJECTED),  # Hangup(21) before answer
        ("NOANSWER", 1, 1, C.UNALLOCATED_NUMBER),  # Hangup(1)
        ("NOANSWER", 16, 16, C.NORMAL_CLEARING),  # our hang-up while it rang
        ("", 19, 19, C.NO_ANSWER),  # our ring timeout (no final Dial)
        ("BUSY", 0, 17, C.USER_BUSY),
        ("BUSY", 16, None, C.USER_BUSY),  # a generic cause: the status decides
        ("NOANSWER", 0, None, C.NO_ANSWER),
    ],
)
def test_resolve_unanswered_cause(
    dialstatus: str, own: int, other: int | None, expected: HangupCause
) -> None:
    assert resolve_unanswered_cause(dialstatus, own, other) is expected


def test_decoder_rejects_what_it_cannot_use() -> None:
    with pytest.raises(ari.AriDecodeError, match="not JSON"):
        ari.decode_event("{nope")
    with pytest.raises(ari.AriDecodeError, match="type"):
        ari.decode_event({"channel": {}})
    with pytest.raises(ari.AriDecodeError, match="cause"):
        ari.decode_event({"type": "ChannelDestroyed", "channel": _ch("a"), "cause": "16"})
    assert ari.decode_event({"type": "SomethingNew", "x": 1}) == ari.OtherEvent("SomethingNew")


def test_local_half_zero_waits_for_the_other_half_then_gives_up() -> None:
    tracker = CallTracker(app="app")
    tracker.expect_call("c1", other_id="c1-2")
    _feed(tracker, {"type": "Dial", "dialstatus": "CONGESTION", "peer": _ch("c1", "Down")})
    assert (
        _feed(tracker, {"type": "ChannelDestroyed", "cause": 0, "channel": _ch("c1")}, 10.0) == []
    )
    assert tracker.next_deadline() == 10.0 + LOCAL_HALF_WAIT
    assert tracker.due(10.5) == []
    (ended,) = tracker.due(10.0 + LOCAL_HALF_WAIT)
    assert ended == base.CallEnded(
        "c1", C.NORMAL_CIRCUIT_CONGESTION, detail="dialstatus=CONGESTION cause=0"
    )
    assert tracker.next_deadline() is None


def test_other_half_first_then_ours_ends_at_once() -> None:
    tracker = CallTracker(app="app")
    tracker.expect_call("c1", other_id="c1-2")
    assert _feed(tracker, {"type": "ChannelDestroyed", "cause": 21, "channel": _ch("c1-2")}) == []
    (ended,) = _feed(tracker, {"type": "ChannelDestroyed", "cause": 0, "channel": _ch("c1")})
    assert isinstance(ended, base.CallEnded)
    assert ended.cause is C.CALL_REJECTED


def test_stasis_start_with_amd_continues_then_reports_the_verdict() -> None:
    tracker = CallTracker(app="app")
    tracker.expect_call("c1", detect_machine=True)
    start = {"type": "StasisStart", "args": ["dial"], "channel": _ch("c1")}
    assert _feed(tracker, start) == [base.CallAnswered("c1"), ContinueToAmd("c1")]
    assert _feed(tracker, {"type": "StasisEnd", "channel": _ch("c1")}) == []
    verdict = {
        "type": "StasisStart",
        "args": ["amd", "MACHINE", "LONGGREETING"],
        "channel": _ch("c1"),
    }
    assert _feed(tracker, verdict) == [base.MachineDetected("c1", machine=True)]


def test_events_for_strangers_and_digits_before_answer_are_ignored() -> None:
    tracker = CallTracker(app="app")
    tracker.expect_call("c1")
    dtmf = {"type": "ChannelDtmfReceived", "digit": "5", "duration_ms": 90, "channel": _ch("c1")}
    assert _feed(tracker, dtmf) == []  # not answered yet
    other = {"type": "StasisStart", "args": [], "channel": _ch("someone-else")}
    assert _feed(tracker, other) == []


def test_reconcile_adopts_loses_and_hangs_up_orphans() -> None:
    tracker = CallTracker(app="app")
    for call_id in ("alive", "gone", "ringing"):
        tracker.expect_call(call_id)
    _feed(tracker, {"type": "StasisStart", "args": ["dial"], "channel": _ch("alive")})
    _feed(tracker, {"type": "StasisStart", "args": ["dial"], "channel": _ch("gone")})
    channels = [
        ari.ChannelRef("alive", state="Up", app_data="app,dial"),
        ari.ChannelRef("ringing", state="Up", app_data="app,dial"),  # answered in the gap
        ari.ChannelRef("orphan", state="Up", app_data="app,dial"),
        ari.ChannelRef("not-ours", state="Up", app_data="otherapp,x"),
    ]
    out = tracker.reconcile(channels, gap_seconds=3.0)
    assert out[0] == base.BackendGap(seconds=3.0, adopted=("alive", "ringing"), lost=("gone",))
    assert base.CallAnswered("ringing") in out
    assert HangupChannel("orphan") in out
    assert not [o for o in out if getattr(o, "channel_id", None) == "not-ours"]
    assert out[-1] == base.CallEnded(
        "gone", C.NORMAL_CLEARING, answered=True, detail="cause=unknown lost during an event gap"
    )
    assert tracker.active_calls() == ("alive", "ringing")


def test_abandoned_originate_closes_what_was_reported_and_ignores_the_rest() -> None:
    tracker = CallTracker(app="app")
    tracker.expect_call("quiet", other_id="quiet-2")
    tracker.expect_call("rang", other_id="rang-2")
    tracker.expect_call("up", other_id="up-2")
    ringing = {"type": "Dial", "dialstatus": "RINGING", "peer": _ch("rang", "Ringing")}
    assert _feed(tracker, ringing) == [base.CallProgress("rang")]
    _feed(tracker, {"type": "StasisStart", "args": ["dial"], "channel": _ch("up")})

    # No reply to the originate: nothing was said about "quiet", so nothing is said now.
    assert tracker.abandon_call("quiet", "no reply") == []
    (rang,) = tracker.abandon_call("rang", "no reply")
    assert rang == base.CallEnded(
        "rang", C.NORMAL_TEMPORARY_FAILURE, detail="dialstatus=RINGING cause=41 no reply"
    )
    (up,) = tracker.abandon_call("up", "no reply")
    assert up == base.CallEnded(
        "up", C.NORMAL_TEMPORARY_FAILURE, answered=True, detail="cause=41 no reply"
    )
    assert tracker.active_calls() == ()
    # Later events about the abandoned calls are ignored.
    assert _feed(tracker, {"type": "ChannelDestroyed", "cause": 16, "channel": _ch("up")}) == []
    assert _feed(tracker, {"type": "Dial", "dialstatus": "BUSY", "peer": _ch("quiet")}) == []


def test_calls_lost_in_a_gap_keep_what_was_known_before_it() -> None:
    tracker = CallTracker(app="app")
    for call_id in ("busy", "congested", "ringing", "silent"):
        tracker.expect_call(call_id, other_id=f"{call_id}-2")
    # Seen before the gap: a final BUSY status (its ChannelDestroyed was lost), a Local ;1
    # half destroyed with cause 0 while the ;2 half's cause was still to come, and ringing.
    _feed(tracker, {"type": "Dial", "dialstatus": "BUSY", "peer": _ch("busy", "Down")})
    _feed(tracker, {"type": "Dial", "dialstatus": "CONGESTION", "peer": _ch("congested")})
    _feed(tracker, {"type": "ChannelDestroyed", "cause": 0, "channel": _ch("congested")})
    _feed(tracker, {"type": "Dial", "dialstatus": "RINGING", "peer": _ch("ringing", "Ringing")})
    out = tracker.reconcile([], gap_seconds=2.0)
    ends = {o.call_id: o for o in out if isinstance(o, base.CallEnded)}
    assert ends["busy"].cause is C.USER_BUSY
    assert ends["congested"].cause is C.NORMAL_CIRCUIT_CONGESTION
    # Nothing final was known: the call may have failed, timed out, or been answered and
    # dropped by Asterisk (no Stasis application): a temporary failure, worth a retry.
    assert ends["ringing"].cause is C.NORMAL_TEMPORARY_FAILURE
    assert ends["silent"].cause is C.NORMAL_TEMPORARY_FAILURE
    assert all("lost during an event gap" in e.detail for e in ends.values())
    assert tracker.next_deadline() is None  # the ;2 wait is over too


def test_a_call_is_in_amd_from_the_continue_until_its_verdict_or_a_failed_continue() -> None:
    tracker = CallTracker(app="app")
    tracker.expect_call("c1", detect_machine=True)
    tracker.expect_call("c2", detect_machine=True)
    tracker.expect_call("plain")
    for call_id in ("c1", "c2", "plain"):
        _feed(tracker, {"type": "StasisStart", "args": ["dial"], "channel": _ch(call_id)})
    assert (tracker.in_amd("c1"), tracker.in_amd("c2"), tracker.in_amd("plain")) == (
        True,
        True,
        False,
    )
    _feed(tracker, {"type": "StasisStart", "args": ["amd", "HUMAN", "x"], "channel": _ch("c1")})
    assert not tracker.in_amd("c1")
    tracker.amd_not_started("c2")
    assert not tracker.in_amd("c2")
    assert not tracker.in_amd("unknown")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["amd", "MACHINE", "LONGGREETING-1600-1500"], [base.MachineDetected("c1", True)]),
        # The documented WaitForSilence variant: silence after the greeting is the moment to
        # leave the message, which is what beep=True means to the core.
        (
            ["amd", "MACHINE", "MAXWORDS-3-3", "SILENCE"],
            [base.MachineDetected("c1", machine=True, beep=True)],
        ),
        (["amd", "MACHINE", "MAXWORDS-3-3", "TIMEOUT"], [base.MachineDetected("c1", True)]),
        (["amd", "HUMAN", "HUMAN-300-500", ""], [base.MachineDetected("c1", False)]),
        (["amd", "notsure", "TOOLONG-4000"], [base.MachineDetected("c1", False)]),
        (["amd", "HANGUP", ""], []),  # the callee left during detection: CallEnded follows
        (["amd"], []),
    ],
)
def test_amd_verdicts(args: list[str], expected: list[object]) -> None:
    tracker = CallTracker(app="app")
    tracker.expect_call("c1", detect_machine=True)
    _feed(tracker, {"type": "StasisStart", "args": ["dial"], "channel": _ch("c1")})
    _feed(tracker, {"type": "StasisEnd", "channel": _ch("c1")})
    assert _feed(tracker, {"type": "StasisStart", "args": args, "channel": _ch("c1")}) == expected


def test_early_media_and_ringing_are_told_apart_each_once() -> None:
    # the core's release valve counts the ring from "ringing" (180) only, never early media
    tracker = CallTracker(app="app")
    tracker.expect_call("c1", other_id="c1-2")
    progress = {"type": "Dial", "dialstatus": "PROGRESS", "peer": _ch("c1", "Down")}
    assert _feed(tracker, progress) == [base.CallProgress("c1", "early_media")]
    assert _feed(tracker, progress) == []
    state = {"type": "ChannelStateChange", "channel": _ch("c1", "Ringing")}
    assert _feed(tracker, state) == [base.CallProgress("c1", "ringing")]
    ringing = {"type": "Dial", "dialstatus": "RINGING", "peer": _ch("c1", "Ringing")}
    assert _feed(tracker, ringing) == []
