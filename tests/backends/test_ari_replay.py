"""Replay of the Asterisk 22 event capture through the decoder and the call tracker.

The capture (``recordings/asterisk-22.10.1-ari-events.jsonl``, a copy of the one in
``shared/reference/samples``) was made with
Asterisk's own channel ids; the test registers them as our calls, exactly as AriSwitch does
before each request, and checks the Switch events that come out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoinformer.backends import base
from autoinformer.backends.ari import events as ari
from autoinformer.backends.ari.tracker import CallTracker, DestroyBridge, HangupChannel
from autoinformer.outcomes import HangupCause, Outcome, outcome_for_unanswered
from autoinformer.testing.ari_spec import AriSpec

CAPTURE = Path(__file__).resolve().parent / "recordings" / "asterisk-22.10.1-ari-events.jsonl"

FIRST, SECOND = "1795317410.0", "1795317415.2"
BUSY, NOANSWER, CONGESTION, CREATED = (
    "1795317415.6",
    "1795317415.8",
    "1795317419.10",
    "1795317419.12",
)
BRIDGE = "ae1b4deb-1d0e-4aee-a437-44296a502032"


def _lines() -> list[str]:
    return CAPTURE.read_text(encoding="utf-8").splitlines()


def _replay() -> list[object]:
    tracker = CallTracker(app="autoinformer")
    halves = {
        FIRST: "1795317410.1",
        SECOND: "1795317415.3",
        BUSY: "1795317415.7",
        NOANSWER: "1795317415.9",
        CONGESTION: "1795317419.11",
    }
    for call_id, other in halves.items():
        tracker.expect_call(call_id, other_id=other)
    tracker.expect_call(CREATED)
    tracker.expect_playback(FIRST, "pb-hello")
    tracker.expect_playback(FIRST, "pb-ring")
    tracker.stopping_playback("pb-ring")  # the capture's script stopped it with DELETE
    tracker.expect_bridge(BRIDGE, (FIRST, SECOND))
    out: list[object] = []
    for now, line in enumerate(_lines()):
        out.extend(tracker.feed(ari.decode_event(line), float(now)))
    out.extend(tracker.due(1e9))
    assert tracker.active_calls() == ()
    return out


def test_every_captured_event_decodes_and_matches_the_definitions() -> None:
    spec = AriSpec.load()
    kinds = set()
    for line in _lines():
        event = ari.decode_event(line)
        kinds.add(type(event).__name__)
        assert spec.check_event(json.loads(line)) == [], line[:120]
    assert {"StasisStart", "Dial", "ChannelDestroyed", "ChannelDtmfReceived"} <= kinds
    assert "OtherEvent" in kinds  # ChannelVarset, ChannelDialplan... are passed over


def test_answered_call_events_in_order() -> None:
    events = [e for e in _replay() if getattr(e, "call_id", None) == FIRST]
    assert events == [
        base.CallAnswered(FIRST),
        base.DigitReceived(FIRST, "1"),
        base.PlaybackFinished(FIRST, "pb-hello", completed=True),
        base.PlaybackFinished(FIRST, "pb-ring", completed=False),
        base.Bridged(FIRST, BRIDGE),
        base.CallEnded(
            FIRST,
            HangupCause.NORMAL_CLEARING,
            answered=True,
            detail="dialstatus=ANSWER cause=16 other_cause=16",
        ),
    ]


def test_bridge_peer_is_hung_up_when_one_side_ends() -> None:
    out = _replay()
    first_end = next(
        i for i, e in enumerate(out) if isinstance(e, base.CallEnded) and e.call_id == FIRST
    )
    assert out[first_end + 1] == HangupChannel(SECOND)
    assert base.Bridged(SECOND, BRIDGE) in out
    assert DestroyBridge(BRIDGE) in out


@pytest.mark.parametrize(
    ("call_id", "cause", "outcome"),
    [
        (BUSY, HangupCause.USER_BUSY, Outcome.BUSY),
        (NOANSWER, HangupCause.NO_ANSWER, Outcome.NO_ANSWER),
        (CONGESTION, HangupCause.NORMAL_CIRCUIT_CONGESTION, Outcome.FAILED),
    ],
)
def test_failed_calls_get_the_real_cause_not_the_local_half_zero(
    call_id: str, cause: HangupCause, outcome: Outcome
) -> None:
    out = _replay()
    ends = [e for e in out if isinstance(e, base.CallEnded) and e.call_id == call_id]
    assert len(ends) == 1
    assert ends[0].cause is cause
    assert not ends[0].answered
    assert outcome_for_unanswered(ends[0].cause) is outcome
    assert not [e for e in out if isinstance(e, base.CallAnswered) and e.call_id == call_id]


def test_ringing_reported_once_before_no_answer() -> None:
    events = [e for e in _replay() if getattr(e, "call_id", None) == NOANSWER]
    assert events[0] == base.CallProgress(NOANSWER, "ringing")
    assert isinstance(events[-1], base.CallEnded)


def test_channel_created_then_dialled_is_answered_and_digits_follow() -> None:
    events = [e for e in _replay() if getattr(e, "call_id", None) == CREATED]
    assert [type(e) for e in events] == [base.CallAnswered, base.DigitReceived, base.CallEnded]
