"""Record what a real Asterisk says over ARI, for the replay tests and the fake's reference.

Run against the test PBX of ``../shared/pbx`` (dialplan contexts ``phones`` and ``operators``)::

    bash ../shared/pbx/install.sh && bash ../shared/pbx/start.sh asterisk
    AUTOINFORMER_ARI_URL=http://127.0.0.1:8088 python tests/backends/record_ari.py

Credentials default to ``ari``/``ari`` (``AUTOINFORMER_ARI_USERNAME``/``_PASSWORD``). Every
scenario runs at once on its own event WebSocket-free ids (ours, ``ari-<scenario>...``); the
events (all of them, unfiltered) and the REST replies of each scenario are written, normalised,
to ``tests/backends/recordings/ari_<scenario>.jsonl``: one JSON object a line,
``{"t": seconds since the scenario started, "event": {...}}`` or ``{"t": ..., "request":
"METHOD /path", "params": [...], "status": 204, "reply": {...}}``. Normalising replaces what
differs from run to run (timestamps, Asterisk's channel-name counters and unique ids,
``asterisk_id``) with fixed values, so a re-recording only shows real changes in ``git diff``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
from httpx_ws import aconnect_ws

OUT = Path(__file__).resolve().parent / "recordings"
APP = "autoinformer-record"
PHONES = "Local/7950000000{digit}@phones"
OPERATOR = "Local/100@operators"

_COUNTER = re.compile(r"-[0-9a-f]{8};([12])$")
_UNIQUE = re.compile(r"^\d{10}\.\d+$")


def _normalise(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, key) for v in value]
    if isinstance(value, str):
        if key in ("timestamp", "creationtime"):
            return "2026-01-01T00:00:00.000+0000"
        if key == "asterisk_id":
            return "00:00:00:00:00:00"
        if key in ("linkedid", "uniqueid", "id") and _UNIQUE.match(value):
            return "1700000000.0"
        if key == "name":
            return _COUNTER.sub(r"-00000000;\1", value)
    return value


def _ids_in(event: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in ("channel", "peer", "caller", "playback", "bridge", "replace_channel"):
        item = event.get(key)
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            found.append(item["id"])
    return found


class Recorder:
    """One WebSocket for every scenario; events go to the scenario their ids name."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.lines: dict[str, list[dict[str, Any]]] = {}
        self.started: dict[str, float] = {}
        self.changed = anyio.Event()
        self.events: dict[str, list[dict[str, Any]]] = {}

    def _t(self, scenario: str) -> float:
        return round(time.monotonic() - self.started[scenario], 2)

    def route(self, event: dict[str, Any]) -> None:
        for ident in _ids_in(event):
            if ident.startswith("ari-"):
                scenario = ident.split("-")[1]
                if scenario in self.lines:
                    self.lines[scenario].append({"t": self._t(scenario), "event": event})
                    self.events[scenario].append(event)
                    break
        self.changed.set()
        self.changed = anyio.Event()

    async def request(
        self, scenario: str, method: str, path: str, params: list[tuple[str, str]] | None = None
    ) -> httpx.Response:
        response = await self.http.request(method, path, params=params or [])
        reply: Any = None
        if response.content:
            try:
                reply = response.json()
            except ValueError:
                reply = response.text
        self.lines[scenario].append(
            {
                "t": self._t(scenario),
                "request": f"{method} {path}",
                "params": [list(p) for p in params or []],
                "status": response.status_code,
                "reply": reply,
            }
        )
        return response

    async def wait(
        self, scenario: str, where: Callable[[dict[str, Any]], bool], within: float = 30
    ) -> dict[str, Any]:
        with anyio.fail_after(within):
            while True:
                for event in self.events[scenario]:
                    if where(event):
                        return event
                await self.changed.wait()

    async def gone(self, scenario: str, *channel_ids: str, within: float = 30) -> None:
        for channel_id in channel_ids:
            await self.wait(
                scenario,
                lambda e, c=channel_id: e["type"] == "ChannelDestroyed" and e["channel"]["id"] == c,
                within,
            )

    async def originate(
        self, scenario: str, endpoint: str, ring: int = 10, suffix: str = ""
    ) -> tuple[str, str]:
        call = f"ari-{scenario}{suffix}"
        await self.request(
            scenario,
            "POST",
            "/channels",
            [
                ("endpoint", endpoint),
                ("app", APP),
                ("appArgs", "dial"),
                ("timeout", str(ring)),
                ("channelId", call),
                ("otherChannelId", f"{call}-2"),
                ("callerId", "+74950000000"),
            ],
        )
        return call, f"{call}-2"


