"""The ESL framing parser: the captured FreeSWITCH 1.11 transcript at any split, and the cases
where greenswitch's parser goes wrong (encoded newline/colon, nested Content-Length, JSON)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.backends.esl.parser import EslEvent, EslMessage, EslParser, EslProtocolError
from autoinformer.testing.fake_esl import serialize_event

# A copy of ``shared/reference/samples/freeswitch-1.11.1-esl-transcript.txt`` (the tests need
# nothing outside the repository).
TRANSCRIPT = Path(__file__).resolve().parent / "recordings" / "esl_freeswitch-1.11.1-transcript.txt"


def received_bytes() -> bytes:
    """The bytes the client received, in order (each block is followed by one newline)."""
    parts = re.split(rb"^----- (recv|send) -----\n", TRANSCRIPT.read_bytes(), flags=re.M)
    return b"".join(parts[i + 1][:-1] for i in range(1, len(parts), 2) if parts[i] == b"recv")


def parse_all(data: bytes, sizes: list[int] | None = None) -> list[EslMessage]:
    parser = EslParser()
    out: list[EslMessage] = []
    if sizes is None:
        out.extend(parser.feed(data))
    else:
        pos = 0
        for size in sizes:
            out.extend(parser.feed(data[pos : pos + size]))
            pos += size
        out.extend(parser.feed(data[pos:]))
    assert parser.buffered == 0, "bytes left over after the whole stream"
    return out


def summary(messages: list[EslMessage]) -> list[tuple[str, str, str, str]]:
    rows = []
    for m in messages:
        if m.is_event:
            e = m.event()
            rows.append((m.content_type, e.name, e.get("Unique-ID") or "", e.body))
        else:
            rows.append((m.content_type, m.reply_text, "", m.body.decode()))
    return rows


def test_transcript_whole() -> None:
    messages = parse_all(received_bytes())
    kinds = [m.content_type for m in messages]
    assert kinds.count("text/event-plain") == 79
    assert kinds.count("text/event-json") == 1
    assert kinds.count("command/reply") == 11
    assert kinds.count("api/response") == 8
    assert kinds[0] == "auth/request"
    assert messages[1].reply_text == "+OK accepted"
    assert messages[3].body.startswith(b"UP 0 years")
    assert messages[3].body.endswith(b"240K/8192K\n")


def test_transcript_events_decoded() -> None:
    events = [m.event() for m in parse_all(received_bytes()) if m.is_event]
    first = events[0]
    assert first.name == "CHANNEL_CREATE"
    assert first["Unique-ID"] == "c03c6da2-bc7b-4fc2-bcf9-3108b81a1cba"
    assert first["Event-Date-GMT"] == "Sun, 22 Nov 2026 03:17:02 GMT"
    assert first["FreeSWITCH-IPv6"] == "fd00::2"
    assert first["Caller-Callee-ID-Name"] == "Outbound Call"
    assert first["variable_autoinformer_job"] == "42"
    jobs = [e for e in events if e.name == "BACKGROUND_JOB"]
    assert [j.body.strip() for j in jobs] == [
        "+OK c03c6da2-bc7b-4fc2-bcf9-3108b81a1cba",
        "-ERR USER_BUSY",
        "-ERR NO_ANSWER",
        "-ERR NORMAL_CIRCUIT_CONGESTION",
        "-ERR CALL_REJECTED",
        jobs[-1].body.strip(),  # the JSON one: `bgapi status`
    ]
    assert jobs[0]["Job-Command-Arg"].startswith("{origination_uuid=c03c6da2")
    assert jobs[0]["Job-Command-Arg"].endswith("loopback/answer/default &park()")
    assert jobs[0]["Content-Length"] == "41"
    # The JSON event: headers from the object, the body from _body.
    assert jobs[-1]["Job-Command"] == "status"
    assert jobs[-1]["FreeSWITCH-IPv6"] == "fd00::2"
    assert jobs[-1].body.startswith("UP 0 years")
    assert len(jobs[-1].body) == 339
    # The order a real server shows: the answer comes before the job's +OK.
    names = [e.name for e in events[:5]]
    assert names == [
        "CHANNEL_CREATE",
        "CHANNEL_CREATE",
        "CHANNEL_ANSWER",
        "CHANNEL_ANSWER",
        "BACKGROUND_JOB",
    ]
    hangups = [e["Hangup-Cause"] for e in events if e.name == "CHANNEL_HANGUP_COMPLETE"]
    assert "USER_BUSY" in hangups
    assert "NO_ANSWER" in hangups
    digits = [e["DTMF-Digit"] for e in events if e.name == "DTMF"]
    assert digits == ["1"]
    tone = next(e for e in events if e.get("Playback-File-Path", "").startswith("tone"))
    assert tone["Playback-File-Path"] == "tone_stream://%(1000,4000,440,480);loops=1"


@pytest.mark.parametrize("seed", range(8))
def test_transcript_random_chunks(seed: int) -> None:
    data = received_bytes()
    rng = random.Random(seed)
    top = rng.choice([3, 64, 1500, 9000])
    sizes = []
    total = 0
    while total < len(data):
        size = rng.randint(1, top)
        sizes.append(size)
        total += size
    assert summary(parse_all(data, sizes)) == summary(parse_all(data))


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=12))
def test_any_split_of_a_prefix_gives_the_same_messages(cuts: list[int]) -> None:
    if not TRANSCRIPT.exists():
        pytest.skip("no transcript")
    data = received_bytes()[:6000]
    probe = EslParser()
    probe.feed(data)
    data = data[: len(data) - probe.buffered]  # whole messages only
    points = sorted(set(c for c in cuts if c <= len(data)))
    sizes = [b - a for a, b in zip([0, *points], points, strict=False)]
    assert summary(parse_all(data, sizes)) == summary(parse_all(data))


def test_byte_at_a_time_keeps_large_bodies_linear() -> None:
    body = b"x" * 200_000
    data = b"Content-Type: api/response\nContent-Length: 200000\n\n" + body
    parser = EslParser()
    out: list[EslMessage] = []
    for i in range(len(data)):
        out.extend(parser.feed(data[i : i + 1]))
    assert len(out) == 1
    assert out[0].body == body


# --- where greenswitch goes wrong ------------------------------------------------------------

ENCODED = (
    b"Event-Name: CUSTOM\n"
    b"Unique-ID: u-1\n"
    b"variable_note: line%20one%0AFake-Header%3A%20injected\n"
    b"variable_time: 12%3A30%3A00\n"
    b"Event-Subclass: demo%3A%3Athing\n"
)


def plain(inner: bytes) -> bytes:
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(inner) + inner


def test_encoded_newline_and_colon_stay_inside_their_value() -> None:
    [message] = EslParser().feed(plain(ENCODED + b"\n"))
    event = message.event()
    assert event["variable_note"] == "line one\nFake-Header: injected"
    assert "Fake-Header" not in event
    assert event["variable_time"] == "12:30:00"
    assert event.subclass == "demo::thing"
    assert dict(event) == {
        "Event-Name": "CUSTOM",
        "Unique-ID": "u-1",
        "variable_note": "line one\nFake-Header: injected",
        "variable_time": "12:30:00",
        "Event-Subclass": "demo::thing",
    }


JOB = (
    b"Event-Name: BACKGROUND_JOB\n"
    b"Job-UUID: 7f4e\n"
    b"Job-Command: originate\n"
    b"Content-Length: 15\n"
    b"\n"
    b"-ERR USER_BUSY\n"
)


def test_background_job_result_is_the_body_not_a_header() -> None:
    [message] = EslParser().feed(plain(JOB))
    event = message.event()
    assert event.body == "-ERR USER_BUSY\n"
    assert event["Content-Length"] == "15"
    assert event["Job-Command"] == "originate"
    assert "-ERR USER_BUSY" not in "".join(event.values())


def test_json_events() -> None:
    obj = {"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j1", "_body": "+OK abc\n", "N": 5}
    inner = json.dumps(obj).encode()
    data = b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(inner) + inner
    [message] = EslParser().feed(data)
    event = message.event()
    assert event.name == "BACKGROUND_JOB"
    assert event.body == "+OK abc\n"
    assert event["N"] == "5"
    assert "_body" not in event


def test_greenswitch_gets_these_wrong() -> None:
    """Pins why we do not reuse greenswitch's parser (skipped when it is not installed)."""
    esl = pytest.importorskip("greenswitch.esl")
    wrong = esl.ESLEvent(ENCODED.decode())
    assert "Fake-Header" in wrong.headers  # the encoded newline became a header
    glued = esl.ESLEvent(JOB.decode())
    assert "-ERR USER_BUSY" in glued.headers["Content-Length"]  # the result glued to a header
    with pytest.raises(AttributeError):
        esl.ESLEvent(json.dumps({"Event-Name": "X"}, separators=(",", ":")))


