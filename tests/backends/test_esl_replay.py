"""The captured FreeSWITCH 1.11 events, replayed through the parser into the call table.

The table is the pure part of EslSwitch: it must turn what a real server sent into the same
SwitchEvents the conformance suite demands of the fake (one CallAnswered although the answer
precedes the job's +OK, causes from CHANNEL_HANGUP_COMPLETE or the job's -ERR, Bridged for
both legs, the peer hung up when a bridged leg ends).
"""

from __future__ import annotations

import random

from test_esl_parser import received_bytes

from autoinformer.backends.base import (
    BackendGap,
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    SwitchEvent,
)
from autoinformer.backends.esl.calls import Action, Call, CallTable, Kill
from autoinformer.backends.esl.parser import EslParser
from autoinformer.outcomes import HangupCause, Outcome, outcome_for_unanswered

# (call id, A-leg uuid, Job-UUID) as in the transcript.
CALLS = [
    ("answer", "c03c6da2-bc7b-4fc2-bcf9-3108b81a1cba", "00129534-16ab-4ae9-b2f5-ccef75d15f6d"),
    ("busy", "10da3748-c264-4597-99f4-0416cef9455a", "c9ee9932-1355-47b3-a132-569e0e5b751a"),
    ("noanswer", "0b6c102b-7fad-49c4-b10d-392bcef38659", "65810c19-2b01-446e-aa15-62d49d7b4255"),
    ("congestion", "ffd77b89-16de-4eda-bc63-c7e126432c4b", "cefc0a00-a621-423e-8e69-c7c9ed143787"),
    ("reject", "71348f11-8340-44f4-b713-cb7975be6df1", "65bf3e95-1602-494d-8472-eb423c2b61ca"),
    ("hold-a", "4392e7d3-b13e-4594-ac47-e1ed815d5a32", "none-a"),
    ("hold-b", "67681597-b52c-42ca-bccc-d17956181bb0", "none-b"),
]


def replay(chunk_seed: int | None = None) -> tuple[list[SwitchEvent], list[Action]]:
    events: list[SwitchEvent] = []
    actions: list[Action] = []
    table = CallTable(emit=events.append, act=actions.append)
    for call_id, uuid, job in CALLS:
        table.add(Call(call_id=call_id, uuid=uuid, job=job, confirmed=True))
    table.add_bridge("br", (table.calls["hold-a"], table.calls["hold-b"]))
    data = received_bytes()
    parser = EslParser()
    rng = random.Random(chunk_seed)
    pos = 0
    while pos < len(data):
        size = len(data) if chunk_seed is None else rng.randint(1, 4000)
        for message in parser.feed(data[pos : pos + size]):
            if message.is_event:
                table.on_event(message.event())
        pos += size
    return events, actions


def of(events: list[SwitchEvent], call_id: str) -> list[SwitchEvent]:
    return [e for e in events if getattr(e, "call_id", None) == call_id]


def test_answered_call() -> None:
    # This transcript was captured without CHANNEL_EXECUTE, so the park that makes the table
    # announce the answer never shows: the answer is announced when the call ends (the
    # recordings in ``recordings/esl_*.jsonl``, test_esl_recorded.py, have the full order).
    events, _ = replay()
    assert of(events, "answer") == [
        DigitReceived("answer", "1"),
        CallAnswered("answer"),
        CallEnded(
            "answer",
            HangupCause.NORMAL_CLEARING,
            answered=True,
            detail="Hangup-Cause: NORMAL_CLEARING",
        ),
    ]


def test_failed_calls_and_their_outcomes() -> None:
    events, _ = replay()
    expected = {
        "busy": (HangupCause.USER_BUSY, Outcome.BUSY),
        "noanswer": (HangupCause.NO_ANSWER, Outcome.NO_ANSWER),
        "congestion": (HangupCause.NORMAL_CIRCUIT_CONGESTION, Outcome.FAILED),
        "reject": (HangupCause.CALL_REJECTED, Outcome.REJECTED),
    }
    for call_id, (cause, outcome) in expected.items():
        mine = of(events, call_id)
        ends = [e for e in mine if isinstance(e, CallEnded)]
        assert len(ends) == 1, mine
        assert mine[-1] is ends[0]
        assert ends[0].cause is cause
        assert not ends[0].answered
        assert outcome_for_unanswered(ends[0].cause) is outcome
        assert not any(isinstance(e, CallAnswered) for e in mine)
    assert of(events, "noanswer")[0] == CallProgress("noanswer", "ringing")
    # noanswer: the job's -ERR came before CHANNEL_HANGUP_COMPLETE and decided.
    assert of(events, "noanswer")[-1].detail == "-ERR NO_ANSWER"  # type: ignore[union-attr]


def test_bridge_and_peer_hangup() -> None:
    events, actions = replay()
    assert [e for e in events if isinstance(e, Bridged)] == [
        Bridged("hold-a", "br"),
        Bridged("hold-b", "br"),
    ]
    ends = [e for e in events if isinstance(e, CallEnded) and e.call_id.startswith("hold")]
    assert [e.answered for e in ends] == [True, True]
    # The real server ended the peer itself; the table, seeing the first leg end, also asked
    # for the other to be hung up (harmless when it is already going): exactly one Kill.
    uuids = {call_id: uuid for call_id, uuid, _ in CALLS}
    second = ends[1].call_id
    assert [a for a in actions if isinstance(a, Kill)] == [
        Kill(uuids[second], HangupCause.NORMAL_CLEARING)
    ]


def test_replay_is_the_same_at_any_chunking() -> None:
    whole = replay()
    for seed in range(3):
        assert replay(seed) == whole


def test_events_wait_for_the_originate_to_be_accepted() -> None:
    events: list[SwitchEvent] = []
    table = CallTable(emit=events.append, act=lambda action: None)
    table.add(Call(call_id="c", uuid="u1", job="j1"))
    table.end(table.calls["c"], HangupCause.USER_BUSY, "-ERR USER_BUSY")
    assert events == []
    accepted = Call(call_id="d", uuid="u2", job="j2")
    table.add(accepted)
    table.end(accepted, HangupCause.USER_BUSY, "-ERR USER_BUSY")
    table.confirm(accepted)
    assert events == [CallEnded("d", HangupCause.USER_BUSY, detail="-ERR USER_BUSY")]


def test_resync_adopts_and_ends() -> None:
    events: list[SwitchEvent] = []
    actions: list[Action] = []
    table = CallTable(emit=events.append, act=actions.append)
    table.add(Call(call_id="up", uuid="u1", job="j1", confirmed=True))
    table.add(
        Call(call_id="gone", uuid="u2", job="j2", answered=True, announced=True, confirmed=True)
    )
    orphans = table.resync(
        [{"uuid": "u1", "callstate": "ACTIVE"}, {"uuid": "u9"}], {"u9", "u8"}, 1.5
    )
    assert orphans == ["u9"]
    assert events == [
        BackendGap(seconds=1.5, adopted=("up",), lost=("gone",)),
        CallAnswered("up"),
        CallEnded(
            "gone",
            HangupCause.UNSPECIFIED,
            answered=True,
            detail="ended while the connection was down",
        ),
    ]
