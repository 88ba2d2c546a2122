"""A fake FreeSWITCH Event Socket server on 127.0.0.1, for tests (yours and ours).

It speaks the real framing (``auth/request``, ``command/reply``, ``api/response``,
``text/event-plain`` with URL-encoded values and nested bodies, ``text/event-json``) and the
event order a real FreeSWITCH 1.11 shows (``shared/reference/samples``): CHANNEL_CREATE,
CHANNEL_PROGRESS, CHANNEL_ANSWER, *then* the BACKGROUND_JOB ``+OK``; failures as CHANNEL_HANGUP,
CHANNEL_HANGUP_COMPLETE, BACKGROUND_JOB ``-ERR CAUSE``. The called parties follow
:mod:`autoinformer.testing.parties` (the last digit of the dial string); endpoints starting with
``operator_prefix`` are operators who answer after a second and talk for 15 s. Time runs
``speed`` times faster than real time.

Like FreeSWITCH, it drops a listener that falls more than ``max_backlog`` events behind, and
it offers faults for tests: :meth:`FakeEslServer.drop_connections`, :meth:`stop` and
:meth:`start` (FreeSWITCH stopped, its calls gone, and started again), :meth:`hang_up`, a regex
of commands to refuse with ``-ERR``, a wrong password.

The wire format and data types live in :mod:`~autoinformer.testing.fake_esl_wire`, the
conformance harness and the command line in :mod:`~autoinformer.testing.fake_esl_harness`;
both are re-exported here.

    async with FakeEslServer(speed=50) as fs:
        async with EslSwitch(port=fs.port, dial="sofia/gateway/gw1/{digits}") as switch:
            ...
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Self

import anyio
import anyio.abc
import attrs

from autoinformer.testing.fake_esl_wire import (
    CORE_UUID,
    FakeChannel,
    Listener,
    api_response,
    command_reply,
    media_seconds,
    serialize_event,
)
from autoinformer.testing.parties import OPERATOR_TALK_SECONDS, party_for

__all__ = ["FakeChannel", "FakeEslServer", "main", "serialize_event"]


@attrs.define(kw_only=True, eq=False)
class FakeEslServer:
    """A FreeSWITCH stand-in on 127.0.0.1 (an ephemeral port: :attr:`port`).

    Attributes:
        password: the Event Socket password it accepts.
        bind_port: the port to listen on (0: any free port).
        speed: model seconds per real second (party ring and talk times are divided by it).
        modules: loaded modules, as ``module_exists`` reports them (``mod_amd``, ``mod_avmd``).
        machine_numbers: dial-string endings answered by an answering machine.
        operator_prefix: dial strings starting with it are operators.
        builtin_seconds: durations of builtin media; ``tone_stream://`` durations are read
            from the tone; anything else plays 1 s; a missing file completes at once with
            ``FILE NOT FOUND``.
        max_backlog: events queued for a listener before it is dropped (FreeSWITCH: 500).
        refuse: a regex; ``bgapi`` commands matching it are answered ``-ERR refused``.
        hangup_bridge_peer: end the other leg when a bridged leg hangs up (off: the client
            must do it).
        early_media: seconds of early media (CHANNEL_PROGRESS_MEDIA, SIP 183) a called party's
            channel sends before its phone rings (CHANNEL_PROGRESS, 180); ``math.inf``: early
            media only, never a 180 (such carriers exist); None: it rings at once.
    """

    password: str = "ClueCon"
    bind_port: int = 0
    speed: float = 50.0
    modules: frozenset[str] = frozenset({"mod_amd"})
    machine_numbers: tuple[str, ...] = ()
    operator_prefix: str = "user/"
    builtin_seconds: Mapping[str, float] = attrs.field(factory=dict)
    max_backlog: int = 500
    refuse: str | None = None
    hangup_bridge_peer: bool = False
    early_media: float | None = None
    answer_at_once: bool = False
    """Parties who answer do so at once, with no CHANNEL_PROGRESS first, as the test PBX's
    ``loopback/<digits>/default`` endpoints do (``tests/backends/recordings/esl_*.jsonl``);
    off: they ring (a SIP phone's 180) for their ring time first."""
    mute: str | None = None
    """A regex: matching ``bgapi`` commands are carried out but never answered (a hung switch)."""
    silent_jobs: str | None = None
    """A regex: matching ``bgapi`` commands get their ``+OK`` and are carried out, but their
    BACKGROUND_JOB never comes (a lost event)."""
    accepting: bool = True
    """False: new connections are closed at once (the switch is down)."""
    hung: bool = False
    """True (see :meth:`hang`): FreeSWITCH is silent; connections stay open and new ones are
    accepted, but nothing is read or answered, as a SIGSTOPped process behaves."""
    unlisted: set[str] = attrs.field(factory=set)
    """Uuids ``show channels`` leaves out (a real FreeSWITCH's channel list lags its channels
    by about a second); ``uuid_exists`` still finds them."""
    drop_after: str | None = None
    """A regex: the connection is dropped right after a matching ``bgapi`` is carried out,
    before its reply is sent (the reply is lost; the channel exists)."""

    channels: dict[str, FakeChannel] = attrs.field(init=False, factory=dict)
    commands: list[str] = attrs.field(init=False, factory=list)
    """Every command line received (the ``auth`` password is masked)."""
    requests: list[tuple[str, dict[str, str]]] = attrs.field(init=False, factory=list)
    """Every command with its header lines (``Job-UUID``, ``event-uuid``...), as received."""
    dropped_listeners: int = attrs.field(init=False, default=0)
    max_queue: int = attrs.field(init=False, default=0)
    connections: int = attrs.field(init=False, default=0)
    _listeners: list[Listener] = attrs.field(init=False, factory=list)
    _tg: anyio.abc.TaskGroup | None = attrs.field(init=False, default=None)
    _listener: anyio.abc.Listener[anyio.abc.SocketStream] | None = attrs.field(
        init=False, default=None
    )
    _seq: itertools.count[int] = attrs.field(init=False, factory=lambda: itertools.count(1000))
    port: int = attrs.field(init=False, default=0)
    _changed: anyio.Event = attrs.field(init=False, factory=anyio.Event)
    _awake: anyio.Event | None = attrs.field(init=False, default=None)
    _stops: int = attrs.field(init=False, default=0)
    """How many times :meth:`stop` ran: a connection that waited through one died with it."""

    async def __aenter__(self) -> Self:
        listener = await anyio.create_tcp_listener(
            local_host="127.0.0.1", local_port=self.bind_port
        )
        self._listener = listener
        self.port = int(listener.extra(anyio.abc.SocketAttribute.local_port))
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        tg.start_soon(listener.serve, self._handle)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._tg is not None
        assert self._listener is not None
        self._tg.cancel_scope.cancel()
        await self._tg.__aexit__(None, None, None)
        await self._listener.aclose()

    # --- faults and inspection -------------------------------------------------------------

    async def drop_connections(self) -> None:
        """Close every client connection abruptly (the switch restarted, the network broke)."""
        for listener in list(self._listeners):
            await self._drop(listener)

    async def stop(self) -> None:
        """FreeSWITCH stops: connections close, new ones are refused, every channel is gone
        (without a word: nobody is listening). :meth:`start` brings it back, empty."""
        self.accepting = False
        self._stops += 1
        self.resume()  # killed while hung: its connections die unanswered
        for listener in list(self._listeners):
            listener.closed = True  # nothing more reaches it
        await self.drop_connections()
        for channel in list(self.channels.values()):
            channel.alive = False
            channel.scope.cancel()
            channel.broken.set()
            channel.wake.set()
        self.channels.clear()
        self._touch()

    def start(self) -> None:
        """FreeSWITCH is back (after :meth:`stop`): it accepts connections again."""
        self.accepting = True

    def hang(self) -> None:
        """FreeSWITCH goes silent (SIGSTOP): what arrives is kept, nothing is answered."""
        self.hung = True
        self._awake = anyio.Event()

    def resume(self) -> None:
        """FreeSWITCH carries on after :meth:`hang` (SIGCONT): what waited is handled now."""
        self.hung = False
        if self._awake is not None:
            self._awake.set()

    async def _stalled(self) -> None:
        """Wait while hung (every command and every write passes through here)."""
        while self.hung and self._awake is not None:
            await self._awake.wait()

    def channel_for(self, call_id: str) -> FakeChannel:
        """The channel our client originated as ``call_id``."""
        for channel in self.channels.values():
            if channel.call_id == call_id:
                return channel
        raise KeyError(call_id)

    def hang_up(self, uuid: str, cause: str = "NORMAL_CLEARING") -> None:
        """End a channel as if the far end hung up (with ``cause``)."""
        self._hangup(self.channels[uuid], cause)

    def emit(self, name: str, channel: FakeChannel, **extra: str) -> None:
        """Send an event about ``channel`` to the subscribed listeners (storms, oddities)."""
        self._emit(name, channel, extra)

    async def wait_until(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``condition()`` holds (checked after every change the fake sees).

        Raises:
            TimeoutError: it did not hold within ``within`` real seconds.
        """
        with anyio.fail_after(within):
            while not condition():
                await self._changed.wait()

    def _touch(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    @property
    def listeners(self) -> int:
        """Clients connected now."""
        return len(self._listeners)

    # --- the connection ------------------------------------------------------------------

    async def _handle(self, stream: anyio.abc.SocketStream) -> None:
        stops = self._stops
        await self._stalled()
        if not self.accepting or self._stops != stops:
            await stream.aclose()
            return
        listener = Listener(stream)
        self._listeners.append(listener)
        self.connections += 1
        self._push(listener, b"Content-Type: auth/request\n\n")
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._writer, listener)
                buf = b""
                while not listener.closed:
                    try:
                        data = await stream.receive()
                    except (
                        anyio.EndOfStream,
                        anyio.BrokenResourceError,
                        anyio.ClosedResourceError,
                    ):
                        break
                    await self._stalled()
                    if listener.closed:
                        break
                    buf += data
                    while b"\n\n" in buf:
                        block, buf = buf.split(b"\n\n", 1)
                        lines = block.decode("utf-8", "replace").split("\n")
                        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                        self._command(listener, lines[0].strip(), headers)
                tg.cancel_scope.cancel()
        finally:
            await self._drop(listener)

    async def _writer(self, listener: Listener) -> None:
        while not listener.closed:
            while listener.queue:
                await self._stalled()
                if listener.closed:
                    return
                data = b"".join(listener.queue)
                listener.queue.clear()
                try:
                    await listener.stream.send(data)
                except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    listener.closed = True
                    return
            if listener.finish:
                await self._drop(listener)
                return
            listener.ready = anyio.Event()
            if not listener.queue:
                await listener.ready.wait()

    def _push(self, listener: Listener, data: bytes) -> None:
        if listener.closed:
            return
        listener.queue.append(data)
        self.max_queue = max(self.max_queue, len(listener.queue))
        if len(listener.queue) > self.max_backlog:
            # FreeSWITCH: "killing listener ... too many lost events"
            self.dropped_listeners += 1
            self._touch()
            listener.closed = True
            listener.queue.clear()
            if self._tg is not None:
                self._tg.start_soon(self._drop, listener)
        listener.ready.set()

    async def _drop(self, listener: Listener) -> None:
        listener.closed = True
        listener.ready.set()
        if listener in self._listeners:
            self._listeners.remove(listener)
            self._touch()
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(OSError, anyio.BrokenResourceError):
                await listener.stream.aclose()

    def _command(self, listener: Listener, line: str, headers: dict[str, str]) -> None:
        masked = "auth ****" if line.startswith("auth ") else line
        self.commands.append(masked)
        self.requests.append((masked, dict(headers)))
        self._touch()
        word, _, rest = line.partition(" ")
        if not listener.authed:
            if word == "auth" and rest == self.password:
                listener.authed = True
                self._push(listener, command_reply("+OK accepted"))
            else:
                self._push(listener, command_reply("-ERR invalid"))
                self._push(listener, b"Content-Type: text/disconnect-notice\nContent-Length: 0\n\n")
                listener.finish = True
            return
        if word == "event":
            fmt, _, names = rest.partition(" ")
            listener.json_format = fmt == "json"
            listener.events.update(names.split())
            self._push(listener, command_reply(f"+OK event listener enabled {fmt}"))
        elif word in ("noevents", "nixevent"):
            if word == "noevents":
                listener.events.clear()
            else:
                listener.events.difference_update(rest.split())
            self._push(listener, command_reply("+OK no longer listening for events"))
        elif word == "filter":
            self._push(listener, command_reply(f"+OK filter added. [{rest}]"))
        elif word == "exit":
            self._push(listener, command_reply("+OK bye"))
            self._push(listener, b"Content-Type: text/disconnect-notice\nContent-Length: 0\n\n")
            listener.finish = True
        elif word == "api":
            self._push(listener, api_response(self._api(rest, job=None)))
        elif word == "bgapi":
            job = headers.get("Job-UUID") or str(uuidlib.uuid4())
            if self.refuse and re.search(self.refuse, rest):
                self._push(listener, command_reply("-ERR refused"))
                return
            if self.mute and re.search(self.mute, rest):
                pass
            elif self.drop_after and re.search(self.drop_after, rest):
                listener.closed = True
                listener.queue.clear()
                assert self._tg is not None
                self._tg.start_soon(self._drop, listener)
            else:
                self._push(listener, command_reply(f"+OK Job-UUID: {job}", f"Job-UUID: {job}\n"))
            if rest.startswith("originate "):
                self._originate(rest[len("originate ") :], job)
            else:
                result = self._api(rest, job=job)
                if not (self.silent_jobs and re.search(self.silent_jobs, rest)):
                    self._emit_job(job, rest, result)
        elif word == "sendmsg":
            self._sendmsg(listener, rest.strip(), headers)
        else:
            self._push(listener, command_reply("-ERR command not found"))

    # --- API commands ----------------------------------------------------------------------

    def _api(self, command: str, job: str | None) -> str:
        word, _, rest = command.partition(" ")
        args = rest.split()
        if word == "status":
            return (
                f"UP 0 years, 0 days\nFreeSWITCH (fake) is ready\n{len(self.channels)} session(s)\n"
            )
        if word == "module_exists":
            return "true" if args and args[0] in self.modules else "false"
        if word == "show" and args[:1] == ["channels"]:
            rows = [
                {
                    "uuid": c.uuid,
                    "direction": "outbound",
                    "callstate": c.state,
                    "created_epoch": str(int(c.created)),
                    "dest": c.dial,
                    "application": c.current.split("|")[0] if c.current else "park",
                }
                for c in self.channels.values()
                if c.uuid not in self.unlisted
            ]
            return json.dumps({"row_count": len(rows), "rows": rows} if rows else {"row_count": 0})
        if word == "uuid_exists":
            return "true" if args and args[0] in self.channels else "false"
        if word == "uuid_getvar":
            channel = self.channels.get(args[0]) if args else None
            if channel is None:
                return "-ERR No such channel!\n"
            return channel.variables.get(args[1], "_undef_") if len(args) > 1 else "_undef_"
        if word == "uuid_kill":
            channel = self.channels.get(args[0]) if args else None
            if channel is None:
                return "-ERR No such channel!\n"
            self._hangup(channel, args[1] if len(args) > 1 else "NORMAL_CLEARING")
            return "+OK\n"
        if word == "uuid_break":
            channel = self.channels.get(args[0]) if args else None
            if channel is None:
                return "-ERR No such channel!\n"
            channel.broken.set()
            return "+OK\n"
        if word == "uuid_bridge":
            if len(args) < 2 or args[0] not in self.channels or args[1] not in self.channels:
                return f"-ERR Invalid uuid {args[0] if args else ''}\n"
            self._bridge(self.channels[args[0]], self.channels[args[1]])
            return f"+OK {args[1]}\n"
        if word == "originate":
            return "-ERR this fake only originates with bgapi\n"
        return "-ERR Command not found!\n"

    def _emit_job(self, job: str, command: str, result: str) -> None:
        word, _, arg = command.partition(" ")
        headers = {"Job-UUID": job, "Job-Command": word, "Job-Command-Arg": arg}
        self._broadcast("BACKGROUND_JOB", headers, result)

    # --- channels --------------------------------------------------------------------------

    def _originate(self, text: str, job: str) -> None:
        match = re.fullmatch(r"\{(.*)\}(\S+) &park\(\)", text.strip())
        if match is None:
            self._emit_job(job, f"originate {text}", "-ERR INVALID_URL\n")
            return
        variables: dict[str, str] = {}
        for part in re.split(r"(?<!\\),", match.group(1)):
            name, _, value = part.partition("=")
            value = value.strip("'").replace("\\,", ",").replace("\\\\", "\\")
            variables[name] = value
        dial = match.group(2)
        operator = dial.startswith(self.operator_prefix)
        try:
            party = None if operator else party_for(dial)
        except ValueError:
            self._emit_job(job, f"originate {text}", "-ERR INVALID_NUMBER_FORMAT\n")
            return
        channel = FakeChannel(
            uuid=variables.get("origination_uuid") or str(uuidlib.uuid4()),
            job=job,
            dial=dial,
            variables=variables,
            party=party,
            machine=any(dial.endswith(n) for n in self.machine_numbers),
        )
        self.channels[channel.uuid] = channel
        assert self._tg is not None
        self._tg.start_soon(self._life, channel, f"originate {text}")

    async def _sleep(self, model_seconds: float) -> None:
        await anyio.sleep(max(0.0, model_seconds) / self.speed)

    async def _life(self, channel: FakeChannel, command: str) -> None:
        with channel.scope:
            self._emit("CHANNEL_CREATE", channel)
            timeout = float(channel.variables.get("originate_timeout", "60"))
            party = channel.party
            ring = 1.0 if party is None else party.ring_seconds
            answers = party is None or party.answers
            if party is not None and not answers and party.fail_cause is not None:
                await self._sleep(min(ring, timeout))
                if ring < timeout:
                    self._hangup(channel, party.fail_cause.name)
                    return
            elif answers and self.answer_at_once:
                pass  # loopback: answered at once, no CHANNEL_PROGRESS
            else:
                end = min(ring, timeout) if answers else timeout
                media = 0.0
                if self.early_media is not None and party is not None:
                    media = min(self.early_media, end)
                    self._emit("CHANNEL_PROGRESS_MEDIA", channel)
                    await self._sleep(media)
                if media < end or self.early_media is None:
                    self._emit("CHANNEL_PROGRESS", channel)
                channel.state = "RINGING"
                await self._sleep(end - media)
            if not answers or ring >= timeout:
                self._hangup(channel, "NO_ANSWER")
                return
            channel.state = "ACTIVE"
            channel.answered_at = time.time()
            self._emit("CHANNEL_ANSWER", channel)
            channel.job_done = True
            self._emit_job(channel.job, command, f"+OK {channel.uuid}\n")
            channel.parked = str(uuidlib.uuid4())
            self._emit(
                "CHANNEL_EXECUTE",
                channel,
                {"Application": "park", "Application-UUID": channel.parked},
            )
            self._emit("CHANNEL_PARK", channel)
            assert self._tg is not None
            self._tg.start_soon(self._run_apps, channel)
            if party is None:
                timeline: list[tuple[float, str]] = [(OPERATOR_TALK_SECONDS, "")]
            else:
                timeline = list(party.digits)
                if party.stays_seconds is not None:
                    timeline.append((party.stays_seconds, ""))
            now = 0.0
            for at, digit in sorted(timeline):
                await self._sleep(at - now)
                now = at
                if digit:
                    self._emit("DTMF", channel, {"DTMF-Digit": digit, "DTMF-Duration": "1600"})
                else:
                    self._hangup(channel, "NORMAL_CLEARING")
                    return
            await anyio.sleep_forever()

    def _hangup(self, channel: FakeChannel, cause: str) -> None:
        if not channel.alive:
            return
        channel.alive = False
        channel.scope.cancel()
        channel.broken.set()
        channel.wake.set()
        channel.state = "HANGUP"
        extra = {"Hangup-Cause": cause}
        self._emit("CHANNEL_HANGUP", channel, extra)
        if channel.current is not None:
            app, app_uuid, arg = channel.current.split("|", 2)
            if app == "playback":
                stop = {"Playback-File-Path": arg, "Playback-Status": "done"}
                self._emit("PLAYBACK_STOP", channel, extra | stop)
                channel.response = "PLAYBACK ERROR"  # what playback says on hang-up
            self._emit(
                "CHANNEL_EXECUTE_COMPLETE",
                channel,
                extra
                | {
                    "Application": app,
                    "Application-Data": arg,
                    "Application-UUID": app_uuid,
                    "Application-Response": channel.response,
                },
            )
            channel.current = None
        if channel.parked is not None:
            self._emit_park_done(channel, extra)
        self._emit("CHANNEL_HANGUP_COMPLETE", channel, extra)
        if not channel.job_done:
            channel.job_done = True
            self._emit_job(channel.job, "originate", f"-ERR {cause}\n")
        self._emit("CHANNEL_DESTROY", channel, extra)
        self.channels.pop(channel.uuid, None)
        if channel.peer is not None:
            peer = self.channels.get(channel.peer)
            channel.peer = None
            if peer is not None:
                peer.peer = None
                self._emit("CHANNEL_UNBRIDGE", peer)
                if self.hangup_bridge_peer:
                    self._hangup(peer, "NORMAL_CLEARING")

    def _emit_park_done(self, channel: FakeChannel, extra: Mapping[str, str]) -> None:
        assert channel.parked is not None
        info = {"Application": "park", "Application-UUID": channel.parked}
        channel.parked = None
        self._emit(
            "CHANNEL_EXECUTE_COMPLETE",
            channel,
            {**extra, **info, "Application-Response": channel.response},
        )

    def _bridge(self, first: FakeChannel, second: FakeChannel) -> None:
        first.peer, second.peer = second.uuid, first.uuid
        first.broken.set()
        second.broken.set()
        for leg, other in ((first, second), (second, first)):
            if leg.parked is not None:  # uuid_bridge takes the legs out of park
                self._emit_park_done(leg, {"Other-Leg-Unique-ID": other.uuid})
        for leg, other in ((first, second), (second, first)):
            info = {"Application": "uuid_bridge", "Other-Leg-Unique-ID": other.uuid}
            self._emit("CHANNEL_EXECUTE", leg, info)
        self._emit("CHANNEL_BRIDGE", first, {"Other-Leg-Unique-ID": second.uuid})

    def _sendmsg(self, listener: Listener, uuid: str, headers: dict[str, str]) -> None:
        channel = self.channels.get(uuid)
        if channel is None or not channel.alive:
            self._push(listener, command_reply(f"-ERR invalid session id [{uuid}]"))
            return
        command = headers.get("call-command", "")
        if command == "execute":
            channel.apps.append(
                (
                    headers.get("execute-app-name", ""),
                    headers.get("execute-app-arg", ""),
                    headers.get("event-uuid") or str(uuidlib.uuid4()),
                )
            )
            channel.wake.set()
        elif command == "hangup":
            self._hangup(channel, headers.get("hangup-cause", "NORMAL_CLEARING"))
        self._push(listener, command_reply("+OK"))

    async def _run_apps(self, channel: FakeChannel) -> None:
        while channel.alive:
            if not channel.apps:
                channel.wake = anyio.Event()
                await channel.wake.wait()
                continue
            app, arg, event_uuid = channel.apps.popleft()
            channel.broken = anyio.Event()
            channel.current = f"{app}|{event_uuid}|{arg}"
            info = {"Application": app, "Application-Data": arg, "Application-UUID": event_uuid}
            self._emit("CHANNEL_EXECUTE", channel, info)
            response = "_none_"
            extra: dict[str, str] = {}
            if app == "playback":
                seconds = media_seconds(arg, self.builtin_seconds)
                if seconds is None:
                    response = "FILE NOT FOUND"
                else:
                    self._emit("PLAYBACK_START", channel, {"Playback-File-Path": arg})
                    with anyio.move_on_after(seconds / self.speed):
                        await channel.broken.wait()
                    response = "FILE PLAYED"  # played to the end or broken (uuid_break)
                    status = "break" if channel.broken.is_set() else "done"
                    if channel.alive:
                        stop = {"Playback-File-Path": arg, "Playback-Status": status}
                        self._emit("PLAYBACK_STOP", channel, stop)
            elif app == "amd":
                await self._sleep(1.0)
                extra["variable_amd_result"] = "MACHINE" if channel.machine else "HUMAN"
            elif app == "avmd_start" and channel.machine:
                assert self._tg is not None
                self._tg.start_soon(self._beep, channel)
            if not channel.alive:
                return
            channel.current = None
            channel.response = response
            self._emit(
                "CHANNEL_EXECUTE_COMPLETE",
                channel,
                info | extra | {"Application-Response": response},
            )

    async def _beep(self, channel: FakeChannel) -> None:
        await self._sleep(1.5)
        if channel.alive:
            self._emit("CUSTOM", channel, {"Event-Subclass": "avmd::beep"})

    # --- events ----------------------------------------------------------------------------

    def _emit(
        self, name: str, channel: FakeChannel, extra: Mapping[str, str] | None = None
    ) -> None:
        answered = (
            "hangup" if not channel.alive else ("answered" if channel.answered_at else "ringing")
        )
        headers = {
            "Unique-ID": channel.uuid,
            "Channel-Call-State": channel.state,
            "Channel-Name": f"sofia/external/{channel.dial}",
            "Call-Direction": "outbound",
            "Answer-State": answered,
            "Caller-Caller-ID-Number": channel.variables.get("origination_caller_id_number", ""),
            "Caller-Destination-Number": channel.dial.rsplit("/", 1)[-1],
            "Caller-Channel-Answered-Time": str(int(channel.answered_at * 1e6)),
        }
        headers.update(extra or {})
        headers.update({f"variable_{k}": v for k, v in channel.variables.items()})
        self._broadcast(name, headers)

    def _broadcast(self, name: str, headers: Mapping[str, str], body: str = "") -> None:
        self._touch()
        now = time.time()
        full = {
            "Event-Name": name,
            "Core-UUID": CORE_UUID,
            "FreeSWITCH-Hostname": "fake",
            "FreeSWITCH-IPv6": "::1",
            "Event-Date-Local": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now)),
            "Event-Date-GMT": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)),
            "Event-Date-Timestamp": str(int(now * 1e6)),
            "Event-Sequence": str(next(self._seq)),
            **headers,
        }
        subclass = headers.get("Event-Subclass", "")
        cache: dict[bool, bytes] = {}
        for listener in list(self._listeners):
            wanted = listener.events
            if not ("ALL" in wanted or name in wanted or (subclass and subclass in wanted)):
                continue
            data = cache.get(listener.json_format)
            if data is None:
                data = serialize_event(full, body, json_format=listener.json_format)
                cache[listener.json_format] = data
            self._push(listener, data)


def main(argv: list[str] | None = None) -> int:
    """Run the fake on its own: ``python -m autoinformer.testing.fake_esl --port 8021``.

    Prints ``fake ESL on 127.0.0.1:PORT`` once it listens (benchmarks read that line), then
    serves until interrupted.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="A fake FreeSWITCH Event Socket server.")
    parser.add_argument("--port", type=int, default=8021)
    parser.add_argument("--speed", type=float, default=1.0, help="model seconds per second")
    parser.add_argument("--password", default="ClueCon")
    parser.add_argument("--modules", default="mod_amd", help="comma-separated loaded modules")
    options = parser.parse_args(argv)

    async def serve() -> None:
        server = FakeEslServer(
            bind_port=options.port,
            speed=options.speed,
            password=options.password,
            modules=frozenset(m for m in options.modules.split(",") if m),
        )
        async with server:
            print(f"fake ESL on 127.0.0.1:{server.port}", flush=True)
            await anyio.sleep_forever()

    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(serve)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
