"""A fake Asterisk ARI server on 127.0.0.1: REST and the event WebSocket, checked against the
official definitions.

For testing applications that use :class:`~autoinformer.backends.ari.AriSwitch` without an
Asterisk::

    async with FakeAri(time_scale=0.01) as fake:
        switch = AriSwitch(settings=AriSettings(url=fake.url, username=fake.username,
                                                password=fake.password))
        ...
        assert fake.violations == []

Every request is matched to an operation of the ARI definitions (``*.json``, default: the
copy bundled in ``autoinformer/testing/ari_reference``; pass ``reference_dir`` for another)
and checked (the operation exists, required parameters are there, names, types and allowed
values match); every event the fake sends is checked against its model in ``events.json``.
Problems are answered with HTTP 400 like Asterisk would, and recorded in :attr:`violations`.
The called parties behind it are those of :mod:`autoinformer.testing.parties`
(:mod:`autoinformer.testing.fake_pbx` plays them).

Faults for tests: :meth:`FakeAri.drop_websocket` (the connection dies; Asterisk deactivates
the application and drops its events), :meth:`FakeAri.stop` / :meth:`FakeAri.start` (Asterisk
stops, its channels gone, and is started again), :meth:`FakeAri.fail_next` (a REST operation
answers an error status), ``event_delay`` (each event is sent that many real seconds late).

Run it on its own (for benchmarks or manual tests): ``python -m autoinformer.testing.fake_ari
--port 8088 --time-scale 1``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import anyio
import anyio.abc
import attrs
import h11
import wsproto
import wsproto.events as wse
from anyio.streams.memory import MemoryObjectSendStream

from autoinformer.testing.ari_spec import AriSpec
from autoinformer.testing.fake_pbx import HANGUP_REASONS, AriHttpError, FakePbx

__all__ = ["FakeAri", "main"]

_ASTERISK_ID = "02:fc:00:00:00:01"


@attrs.define(kw_only=True, eq=False)
class _Socket:
    app: str
    stream: anyio.abc.ByteStream
    ws: wsproto.WSConnection
    queue: MemoryObjectSendStream[str]
    closed: anyio.Event = attrs.field(factory=anyio.Event)
    lock: anyio.Lock = attrs.field(factory=anyio.Lock)

    async def send(self, event: wse.Event) -> None:
        """Send one WebSocket event; the writer and the reader (pongs) share the stream."""
        async with self.lock:
            await self.stream.send(self.ws.send(event))


@attrs.define(kw_only=True, eq=False)
class FakeAri:
    """The fake server; use as an async context manager (see the module docstring).

    Args:
        reference_dir: the directory of ARI ``*.json`` definitions to check against.
        username, password: the ARI credentials it accepts (Basic auth or ``api_key``).
        time_scale: real seconds per model second for every party's behaviour.
        port: 0 picks a free port (see :attr:`url`).
        event_delay: real seconds each event waits before it is sent (slow events).
        machine_numbers: numbers (digits) whose answering-machine detection says MACHINE.
        operator_marker: an endpoint containing this text is an operator.
        builtin_seconds: model seconds each ``sound:NAME`` plays (others: 1 s).
        sounds_dir: the fake's view of Asterisk's ``sounds/<sounds_subdir>``: a
            ``sound:<sounds_subdir>/NAME`` exists only if a file ``NAME.*`` is there (a sound
            that does not exist finishes ``failed``, as on Asterisk). Other sounds exist unless
            their name contains ``does-not-exist``.

    Like Asterisk 22, an application keeps its event filter while it has channels, also when
    its WebSocket is gone (a reconnect finds the filter still set); an application without
    channels is forgotten with its filter when its WebSocket closes.
    """

    reference_dir: Path | None = None
    username: str = "autoinformer"
    password: str = attrs.field(default="fake-secret", repr=False)
    time_scale: float = 0.01
    host: str = "127.0.0.1"
    port: int = 0
    event_delay: float = 0.0
    machine_numbers: frozenset[str] = frozenset()
    operator_marker: str = "operator"
    amd_context: str = "autoinformer-amd"
    builtin_seconds: dict[str, float] = attrs.field(factory=dict)
    sounds_dir: Path | None = None
    sounds_subdir: str = "autoinformer"
    check_events: bool = True
    """Check every event against events.json (turn off only to spare CPU in load tests)."""
    violations: list[str] = attrs.field(init=False, factory=list)
    requests: list[tuple[str, str]] = attrs.field(init=False, factory=list)
    """(method, operation nickname) of every request, in order."""
    pbx: FakePbx = attrs.field(init=False)
    _spec: AriSpec = attrs.field(init=False)
    _sockets: dict[str, _Socket] = attrs.field(init=False, factory=dict)
    _failures: dict[str, deque[int]] = attrs.field(init=False, factory=dict)
    _delays: dict[str, deque[float]] = attrs.field(init=False, factory=dict)
    _filters: dict[str, tuple[frozenset[str], frozenset[str]]] = attrs.field(
        init=False, factory=dict
    )
    _tg: anyio.abc.TaskGroup | None = attrs.field(init=False, default=None)
    _changed: anyio.Event | None = attrs.field(init=False, default=None)
    refuse_websocket: bool = attrs.field(init=False, default=False)
    """While True, new event WebSockets are refused (503): the outage lasts."""
    down: bool = attrs.field(init=False, default=False)
    """While True (between :meth:`stop` and :meth:`start`), every connection is closed
    without an answer, as a stopped Asterisk's port would."""
    hung: bool = attrs.field(init=False, default=False)
    """While True (between :meth:`hang` and :meth:`resume`), Asterisk is silent: connections
    stay open and new ones are accepted, but nothing is answered (no REST reply, no event, no
    WebSocket pong), as a SIGSTOPped process behaves."""
    _awake: anyio.Event | None = attrs.field(init=False, default=None)
    _stops: int = attrs.field(init=False, default=0)
    """How many times :meth:`stop` ran: a request that waited through one died with it."""

    def __attrs_post_init__(self) -> None:
        self._spec = AriSpec.load(self.reference_dir)
        self.pbx = FakePbx(
            emit=self._emit,
            app_active=lambda app: app in self._sockets,
            time_scale=self.time_scale,
            operator_marker=self.operator_marker,
            machine_numbers=frozenset(m.lstrip("+") for m in self.machine_numbers),
            amd_context=self.amd_context,
            media_seconds=self._media_seconds,
            sound_exists=self._sound_exists,
        )

    @property
    def url(self) -> str:
        """The HTTP root to give the client (``http://127.0.0.1:PORT``)."""
        return f"http://{self.host}:{self.port}"

    def _sound_exists(self, name: str) -> bool:
        if "does-not-exist" in name:
            return False
        prefix = f"{self.sounds_subdir}/"
        if self.sounds_dir is None or not name.startswith(prefix):
            return True
        stem = name.removeprefix(prefix)
        return any(p.stem == stem for p in self.sounds_dir.glob("*") if p.is_file())

    def _forget_app(self, app: str) -> None:
        """The WebSocket of ``app`` is gone: its filter goes too, unless it has channels."""
        if not any(c.app == app and not c.destroyed for c in self.pbx.channels.values()):
            self._filters.pop(app, None)

    def _media_seconds(self, uri: str) -> float:
        name = uri.removeprefix("sound:")
        if name in self.builtin_seconds:
            return self.builtin_seconds[name]
        return math.inf if uri.startswith("tone:") else 1.0  # a tone plays until stopped

    # --- life cycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        listener = await anyio.create_tcp_listener(local_host=self.host, local_port=self.port)
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self.pbx.attach(self._tg)
        self._tg.start_soon(listener.serve, self._handle)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        tg, self._tg = self._tg, None
        if tg is not None:
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)

    async def serve_forever(self) -> None:
        """Run until cancelled (for a server in its own process)."""
        async with self:
            await anyio.sleep_forever()

    # --- faults -----------------------------------------------------------------------------

    def delay_reply(self, nickname: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` replies to ``nickname`` leave ``seconds`` late (after the work)."""
        self._delays.setdefault(nickname, deque()).extend([seconds] * times)

    def fail_next(self, nickname: str, status: int, times: int = 1) -> None:
        """The next ``times`` requests for the operation ``nickname`` answer ``status``."""
        self._failures.setdefault(nickname, deque()).extend([status] * times)

    async def drop_websocket(self, app: str | None = None) -> None:
        """Kill the event connection(s) abruptly, as a network failure would."""
        for name, socket in list(self._sockets.items()):
            if app is None or name == app:
                self._sockets.pop(name, None)
                self._forget_app(name)
                await socket.stream.aclose()
                socket.closed.set()

    async def stop(self) -> None:
        """Asterisk stops: event WebSockets close, every request until :meth:`start` finds
        the port dead, and every channel, bridge and playback is gone without an event
        (nobody is subscribed any more)."""
        self.down = True
        self._stops += 1
        self.resume()  # killed while hung: the waiting requests die with the process
        await self.drop_websocket()
        pbx = self.pbx
        for channel in list(pbx.channels.values()):
            channel.destroyed = True
            channel.scope.cancel()
        for _target, _uri, scope in pbx.playbacks.values():
            scope.cancel()
        pbx.channels.clear()
        pbx.playbacks.clear()
        pbx.bridges.clear()
        self._filters.clear()
        self._notify()

    def start(self) -> None:
        """Asterisk is back after :meth:`stop`, with no channels."""
        self.down = False
        self._notify()

    def hang(self) -> None:
        """Asterisk goes silent (SIGSTOP): what arrives is kept, nothing is answered."""
        self.hung = True
        self._awake = anyio.Event()

    def resume(self) -> None:
        """Asterisk carries on after :meth:`hang` (SIGCONT): what waited is answered now."""
        self.hung = False
        if self._awake is not None:
            self._awake.set()

    async def _stalled(self) -> None:
        """Wait while hung (every reply, event and pong passes through here)."""
        while self.hung and self._awake is not None:
            await self._awake.wait()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Return once ``condition()`` holds; re-checked after every event and request.

        Use under a deadline (``anyio.fail_after``): it waits as long as it takes.
        """
        while not condition():
            if self._changed is None or self._changed.is_set():
                self._changed = anyio.Event()
            await self._changed.wait()

    def websocket_connected(self, app: str) -> bool:
        """True while ``app`` has an event WebSocket."""
        return app in self._sockets

    async def wait_connected(self, app: str) -> None:
        """Return once ``app`` has an event WebSocket (use under a deadline)."""
        await self.wait_until(lambda: app in self._sockets)

    # --- events -----------------------------------------------------------------------------

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    def _emit(self, body: dict[str, Any]) -> None:
        self._notify()
        for app, socket in list(self._sockets.items()):
            allowed, disallowed = self._filters.get(app, (frozenset(), frozenset()))
            if body["type"] in disallowed or (allowed and body["type"] not in allowed):
                continue
            event = {
                **body,
                "timestamp": _timestamp(),
                "asterisk_id": _ASTERISK_ID,
                "application": app,
            }
            self._check_event(event)
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                socket.queue.send_nowait(json.dumps(event))
        if not self._sockets:
            self._check_event({**body, "timestamp": _timestamp(), "application": "none"})

    def _check_event(self, event: dict[str, Any]) -> None:
        if not self.check_events:
            return
        problems = self._spec.check_event(event)
        self.violations.extend(f"event {event.get('type')}: {p}" for p in problems)

    # --- HTTP -------------------------------------------------------------------------------

    async def _handle(self, stream: anyio.abc.ByteStream) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                if self.down:
                    return
                request, body = await _read_request(conn, stream)
                stops = self._stops
                await self._stalled()
                if request is None or self.down or self._stops != stops:
                    return
                target = request.target.decode()
                headers = {k.decode().lower(): v.decode() for k, v in request.headers}
                if headers.get("upgrade", "").lower() == "websocket":
                    await self._websocket(stream, conn, request, target, headers)
                    return
                before = len(self.requests)
                status, payload = self._rest(request.method.decode(), target, headers, body)
                if len(self.requests) > before:
                    delays = self._delays.get(self.requests[-1][1])
                    if delays:
                        await anyio.sleep(delays.popleft())
                data = b"" if payload is None else json.dumps(payload).encode()
                response_headers = [("Content-Length", str(len(data)))]
                if data:
                    response_headers.append(("Content-Type", "application/json"))
                # One write per response: a split write meets Nagle and delayed ACKs.
                await stream.send(
                    conn.send(h11.Response(status_code=status, headers=response_headers))
                    + conn.send(h11.Data(data=data))
                    + conn.send(h11.EndOfMessage())
                )
                conn.start_next_cycle()
        except (
            anyio.EndOfStream,
            anyio.BrokenResourceError,
            anyio.ClosedResourceError,
            h11.ProtocolError,
            OSError,
        ):
            return
        finally:
            await stream.aclose()

    def _authorised(self, headers: dict[str, str], query: list[tuple[str, str]]) -> bool:
        expected = f"{self.username}:{self.password}"
        auth = headers.get("authorization", "")
        if auth.startswith("Basic "):
            try:
                return base64.b64decode(auth[6:]).decode() == expected
            except ValueError:
                return False
        return any(k == "api_key" and v == expected for k, v in query)

    def _rest(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if not self._authorised(headers, query):
            return 401, {"message": "Authentication required"}
        if not parts.path.startswith("/ari/"):
            return 404, {"message": "Not found"}
        found = self._spec.match(method, parts.path[4:])
        if found is None:
            self.violations.append(f"{method} {parts.path}: no such ARI operation")
            return 404, {"message": "Resource not found"}
        op, path_params = found
        self.requests.append((method, op.nickname))
        self._notify()
        data: Any = None
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                self.violations.append(f"{method} {op.path}: body is not JSON")
                return 400, {"message": "Malformed body"}
        problems = self._spec.check_request(op, query, data)
        if problems:
            self.violations.extend(problems)
            return 400, {"message": "; ".join(problems)}
        failures = self._failures.get(op.nickname)
        if failures:
            return failures.popleft(), {"message": "injected failure"}
        args = dict(query)
        args.update(path_params)
        variables = data.get("variables", {}) if isinstance(data, dict) else {}
        try:
            return self._operate(method, op.path, args, query, variables, data)
        except AriHttpError as exc:
            return exc.status, {"message": exc.message}

    def _operate(
        self,
        method: str,
        path: str,
        args: dict[str, str],
        query: list[tuple[str, str]],
        variables: dict[str, str],
        body: Any = None,
    ) -> tuple[int, Any]:
        pbx = self.pbx
        key = f"{method} {path}"
        if key in ("POST /channels", "POST /channels/{channelId}"):
            if "app" not in args:
                raise AriHttpError(400, "this fake needs app= (dialplan originate is not modelled)")
            channel = pbx.originate(
                endpoint=args["endpoint"],
                app=args["app"],
                app_args=args.get("appArgs", ""),
                channel_id=args.get("channelId"),
                other_id=args.get("otherChannelId"),
                caller_id=args.get("callerId", ""),
                timeout=int(args.get("timeout", "30")),
                variables=variables,
            )
            return 200, channel.snapshot()
        if key == "GET /channels":
            return 200, [c.snapshot() for c in pbx.channels.values() if not c.destroyed]
        if key == "GET /channels/{channelId}":
            return 200, pbx.channel(args["channelId"]).snapshot()
        if key == "GET /channels/{channelId}/variable":
            value = pbx.channel(args["channelId"]).variables.get(args.get("variable", ""))
            if value is None:
                raise AriHttpError(404, "Provided variable was not found")
            return 200, {"value": value}
        if key == "DELETE /channels/{channelId}":
            if "reason" in args and "reason_code" in args:
                raise AriHttpError(400, "reason and reason_code are mutually exclusive")
            cause = HANGUP_REASONS.get(args.get("reason", "normal"), 16)
            if "reason_code" in args:
                cause = int(args["reason_code"])
            pbx.hangup(args["channelId"], cause)
            return 204, None
        if key == "POST /channels/{channelId}/continue":
            pbx.continue_in_dialplan(
                args["channelId"], args.get("context", ""), self._app_of(args["channelId"])
            )
            return 204, None
        if key in (
            "POST /channels/{channelId}/play",
            "POST /channels/{channelId}/play/{playbackId}",
        ):
            media = [v for k, v in query if k == "media"]
            return 201, pbx.play(args["channelId"], media, args.get("playbackId"))
        if key == "DELETE /playbacks/{playbackId}":
            pbx.stop_playback(args["playbackId"])
            return 204, None
        if key in ("POST /bridges", "POST /bridges/{bridgeId}"):
            return 200, pbx.create_bridge(
                args.get("bridgeId"), args.get("name", ""), args.get("type", "")
            )
        if key == "GET /bridges/{bridgeId}":
            return 200, dict(pbx.bridge(args["bridgeId"]))
        if key == "POST /bridges/{bridgeId}/addChannel":
            channels = [c for k, v in query if k == "channel" for c in v.split(",")]
            pbx.add_channels(args["bridgeId"], channels)
            return 204, None
        if key == "DELETE /bridges/{bridgeId}":
            pbx.destroy_bridge(args["bridgeId"])
            return 204, None
        if key == "PUT /applications/{applicationName}/eventFilter":
            return 200, self._set_filter(args["applicationName"], body)
        if key == "GET /asterisk/info":
            return 200, {}
        return 501, {"message": f"{key} is valid ARI but not modelled by this fake"}

    def _set_filter(self, app: str, body: Any) -> dict[str, Any]:
        """``PUT /applications/{app}/eventFilter`` with Asterisk's rules (see applications.json)."""
        if app not in self._sockets:
            raise AriHttpError(404, "Application does not exist.")
        body = body if isinstance(body, dict) else {}
        allowed, disallowed = self._filters.get(app, (frozenset(), frozenset()))
        lists: list[frozenset[str]] = []
        for key, current in (("allowed", allowed), ("disallowed", disallowed)):
            if not body:
                lists.append(frozenset())
                continue
            items = body.get(key)
            if items is None:
                lists.append(current)
                continue
            if not isinstance(items, list) or not all(
                isinstance(i, dict) and isinstance(i.get("type"), str) for i in items
            ):
                raise AriHttpError(400, f"{key} should be a list of {{'type': name}} objects")
            lists.append(frozenset(i["type"] for i in items))
        self._filters[app] = (lists[0], lists[1])
        return {
            "name": app,
            "channel_ids": [c.id for c in self.pbx.channels.values()],
            "bridge_ids": list(self.pbx.bridges),
            "endpoint_ids": [],
            "device_names": [],
            "events_allowed": [{"type": t} for t in sorted(lists[0])],
            "events_disallowed": [{"type": t} for t in sorted(lists[1])],
        }

    def _app_of(self, channel_id: str) -> str:
        channel = self.pbx.channel(channel_id)
        return channel.app_data.partition(",")[0] or next(iter(self._sockets), "")

    # --- WebSocket --------------------------------------------------------------------------

    async def _websocket(
        self,
        stream: anyio.abc.ByteStream,
        conn: h11.Connection,
        request: h11.Request,
        target: str,
        headers: dict[str, str],
    ) -> None:
        query = parse_qsl(urlsplit(target).query, keep_blank_values=True)
        found = self._spec.match("GET", urlsplit(target).path.removeprefix("/ari"))
        problems = ["GET /events: not the event WebSocket"] if found is None else []
        if found is not None:
            problems = self._spec.check_request(found[0], query, None)
        apps = [v for k, v in query if k == "app"]
        status = 0
        if not self._authorised(headers, query):
            status = 401
        elif problems or len(apps) != 1:
            self.violations.extend(problems or ["GET /events: expected exactly one app"])
            status = 400
        elif self.refuse_websocket:
            status = 503
        if status:
            await stream.send(
                conn.send(h11.Response(status_code=status, headers=[("Content-Length", "0")]))
                + conn.send(h11.EndOfMessage())
            )
            return
        ws = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        ws.initiate_upgrade_connection(list(request.headers), request.target)
        for _ in ws.events():
            pass
        await stream.send(ws.send(wse.AcceptConnection()))
        leftover, _closed = conn.trailing_data
        send, receive = anyio.create_memory_object_stream[str](math.inf)
        socket = _Socket(app=apps[0], stream=stream, ws=ws, queue=send)
        old = self._sockets.get(socket.app)
        self._sockets[socket.app] = socket
        self._notify()
        if old is not None:
            # Asterisk tells the older connection and routes nothing more to it.
            replaced = {
                "type": "ApplicationReplaced",
                "application": old.app,
                "timestamp": _timestamp(),
                "asterisk_id": _ASTERISK_ID,
            }
            self._check_event(replaced)
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                old.queue.send_nowait(json.dumps(replaced))
        async with anyio.create_task_group() as tg:

            async def write() -> None:
                with _quiet():
                    async for text in receive:
                        await self._stalled()
                        if self.event_delay:
                            await anyio.sleep(self.event_delay)
                        await socket.send(wse.TextMessage(text))
                tg.cancel_scope.cancel()

            async def read() -> None:
                try:
                    with _quiet():
                        if leftover:
                            ws.receive_data(leftover)
                        while True:
                            await self._stalled()
                            for event in ws.events():
                                if isinstance(event, wse.Ping):
                                    await socket.send(event.response())
                                elif isinstance(event, wse.CloseConnection):
                                    await socket.send(event.response())
                                    return
                            ws.receive_data(await stream.receive())
                finally:
                    tg.cancel_scope.cancel()  # a clean close ends the session as a lost one does

            tg.start_soon(write)
            tg.start_soon(read)
            await socket.closed.wait()
            tg.cancel_scope.cancel()
        if self._sockets.get(socket.app) is socket:
            del self._sockets[socket.app]
            self._forget_app(socket.app)
            self._notify()


class _quiet:
    """Swallow the errors of a connection that went away."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> bool:
        return kind is not None and issubclass(
            kind,
            (
                anyio.EndOfStream,
                anyio.BrokenResourceError,
                anyio.ClosedResourceError,
                OSError,
                wsproto.utilities.LocalProtocolError,
            ),
        )


def _timestamp() -> str:
    from autoinformer.testing.fake_pbx import _now

    return _now()


async def _read_request(
    conn: h11.Connection, stream: anyio.abc.ByteStream
) -> tuple[h11.Request | None, bytes]:
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive()
            except anyio.EndOfStream:
                data = b""
            conn.receive_data(data)
            continue
        if isinstance(event, h11.Request):
            request = event
            if any(k.lower() == b"upgrade" for k, _ in event.headers):
                return request, b""
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return request, bytes(body)
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None, b""


def main(argv: list[str] | None = None, *, ready: Callable[[int], None] | None = None) -> None:
    """Run a fake ARI server until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m autoinformer.testing.fake_ari")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--password", default="fake-secret")
    parser.add_argument(
        "--no-event-check", action="store_true", help="do not check events (load tests)"
    )
    options = parser.parse_args(argv)

    async def run() -> None:
        async with FakeAri(
            port=options.port,
            time_scale=options.time_scale,
            password=options.password,
            check_events=not options.no_event_check,
        ) as fake:
            if ready is not None:
                ready(fake.port)
            else:
                print(f"fake ARI on {fake.url} (user {fake.username})", flush=True)
            await anyio.sleep_forever()

    anyio.run(run)


if __name__ == "__main__":
    main()
