"""EslSwitch: FreeSWITCH as a :class:`~autoinformer.backends.base.Switch`, over inbound ESL.

How the contract maps onto FreeSWITCH (details in ``docs/backends/freeswitch.md``):

- ``originate``: ``bgapi originate {origination_uuid=OURS,...}DIAL &park()`` with our own
  ``Job-UUID``; the call is registered before the command goes out. Progress comes from
  CHANNEL_PROGRESS(_MEDIA) / CHANNEL_ANSWER; the end from CHANNEL_HANGUP_COMPLETE's
  ``Hangup-Cause`` or the BACKGROUND_JOB's ``-ERR CAUSE``, whichever comes first (on a real
  server CHANNEL_ANSWER can precede the job's ``+OK``). Causes go through
  :meth:`HangupCause.from_name`, outcomes through ``outcome_for_unanswered``: one mapping.
- ``play``: ``sendmsg`` execute ``playback`` with our ``event-uuid``, matched to
  CHANNEL_EXECUTE(_COMPLETE)'s ``Application-UUID``; ``stop_playback``: ``uuid_break``.
- ``bridge``: ``uuid_bridge`` of two legs; when a bridged leg ends we hang its peer up.
- ``hangup``: ``uuid_kill UUID CAUSE`` (deferred until CHANNEL_CREATE if the channel is not
  there yet).
- Machine detection: ``mod_amd`` (``amd`` app, ``amd_result``) or ``mod_avmd`` (``avmd_start``,
  CUSTOM ``avmd::beep``), whichever the server has (``module_exists`` at connect).

The reader only routes: each event updates a call's state and may put a SwitchEvent into a
bounded stream; anything that must talk to the switch is started as a task. On a dropped
connection the switch reconnects (with back-off, for as long as it is open: an outage of any
length ends when FreeSWITCH is back), resubscribes, lists the channels (``show channels as
json``), adopts the calls still up, hangs up orphans, and reports a BackendGap followed by a
CallEnded for each call lost in the gap. A resync that fails is retried on a new connection;
until one succeeds :attr:`EslSwitch.connected` is False and ``originate`` raises
BackendUnavailable at once. :meth:`EslSwitch.orphans` finds the calls a process that died left
parked (``autoinformer_call_id`` / ``AUTOINFORMER_CAMPAIGN`` channel variables).
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid as uuidlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import anyio.abc
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from autoinformer.backends.base import (
    BackendGap,
    CallAnswered,
    CallEnded,
    Media,
    Orphan,
    Switch,
    SwitchEvent,
)
from autoinformer.backends.esl import commands
from autoinformer.backends.esl.calls import (
    Action,
    Call,
    CallTable,
    Execute,
    Kill,
    Playback,
    StopAvmdLater,
)
from autoinformer.backends.esl.client import EslCommandError, EslConnection
from autoinformer.backends.esl.parser import EslEvent
from autoinformer.backends.esl.settings import EslSettings
from autoinformer.backends.pacer import OriginatePacer
from autoinformer.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CallNotFound,
    OriginateError,
    WrongCallState,
)
from autoinformer.outcomes import HangupCause

__all__ = ["EVENTS", "EslSwitch"]

log = logging.getLogger(__name__)

EVENTS = (
    "CHANNEL_CREATE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_ANSWER "
    "CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_BRIDGE DTMF "
    "BACKGROUND_JOB CUSTOM avmd::beep"
)
"""The events the switch subscribes to (``event plain|json ...``)."""

_CRITICAL = (CallAnswered, CallEnded, BackendGap)

_MAX_BACKOFF = 5.0
"""The longest pause between two reconnection attempts (seconds)."""


@attrs.define(kw_only=True, eq=False)
class EslSwitch(EslSettings, Switch):
    """FreeSWITCH over its inbound Event Socket. Use as ``async with EslSwitch(...) as sw``.

    Settings (the ``[backend]`` table with ``kind = "esl"``) are those of
    :class:`~autoinformer.backends.esl.settings.EslSettings`, checked at construction; a wrong
    one raises :class:`~autoinformer.errors.SettingsError` naming the field.
    """

    _conn: EslConnection | None = attrs.field(init=False, default=None, repr=False)
    _tg: anyio.abc.TaskGroup | None = attrs.field(init=False, default=None, repr=False)
    _send: MemoryObjectSendStream[SwitchEvent] = attrs.field(init=False, repr=False)
    _receive: MemoryObjectReceiveStream[SwitchEvent] = attrs.field(init=False, repr=False)
    _table: CallTable = attrs.field(init=False, repr=False)
    _waiters: dict[str, tuple[anyio.Event, list[str]]] = attrs.field(
        init=False, factory=dict, repr=False
    )
    _orphans: set[str] = attrs.field(init=False, factory=set, repr=False)
    _closing: bool = attrs.field(init=False, default=False, repr=False)
    _dropping: bool = attrs.field(init=False, default=False, repr=False)
    _synced: bool = attrs.field(init=False, default=False, repr=False)
    _pacer: OriginatePacer = attrs.field(init=False, repr=False)
    dropped_events: int = attrs.field(init=False, default=0)
    """SwitchEvents dropped because the consumer fell ``event_buffer`` behind."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._send, self._receive = anyio.create_memory_object_stream[SwitchEvent](
            self.event_buffer
        )
        self._table = CallTable(emit=self._emit, act=self._act, amd_args=self.amd_args)
        self._pacer = OriginatePacer(self.max_calls_per_second)

    # --- public face ---------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the connection is up and resynchronised (originate works)."""
        conn = self._conn
        return self._synced and conn is not None and not conn.closed

    @property
    def machine_detector(self) -> str | None:
        """``amd``, ``avmd`` or None: the detector in use (known after :meth:`connect`)."""
        return self._table.detector

    async def connect(self) -> None:
        """Connect, authenticate, subscribe and find out the machine detector.

        Raises:
            BackendUnavailable: the switch cannot be reached or refused the password.
            BackendTimeout: it did not answer in time.
        """
        conn = await EslConnection.open(
            self.host, self.port, self._secret, handshake_timeout=self.connect_timeout
        )
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        try:
            await tg.start(self._supervise, conn)
        except BaseException as exc:
            self._tg = None
            tg.cancel_scope.cancel()
            await conn.aclose()
            with contextlib.suppress(BaseException):  # the first failure is the one to report
                await tg.__aexit__(None, None, None)
            if isinstance(exc, BaseExceptionGroup):
                leaf = exc.exceptions[0]
                if isinstance(leaf, BackendError):
                    raise leaf from None
            raise

    async def close(self) -> None:
        """Close the connection; calls in progress are left to the switch."""
        self._closing = True
        tg, self._tg = self._tg, None
        if self._conn is not None:
            await self._conn.aclose()
        if tg is not None:
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)
        self._send.close()

    def events(self) -> AsyncIterator[SwitchEvent]:
        """The one stream of events, in the order the switch sent them."""
        return self._receive

    async def originate(
        self,
        call_id: str,
        destination: str,
        *,
        caller_id: str | None,
        ring_timeout: float,
        variables: Mapping[str, str] | None = None,
        operator: bool = False,
        detect_machine: bool = False,
    ) -> None:
        """Place a call (see :meth:`Switch.originate`); ``bgapi originate ... &park()``, at
        most ``max_calls_per_second`` a second.

        Raises BackendUnavailable at once while the switch is away (see :attr:`connected`)."""
        if not self.connected:
            raise BackendUnavailable(f"ESL {self.host}:{self.port}: not connected")
        await self._pacer.wait()
        if not self.connected:
            raise BackendUnavailable(f"ESL {self.host}:{self.port}: not connected")
        if call_id in self._table.calls:
            raise OriginateError(f"call id {call_id!r} is already in use")
        dial = (
            commands.operator_dial_string(destination)
            if operator
            else commands.dial_string(self.dial, destination)
        )
        uuid = str(uuidlib.uuid4())
        command = commands.originate_command(
            uuid=uuid,
            dial=dial,
            caller_id=caller_id,
            ring_timeout=ring_timeout,
            variables=variables,
            call_id=call_id,
        )
        conn = self._connection()
        job = str(uuidlib.uuid4())
        call = Call(call_id=call_id, uuid=uuid, job=job, detect_machine=detect_machine)
        self._table.add(call)
        try:
            await conn.command(
                f"bgapi {command}", {"Job-UUID": job}, reply_timeout=self.command_timeout
            )
        except EslCommandError as exc:
            self._table.forget(call)
            raise OriginateError(f"the switch refused the call: {exc.reply}") from None
        except BackendError:
            # The command may or may not have reached the switch: the caller is told it
            # failed, so the channel, if any, must not live on: the resync after the
            # reconnect (a reply timeout closes the connection too) hangs it up.
            self._table.forget(call)
            self._orphans.add(uuid)
            raise
        self._table.confirm(call)

    async def play(self, call_id: str, media: Media, *, playback_id: str) -> None:
        """Play ``media`` (``sendmsg`` execute ``playback`` with our ``event-uuid``)."""
        call = self._live(call_id)
        arg = commands.media_argument(
            path=media.path,
            builtin=media.builtin,
            audio_dir=self.audio_dir,
            switch_audio_dir=self.switch_audio_dir,
            audio_url=self.audio_url,
        )
        event_uuid = str(uuidlib.uuid4())
        call.playbacks[event_uuid] = Playback(playback_id)
        try:
            await self._execute(call, "playback", arg, event_uuid)
        except BackendError:
            call.playbacks.pop(event_uuid, None)
            raise

    async def stop_playback(self, call_id: str, playback_id: str) -> None:
        """Stop a playback (``uuid_break``); a queued one is broken as soon as it starts."""
        call = self._table.live(call_id)
        if call is None:
            return
        for playback in list(call.playbacks.values()):
            if playback.playback_id == playback_id and not playback.stopped:
                playback.stopped = True
                if playback.started:
                    await self._api(f"uuid_break {call.uuid}")
                return

    async def collect_digits(self, call_id: str) -> None:
        """With ``inband_dtmf``, start in-band DTMF detection on the call (once)."""
        call = self._live(call_id)
        if self.inband_dtmf and not call.dtmf_started:
            call.dtmf_started = True
            await self._execute(call, "start_dtmf", "", str(uuidlib.uuid4()))

    async def bridge(self, bridge_id: str, call_ids: tuple[str, ...]) -> None:
        """Bridge two answered calls (``uuid_bridge``); Bridged follows for both.

        Raises:
            BackendError: not exactly two calls (FreeSWITCH bridges pairs).
            CallNotFound: a call is gone.
            WrongCallState: the switch refused the bridge.
        """
        if len(call_ids) != 2:
            raise BackendError(f"FreeSWITCH bridges exactly two calls, got {len(call_ids)}")
        first, second = (self._live(call_id) for call_id in call_ids)
        self._table.add_bridge(bridge_id, (first, second))
        try:
            result = await self._bgapi(f"uuid_bridge {first.uuid} {second.uuid}")
        except BackendError:
            self._table.drop_bridge(bridge_id)
            raise
        if result.startswith("-ERR"):
            self._table.drop_bridge(bridge_id)
            raise WrongCallState(f"the switch refused the bridge: {result.strip()}")

    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        """Hang up with ``cause`` (``uuid_kill``); no error if the call is already gone."""
        call = self._table.live(call_id)
        if call is None or call.kill_cause is not None:
            return
        if self._table.request_hangup(call, cause):
            await self._kill(call.uuid, cause)

    async def orphans(self, campaign: str) -> list[Orphan]:
        """Channels of ``campaign`` that this switch did not place (left by a process that
        died): ``show channels as json``, then ``uuid_getvar`` of ``autoinformer_call_id``
        and ``AUTOINFORMER_CAMPAIGN`` on each channel we do not know.

        Raises:
            BackendUnavailable: not connected.
        """
        conn = self._connection()
        rows = _channel_rows(await self._bgapi("show channels as json", conn))
        known = {call.uuid for call in self._table.calls.values()}
        found: dict[str, list[Mapping[str, Any]]] = {}
        for row in rows:
            uuid = str(row.get("uuid") or "")
            if not uuid or uuid in known:
                continue
            call_id = _variable(await self._bgapi(f"uuid_getvar {uuid} autoinformer_call_id", conn))
            if call_id is None:
                continue
            owner = _variable(await self._bgapi(f"uuid_getvar {uuid} AUTOINFORMER_CAMPAIGN", conn))
            if owner == campaign:
                found.setdefault(call_id, []).append(row)
        orphans = []
        for call_id, legs in found.items():
            ours = [r for r in legs if str(r.get("direction", "")) == "outbound"] or legs
            answered = any(str(r.get("callstate", "")).upper() in _UP for r in ours)
            epochs = [_number(r.get("created_epoch")) for r in legs]
            since = min((e for e in epochs if e), default=None)
            channels = tuple(str(r.get("uuid")) for r in legs)
            orphans.append(Orphan(call_id, channels, answered=answered, since=since))
        return orphans

    async def hangup_orphan(self, orphan: Orphan) -> None:
        """``uuid_kill`` each of the orphan's channels; no error if they are gone."""
        for uuid in orphan.channels:
            await self._kill(uuid, HangupCause.NORMAL_CLEARING)

    # --- commands ------------------------------------------------------------------------

    def _connection(self) -> EslConnection:
        conn = self._conn
        if conn is None or conn.closed:
            raise BackendUnavailable(f"ESL {self.host}:{self.port}: not connected")
        return conn

    def _live(self, call_id: str) -> Call:
        call = self._table.live(call_id)
        if call is None:
            raise CallNotFound(f"no call {call_id!r} on the switch")
        return call

    async def _execute(self, call: Call, app: str, arg: str, event_uuid: str) -> None:
        headers = {
            "call-command": "execute",
            "execute-app-name": app,
            "event-uuid": event_uuid,
            "event-lock": "true",
        }
        if arg:
            headers["execute-app-arg"] = arg
        try:
            await self._connection().command(
                f"sendmsg {call.uuid}", headers, reply_timeout=self.command_timeout
            )
        except EslCommandError as exc:
            raise CallNotFound(f"call {call.call_id!r}: {exc.reply}") from None

    async def _api(self, command: str) -> None:
        """Fire a ``bgapi`` command whose result does not matter (its job is ignored)."""
        await self._connection().command(
            f"bgapi {command}",
            {"Job-UUID": str(uuidlib.uuid4())},
            reply_timeout=self.command_timeout,
        )

    async def _bgapi(self, command: str, conn: EslConnection | None = None) -> str:
        """Run ``bgapi command`` and return the BACKGROUND_JOB body (``+OK ...``/``-ERR ...``)."""
        conn = conn or self._connection()
        job = str(uuidlib.uuid4())
        done = anyio.Event()
        box: list[str] = []
        self._waiters[job] = (done, box)
        try:
            await conn.command(
                f"bgapi {command}", {"Job-UUID": job}, reply_timeout=self.command_timeout
            )
            with anyio.fail_after(self.command_timeout):
                await done.wait()
        except TimeoutError:
            raise BackendTimeout(
                f"ESL {self.host}:{self.port}: no result for {command.split()[0]!r}"
            ) from None
        finally:
            self._waiters.pop(job, None)
        if not box:
            raise BackendUnavailable(f"ESL {self.host}:{self.port}: connection lost")
        return box[0]

    async def _kill(self, uuid: str, cause: HangupCause) -> None:
        # FreeSWITCH knows every Q.850 name we have except 0, which it calls NONE.
        name = cause.name if cause is not HangupCause.UNSPECIFIED else "NORMAL_CLEARING"
        try:
            await self._api(f"uuid_kill {uuid} {name}")
        except BackendUnavailable:
            log.warning("ESL: could not hang up %s: not connected (the resync will)", uuid)

    def _act(self, action: Action) -> None:
        """Carry out what the call table asks for, as a task (the reader cannot await)."""
        if self._tg is None:
            return
        self._tg.start_soon(self._carry_out, action)

    async def _carry_out(self, action: Action) -> None:
        try:
            if isinstance(action, Kill):
                await self._kill(action.uuid, action.cause)
            elif isinstance(action, StopAvmdLater):
                await anyio.sleep(self.avmd_timeout)
                if self._table.machine_timeout(action.call_id):
                    await self._act_execute(Execute(action.call_id, "avmd_stop"))
            else:
                await self._act_execute(action)
        except BackendError as exc:
            log.warning("ESL: %s failed: %s", type(action).__name__, exc)

    async def _act_execute(self, action: Execute) -> None:
        call = self._table.live(action.call_id)
        if call is None:
            return
        if action.app == "uuid_break":
            await self._api(f"uuid_break {call.uuid}")
        else:
            await self._execute(call, action.app, action.arg, str(uuidlib.uuid4()))

    # --- the connection's life -------------------------------------------------------------

    async def _supervise(
        self, conn: EslConnection, *, task_status: anyio.abc.TaskStatus[None]
    ) -> None:
        started: anyio.abc.TaskStatus[None] | None = task_status
        gap_from: float | None = None
        while True:
            error = await self._serve(conn, gap_from, started)
            if error is not None and started is not None:
                raise error  # the first setup failed: connect() reports it
            started = None
            if self._closing:
                return
            if error is None:
                gap_from = None  # a clean session: the next drop starts a new gap
            if gap_from is None:
                gap_from = anyio.current_time()
                log.warning("ESL %s:%s: connection lost; reconnecting", self.host, self.port)
            else:
                log.warning("ESL %s:%s: resync failed (%s); retrying", self.host, self.port, error)
            new = await self._reconnect(gap_from)
            if new is None:
                return
            conn = new

    async def _serve(
        self,
        conn: EslConnection,
        gap_from: float | None,
        task_status: anyio.abc.TaskStatus[None] | None,
    ) -> BackendError | None:
        """Read one connection until it drops; set it up (and resync) meanwhile.

        Returns the setup's (or resync's) error, None when the session was set up."""
        setup_error: BackendError | None = None
        beating = anyio.CancelScope()
        async with anyio.create_task_group() as tg:

            async def reader() -> None:
                try:
                    await conn.read_events(self._on_event)
                except BackendUnavailable:
                    pass
                finally:
                    beating.cancel()
                    self._conn = None
                    self._synced = False
                    for done, _ in list(self._waiters.values()):
                        done.set()

            tg.start_soon(reader)
            self._conn = conn
            try:
                await self._setup(conn)
                if gap_from is not None:
                    await self._resync(conn, gap_from)
                self._synced = not conn.closed
            except BackendError as exc:
                setup_error = exc
                await conn.aclose()
            if setup_error is None:
                tg.start_soon(self._heartbeat, conn, beating)
                if task_status is not None:
                    task_status.started()
                    task_status = None
        return setup_error

    async def _heartbeat(self, conn: EslConnection, scope: anyio.CancelScope) -> None:
        """Ask ``api status`` every ``heartbeat_interval`` seconds while ``conn`` lives.

        A hung FreeSWITCH (SIGSTOP, a deadlock) keeps the TCP connection open and says
        nothing, and ESL has no ping of its own: events stop, calls look held forever. A
        heartbeat without a reply within ``command_timeout`` closes the connection (the
        command does that on a timeout), so the reader ends and the switch reconnects and
        resynchronises as after any drop; ``originate`` fails at once meanwhile.
        """
        with scope:
            while not conn.closed:
                await anyio.sleep(self.heartbeat_interval)
                try:
                    await conn.command(
                        "api status", reply_timeout=self.command_timeout, check=False
                    )
                except BackendTimeout:
                    log.error(
                        "ESL %s:%s: no reply to a heartbeat within %g s; FreeSWITCH is hung, "
                        "reconnecting",
                        self.host,
                        self.port,
                        self.command_timeout,
                    )
                    return
                except BackendUnavailable:
                    return

    async def _setup(self, conn: EslConnection) -> None:
        await conn.command(
            f"event {self.event_format} {EVENTS}", reply_timeout=self.command_timeout
        )
        wanted = self.machine_detection
        self._table.detector = None
        if wanted in ("auto", "amd") and await self._has_module(conn, "mod_amd"):
            self._table.detector = "amd"
        elif wanted in ("auto", "avmd") and await self._has_module(conn, "mod_avmd"):
            self._table.detector = "avmd"
        elif wanted in ("amd", "avmd"):
            log.warning("ESL: machine_detection=%s but the switch has no mod_%s", wanted, wanted)

    async def _has_module(self, conn: EslConnection, module: str) -> bool:
        return (await self._bgapi(f"module_exists {module}", conn)).strip() == "true"

    async def _reconnect(self, gap_from: float) -> EslConnection | None:
        """Reconnect with back-off (0.05 s doubling up to 5 s) until it works or we close.

        After ``reconnect_for`` seconds away an error is logged, then again every
        ``reconnect_for`` seconds (at least 1 s apart): a long outage is loud but never
        final.
        """
        delay = 0.05
        period = max(self.reconnect_for, 1.0)
        next_error = gap_from + self.reconnect_for
        while not self._closing:
            try:
                return await EslConnection.open(
                    self.host, self.port, self._secret, handshake_timeout=self.connect_timeout
                )
            except BackendError as exc:
                now = anyio.current_time()
                if now >= next_error:
                    next_error = now + period
                    log.error(
                        "ESL %s:%s: the switch has been away for %.0f s; still reconnecting (%s)",
                        self.host,
                        self.port,
                        now - gap_from,
                        exc,
                    )
                else:
                    log.warning("ESL %s:%s: reconnect failed: %s", self.host, self.port, exc)
            await anyio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF)
        return None

    async def _resync(self, conn: EslConnection, gap_from: float) -> None:
        """After a reconnect: adopt the calls still up, end the lost ones, kill orphans."""
        rows = list(_channel_rows(await self._bgapi("show channels as json", conn)))
        # ``show channels`` reads FreeSWITCH's channel database, which lags the channels by
        # up to a second or so: a call missing from it is asked about directly before it is
        # declared lost (and an orphan before it is spared).
        listed = {str(row.get("uuid")) for row in rows}
        missing = {call.uuid for call in self._table.calls.values()} | self._orphans
        for uuid in sorted(missing - listed):
            if (await self._bgapi(f"uuid_exists {uuid}", conn)).strip() == "true":
                rows.append({"uuid": uuid})
        orphans = self._table.resync(rows, self._orphans, anyio.current_time() - gap_from)
        self._orphans.clear()
        for uuid in orphans:
            log.warning("ESL resync: hanging up orphan channel %s", uuid)
            self._act(Kill(uuid, HangupCause.NORMAL_CLEARING))

    # --- events (runs inside the reader: no awaits, no user code) ---------------------------

    def _emit(self, event: SwitchEvent) -> None:
        """Queue an event for the consumer; never block the reader.

        When the consumer falls behind, events are dropped, loudly (one error when dropping
        starts, one warning with the count when it stops); the last tenth of the buffer is
        kept for the events whose loss would lose a result (answer, end, gap).
        """
        limit = self.event_buffer
        if not isinstance(event, _CRITICAL):
            limit -= max(1, self.event_buffer // 10)
        if self._send.statistics().current_buffer_used >= limit:
            self.dropped_events += 1
            if not self._dropping:
                self._dropping = True
                log.error(
                    "ESL: the event consumer is %d events behind; dropping events (first: %r)",
                    limit,
                    event,
                )
            return
        if self._dropping:
            self._dropping = False
            log.warning(
                "ESL: the consumer caught up; %d events dropped so far", self.dropped_events
            )
        with contextlib.suppress(
            anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError
        ):
            self._send.send_nowait(event)

    def _on_event(self, event: EslEvent) -> None:
        """The reader's callback: our own job waiters first, then the call table."""
        if event.name == "BACKGROUND_JOB":
            waiter = self._waiters.get(event.get("Job-UUID") or "")
            if waiter is not None:
                done, box = waiter
                box.append(event.body)
                done.set()
                return
        self._table.on_event(event)


_UP = ("ACTIVE", "HELD")
"""``callstate`` values of an answered channel."""


def _channel_rows(body: str) -> list[Mapping[str, Any]]:
    """The rows of ``show channels as json`` (BackendUnavailable if it is not that)."""
    try:
        data = json.loads(body)
        rows = data.get("rows") or [] if data.get("row_count") is not None else None
    except (ValueError, AttributeError):
        rows = None
    if not isinstance(rows, list):
        raise BackendUnavailable(f"ESL: unreadable channel list: {body[:80]!r}")
    return [row for row in rows if isinstance(row, dict)]


def _variable(result: str) -> str | None:
    """A ``uuid_getvar`` result: the value, or None (unset, ``-ERR``: no such channel)."""
    value = result.rstrip("\n")
    if not value or value == "_undef_" or value.startswith("-ERR"):
        return None
    return value


def _number(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if number > 0 else None
