"""Record what a real FreeSWITCH sends for each test callee: the reference for the fake ESL.

Run against the test PBX of ``../shared/pbx`` (``bash ../shared/pbx/start.sh freeswitch``)::

    AUTOINFORMER_ESL_HOST=127.0.0.1 python tests/backends/record_esl.py [--only NAME ...]

It connects as the backend does (inbound ESL, ``AUTOINFORMER_ESL_PORT`` default 8021,
``AUTOINFORMER_ESL_PASSWORD`` default ``ClueCon``), runs every scenario below at once (about
25 s), and writes ``tests/backends/recordings/esl_<scenario>.jsonl``: one JSON object a line,
``{"t": seconds, "send": command}`` for what we sent and ``{"t": seconds, "event": NAME,
"headers": {...}, "body": ...}`` for each event about our channels (the key headers only).
Ids are normalised so the files replay and diff: our channels are ``call-1``, ``call-2``, our
``Job-UUID``\\ s ``job-N``, our ``event-uuid``\\ s ``app-N``, any other uuid ``fs-N``; a non-zero
answer time is ``1000000``. ``test_esl_recorded.py`` replays the files through the backend's
parser and call table, and runs the same scenarios on the fake ESL to compare.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import struct
import sys
import tempfile
import uuid as uuidlib
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import attrs

from autoinformer.backends.esl.client import EslConnection
from autoinformer.backends.esl.parser import EslEvent
from autoinformer.backends.esl.switch import EVENTS

HERE = Path(__file__).resolve().parent
OUT = HERE / "recordings"

RECORDED_EVENTS = (
    "PLAYBACK_START PLAYBACK_STOP CHANNEL_HANGUP CHANNEL_PARK CHANNEL_UNBRIDGE CHANNEL_DESTROY "
    + EVENTS
)
"""What the backend subscribes to, and the neighbours that explain it (before ``CUSTOM``:
every word after it names a subclass)."""

KEEP = (
    "Event-Subclass",
    "Unique-ID",
    "Channel-Call-State",
    "Answer-State",
    "Hangup-Cause",
    "Application",
    "Application-Data",
    "Application-Response",
    "Application-UUID",
    "Playback-Status",
    "Playback-File-Path",
    "DTMF-Digit",
    "Job-UUID",
    "Job-Command",
    "Other-Leg-Unique-ID",
    "Caller-Channel-Answered-Time",
    "variable_current_application_response",
)
"""The headers kept (the others are timestamps, codecs and addresses)."""

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

DIAL = "loopback/{digits}/default"
OPERATOR = "loopback/op100/default"


@attrs.define(eq=False)
class Recording:
    """One scenario's lines, with the ids it knows by role."""

    name: str
    start: float
    tmp: str = ""
    names: dict[str, str] = attrs.field(factory=dict)
    counts: dict[str, int] = attrs.field(factory=dict)
    lines: list[dict[str, Any]] = attrs.field(factory=list)

    def alias(self, raw: str, role: str) -> str:
        if raw not in self.names:
            self.counts[role] = self.counts.get(role, 0) + 1
            self.names[raw] = f"{role}-{self.counts[role]}"
        return self.names[raw]

    def norm(self, text: str) -> str:
        if self.tmp:
            text = text.replace(self.tmp, "TMP")
        return _UUID.sub(lambda m: self.alias(m.group(0), "fs"), text)

    def stamp(self) -> float:
        return round(anyio.current_time() - self.start, 1)