def _is(kind: str, channel: str) -> Callable[[dict[str, Any]], bool]:
    def match(event: dict[str, Any]) -> bool:
        ids = _ids_in(event)
        return event["type"] == kind and channel in ids

    return match


async def party(rec: Recorder, scenario: str) -> None:
    """Dial one test party by its last digit and let it play out."""
    digit = scenario[1]
    call, other = await rec.originate(scenario, PHONES.format(digit=digit), ring=4)
    if digit in "2345893":
        await rec.gone(scenario, call, other)
        return
    await rec.wait(scenario, _is("StasisStart", call))
    if digit in "60":  # they hang up by themselves
        await rec.gone(scenario, call, other)
        return
    if digit in "78":
        await rec.wait(scenario, _is("ChannelDtmfReceived", call))
    else:
        await anyio.sleep(1)
    await rec.request(scenario, "DELETE", f"/channels/{call}", [("reason", "normal")])
    await rec.gone(scenario, call, other)


async def operator(rec: Recorder, scenario: str) -> None:
    call, other = await rec.originate(scenario, OPERATOR)
    await rec.wait(scenario, _is("StasisStart", call))
    await rec.gone(scenario, call, other)  # talks 15 s and hangs up


async def cancel(rec: Recorder, scenario: str) -> None:
    """Hang up while it rings (party 3 rings 60 s)."""
    call, other = await rec.originate(scenario, PHONES.format(digit=3), ring=60)
    await rec.wait(scenario, lambda e: e["type"] == "Dial" and e.get("dialstatus") == "RINGING")
    await rec.request(scenario, "DELETE", f"/channels/{call}", [("reason", "normal")])
    await rec.gone(scenario, call, other)


async def _answered_hold(rec: Recorder, scenario: str) -> tuple[str, str]:
    call, other = await rec.originate(scenario, PHONES.format(digit=1))
    await rec.wait(scenario, _is("StasisStart", call))
    return call, other


async def playmissing(rec: Recorder, scenario: str) -> None:
    """A file Asterisk does not have, a scheme it does not know, and a comma in the media."""
    call, other = await _answered_hold(rec, scenario)
    media = [
        ("missing", "sound:autoinformer/does-not-exist"),
        ("comma", "sound:beep,sound:beep"),
        ("scheme", "bogus:whatever"),  # Asterisk 22 never finishes this one
    ]
    for name, uri in media:
        pid = f"ari-{scenario}-{name}"
        response = await rec.request(
            scenario, "POST", f"/channels/{call}/play", [("media", uri), ("playbackId", pid)]
        )
        if response.status_code < 300:
            with anyio.move_on_after(3):
                await rec.wait(
                    scenario,
                    lambda e, p=pid: e["type"] == "PlaybackFinished" and e["playback"]["id"] == p,
                )
    await rec.request(scenario, "DELETE", f"/channels/{call}", [("reason", "normal")])
    await rec.gone(scenario, call, other)


async def playsound(rec: Recorder, scenario: str) -> None:
    """A real sound played to its end, then one stopped, then a stop of a finished one."""
    call, other = await _answered_hold(rec, scenario)
    pid = f"ari-{scenario}-beep"
    await rec.request(
        scenario, "POST", f"/channels/{call}/play", [("media", "sound:beep"), ("playbackId", pid)]
    )
    await rec.wait(scenario, _is("PlaybackFinished", pid))
    stop = f"ari-{scenario}-stop"
    await rec.request(
        scenario,
        "POST",
        f"/channels/{call}/play",
        [("media", "sound:hello-world"), ("playbackId", stop)],
    )
    await rec.wait(scenario, _is("PlaybackStarted", stop))
    await rec.request(scenario, "DELETE", f"/playbacks/{stop}")
    await rec.wait(scenario, _is("PlaybackFinished", stop))
    await rec.request(scenario, "DELETE", f"/playbacks/{stop}")  # already gone
    await rec.request(scenario, "DELETE", f"/channels/{call}", [("reason", "normal")])
    await rec.gone(scenario, call, other)


