"""The telephone side of the fake ARI server: channels, called parties, playbacks, bridges.

It sends what Asterisk 22.10.1 sent for the same requests (``tests/backends/recordings/
ari_*.jsonl``; ``test_ari_recorded.py`` compares them per channel): both halves of a ``Local/``
channel report events; a failed call never reaches Stasis (Busy()/Congestion(): ``Dial``
BUSY/CONGESTION, cause 0 on our ``;1`` half and 17/34 on ``;2``; Hangup(21)/Hangup(1): a
generic ``Dial`` NOANSWER with the cause on both halves; our ring timeout: cause 19, no final
``Dial``); a hang-up over REST gives ``ChannelHangupRequest`` then ``ChannelDestroyed`` (and
``Dial`` NOANSWER while it rings); playbacks cut short by a hang-up finish ``failed``; a bridge
made over REST sends no ``BridgeCreated``. Called parties follow
:mod:`autoinformer.testing.parties` (the last digit of the dialled number); every duration is
in model seconds and multiplied by ``time_scale`` to get real seconds.

REST handlers call the synchronous methods here; they raise :class:`AriHttpError` with the
status real Asterisk uses (404 unknown channel, 409 not in Stasis, 422 not in Stasis for a
bridge, 400 bad endpoint). Events go out through the ``emit`` callback given at construction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import attrs

from autoinformer.testing.parties import OPERATOR_TALK_SECONDS, Party, party_for

__all__ = ["HANGUP_REASONS", "AriHttpError", "FakeChannel", "FakePbx"]

HANGUP_REASONS: dict[str, int] = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 19,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}
"""ARI ``reason`` values and the Q.850 causes Asterisk turns them into."""

_FAIL_STATUS = {17: "BUSY", 19: "NOANSWER", 20: "CHANUNAVAIL"}
_BUSY_APPS = {17: "BUSY", 34: "CONGESTION"}
_SCHEMES = frozenset({"sound", "recording", "number", "digits", "characters", "tone"})
_TECHNOLOGIES = ("PJSIP", "SIP", "IAX2", "DAHDI", "Local", "Test")
_CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
}
_sequence = itertools.count(1)


class AriHttpError(Exception):
    """A REST request Asterisk would refuse, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _now() -> str:
    stamp = dt.datetime.now(dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


@attrs.define(kw_only=True, eq=False)
class FakeChannel:
    """One channel (one half of a Local channel pair has ``peer`` set to the other)."""

    id: str
    name: str
    endpoint: str
    app: str = ""
    """The Stasis application that originated it (subscribed to its events)."""
    caller_number: str = ""
    state: str = "Down"
    app_args: str = ""
    in_stasis: bool = False
    answered: bool = False
    destroyed: bool = False
    context: str = "default"
    exten: str = "s"
    app_name: str = "AppDial2"
    app_data: str = "(Outgoing Line)"
    created: str = attrs.field(factory=_now)
    half_two: FakeChannel | None = None
    bridge_id: str | None = None
    variables: dict[str, str] = attrs.field(factory=dict)
    scope: anyio.CancelScope = attrs.field(factory=anyio.CancelScope)

    def snapshot(self) -> dict[str, Any]:
        """The ARI ``Channel`` model of this channel."""
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": "",
            "caller": {"name": "", "number": self.caller_number},
            "connected": {"name": "", "number": ""},
            "accountcode": "",
            "dialplan": {
                "context": self.context,
                "exten": self.exten,
                "priority": 1,
                "app_name": self.app_name,
                "app_data": self.app_data,
            },
            "creationtime": self.created,
            "language": "en",
        }


