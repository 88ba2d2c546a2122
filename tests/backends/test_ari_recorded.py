"""The real Asterisk 22.10.1's event sequences (``recordings/ari_*.jsonl``, made by
``record_ari.py``) replayed through the backend's decoder and call tracker, and the same
scenarios run on the fake ARI server: the fake must send what the real server sends.

What the recordings showed (and the backend and the fake now follow): a callee that rejects
(``Hangup(21)``) or an unallocated number (``Hangup(1)``) gives a generic ``Dial`` NOANSWER
with the specific cause on both Local halves; a ring timeout gives no final ``Dial`` at all,
cause 19; our hang-up while it rings gives NOANSWER with cause 16; Busy()/Congestion() give
BUSY/CONGESTION with cause 0 on our half and 17/34 on the ``;2`` half; a Local callee rings
only if its dialplan says ``Ringing()``; a missing sound finishes ``failed``, and so does a
playback cut short by a hang-up (after the channel's ChannelHangupRequest); a comma in
``media`` splits it into a list; an unknown URI scheme starts and never finishes; an event
filter lasts while the application has channels.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from httpx_ws import aconnect_ws
from record_ari import APP, SCENARIOS, Recorder

from autoinformer.backends import base
from autoinformer.backends.ari import events as ari
from autoinformer.backends.ari.switch import EVENTS_USED
from autoinformer.backends.ari.tracker import CallTracker, DestroyBridge, HangupChannel
from autoinformer.outcomes import HangupCause, Outcome, outcome_for_unanswered
from autoinformer.testing.ari_spec import AriSpec
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

RECORDINGS = Path(__file__).resolve().parent / "recordings"
C = HangupCause


def lines(scenario: str) -> list[dict[str, Any]]:
    path = RECORDINGS / f"ari_{scenario}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _requests(recorded: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, str]]]:
    for line in recorded:
        if "request" in line and line["status"] < 300:
            yield line["request"], dict(line["params"])


def replay(scenario: str) -> list[object]:
    """The tracker's outputs for a recording, registered as AriSwitch would before each
    request (calls, playbacks, bridges; the playbacks we stop)."""
    recorded = lines(scenario)
    tracker = CallTracker(app=APP)
    for request, params in _requests(recorded):
        if request == "POST /channels":
            tracker.expect_call(params["channelId"], other_id=params["otherChannelId"])
        elif request.startswith("POST /channels/") and request.endswith("/play"):
            call_id = request.split("/")[2]
            tracker.expect_playback(call_id, params["playbackId"])
        elif request.startswith("DELETE /playbacks/"):
            tracker.stopping_playback(request.rpartition("/")[2])
    for request, params in _requests(recorded):
        if request.endswith("/addChannel"):
            bridge_id = request.split("/")[2]
            tracker.expect_bridge(bridge_id, params["channel"].split(","))
    out: list[object] = []
    for line in recorded:
        if "event" in line:
            out.extend(tracker.feed(ari.decode_event(line["event"]), line["t"]))
    out.extend(tracker.due(1e9))
    assert tracker.active_calls() == ()
    return out


def of(out: list[object], call_id: str) -> list[object]:
    return [e for e in out if getattr(e, "call_id", None) == call_id]


def ended(out: list[object], call_id: str) -> base.CallEnded:
    ends = [e for e in of(out, call_id) if isinstance(e, base.CallEnded)]
    assert len(ends) == 1
    assert of(out, call_id)[-1] is ends[0]
    return ends[0]


RECORDED = sorted(p.stem.removeprefix("ari_") for p in RECORDINGS.glob("ari_*.jsonl"))


@pytest.mark.parametrize("scenario", RECORDED)
def test_every_recorded_event_matches_the_definitions(scenario: str) -> None:
    spec = AriSpec.load()
    for line in lines(scenario):
        if "event" in line:
            ari.decode_event(line["event"])
            assert spec.check_event(line["event"]) == [], line


@pytest.mark.parametrize(
    ("digit", "cause", "outcome"),
    [
        ("2", C.USER_BUSY, Outcome.BUSY),
        ("3", C.NO_ANSWER, Outcome.NO_ANSWER),
        ("4", C.NORMAL_CIRCUIT_CONGESTION, Outcome.FAILED),
        ("5", C.CALL_REJECTED, Outcome.REJECTED),
        ("9", C.UNALLOCATED_NUMBER, Outcome.UNREACHABLE),
    ],
)
def test_unanswered_parties_end_with_their_outcome(
    digit: str, cause: HangupCause, outcome: Outcome
) -> None:
    call = f"ari-d{digit}"
    out = replay(f"d{digit}")
    end = ended(out, call)
    assert end.cause is cause, end
    assert not end.answered
    assert outcome_for_unanswered(end.cause) is outcome
    assert not [e for e in out if isinstance(e, base.CallAnswered)]
    ringing = [e for e in of(out, call) if isinstance(e, base.CallProgress)]
    assert ringing == ([base.CallProgress(call, "ringing")] if digit == "3" else [])


@pytest.mark.parametrize(
    ("scenario", "digits", "cause"),
    [
        ("d0", "", C.NORMAL_CLEARING),  # hangs up after 12 s
        ("d1", "", C.NORMAL_CLEARING),  # we hang up
        ("d6", "", C.NORMAL_CLEARING),  # hangs up after 2 s
        ("d7", "2", C.NORMAL_CLEARING),
        ("d8", "1", C.NORMAL_CLEARING),
        ("operator", "", C.NORMAL_CLEARING),
        ("dtmf", "123#", C.USER_BUSY),  # we hang up with reason_code 17
    ],
)
def test_answered_calls(scenario: str, digits: str, cause: HangupCause) -> None:
    call = f"ari-{scenario}"
    out = of(replay(scenario), call)
    assert out[0] == base.CallAnswered(call)
    assert "".join(e.digit for e in out if isinstance(e, base.DigitReceived)) == digits
    end = ended(out, call)
    assert end.cause is cause
    assert end.answered


def test_cancel_while_ringing_is_our_normal_clearing() -> None:
    out = replay("cancel")
    assert of(out, "ari-cancel")[0] == base.CallProgress("ari-cancel", "ringing")
    end = ended(out, "ari-cancel")
    assert end.cause is C.NORMAL_CLEARING  # Asterisk says NOANSWER; the cause is ours
    assert not end.answered


def test_playback_truth() -> None:
    out = replay("playmissing")
    call = "ari-playmissing"
    finished = {e.playback_id: e for e in of(out, call) if isinstance(e, base.PlaybackFinished)}
    missing = finished["ari-playmissing-missing"]
    assert not missing.completed
    assert "sound:autoinformer/does-not-exist" in missing.error
    assert finished["ari-playmissing-comma"].completed  # two beeps, one playback
    # An unknown scheme never finishes on Asterisk 22; the hang-up closes it, no error.
    assert finished["ari-playmissing-scheme"] == base.PlaybackFinished(
        call, "ari-playmissing-scheme", completed=False
    )
    ended(out, call)

    out = replay("playsound")
    assert of(out, "ari-playsound")[1:3] == [
        base.PlaybackFinished("ari-playsound", "ari-playsound-beep", completed=True),
        base.PlaybackFinished("ari-playsound", "ari-playsound-stop", completed=False),
    ]


def test_a_playback_cut_short_by_a_hang_up_is_no_error() -> None:
    out = replay("playhangup")
    for call in ("ari-playhangup-callee", "ari-playhangup-ours"):
        events = of(out, call)
        assert events[1] == base.PlaybackFinished(call, f"{call}-pb", completed=False)
        end = ended(out, call)
        assert end.cause is C.NORMAL_CLEARING
        assert end.answered


def test_transfer_bridges_both_and_hangs_up_the_peer() -> None:
    out = replay("transfer")
    customer, agent, bridge = "ari-transfer-c", "ari-transfer-a", "ari-transfer-br"
    assert base.Bridged(customer, bridge) in out
    assert base.Bridged(agent, bridge) in out
    agent_end = out.index(ended(out, agent))
    assert out[agent_end + 1] == HangupChannel(customer)
    assert ended(out, customer).answered
    assert DestroyBridge(bridge) in out


def test_an_id_in_use_is_refused_with_409() -> None:
    statuses = [line["status"] for line in lines("collide") if "request" in line]
    assert statuses[:2] == [200, 409]


def test_an_event_filter_lasts_while_the_application_has_channels() -> None:
    steps = {line["step"]: line for line in lines("filter")}
    assert steps["closed 1"]["status"] == 404  # no channels: forgotten with its filter
    kept = steps["connect 3"]["application"]["events_allowed"]
    assert kept == [{"type": "StasisStart"}, {"type": "ChannelDestroyed"}]


# --- the fake sends what the real server sends ---------------------------------------------

anyio_backend = virtual_anyio_backend

FAKE_SCENARIOS = sorted(set(SCENARIOS) - {"dtmf", "create"})
"""``dtmf`` dials a named callee (``Local/dtmf@callee``) the fake does not have; ``create``
(``POST /channels/create``) is not modelled by the fake."""


def observable(events: list[dict[str, Any]]) -> dict[str, list[tuple[object, ...]]]:
    """Per channel, what AriSwitch asks Asterisk for (its event filter): event types in order
    with their causes, dial statuses, digits, Stasis arguments and playback states."""
    per: dict[str, list[tuple[object, ...]]] = {}
    for event in events:
        kind = event["type"]
        if kind not in EVENTS_USED:
            continue
        if "playback" in event:
            target = event["playback"]["target_uri"].removeprefix("channel:")
            per.setdefault(target, []).append((kind, event["playback"]["state"]))
            continue
        channel = event.get("channel") or event.get("peer")
        if channel is None:
            per.setdefault(event["bridge"]["id"], []).append((kind,))
            continue
        detail: tuple[object, ...] = (kind,)
        for key in ("dialstatus", "cause", "soft", "digit", "args"):
            if key in event:
                value = event[key]
                detail += (tuple(value) if isinstance(value, list) else value,)
        per.setdefault(channel["id"], []).append(detail)
    return per


@pytest.mark.anyio
@pytest.mark.parametrize("scenario", FAKE_SCENARIOS)
async def test_the_fake_sends_what_asterisk_sent(scenario: str) -> None:
    real = observable([line["event"] for line in lines(scenario) if "event" in line])
    async with FakeAri(username="ari", password="ari", time_scale=1.0) as fake:
        async with httpx.AsyncClient(base_url=f"{fake.url}/ari", auth=("ari", "ari")) as http:
            rec = Recorder(http)
            rec.lines[scenario], rec.events[scenario] = [], []
            rec.started[scenario] = 0.0
            async with aconnect_ws(f"{fake.url}/ari/events", http, params={"app": APP}) as ws:

                async def read() -> None:
                    while True:
                        rec.route(json.loads(await ws.receive_text()))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(read)
                    with anyio.fail_after(120):
                        await SCENARIOS[scenario](rec, scenario)
                    await anyio.sleep(1)
                    tg.cancel_scope.cancel()
        assert fake.violations == []
    assert observable(rec.events[scenario]) == real
    real_statuses = [line["status"] for line in lines(scenario) if "request" in line]
    fake_statuses = [line["status"] for line in rec.lines[scenario] if "request" in line]
    assert fake_statuses == real_statuses