async def playhangup(rec: Recorder, scenario: str) -> None:
    """Playbacks cut short by a hang-up: the callee's (party 6, 2 s) and ours."""
    call, other = await rec.originate(scenario, PHONES.format(digit=6), suffix="-callee")
    ours, ours2 = await rec.originate(scenario, PHONES.format(digit=1), suffix="-ours")
    await rec.wait(scenario, _is("StasisStart", call))
    await rec.wait(scenario, _is("StasisStart", ours))
    for channel in (call, ours):
        await rec.request(
            scenario,
            "POST",
            f"/channels/{channel}/play",
            [("media", "tone:ring;tonezone=us"), ("playbackId", f"{channel}-pb")],
        )
    await rec.wait(scenario, _is("PlaybackStarted", f"{ours}-pb"))
    await rec.request(scenario, "DELETE", f"/channels/{ours}", [("reason", "normal")])
    await rec.gone(scenario, call, other, ours, ours2)


async def dtmf(rec: Recorder, scenario: str) -> None:
    """Several digits (``Local/dtmf@callee`` sends 123#)."""
    call, other = await rec.originate(scenario, "Local/dtmf@callee")
    await rec.wait(scenario, _is("StasisStart", call))
    await rec.wait(scenario, lambda e: e["type"] == "ChannelDtmfReceived" and e.get("digit") == "#")
    await rec.request(scenario, "DELETE", f"/channels/{call}", [("reason_code", "17")])
    await rec.gone(scenario, call, other)


async def transfer(rec: Recorder, scenario: str) -> None:
    """Customer (party 1) and operator bridged; the operator hangs up; we end the customer."""
    customer, c2 = await rec.originate(scenario, PHONES.format(digit=1), suffix="-c")
    agent, a2 = await rec.originate(scenario, OPERATOR, suffix="-a")
    await rec.wait(scenario, _is("StasisStart", customer))
    await rec.wait(scenario, _is("StasisStart", agent))
    bridge = f"ari-{scenario}-br"
    await rec.request(
        scenario, "POST", "/bridges", [("type", "mixing"), ("bridgeId", bridge), ("name", bridge)]
    )
    await rec.request(
        scenario, "POST", f"/bridges/{bridge}/addChannel", [("channel", f"{customer},{agent}")]
    )
    await rec.wait(scenario, _is("ChannelEnteredBridge", agent))
    await rec.request(scenario, "DELETE", f"/channels/{agent}", [("reason", "normal")])
    await rec.gone(scenario, agent, a2)
    await rec.request(scenario, "DELETE", f"/channels/{customer}", [("reason", "normal")])
    await rec.gone(scenario, customer, c2)
    await rec.request(scenario, "DELETE", f"/bridges/{bridge}")


async def collide(rec: Recorder, scenario: str) -> None:
    """Originate with an id still in use: 409."""
    call, other = await _answered_hold(rec, scenario)
    await rec.originate(scenario, PHONES.format(digit=1))
    await rec.request(scenario, "DELETE", f"/channels/{call}", [("reason", "normal")])
    await rec.gone(scenario, call, other)


async def create(rec: Recorder, scenario: str) -> None:
    """``POST /channels/create`` then ``dial`` at once (before its StasisStart)."""
    call = f"ari-{scenario}"
    await rec.request(
        scenario,
        "POST",
        "/channels/create",
        [
            ("endpoint", PHONES.format(digit=1)),
            ("app", APP),
            ("appArgs", "created"),
            ("channelId", call),
            ("otherChannelId", f"{call}-2"),
        ],
    )
    response = await rec.request(scenario, "POST", f"/channels/{call}/dial", [("timeout", "10")])
    if response.status_code >= 300:
        await rec.wait(scenario, _is("StasisStart", call))
        await rec.request(scenario, "POST", f"/channels/{call}/dial", [("timeout", "10")])
    await anyio.sleep(2)
    await rec.request(scenario, "DELETE", f"/channels/{call}", [("reason", "normal")])
    await rec.gone(scenario, call)


SCENARIOS: dict[str, Callable[[Recorder, str], Awaitable[None]]] = {
    **{f"d{digit}": party for digit in "0123456789"},
    "operator": operator,
    "cancel": cancel,
    "playmissing": playmissing,
    "playsound": playsound,
    "playhangup": playhangup,
    "dtmf": dtmf,
    "transfer": transfer,
    "collide": collide,
    "create": create,
}