def test_fake_server_serialisation_round_trips() -> None:
    headers = {"Event-Name": "DTMF", "Unique-ID": "u", "Odd": "a: b\nc%d {e,f}"}
    for json_format in (False, True):
        [message] = EslParser().feed(serialize_event(headers, "+OK x\n", json_format=json_format))
        event = message.event()
        assert dict(event) | {"Content-Length": "6"} == headers | {"Content-Length": "6"}
        assert event.body == "+OK x\n"


# --- bad input ---------------------------------------------------------------------------------


def test_bad_content_length_is_a_protocol_error() -> None:
    with pytest.raises(EslProtocolError, match="Content-Length"):
        EslParser().feed(b"Content-Type: api/response\nContent-Length: abc\n\n")
    with pytest.raises(EslProtocolError, match="out of range"):
        EslParser(max_message=10).feed(b"Content-Type: api/response\nContent-Length: 11\n\n")


def test_line_without_separator_keeps_the_other_headers() -> None:
    event = EslEvent(b"Event-Name: X\ngarbage\nUnique-ID: u")
    assert event.name == "X"
    assert event["Unique-ID"] == "u"
    assert dict(event) == {"Event-Name": "X", "garbage": "", "Unique-ID": "u"}
    assert len(event) == 3
    assert "X" in repr(event)


def test_not_an_event() -> None:
    [message] = EslParser().feed(b"Content-Type: command/reply\nReply-Text: +OK\n\n")
    assert not message.is_event
    with pytest.raises(EslProtocolError, match="not an event"):
        message.event()
    with pytest.raises(EslProtocolError, match="JSON"):
        EslParser().feed(b"Content-Length: 3\nContent-Type: text/event-json\n\nxyz")[0].event()
