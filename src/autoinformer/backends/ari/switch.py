"""AriSwitch: the :class:`~autoinformer.backends.base.Switch` contract over Asterisk ARI.

The I/O shell around :class:`~autoinformer.backends.ari.tracker.CallTracker`: REST requests go
out through :class:`~autoinformer.backends.ari.client.AriClient`; one background task reads
the event WebSocket (httpx-ws, on anyio, so asyncio and trio both work), decodes each frame,
feeds the tracker and forwards the resulting Switch events into one bounded stream. The reader
never runs user code: it parses, routes and, when the consumer is slow, says so in the log and
waits (events are never dropped on our side).

When the WebSocket drops, the reader reconnects with exponential backoff (up to
``reconnect_max`` apart, for as long as the switch is open). Asterisk drops events for a
deactivated application, so after reconnecting the switch resynchronises with
``GET /channels``: calls still there are adopted, vanished calls end (CallEnded), channels in
our application that nobody owns are hung up, and a :class:`BackendGap` tells the runtime how
long it was blind. A resync whose channel list fails is retried on a new connection (never
"assume every call survived"); until one succeeds :attr:`AriSwitch.connected` is False and
``originate`` raises BackendUnavailable at once. :meth:`AriSwitch.orphans` finds the calls a
process that died left on Asterisk (their ``AUTOINFORMER_CAMPAIGN`` channel variable).

``connect()`` and ``close()`` must be called from the same task (``async with`` does that).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import anyio.abc
import attrs
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from httpx_ws import aconnect_ws

from autoinformer.backends import base
from autoinformer.backends.ari import events as ari
from autoinformer.backends.ari.audio import MediaPublisher
from autoinformer.backends.ari.client import AriClient
from autoinformer.backends.ari.settings import AriSettings, render_endpoint
from autoinformer.backends.ari.tracker import (
    CallTracker,
    ContinueToAmd,
    DestroyBridge,
    HangupChannel,
    Output,
)
from autoinformer.backends.pacer import OriginatePacer
from autoinformer.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CallNotFound,
    OriginateError,
    SettingsError,
    WrongCallState,
)
from autoinformer.outcomes import HangupCause

__all__ = ["AriSwitch"]

log = logging.getLogger("autoinformer.backends.ari")

_FIRST_BACKOFF = 0.1
_AWAY_ERROR_EVERY = 60.0
"""While Asterisk is away, an error is logged after this many seconds and then as often."""
_LATE_UPGRADE_WINDOW = 30.0
"""Seconds after a (re)connect during which an ApplicationReplaced may be one of our own
abandoned WebSocket upgrades, served late by an Asterisk that was hung (see ``_run_events``)."""

EVENTS_USED = (
    "StasisStart",
    "StasisEnd",
    "Dial",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "ChannelDtmfReceived",
    "PlaybackFinished",
    "ChannelEnteredBridge",
    "BridgeDestroyed",
    "ApplicationReplaced",
)
"""The event types the tracker acts on; the only ones asked of Asterisk."""


def other_half_id(call_id: str) -> str:
    """The id we give the ``;2`` half of a Local channel (``otherChannelId``)."""
    return f"{call_id}-2"


@attrs.define(kw_only=True, eq=False, init=False)
class AriSwitch(base.Switch):
    """A :class:`~autoinformer.backends.base.Switch` on Asterisk through ARI.

    Build it from :class:`AriSettings`, or from the campaign file's ``[backend]`` keys as
    keyword arguments (``AriSwitch(url=..., username=..., password_env=..., app=...,
    endpoint=...)``, the same checks as :meth:`from_settings`)::

        AriSwitch(url="http://pbx:8088", username="dialer", password_env="ARI_PASSWORD",
                  endpoint="PJSIP/{digits}@trunk")

    The keyword form refuses a plain ``password`` (it comes from a campaign file, where a
    password must not be written); code that holds the password itself passes
    ``AriSettings(..., password=...)``.

    Args:
        settings: where Asterisk is and how to dial (see :class:`AriSettings`).
        transport: an httpx transport for the REST half (tests); the default is the network.
        environ: where ``password_env`` is looked up (default ``os.environ``).
        **options: the ``[backend]`` keys, when ``settings`` is not given.

    Raises:
        SettingsError: a setting is missing or wrong (the message names it).
    """

    settings: AriSettings
    transport: httpx.AsyncBaseTransport | None = None
    _client: AriClient = attrs.field(init=False)
    _tracker: CallTracker = attrs.field(init=False)
    _media: MediaPublisher = attrs.field(init=False)
    _pacer: OriginatePacer = attrs.field(init=False)
    _send: MemoryObjectSendStream[base.SwitchEvent] = attrs.field(init=False)
    _receive: MemoryObjectReceiveStream[base.SwitchEvent] = attrs.field(init=False)
    _tg: anyio.abc.TaskGroup | None = attrs.field(init=False, default=None)
    _first_attempt: anyio.Event | None = attrs.field(init=False, default=None)
    _first_error: str | None = attrs.field(init=False, default=None)
    _closing: bool = attrs.field(init=False, default=False)
    _stream_closed: bool = attrs.field(init=False, default=False)
    _amd_waiters: dict[str, anyio.Event] = attrs.field(init=False, factory=dict)
    _slow_consumer_logged: bool = attrs.field(init=False, default=False)
    _ws: Any = attrs.field(init=False, default=None)
    """The event WebSocket while it is open (drills close it to drop the link)."""
    connected: bool = attrs.field(init=False, default=False)
    """True while the event WebSocket is up and resynchronised (originate works)."""
    gaps: int = attrs.field(init=False, default=0)
    """How many times the event connection dropped and came back."""
    replaced: bool = attrs.field(init=False, default=False)
    """True once another client took our application name over (the event stream ended)."""
    _late_upgrades: int = attrs.field(init=False, default=0)
    """WebSocket upgrades we gave up on (timed out) that Asterisk may still serve."""
    _connected_at: float = attrs.field(init=False, default=-math.inf)

    def __init__(
        self,
        settings: AriSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        if settings is None:
            # The same checks as from_settings (a plain ``password`` key is refused): this is
            # what the CLI builds from a campaign file's ``[backend]`` table.
            settings = AriSettings.from_settings(options, environ=environ)
        elif options:
            raise SettingsError("backend", "give either settings= or the keyword settings")
        self.__attrs_init__(settings=settings, transport=transport)

    def __attrs_post_init__(self) -> None:
        self._client = AriClient(settings=self.settings, transport=self.transport)
        self._tracker = CallTracker(
            app=self.settings.app, hangup_bridge_peers=self.settings.hangup_bridge_peers
        )
        self._media = MediaPublisher(settings=self.settings)
        self._pacer = OriginatePacer(self.settings.max_calls_per_second)
        self._send, self._receive = anyio.create_memory_object_stream[base.SwitchEvent](
            self.settings.event_buffer
        )

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
    ) -> AriSwitch:
        """An AriSwitch from the ``[backend]`` table (``url``, ``username``, ``password_env``,
        ``app``, ``endpoint``, ``audio``, ``sounds_dir``, ``media_url``, ``media_dir``...).

        Raises:
            SettingsError: a key is unknown, missing or wrong (the message names it).
        """
        return cls(AriSettings.from_settings(settings, environ=environ))

    # --- life cycle -----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the REST pool and the event WebSocket; start the reader.

        Raises:
            BackendUnavailable: Asterisk cannot be reached, or refuses our credentials.
        """
        if self._tg is not None:
            return
        if self._stream_closed:  # closed before: a fresh stream for the new connection
            self._send, self._receive = anyio.create_memory_object_stream[base.SwitchEvent](
                self.settings.event_buffer
            )
            self._stream_closed = False
        self._closing = False
        self._client.open()
        self._first_attempt = anyio.Event()
        self._first_error = None
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        tg.start_soon(self._run_events)
        await self._first_attempt.wait()
        if self._first_error is not None:
            error = self._first_error
            await self.close()
            raise BackendUnavailable(f"cannot open the ARI event stream: {error}")

    async def close(self) -> None:
        """Stop the reader and close the connections; calls in progress stay on Asterisk.

        The event stream ends: a consumer gets the events already received, then the end of
        the iteration (after a new :meth:`connect`, :meth:`events` gives a fresh stream).
        """
        self._closing = True
        tg, self._tg = self._tg, None
        if tg is not None:
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)
        await self._client.aclose()
        self.connected = False
        self._send.close()
        self._stream_closed = True
        for back in self._amd_waiters.values():  # held plays go on (and fail: not connected)
            back.set()
        self._amd_waiters.clear()

    def events(self) -> AsyncIterator[base.SwitchEvent]:
        """The one stream of events, in the order Asterisk sent them; ends at :meth:`close`."""
        return self._receive

    # --- requests ----------------------------------------------------------------------------

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
        if not self.connected:
            raise BackendUnavailable(f"originate {call_id}: not connected to Asterisk")
        await self._pacer.wait()
        if not self.connected:
            raise BackendUnavailable(f"originate {call_id}: not connected to Asterisk")
        if operator:
            endpoint = destination
        else:
            try:
                endpoint = render_endpoint(self.settings.endpoint, destination)
            except ValueError as exc:
                raise OriginateError(f"originate {call_id}: {exc}") from None
        if not math.isfinite(ring_timeout) or ring_timeout <= 0:
            raise OriginateError(f"originate {call_id}: ring_timeout must be positive")
        other = other_half_id(call_id)
        if self._tracker.has_call(call_id) or self._tracker.has_call(other):
            raise OriginateError(
                f"originate {call_id}: this switch has a call with that id in progress; "
                "call ids must be unique"
            )
        # Only a Local channel has a ;2 half whose cause is worth waiting for.
        local = endpoint.lower().startswith("local/")
        self._tracker.expect_call(
            call_id,
            other_id=other if local else None,
            detect_machine=detect_machine,
            operator=operator,
        )
        try:
            await self._client.originate(
                channel_id=call_id,
                other_id=other,
                endpoint=endpoint,
                app_args="operator" if operator else "dial",
                caller_id=caller_id,
                ring_timeout=ring_timeout,
                variables=variables or {},
                refused=OriginateError,
            )
        except (BackendTimeout, BackendUnavailable) as exc:
            # No clear answer: the call may exist on Asterisk although we report failure.
            # Its events are ignored from now on; those that overtook the reply are closed
            # with a CallEnded, and the call is hung up so it does not ring on unobserved.
            closing = self._tracker.abandon_call(call_id, f"originate failed: {exc}")
            if self._tg is not None and (closing or isinstance(exc, BackendTimeout)):
                self._tg.start_soon(self._quietly, self._client.hangup(call_id, 16))
            await self._dispatch(closing)
            raise
        except WrongCallState as exc:
            self._tracker.forget_call(call_id)
            raise OriginateError(
                f"originate {call_id}: Asterisk already has a channel with this id (or "
                f"{other}); call ids must be unique while their calls last ({exc})"
            ) from None
        except BackendError as exc:
            self._tracker.forget_call(call_id)
            if isinstance(exc, OriginateError):
                raise
            raise OriginateError(str(exc)) from None

    async def play(self, call_id: str, media: base.Media, *, playback_id: str) -> None:
        """Start a playback; ``PlaybackFinished`` follows (with ``error`` if Asterisk could
        not play it: a missing file, or a request Asterisk refused with 400).

        Raises:
            MediaError: a media Asterisk cannot play as meant (``tts:`` text, a comma in a
                name, an unknown scheme, a WAV format it does not read); nothing was sent.
            CallNotFound, WrongCallState: the call is gone or not in Stasis.
        """
        uri = await self._media.uri(media)
        if self._tracker.in_amd(call_id):
            # AMD() still runs (the caller stopped waiting for its verdict): Asterisk would
            # refuse the play (409) as the call is outside Stasis. Wait for it to come back,
            # or end, within one request timeout; then play (or fail) as usual.
            back = self._amd_waiters.setdefault(call_id, anyio.Event())
            with anyio.move_on_after(self.settings.request_timeout):
                await back.wait()
        self._tracker.expect_playback(call_id, playback_id)
        try:
            await self._client.play(call_id, playback_id, uri)
        except (CallNotFound, WrongCallState, BackendUnavailable, BackendTimeout):
            # The call is gone or not ours to play on now, or Asterisk is away: the call's
            # own events (CallEnded, BackendGap) tell the rest.
            self._tracker.forget_playback(playback_id)
            raise
        except BackendError as exc:
            # Asterisk refused the media itself: a playback that failed, not a call problem.
            await self._dispatch(self._tracker.playback_refused(playback_id, str(exc)))

    async def stop_playback(self, call_id: str, playback_id: str) -> None:
        self._tracker.stopping_playback(playback_id)
        with contextlib.suppress(CallNotFound):  # it had already finished
            await self._client.stop_playback(playback_id)

    async def bridge(self, bridge_id: str, call_ids: tuple[str, ...]) -> None:
        self._tracker.expect_bridge(bridge_id, call_ids)
        try:
            await self._client.create_bridge(bridge_id)
        except BackendError:
            self._tracker.forget_bridge(bridge_id)
            raise
        try:
            await self._client.add_channels(bridge_id, call_ids)
        except BackendError:
            # Not bridged: a leg ending later must not take the other down as its peer.
            self._tracker.forget_bridge(bridge_id)
            await self._quietly(self._client.destroy_bridge(bridge_id))
            raise

    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        self._tracker.ending(call_id)
        with contextlib.suppress(CallNotFound):  # gone already: its CallEnded is on the way
            await self._client.hangup(call_id, int(cause))

    # --- the event reader --------------------------------------------------------------------

    async def _run_events(self) -> None:
        backoff = _FIRST_BACKOFF
        gap_started: float | None = None
        next_error = math.inf
        url = f"{self.settings.base_url}/events"
        params = {"app": self.settings.app, "subscribeAll": "false"}
        while not self._closing:
            try:
                async with aconnect_ws(  # type: ignore[var-annotated]
                    url,
                    self._client.http,
                    params=params,
                    keepalive_ping_interval_seconds=10.0,
                    keepalive_ping_timeout_seconds=10.0,
                    queue_size=4096,
                    max_message_size_bytes=4 << 20,
                ) as ws:
                    self._ws = ws
                    self._connected_at = anyio.current_time()
                    await self._filter_events()
                    if gap_started is not None:
                        # A failed resync raises: this connection is dropped and the next
                        # one tries again (the gap goes on).
                        await self._resync(anyio.current_time() - gap_started)
                        gap_started = None
                    self.connected = True
                    if self._first_attempt is not None and not self._first_attempt.is_set():
                        self._first_attempt.set()
                    backoff = _FIRST_BACKOFF
                    await self._read(ws)
            except Exception as exc:  # httpx-ws raises plain errors and ExceptionGroups
                self.connected = False
                now = anyio.current_time()
                if self._ws is None and _contains(exc, httpx.TimeoutException):
                    # A hung Asterisk (SIGSTOP, overload) accepts the TCP connection and
                    # answers nothing: the upgrade we give up on stays queued there, and
                    # when Asterisk carries on it is served, after our next connection, and
                    # takes our application over (ApplicationReplaced) to a dead socket.
                    self._late_upgrades += 1
                elif self._ws is not None and now - self._connected_at > _LATE_UPGRADE_WINDOW:
                    self._late_upgrades = 0  # a session that lasted: nothing late remains
                if (
                    _contains(exc, _Replaced)
                    and self._late_upgrades > 0
                    and now - self._connected_at <= _LATE_UPGRADE_WINDOW
                ):
                    # Our own abandoned upgrade, not another dialer: reconnect (one per
                    # abandoned upgrade at most, so two dialers never steal the name forever).
                    self._late_upgrades -= 1
                    log.warning(
                        "ARI application %r taken over just after a reconnect, by one of our "
                        "own upgrades Asterisk served late (it was hung); reconnecting",
                        self.settings.app,
                    )
                elif _contains(exc, _Replaced):
                    self.replaced = True
                    log.error(
                        "another client took over the ARI application %r; this switch stops "
                        "reading events (run one dialer per application name)",
                        self.settings.app,
                    )
                    self._send.close()
                    self._stream_closed = True
                    return
                elif self._first_attempt is not None and not self._first_attempt.is_set():
                    self._first_error = _describe(exc)
                    self._first_attempt.set()
                    return
                else:
                    log.warning("ARI event stream lost (%s); reconnecting", _describe(exc))
            self.connected = False
            self._ws = None
            if self._closing:
                return
            now = anyio.current_time()
            if gap_started is None:
                gap_started = now
                next_error = now + _AWAY_ERROR_EVERY
            elif now >= next_error:
                next_error = now + _AWAY_ERROR_EVERY
                log.error(
                    "Asterisk has been away for %.0f s; still reconnecting", now - gap_started
                )
            await anyio.sleep(backoff)
            backoff = min(backoff * 2, self.settings.reconnect_max)

    async def _read(self, ws: Any) -> None:
        while True:
            deadline = self._tracker.next_deadline()
            text: str | None = None
            if deadline is None:
                text = await ws.receive_text()  # no cancel scope per event when none is due
            else:
                with anyio.move_on_after(max(0.0, deadline - time.monotonic())):
                    text = await ws.receive_text()
            now = time.monotonic()
            if text is None:
                await self._dispatch(self._tracker.due(now))
                continue
            try:
                event = ari.decode_event(text)
            except ari.AriDecodeError as exc:
                log.error("ignoring an unreadable ARI event: %s", exc)
                continue
            if isinstance(event, ari.ApplicationReplaced):
                raise _Replaced
            await self._dispatch(self._tracker.feed(event, now))

    async def _filter_events(self) -> None:
        # Asterisk sends every event about our channels (ChannelVarset, ChannelDialplan...);
        # asking only for the ones the tracker reads halves the traffic. Events before the
        # filter takes effect are decoded and passed over like any other.
        try:
            await self._client.set_event_filter(EVENTS_USED)
        except BackendError as exc:
            log.info("Asterisk keeps sending every event type (no event filter: %s)", exc)

    async def _resync(self, gap: float) -> None:
        """Reconcile our calls with ``GET /channels``; BackendError if the list failed (the
        caller reconnects and tries again: calls it cannot confirm are never kept alive)."""
        try:
            channels = await self._client.list_channels()
        except BackendError as exc:
            log.error("resynchronisation after an event gap failed (%s); retrying", exc)
            raise
        self.gaps += 1
        log.warning("ARI event stream back after %.1f s", gap)
        await self._dispatch(self._tracker.reconcile(channels, gap_seconds=gap))

    # --- orphans ------------------------------------------------------------------------------

    async def orphans(self, campaign: str) -> list[base.Orphan]:
        """Calls of ``campaign`` on Asterisk that this switch did not place (a process that
        died left them): ``GET /channels``, then the ``AUTOINFORMER_CAMPAIGN`` variable of
        each channel we do not know (the ``;2`` halves of our Local channels are skipped:
        they end with their ``;1``).

        Raises:
            BackendUnavailable: not connected.
        """
        if not self.connected:
            raise BackendUnavailable("orphans: not connected to Asterisk")
        channels = await self._client.list_channels()
        ids = {channel.id for channel in channels}
        found: list[base.Orphan] = []
        for channel in channels:
            if self._tracker.has_call(channel.id):
                continue
            if channel.id.endswith("-2") and channel.id[:-2] in ids:
                continue  # the other half of a Local channel listed too
            owner = await self._client.get_variable(channel.id, "AUTOINFORMER_CAMPAIGN")
            if owner != campaign:
                continue
            found.append(
                base.Orphan(
                    channel.id,
                    (channel.id,),
                    answered=channel.state == "Up",
                    since=_creation_time(channel.created),
                )
            )
        return found

    async def hangup_orphan(self, orphan: base.Orphan) -> None:
        """``DELETE /channels/{id}`` for each of its channels; no error if they are gone."""
        for channel_id in orphan.channels:
            with contextlib.suppress(CallNotFound):
                await self._client.hangup(channel_id, int(HangupCause.NORMAL_CLEARING))

    async def _dispatch(self, outputs: list[Output]) -> None:
        tg = self._tg
        for output in outputs:
            if isinstance(output, ContinueToAmd):
                if tg is not None:
                    tg.start_soon(self._send_to_amd, output.call_id)
            elif isinstance(output, HangupChannel):
                if tg is not None:
                    tg.start_soon(
                        self._quietly, self._client.hangup(output.channel_id, int(output.cause))
                    )
            elif isinstance(output, DestroyBridge):
                if tg is not None:
                    tg.start_soon(self._quietly, self._client.destroy_bridge(output.bridge_id))
            else:
                await self._emit(output)
        if self._amd_waiters:
            self._wake_amd_waiters()

    async def _emit(self, event: base.SwitchEvent) -> None:
        try:
            self._send.send_nowait(event)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            # close() ended the stream, or the consumer closed its end: nobody listens.
            log.debug("event for nobody dropped: %r", event)
        except anyio.WouldBlock:
            if not self._slow_consumer_logged:
                self._slow_consumer_logged = True
                log.warning(
                    "the consumer of ARI events is slow (%d waiting); reading slows down",
                    self.settings.event_buffer,
                )
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await self._send.send(event)

    def _wake_amd_waiters(self) -> None:
        """Release the plays held for calls that are back from AMD (or gone)."""
        for call_id, back in list(self._amd_waiters.items()):
            if not self._tracker.in_amd(call_id):
                del self._amd_waiters[call_id]
                back.set()

    async def _send_to_amd(self, call_id: str) -> None:
        try:
            await self._client.continue_in_dialplan(call_id, self.settings.amd_context)
        except (CallNotFound, WrongCallState):
            pass  # the call ended meanwhile; its CallEnded reports it
        except BackendError as exc:
            log.error("cannot start machine detection on %s: %s", call_id, exc)
            self._tracker.amd_not_started(call_id)  # still in Stasis: no verdict will come
            self._wake_amd_waiters()

    @staticmethod
    async def _quietly(request: Any) -> None:
        try:
            await request
        except (CallNotFound, WrongCallState):
            pass
        except BackendError as exc:
            log.warning("ARI clean-up request failed: %s", exc)


class _Replaced(Exception):
    """ApplicationReplaced arrived: another WebSocket owns our application now."""


def _contains(exc: BaseException, kind: type[BaseException]) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return any(_contains(e, kind) for e in exc.exceptions)
    return isinstance(exc, kind)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if str(exc) else text


def _creation_time(text: str) -> float | None:
    """ARI's ``creationtime`` (``2026-12-07T06:08:29.123+0000``) in POSIX seconds."""
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return dt.datetime.strptime(text, fmt).timestamp()
        except ValueError:
            continue
    return None
