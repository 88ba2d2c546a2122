"""The real FreeSWITCH 1.11.1's event sequences (``recordings/esl_*.jsonl``, made by
``record_esl.py``) replayed through the backend's parser and call table, and the same scenarios
run on the fake ESL server: the fake must send what the real server sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from record_esl import (
    DIAL,
    OPERATOR,
    RECORDED_EVENTS,
    SCENARIOS,
    Recorder,
    Recording,
    local_wav,
)

from autoinformer.backends.base import (
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    PlaybackFinished,
    SwitchEvent,
)
from autoinformer.backends.esl.calls import Call, CallTable, Playback
from autoinformer.backends.esl.client import EslConnection
from autoinformer.backends.esl.parser import EslParser
from autoinformer.backends.esl.switch import EVENTS
from autoinformer.outcomes import HangupCause, Outcome, outcome_for_unanswered
from autoinformer.testing.fake_esl import FakeEslServer, serialize_event
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

RECORDINGS = Path(__file__).resolve().parent / "recordings"

anyio_backend = virtual_anyio_backend  # the fake's runs in virtual time, on both loops

NC = HangupCause.NORMAL_CLEARING
END = "CallEnded"
EXPECTED: dict[str, dict[str, list[tuple[Any, ...]]]] = {
    "digit_0": {"call-1": [("CallAnswered",), (END, NC, True)]},
    "digit_1": {"call-1": [("CallAnswered",), (END, NC, True)]},
    "digit_2": {"call-1": [(END, HangupCause.USER_BUSY, False)]},
    "digit_3": {"call-1": [("CallProgress", "ringing"), (END, HangupCause.NO_ANSWER, False)]},
    "digit_4": {"call-1": [(END, HangupCause.NORMAL_CIRCUIT_CONGESTION, False)]},
    "digit_5": {"call-1": [(END, HangupCause.CALL_REJECTED, False)]},
    "digit_6": {"call-1": [("CallAnswered",), (END, NC, True)]},
    "digit_7": {"call-1": [("CallAnswered",), ("DigitReceived", "2"), (END, NC, True)]},
    "digit_8": {"call-1": [("CallAnswered",), ("DigitReceived", "1"), (END, NC, True)]},
    "digit_9": {"call-1": [(END, HangupCause.UNALLOCATED_NUMBER, False)]},
    "operator": {"call-1": [("CallAnswered",), (END, NC, True)]},
    "cancel_ringing": {"call-1": [("CallProgress", "ringing"), (END, NC, False)]},
    "play_sound": {"call-1": [("CallAnswered",), ("PlaybackFinished", True, ""), (END, NC, True)]},
    "play_path": {"call-1": [("CallAnswered",), ("PlaybackFinished", True, ""), (END, NC, True)]},
    "play_missing": {
        "call-1": [
            ("CallAnswered",),
            ("PlaybackFinished", False, "FILE NOT FOUND (/nonexistent/autoinformer-missing.wav)"),
            (END, NC, True),
        ]
    },
    "play_tts": {
        "call-1": [
            ("CallAnswered",),
            ("PlaybackFinished", False, "FILE NOT FOUND (tts:hello)"),
            (END, NC, True),
        ]
    },
    "play_stopped": {
        "call-1": [("CallAnswered",), ("PlaybackFinished", False, ""), (END, NC, True)]
    },
    "play_hangup": {
        "call-1": [("CallAnswered",), ("PlaybackFinished", False, ""), (END, NC, True)]
    },
    "transfer": {
        "call-1": [
            ("CallAnswered",),
            ("DigitReceived", "1"),
            ("Bridged", "br"),
            (END, NC, True),
        ],
        "call-2": [("CallAnswered",), ("Bridged", "br"), (END, NC, True)],
    },
}
"""What the backend must make of each recording, per channel."""

UNANSWERED = {
    "digit_2": Outcome.BUSY,
    "digit_3": Outcome.NO_ANSWER,
    "digit_4": Outcome.FAILED,
    "digit_5": Outcome.REJECTED,
    "digit_9": Outcome.UNREACHABLE,
}


def load(name: str) -> list[dict[str, Any]]:
    path = RECORDINGS / f"esl_{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def short(event: SwitchEvent) -> tuple[Any, ...]:
    if isinstance(event, CallEnded):
        return (END, event.cause, event.answered)
    if isinstance(event, CallProgress):
        return ("CallProgress", event.state)
    if isinstance(event, DigitReceived):
        return ("DigitReceived", event.digit)
    if isinstance(event, PlaybackFinished):
        return ("PlaybackFinished", event.completed, event.error)
    if isinstance(event, Bridged):
        return ("Bridged", event.bridge_id)
    assert isinstance(event, CallAnswered)
    return ("CallAnswered",)


def replay(lines: list[dict[str, Any]]) -> dict[str, list[SwitchEvent]]:
    """Feed a recording through the parser (as bytes) and the call table, acting out what we
    sent (originate, playback, uuid_break, uuid_kill, uuid_bridge) as the switch does."""
    events: list[SwitchEvent] = []
    table = CallTable(emit=events.append, act=lambda action: None)
    parser = EslParser()
    for line in lines:
        sent = line.get("send")
        if sent is not None:
            words = sent.split()
            if words[1:2] == ["originate"]:
                uuid = sent.split("origination_uuid=")[1].split(",")[0]
                job = line["headers"]["Job-UUID"]
                table.add(Call(call_id=uuid, uuid=uuid, job=job, confirmed=True))
            elif words[0] == "sendmsg":
                headers = line["headers"]
                call = table.calls[words[1]]
                call.playbacks[headers["event-uuid"]] = Playback(headers["event-uuid"])
            elif words[1:2] == ["uuid_break"]:
                for playback in table.calls[words[2]].playbacks.values():
                    playback.stopped = True
            elif words[1:2] == ["uuid_kill"] and words[2] in table.calls:
                table.request_hangup(table.calls[words[2]], HangupCause[words[3]])
            elif words[1:2] == ["uuid_bridge"]:
                table.add_bridge("br", (table.calls[words[2]], table.calls[words[3]]))
            continue
        headers = {"Event-Name": line["event"], **line["headers"]}
        data = serialize_event(headers, line.get("body", ""))
        for message in parser.feed(data):
            table.on_event(message.event())
    by_call: dict[str, list[SwitchEvent]] = {}
    for event in events:
        by_call.setdefault(getattr(event, "call_id", ""), []).append(event)
    return by_call


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recording_replays_to_the_expected_events(name: str) -> None:
    lines = load(name)
    got = {call: [short(e) for e in events] for call, events in replay(lines).items()}
    assert got == EXPECTED[name]
    if name in UNANSWERED:
        (end,) = [e for e in replay(lines)["call-1"] if isinstance(e, CallEnded)]
        assert outcome_for_unanswered(end.cause) is UNANSWERED[name]


def test_every_scenario_is_recorded_and_expected() -> None:
    assert set(SCENARIOS) == set(EXPECTED)
    for name in SCENARIOS:
        assert (RECORDINGS / f"esl_{name}.jsonl").exists(), name


# --- the fake against the recordings ----------------------------------------------------------

_COMPARED = set(EVENTS.split()) - {"BACKGROUND_JOB", "CUSTOM", "avmd::beep"}


def signature(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """What a client of the switch observes, per channel: the subscribed events in order with
    the headers the backend reads; the results of the originates."""
    legs: dict[str, list[tuple[str, ...]]] = {}
    jobs: list[str] = []
    for line in lines:
        name = line.get("event")
        if name is None:
            continue
        h = line["headers"]
        if name == "BACKGROUND_JOB":
            if h.get("Job-Command") == "originate":
                jobs.append(line.get("body", "").split()[0] + " " + line["body"].split()[1])
            continue
        if name not in _COMPARED:
            continue
        app = h.get("Application", "")
        if name.startswith("CHANNEL_EXECUTE") and app not in ("playback", "park"):
            continue
        row = (
            name,
            h.get("Answer-State", ""),
            h.get("Hangup-Cause", "") if name == "CHANNEL_HANGUP_COMPLETE" else "",
            app,
            h.get("Application-Response", "") if app == "playback" else "",
            h.get("DTMF-Digit", ""),
        )
        legs.setdefault(h.get("Unique-ID", ""), []).append(row)
    return {"legs": legs, "jobs": sorted(jobs)}


async def run_on_fake(name: str, tmp: Path) -> list[dict[str, Any]]:
    server = FakeEslServer(
        speed=5.0,
        operator_prefix="loopback/op",
        hangup_bridge_peer=True,  # as FreeSWITCH does after uuid_bridge
        answer_at_once=True,  # as loopback endpoints do
        builtin_seconds={"hello-world.wav": 1.4},
    )
    async with server:
        conn = await EslConnection.open("127.0.0.1", server.port, server.password)
        recorder = Recorder(conn, tmp)
        rec = Recording(name, anyio.current_time(), str(tmp))
        async with anyio.create_task_group() as tg:
            tg.start_soon(conn.read_events, recorder.on_event)
            await conn.command(f"event plain {RECORDED_EVENTS}")
            with anyio.fail_after(20):
                await SCENARIOS[name](recorder, rec)
            tg.cancel_scope.cancel()
        await conn.aclose()
    return rec.lines


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_fake_sends_what_the_real_server_sent(name: str, tmp_path: Path) -> None:
    assert DIAL.startswith("loopback/")
    assert OPERATOR.startswith("loopback/op")
    local_wav(tmp_path)
    fake = await run_on_fake(name, tmp_path)
    assert signature(fake) == signature(load(name))