@attrs.define(kw_only=True, eq=False)
class FakePbx:
    """Channels, playbacks and bridges of the fake Asterisk (see the module docstring).

    Args:
        emit: called with each event body (without the envelope) the PBX produces.
        app_active: tells whether our Stasis application has a WebSocket now.
        time_scale: real seconds per model second.
        operator_marker: an endpoint containing this text is an operator: answers after 1 s
            and talks :data:`~autoinformer.testing.parties.OPERATOR_TALK_SECONDS`.
        machine_numbers: numbers (digits) answered by a machine; others are people.
        amd_context: the dialplan context whose AMD() returns to Stasis with a verdict.
        media_seconds: how long a media URI plays, in model seconds.
        sound_exists: whether Asterisk has the sound ``name`` (of ``sound:name``); a sound it
            does not have finishes ``failed``. Default: every name but those containing
            ``does-not-exist``.
    """

    emit: Callable[[dict[str, Any]], None]
    app_active: Callable[[str], bool]
    time_scale: float = 0.01
    operator_marker: str = "operator"
    machine_numbers: frozenset[str] = frozenset()
    amd_context: str = "autoinformer-amd"
    media_seconds: Callable[[str], float] = lambda uri: 1.0
    sound_exists: Callable[[str], bool] = lambda name: "does-not-exist" not in name
    channels: dict[str, FakeChannel] = attrs.field(init=False, factory=dict)
    bridges: dict[str, dict[str, Any]] = attrs.field(init=False, factory=dict)
    playbacks: dict[str, tuple[str, str, anyio.CancelScope]] = attrs.field(init=False, factory=dict)
    _tg: anyio.abc.TaskGroup | None = attrs.field(init=False, default=None)
    _stuck: set[str] = attrs.field(init=False, factory=set)

    def attach(self, tg: anyio.abc.TaskGroup) -> None:
        """The task group that runs the channels' timelines."""
        self._tg = tg

    async def _sleep(self, model_seconds: float) -> None:
        if math.isinf(model_seconds):
            await anyio.sleep_forever()
        await anyio.sleep(max(0.0, model_seconds * self.time_scale))

    def _spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._tg is None:
            raise RuntimeError("FakePbx is not attached to a task group")
        self._tg.start_soon(fn, *args)

    # --- channels ---------------------------------------------------------------------------

    def originate(
        self,
        *,
        endpoint: str,
        app: str,
        app_args: str,
        channel_id: str | None,
        other_id: str | None,
        caller_id: str,
        timeout: int,
        variables: dict[str, str],
    ) -> FakeChannel:
        """Place a call (``POST /channels``); the reply snapshot is in state Down."""
        tech, _, resource = endpoint.partition("/")
        if not resource or tech not in _TECHNOLOGIES:
            raise AriHttpError(400, "Endpoint must be in the format technology/resource")
        number = next(_sequence)
        cid = channel_id or f"{1_795_000_000 + number}.{2 * number}"
        if cid in self.channels:
            raise AriHttpError(409, "Channel with given unique ID already exists")
        is_local = tech == "Local"
        base = f"{endpoint}-{number:08x}"
        channel = FakeChannel(
            id=cid,
            name=f"{base};1" if is_local else f"{tech}/{resource.split('@')[-1]}-{number:08x}",
            endpoint=endpoint,
            app=app,
            caller_number=_digits(caller_id),
            app_args=app_args,
            variables=dict(variables),
        )
        if is_local:
            channel.half_two = FakeChannel(
                id=other_id or f"{1_795_000_000 + number}.{2 * number + 1}",
                name=f"{base};2",
                endpoint=endpoint,
                app=app,
                context=resource.partition("@")[2] or "default",
                exten=resource.partition("@")[0],
                app_name="",
                app_data="",
            )
            self.channels[channel.half_two.id] = channel.half_two
        self.channels[cid] = channel
        # The first Dial event races ahead of the HTTP reply, as on a real Asterisk.
        self.emit(
            {"type": "Dial", "dialstatus": "", "dialstring": resource, "peer": channel.snapshot()}
        )
        self._spawn(self._run_call, channel, app, max(1, timeout))
        return channel

    def channel(self, channel_id: str) -> FakeChannel:
        """The live channel, or 404."""
        channel = self.channels.get(channel_id)
        if channel is None or channel.destroyed:
            raise AriHttpError(404, "Channel not found")
        return channel

    def _party(self, channel: FakeChannel) -> Party | None:
        if self.operator_marker in channel.endpoint:
            return None
        return party_for(channel.endpoint)

    async def _run_call(self, channel: FakeChannel, app: str, ring_limit: int) -> None:
        with channel.scope:
            await anyio.lowlevel.checkpoint()
            party = self._party(channel)
            ring = 1.0 if party is None else party.ring_seconds
            answers = party is None or party.answers
            fails = party is not None and party.fail_cause is not None
            # A Local channel rings only when its dialplan says Ringing(): the callee that
            # never answers (party 3). Answering and failing parties of the test dialplan do
            # not; a trunk channel (PJSIP...) rings before either.
            if channel.half_two is None or not (answers or fails):
                channel.state = "Ringing"
                self.emit({"type": "ChannelStateChange", "channel": channel.snapshot()})
                self.emit({"type": "Dial", "dialstatus": "RINGING", "peer": channel.snapshot()})
            if (answers or fails) and ring < ring_limit:
                await self._sleep(ring)
                if channel.destroyed:  # hung up while the sleep was ending
                    return
                if answers:
                    await self._answered(channel, app, party)
                    return
                assert party is not None
                assert party.fail_cause is not None
                self._fail(channel, int(party.fail_cause))
                return
            await self._sleep(ring_limit)
            if channel.destroyed:
                return
            self._ring_timeout(channel)

    def _hangup_request(self, channel: FakeChannel, cause: int, *, soft: bool = False) -> None:
        body: dict[str, Any] = {"type": "ChannelHangupRequest", "cause": cause}
        if soft:
            body["soft"] = True
        self.emit({**body, "channel": channel.snapshot()})

    def _fail(self, channel: FakeChannel, cause: int) -> None:
        """The callee fails before answer with ``cause``, in Asterisk 22's words."""
        half = channel.half_two
        if half is None:  # a trunk: the dial status, then the cause on our channel
            status = _FAIL_STATUS.get(cause, "CONGESTION")
            self.emit({"type": "Dial", "dialstatus": status, "peer": channel.snapshot()})
            self.destroy(channel, cause)
            return
        if cause in _BUSY_APPS:  # Busy() / Congestion(): app_dial knows the status
            half.state = "Busy"
            self.emit({"type": "ChannelStateChange", "channel": half.snapshot()})
            self.emit({"type": "Dial", "dialstatus": _BUSY_APPS[cause], "peer": channel.snapshot()})
            self._hangup_request(half, 0)
            self._destroyed(channel, 0)
            self._hangup_request(half, 16, soft=True)
            self._destroyed(half, cause)
            return
        # Hangup(cause) in the dialplan (21 rejected, 1 unallocated...): the status is a
        # generic NOANSWER, the cause is on both halves.
        self._hangup_request(half, 16, soft=True)
        self._hangup_request(channel, cause)
        self._destroyed(half, cause)
        self.emit({"type": "Dial", "dialstatus": "NOANSWER", "peer": channel.snapshot()})
        self._destroyed(channel, cause)

    def _ring_timeout(self, channel: FakeChannel) -> None:
        """Our ``timeout`` ran out while it rang: cause 19, no final Dial on a Local channel."""
        half = channel.half_two
        if half is None:
            self.emit({"type": "Dial", "dialstatus": "NOANSWER", "peer": channel.snapshot()})
            self.destroy(channel, 19)
            return
        self._hangup_request(half, 19)
        self._hangup_request(half, 16, soft=True)
        self._destroyed(half, 19)
        self._destroyed(channel, 19)

    async def _answered(self, channel: FakeChannel, app: str, party: Party | None) -> None:
        channel.state = "Up"
        channel.answered = True
        if channel.half_two is not None:
            channel.half_two.state = "Up"
            self.emit({"type": "ChannelStateChange", "channel": channel.half_two.snapshot()})
        self.emit({"type": "ChannelStateChange", "channel": channel.snapshot()})
        self.emit({"type": "Dial", "dialstatus": "ANSWER", "peer": channel.snapshot()})
        if not self.app_active(app):
            self.destroy(channel, 16)  # Stasis() fails at once while the app is away
            return
        self._enter_stasis(channel, app, [channel.app_args] if channel.app_args else [])
        timeline: list[tuple[float, str]] = []
        if party is None:
            timeline.append((OPERATOR_TALK_SECONDS, ""))
        else:
            timeline.extend(party.digits)
            if party.stays_seconds is not None:
                timeline.append((party.stays_seconds, ""))
        elapsed = 0.0
        for at, digit in sorted(timeline, key=lambda item: item[0]):
            await self._sleep(at - elapsed)
            elapsed = at
            if channel.destroyed:
                return
            if digit:
                self.emit(
                    {
                        "type": "ChannelDtmfReceived",
                        "digit": digit,
                        "duration_ms": 100,
                        "channel": channel.snapshot(),
                    }
                )
            else:
                self.callee_hangs_up(channel)
                return
        await anyio.sleep_forever()

    def callee_hangs_up(self, channel: FakeChannel, cause: int = 16) -> None:
        """The callee ends an answered call (its side sends the hang-up first)."""
        if channel.destroyed:
            return
        half = channel.half_two
        if half is not None:
            self._hangup_request(half, cause, soft=True)
        self._hangup_request(channel, cause)
        if half is not None and not half.destroyed:
            self._destroyed(half, cause)  # the callee's half goes first
        self.destroy(channel, cause)

    def _enter_stasis(self, channel: FakeChannel, app: str, args: list[str]) -> None:
        channel.in_stasis = True
        channel.app_name = "Stasis"
        channel.app_data = ",".join([app, *args])
        self.emit({"type": "StasisStart", "args": args, "channel": channel.snapshot()})

    def hangup(self, channel_id: str, cause: int) -> None:
        """``DELETE /channels/{id}`` (a ringing call's dial ends NOANSWER, as on Asterisk 22)."""
        channel = self.channel(channel_id)
        self._hangup_request(channel, 32, soft=True)
        if not channel.answered:
            self.emit({"type": "Dial", "dialstatus": "NOANSWER", "peer": channel.snapshot()})
        self.destroy(channel, cause)

    def destroy(self, channel: FakeChannel, cause: int) -> None:
        """End a channel: its playbacks fail, it leaves bridge and Stasis, then
        ChannelDestroyed with ``cause`` (both halves of a Local channel)."""
        if channel.destroyed:
            return
        channel.scope.cancel()
        for playback_id, (target, uri, scope) in list(self.playbacks.items()):
            if target == channel.id:
                scope.cancel()
                del self.playbacks[playback_id]
                if playback_id in self._stuck:  # not even a hang-up finishes it
                    self._stuck.discard(playback_id)
                    continue
                self.emit(
                    {
                        "type": "PlaybackFinished",
                        "playback": self._playback(playback_id, uri, target, "failed"),
                    }
                )
        if channel.bridge_id is not None and channel.bridge_id in self.bridges:
            bridge = self.bridges[channel.bridge_id]
            bridge["channels"].remove(channel.id)
            self.emit(
                {"type": "ChannelLeftBridge", "bridge": dict(bridge), "channel": channel.snapshot()}
            )
        if channel.in_stasis:
            channel.in_stasis = False
            self.emit({"type": "StasisEnd", "channel": channel.snapshot()})
        half = channel.half_two
        if half is not None and not half.destroyed:
            self._hangup_request(half, cause)
        self._destroyed(channel, cause)
        if half is not None and not half.destroyed:
            self._hangup_request(half, 16, soft=True)
            self._destroyed(half, cause)

    def _destroyed(self, channel: FakeChannel, cause: int) -> None:
        channel.destroyed = True
        channel.scope.cancel()
        self.emit(
            {
                "type": "ChannelDestroyed",
                "cause": cause,
                "cause_txt": _CAUSE_TEXT.get(cause, "Unknown"),
                "channel": channel.snapshot(),
            }
        )
        self.channels.pop(channel.id, None)

    def continue_in_dialplan(self, channel_id: str, context: str, app: str) -> None:
        """``POST /channels/{id}/continue``: leave Stasis; the AMD context comes back."""
        channel = self.channel(channel_id)
        if not channel.in_stasis:
            raise AriHttpError(409, "Channel not in Stasis application")
        channel.in_stasis = False
        channel.app_name, channel.app_data, channel.context = "AMD", "", context
        self.emit({"type": "StasisEnd", "channel": channel.snapshot()})
        if context == self.amd_context:
            self._spawn(self._run_amd, channel, app)

    async def _run_amd(self, channel: FakeChannel, app: str) -> None:
        await self._sleep(1.5)
        if channel.destroyed:
            return
        if not self.app_active(app):
            self.destroy(channel, 16)
            return
        digits = _digits(channel.endpoint)
        machine = any(m and digits.endswith(m) for m in self.machine_numbers)
        verdict = (
            ["amd", "MACHINE", "LONGGREETING-1500-1500"]
            if machine
            else ["amd", "HUMAN", "HUMAN-300-500"]
        )
        self._enter_stasis(channel, app, verdict)

    # --- playbacks --------------------------------------------------------------------------

    @staticmethod
    def _playback(
        playback_id: str, uri: str, target: str, state: str, next_uri: str = ""
    ) -> dict[str, Any]:
        body = {
            "id": playback_id,
            "media_uri": uri,
            "target_uri": f"channel:{target}",
            "language": "en",
            "state": state,
        }
        if next_uri:
            body["next_media_uri"] = next_uri
        return body

    def play(self, channel_id: str, media: list[str], playback_id: str | None) -> dict[str, Any]:
        """``POST /channels/{id}/play``; PlaybackStarted now, PlaybackFinished later.

        As on Asterisk 22: each ``media`` value is a comma-separated list (played in turn,
        with PlaybackContinuing between items); a sound that :attr:`sound_exists` denies
        finishes ``failed`` at once; a URI scheme Asterisk does not know starts and never
        finishes (until the channel hangs up).
        """
        channel = self.channel(channel_id)
        if not channel.in_stasis:
            raise AriHttpError(409, "Channel not in a Stasis application")
        pid = playback_id or f"pb-{next(_sequence)}"
        if pid in self.playbacks:
            raise AriHttpError(409, "Playback with given id already exists")
        items = [item for value in media for item in value.split(",")]
        scope = anyio.CancelScope()
        self.playbacks[pid] = (channel.id, items[0], scope)
        following = items[1] if len(items) > 1 else ""
        self._spawn(self._run_playback, pid, items, scope)
        return self._playback(pid, items[0], channel.id, "queued", following)

    async def _run_playback(
        self, playback_id: str, media: list[str], scope: anyio.CancelScope
    ) -> None:
        with scope:
            await anyio.lowlevel.checkpoint()  # the reply leaves first
            for index, uri in enumerate(media):
                entry = self.playbacks.get(playback_id)
                if entry is None:
                    return
                target = entry[0]
                self.playbacks[playback_id] = (target, uri, scope)
                following = media[index + 1] if index + 1 < len(media) else ""
                self.emit(
                    {
                        "type": "PlaybackStarted",
                        "playback": self._playback(playback_id, uri, target, "playing", following),
                    }
                )
                scheme = uri.partition(":")[0]
                if scheme not in _SCHEMES:
                    self._stuck.add(playback_id)
                    await anyio.sleep_forever()  # Asterisk 22 never finishes it
                if scheme == "sound" and not self.sound_exists(uri.removeprefix("sound:")):
                    self.playbacks.pop(playback_id, None)
                    self.emit(
                        {
                            "type": "PlaybackFinished",
                            "playback": self._playback(playback_id, uri, target, "failed"),
                        }
                    )
                    return
                await self._sleep(self.media_seconds(uri))
                if following:
                    self.emit(
                        {
                            "type": "PlaybackContinuing",
                            "playback": self._playback(
                                playback_id, uri, target, "continuing", following
                            ),
                        }
                    )
            entry = self.playbacks.pop(playback_id, None)
            if entry is None:  # stopped or hung up while the last sleep was ending
                return
            target, uri, _ = entry
            self.emit(
                {
                    "type": "PlaybackFinished",
                    "playback": self._playback(playback_id, uri, target, "done"),
                }
            )

    def stop_playback(self, playback_id: str) -> None:
        """``DELETE /playbacks/{id}``."""
        entry = self.playbacks.pop(playback_id, None)
        if entry is None:
            raise AriHttpError(404, "Playback not found")
        target, uri, scope = entry
        scope.cancel()
        self._stuck.discard(playback_id)
        self.emit(
            {
                "type": "PlaybackFinished",
                "playback": self._playback(playback_id, uri, target, "done"),
            }
        )

    # --- bridges ----------------------------------------------------------------------------

    def create_bridge(self, bridge_id: str | None, name: str, kind: str) -> dict[str, Any]:
        """``POST /bridges``; no BridgeCreated event (as the capture shows)."""
        bid = bridge_id or f"br-{next(_sequence)}"
        if bid in self.bridges:
            raise AriHttpError(409, "Bridge with given id already exists")
        bridge = {
            "id": bid,
            "technology": "simple_bridge",
            "bridge_type": "mixing" if "mixing" in kind or not kind else kind.split(",")[0],
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": name,
            "channels": [],
            "creationtime": _now(),
            "video_mode": "talker",
        }
        self.bridges[bid] = bridge
        return dict(bridge)

    def bridge(self, bridge_id: str) -> dict[str, Any]:
        """The bridge, or 404."""
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise AriHttpError(404, "Bridge not found")
        return bridge

    def add_channels(self, bridge_id: str, channel_ids: list[str]) -> None:
        """``POST /bridges/{id}/addChannel``."""
        bridge = self.bridge(bridge_id)
        found = []
        for cid in channel_ids:
            channel = self.channels.get(cid)
            if channel is None or channel.destroyed:
                raise AriHttpError(400, f"Channel not found: {cid}")
            if not channel.in_stasis:
                raise AriHttpError(422, f"Channel not in Stasis application: {cid}")
            found.append(channel)
        for channel in found:
            channel.bridge_id = bridge_id
            bridge["channels"].append(channel.id)
            self.emit(
                {
                    "type": "ChannelEnteredBridge",
                    "bridge": dict(bridge),
                    "channel": channel.snapshot(),
                }
            )

    def destroy_bridge(self, bridge_id: str) -> None:
        """``DELETE /bridges/{id}``: members leave (and stay in Stasis), BridgeDestroyed."""
        bridge = self.bridge(bridge_id)
        for cid in list(bridge["channels"]):
            bridge["channels"].remove(cid)
            channel = self.channels.get(cid)
            if channel is not None:
                channel.bridge_id = None
                self.emit(
                    {
                        "type": "ChannelLeftBridge",
                        "bridge": dict(bridge),
                        "channel": channel.snapshot(),
                    }
                )
        del self.bridges[bridge_id]
        self.emit({"type": "BridgeDestroyed", "bridge": dict(bridge)})