@attrs.define(eq=False)
class Leg:
    """One channel of a scenario: commands out, its events in."""

    rec: Recording
    conn: EslConnection
    uuid: str
    job: str = ""
    events: list[EslEvent] = attrs.field(factory=list)
    changed: anyio.Event = attrs.field(factory=anyio.Event)

    async def send(self, line: str, headers: dict[str, str] | None = None) -> None:
        sent: dict[str, Any] = {"t": self.rec.stamp(), "send": self.rec.norm(line)}
        if headers:
            sent["headers"] = {k: self.rec.norm(v) for k, v in headers.items()}
        self.rec.lines.append(sent)
        await self.conn.command(line, headers, check=False)

    async def finish(self) -> None:
        """Wait for the channel's end and its originate's result (they come in either order)."""
        await self.wait("CHANNEL_DESTROY", within=70)
        await self.wait("BACKGROUND_JOB", Job_Command="originate")

    async def wait(self, name: str, within: float = 30.0, **want: str) -> EslEvent:
        """The first event ``name`` (with header values ``want``) seen on this leg."""
        with anyio.fail_after(within):
            while True:
                for event in self.events:
                    if event.name == name and all(
                        event.get(k.replace("_", "-")) == v for k, v in want.items()
                    ):
                        return event
                await self.changed.wait()

    async def play(self, arg: str) -> str:
        app = str(uuidlib.uuid4())
        self.rec.alias(app, "app")
        await self.send(
            f"sendmsg {self.uuid}",
            {
                "call-command": "execute",
                "execute-app-name": "playback",
                "execute-app-arg": arg,
                "event-uuid": app,
                "event-lock": "true",
            },
        )
        return app

    async def kill(self, cause: str = "NORMAL_CLEARING") -> None:
        job = str(uuidlib.uuid4())
        self.rec.alias(job, "job")
        await self.send(f"bgapi uuid_kill {self.uuid} {cause}", {"Job-UUID": job})

    async def bgapi(self, command: str) -> None:
        job = str(uuidlib.uuid4())
        self.rec.alias(job, "job")
        await self.send(f"bgapi {command}", {"Job-UUID": job})


@attrs.define(eq=False)
class Recorder:
    """Runs scenarios on one connection and routes events to their legs."""

    conn: EslConnection
    tmp: Path = Path("/tmp")
    """A directory the switch can read (for the local WAV)."""
    legs: dict[str, Leg] = attrs.field(factory=dict)
    jobs: dict[str, Recording] = attrs.field(factory=dict)

    async def originate(self, rec: Recording, dial: str, ring_timeout: int = 30) -> Leg:
        uuid, job = str(uuidlib.uuid4()), str(uuidlib.uuid4())
        rec.alias(uuid, "call")
        rec.alias(job, "job")
        leg = Leg(rec, self.conn, uuid, job)
        self.legs[uuid] = leg
        self.jobs[job] = rec
        variables = (
            f"origination_uuid={uuid},originate_timeout={ring_timeout},"
            f"ignore_early_media=true,autoinformer_call_id={rec.name}"
        )
        await leg.send(f"bgapi originate {{{variables}}}{dial} &park()", {"Job-UUID": job})
        return leg

    def on_event(self, event: EslEvent) -> None:
        leg = self.legs.get(event.get("Unique-ID") or "")
        rec = leg.rec if leg is not None else None
        if event.name == "BACKGROUND_JOB":
            rec = self.jobs.get(event.get("Job-UUID") or "")
            if rec is None:
                for leg_ in self.legs.values():
                    if (event.get("Job-UUID") or "") in leg_.rec.names:
                        rec = leg_.rec
        if rec is None:
            return
        headers: dict[str, str] = {}
        for key in KEEP:
            value = event.get(key)
            if value is None:
                continue
            if key == "Caller-Channel-Answered-Time":
                value = "0" if value in ("", "0") else "1000000"
            headers[key] = rec.norm(value)
        line: dict[str, Any] = {"t": rec.stamp(), "event": event.name, "headers": headers}
        if event.body:
            line["body"] = rec.norm(event.body)
        rec.lines.append(line)
        if leg is None and event.name == "BACKGROUND_JOB":
            leg = next((g for g in self.legs.values() if g.job == event.get("Job-UUID")), None)
        if leg is not None:
            leg.events.append(event)
            leg.changed.set()
            leg.changed = anyio.Event()


WAV_NAME = "autoinformer tone.wav"  # a space, as a user's file name may have


def local_wav(directory: Path) -> Path:
    """A 1 s 440 Hz tone, 8 kHz mono 16-bit: what the runtime renders for speech."""
    path = directory / WAV_NAME
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(8000)
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(frames)
    path.chmod(0o644)
    return path


Scenario = Callable[[Recorder, Recording], Awaitable[None]]


def digit(last: str) -> Scenario:
    """A customer ``7950888123<last>``: what the dialplan's behaviour sends."""

    async def run(r: Recorder, rec: Recording) -> None:
        ring = 6 if last == "3" else 30
        leg = await r.originate(rec, DIAL.format(digits=f"7950888123{last}"), ring)
        if last in "178":
            if last == "1":
                await leg.wait("CHANNEL_EXECUTE", Application="park")
            else:
                await leg.wait("DTMF")
            await leg.kill()
        await leg.finish()

    return run