async def filter_probe(http: httpx.AsyncClient, url: str) -> None:
    """Does an event filter outlive the WebSocket that set it? (Written to ari_filter.jsonl.)

    With no channel in the application, Asterisk forgets the application (and its filter)
    when the WebSocket closes; with a channel in Stasis it keeps both, deactivated.
    """
    lines: list[dict[str, Any]] = []
    app = f"{APP}-filter"
    call = "ari-filter"
    for step in range(3):
        async with aconnect_ws(f"{url}/events", http, params={"app": app}):
            reply = await http.get(f"/applications/{app}")
            lines.append({"step": f"connect {step + 1}", "application": reply.json()})
            if step == 0:
                reply = await http.put(
                    f"/applications/{app}/eventFilter",
                    json={"allowed": [{"type": "StasisStart"}]},
                )
                lines.append({"step": "set filter", "status": reply.status_code})
            if step == 1:
                reply = await http.put(
                    f"/applications/{app}/eventFilter",
                    json={"allowed": [{"type": "StasisStart"}, {"type": "ChannelDestroyed"}]},
                )
                lines.append({"step": "set filter again", "status": reply.status_code})
                await http.post(
                    "/channels",
                    params={
                        "endpoint": PHONES.format(digit=1),
                        "app": app,
                        "channelId": call,
                        "otherChannelId": f"{call}-2",
                    },
                )
                await anyio.sleep(0.5)  # answered at once: in Stasis now
        reply = await http.get(f"/applications/{app}")
        lines.append(
            {
                "step": f"closed {step + 1}",
                "status": reply.status_code,
                "application": _maybe_json(reply),
            }
        )
    await http.delete(f"/channels/{call}")
    _write("filter", lines)


async def _run(
    scenario: Callable[[Recorder, str], Awaitable[None]], rec: Recorder, name: str
) -> None:
    try:
        await scenario(rec, name)
    except Exception as exc:  # record what there is; say what went wrong
        print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        rec.lines[name].append({"t": rec._t(name), "error": f"{type(exc).__name__}: {exc}"})


def _maybe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _write(scenario: str, lines: list[dict[str, Any]]) -> None:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"ari_{scenario}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(_normalise(line), sort_keys=True) + "\n")


async def _leftovers(http: httpx.AsyncClient) -> bool:
    return any(c["id"].startswith("ari-") for c in (await http.get("/channels")).json())


async def main(only: list[str]) -> None:
    url = os.environ.get("AUTOINFORMER_ARI_URL")
    if not url:
        sys.exit("set AUTOINFORMER_ARI_URL (e.g. http://127.0.0.1:8088)")
    base = url.rstrip("/") + ("" if url.rstrip("/").endswith("/ari") else "/ari")
    auth = (
        os.environ.get("AUTOINFORMER_ARI_USERNAME", "ari"),
        os.environ.get("AUTOINFORMER_ARI_PASSWORD", "ari"),
    )
    chosen = {k: v for k, v in SCENARIOS.items() if not only or k in only}
    async with httpx.AsyncClient(base_url=base, auth=auth, timeout=10) as http:
        rec = Recorder(http)
        for channel in (await http.get("/channels")).json():  # an interrupted run's calls
            if channel["id"].startswith("ari-") and not channel["id"].endswith("-2"):
                await http.delete(f"/channels/{channel['id']}")
        with anyio.fail_after(10):  # gone before we listen: their events are not ours
            while await _leftovers(http):  # noqa: ASYNC110 - polling the real server
                await anyio.sleep(0.1)
        async with aconnect_ws(f"{base}/events", http, params={"app": APP}) as ws:

            async def read() -> None:
                while True:
                    rec.route(json.loads(await ws.receive_text()))

            async with anyio.create_task_group() as tg:
                tg.start_soon(read)
                async with anyio.create_task_group() as runs:
                    for name, scenario in chosen.items():
                        rec.lines[name], rec.events[name] = [], []
                        rec.started[name] = time.monotonic()
                        runs.start_soon(_run, scenario, rec, name)
                await anyio.sleep(1)  # stragglers (a ;2 half's last events)
                tg.cancel_scope.cancel()
        for name in chosen:
            _write(name, rec.lines[name])
            print(f"ari_{name}.jsonl: {len(rec.lines[name])} lines")
        if not only or "filter" in only:
            await filter_probe(http, base)
            print("ari_filter.jsonl")


if __name__ == "__main__":
    anyio.run(main, sys.argv[1:])
