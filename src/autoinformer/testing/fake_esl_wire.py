"""The fake ESL server's wire format and data: framing, channels, media durations.

Split from :mod:`autoinformer.testing.fake_esl` (the server): what goes on the socket
(:func:`serialize_event`, :func:`command_reply`, :func:`api_response`), one simulated call
leg (:class:`FakeChannel`), one client connection (:class:`Listener`), and how long a
``playback`` argument plays (:func:`media_seconds`).
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import anyio
import anyio.abc
import attrs

from autoinformer.testing.parties import Party

__all__ = [
    "CORE_UUID",
    "FakeChannel",
    "Listener",
    "api_response",
    "command_reply",
    "media_seconds",
    "serialize_event",
]

CORE_UUID = "5e0e1f0a-0000-4000-8000-00000000fa4e"
_TONE = re.compile(r"%\((\d+),(\d+)")
_LOOPS = re.compile(r"loops=(-?\d+)")
_STREAMS = frozenset(
    {"tone_stream", "silence_stream", "local_stream", "file_string", "http", "https", "http_cache"}
)


def _encode(value: str) -> str:
    return quote(value, safe="/,()")


def serialize_event(
    headers: Mapping[str, str], body: str = "", *, json_format: bool = False
) -> bytes:
    """One event as FreeSWITCH writes it on the socket (outer framing included)."""
    if json_format:
        obj: dict[str, str] = dict(headers)
        if body:
            obj["Content-Length"] = str(len(body.encode()))
            obj["_body"] = body
        inner = json.dumps(obj).encode()
        kind = "text/event-json"
    else:
        lines = [f"{k}: {_encode(v)}\n" for k, v in headers.items()]
        raw_body = body.encode()
        if raw_body:
            lines.append(f"Content-Length: {len(raw_body)}\n")
        inner = "".join(lines).encode() + b"\n" + raw_body
        kind = "text/event-plain"
    return f"Content-Length: {len(inner)}\nContent-Type: {kind}\n\n".encode() + inner


def command_reply(text: str, extra: str = "") -> bytes:
    """A ``command/reply`` message (``+OK ...`` / ``-ERR ...``), with extra header lines."""
    return f"Content-Type: command/reply\nReply-Text: {text}\n{extra}\n".encode()


def api_response(body: str) -> bytes:
    """An ``api/response`` message carrying ``body``."""
    raw = body.encode()
    return f"Content-Type: api/response\nContent-Length: {len(raw)}\n\n".encode() + raw


@attrs.define(kw_only=True, eq=False)
class FakeChannel:
    """One simulated call leg."""

    uuid: str
    job: str
    dial: str
    variables: dict[str, str]
    party: Party | None  # None: an operator
    machine: bool = False
    answered_at: float = 0.0
    created: float = attrs.field(factory=time.time)
    state: str = "DOWN"
    alive: bool = True
    job_done: bool = False
    peer: str | None = None
    apps: deque[tuple[str, str, str]] = attrs.field(factory=deque)
    wake: anyio.Event = attrs.field(factory=anyio.Event)
    current: str | None = None
    parked: str | None = None  # the Application-UUID of the running ``park``
    response: str = "_none_"  # the last application's response (current_application_response)
    broken: anyio.Event = attrs.field(factory=anyio.Event)
    scope: anyio.CancelScope = attrs.field(factory=anyio.CancelScope)

    @property
    def call_id(self) -> str:
        """Our client's call id (the ``autoinformer_call_id`` channel variable)."""
        return self.variables.get("autoinformer_call_id", "")


@attrs.define(eq=False)
class Listener:
    """One client connection: what it subscribed to and what is queued for it."""

    stream: anyio.abc.SocketStream
    queue: deque[bytes] = attrs.field(factory=deque)
    ready: anyio.Event = attrs.field(factory=anyio.Event)
    events: set[str] = attrs.field(factory=set)
    json_format: bool = False
    authed: bool = False
    closed: bool = False
    finish: bool = False  # send what is queued, then hang up


def media_seconds(arg: str, builtin_seconds: Mapping[str, float]) -> float | None:
    """How long ``playback ARG`` plays, in model seconds; None: the file does not exist.

    ``builtin_seconds`` first, then a ``tone_stream://`` read from its tones and loops, then a
    WAV file's length; a name with a prefix FreeSWITCH does not play here (``tts:``, ``say:``:
    no TTS engine, so it looks for a file of that name) does not exist; anything else plays 1 s.
    """
    if arg in builtin_seconds:
        return float(builtin_seconds[arg])
    scheme = re.match(r"([A-Za-z_]+):", arg)
    if scheme is not None and scheme.group(1).lower() not in _STREAMS:
        return None
    if arg.startswith("tone_stream://"):
        tones = _TONE.findall(arg)
        loops = _LOOPS.search(arg)
        once = sum(int(on) + int(off) for on, off in tones) / 1000 or 1.0
        return once * (max(1, int(loops.group(1))) if loops else 1)
    if arg.startswith("/"):
        path = Path(arg)
        if not path.exists():
            return None
        if path.suffix == ".wav":
            import wave

            with wave.open(str(path)) as wav:
                frames: int = wav.getnframes()
                rate: int = wav.getframerate()
            return frames / float(rate)
    return 1.0