async def operator(r: Recorder, rec: Recording) -> None:
    leg = await r.originate(rec, OPERATOR)
    await leg.finish()


async def cancel_ringing(r: Recorder, rec: Recording) -> None:
    leg = await r.originate(rec, DIAL.format(digits="79508881233"))
    await leg.wait("CHANNEL_PROGRESS")
    await leg.kill()
    await leg.finish()


def playing(arg: str | Callable[[Path], str], *, stop: bool = False, digits: str = "1") -> Scenario:
    """Answer, play ``arg`` (``stop``: break it once started), hang up after it ends."""

    async def run(r: Recorder, rec: Recording) -> None:
        leg = await r.originate(rec, DIAL.format(digits=f"7950888123{digits}"))
        await leg.wait("CHANNEL_EXECUTE", Application="park")  # as the backend waits
        app = await leg.play(arg if isinstance(arg, str) else arg(r.tmp))
        if stop:
            await leg.wait("PLAYBACK_START")
            await leg.bgapi(f"uuid_break {leg.uuid}")
        await leg.wait("CHANNEL_EXECUTE_COMPLETE", Application_UUID=app)
        if not any(e.name == "CHANNEL_HANGUP" for e in leg.events):
            await leg.kill()
        await leg.finish()

    return run


async def transfer(r: Recorder, rec: Recording) -> None:
    customer = await r.originate(rec, DIAL.format(digits="79508881238"))
    await customer.wait("DTMF")
    agent = await r.originate(rec, OPERATOR)
    await agent.wait("CHANNEL_ANSWER")
    await customer.bgapi(f"uuid_bridge {customer.uuid} {agent.uuid}")
    await customer.wait("CHANNEL_BRIDGE")
    # The operator talks 15 s, then hangs up; FreeSWITCH ends the customer's leg with it.
    await agent.finish()
    await customer.finish()


SCENARIOS: dict[str, Scenario] = {
    **{f"digit_{d}": digit(d) for d in "0123456789"},
    "operator": operator,
    "cancel_ringing": cancel_ringing,
    "play_sound": playing("hello-world.wav"),
    "play_path": playing(lambda tmp: str(tmp / WAV_NAME)),
    "play_missing": playing("/nonexistent/autoinformer-missing.wav"),
    "play_tts": playing("tts:hello"),
    "play_stopped": playing("tone_stream://%(10000,0,440)", stop=True),
    "play_hangup": playing("tone_stream://%(10000,0,440)", digits="6"),
    "transfer": transfer,
}
"""Each scenario: what it does on the switch (the files are named after the keys)."""


def write(rec: Recording, directory: Path) -> Path:
    path = directory / f"esl_{rec.name}.jsonl"
    path.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in rec.lines))
    return path


async def record(names: list[str], directory: Path, tmp: Path) -> None:
    host = os.environ["AUTOINFORMER_ESL_HOST"]
    port = int(os.environ.get("AUTOINFORMER_ESL_PORT", "8021"))
    password = os.environ.get("AUTOINFORMER_ESL_PASSWORD", "ClueCon")
    conn = await EslConnection.open(host, port, password)
    recorder = Recorder(conn, tmp)
    recordings: list[Recording] = []
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(conn.read_events, recorder.on_event)
            await conn.command(f"event plain {RECORDED_EVENTS}")
            async with anyio.create_task_group() as scenarios:
                for name in names:
                    rec = Recording(name, anyio.current_time(), str(tmp))
                    recordings.append(rec)
                    scenarios.start_soon(SCENARIOS[name], recorder, rec)
            tg.cancel_scope.cancel()
    finally:
        await conn.aclose()
        for rec in recordings:
            print(write(rec, directory))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    options = parser.parse_args(argv)
    if not os.environ.get("AUTOINFORMER_ESL_HOST"):
        print("set AUTOINFORMER_ESL_HOST (see ../shared/pbx/README.md)", file=sys.stderr)
        return 2
    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp).chmod(0o755)  # FreeSWITCH may run as another user
        local_wav(Path(tmp))
        anyio.run(record, options.only or list(SCENARIOS), options.out, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
