"""Decode ARI WebSocket frames into small typed events (pure, no I/O).

Only the fields the backend acts on are kept; every other event type decodes to
:class:`OtherEvent` so an Asterisk newer than this code never breaks the reader. A frame that is
not JSON, or an event we use that lacks a required field, raises :class:`AriDecodeError`; the
reader logs it and carries on with the next frame.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from autoinformer.errors import BackendError

__all__ = [
    "ApplicationReplaced",
    "AriDecodeError",
    "AriEvent",
    "BridgeDestroyed",
    "ChannelDestroyed",
    "ChannelDtmfReceived",
    "ChannelEnteredBridge",
    "ChannelHangupRequest",
    "ChannelLeftBridge",
    "ChannelRef",
    "ChannelStateChange",
    "Dial",
    "OtherEvent",
    "PlaybackFinished",
    "PlaybackStarted",
    "StasisEnd",
    "StasisStart",
    "decode_event",
]


class AriDecodeError(BackendError):
    """A WebSocket frame is not an ARI event we can read."""


@attrs.frozen
class ChannelRef:
    """The part of an ARI ``Channel`` snapshot the backend uses."""

    id: str
    name: str = ""
    state: str = ""
    app_data: str = ""
    created: str = ""
    """``creationtime`` (``2026-12-07T06:08:29.123+0000``), when the snapshot has it."""


@attrs.frozen
class StasisStart:
    channel: ChannelRef
    args: tuple[str, ...] = ()


@attrs.frozen
class StasisEnd:
    channel: ChannelRef


@attrs.frozen
class Dial:
    """``peer`` is the dialled channel (ours after an originate)."""

    peer: ChannelRef
    dialstatus: str


@attrs.frozen
class ChannelStateChange:
    channel: ChannelRef


@attrs.frozen
class ChannelHangupRequest:
    channel: ChannelRef
    cause: int | None = None


@attrs.frozen
class ChannelDestroyed:
    channel: ChannelRef
    cause: int
    cause_txt: str = ""


@attrs.frozen
class ChannelDtmfReceived:
    channel: ChannelRef
    digit: str
    duration_ms: int = 0


@attrs.frozen
class PlaybackStarted:
    playback_id: str
    target_uri: str
    state: str = "playing"


@attrs.frozen
class PlaybackFinished:
    """``state`` is ``done`` (played to the end, or stopped) or ``failed`` (could not play)."""

    playback_id: str
    target_uri: str
    state: str = "done"
    media_uri: str = ""


@attrs.frozen
class ChannelEnteredBridge:
    bridge_id: str
    channel: ChannelRef


@attrs.frozen
class ChannelLeftBridge:
    bridge_id: str
    channel: ChannelRef


@attrs.frozen
class BridgeDestroyed:
    bridge_id: str


@attrs.frozen
class ApplicationReplaced:
    """Another WebSocket took our application name over; this connection is dead."""

    application: str = ""


@attrs.frozen
class OtherEvent:
    """An event type the backend does not act on (ChannelVarset, ChannelDialplan...)."""

    type: str


AriEvent = (
    StasisStart
    | StasisEnd
    | Dial
    | ChannelStateChange
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelDtmfReceived
    | PlaybackStarted
    | PlaybackFinished
    | ChannelEnteredBridge
    | ChannelLeftBridge
    | BridgeDestroyed
    | ApplicationReplaced
    | OtherEvent
)


def _obj(data: Mapping[str, Any], key: str, kind: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise AriDecodeError(f"{kind} event without a {key!r} object")
    return value


def _str(data: Mapping[str, Any], key: str, kind: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise AriDecodeError(f"{kind}: {key!r} should be a string, got {value!r}")
    return value


def _int(data: Mapping[str, Any], key: str, kind: str, *, required: bool = True) -> int | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise AriDecodeError(f"{kind}: {key!r} should be an integer, got {value!r}")
    return value


def _channel(data: Mapping[str, Any], key: str, kind: str) -> ChannelRef:
    channel = _obj(data, key, kind)
    dialplan = channel.get("dialplan")
    app_data = dialplan.get("app_data", "") if isinstance(dialplan, Mapping) else ""
    return ChannelRef(
        id=_str(channel, "id", kind),
        name=str(channel.get("name", "")),
        state=str(channel.get("state", "")),
        app_data=str(app_data),
    )


def _decode(kind: str, data: Mapping[str, Any]) -> AriEvent:
    if kind == "StasisStart":
        args = data.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise AriDecodeError(f"StasisStart: 'args' should be a list of strings, got {args!r}")
        return StasisStart(channel=_channel(data, "channel", kind), args=tuple(args))
    if kind == "StasisEnd":
        return StasisEnd(channel=_channel(data, "channel", kind))
    if kind == "Dial":
        return Dial(peer=_channel(data, "peer", kind), dialstatus=_str(data, "dialstatus", kind))
    if kind == "ChannelStateChange":
        return ChannelStateChange(channel=_channel(data, "channel", kind))
    if kind == "ChannelHangupRequest":
        return ChannelHangupRequest(
            channel=_channel(data, "channel", kind), cause=_int(data, "cause", kind, required=False)
        )
    if kind == "ChannelDestroyed":
        return ChannelDestroyed(
            channel=_channel(data, "channel", kind),
            cause=_int(data, "cause", kind) or 0,
            cause_txt=str(data.get("cause_txt", "")),
        )
    if kind == "ChannelDtmfReceived":
        return ChannelDtmfReceived(
            channel=_channel(data, "channel", kind),
            digit=_str(data, "digit", kind),
            duration_ms=_int(data, "duration_ms", kind, required=False) or 0,
        )
    if kind in ("PlaybackStarted", "PlaybackFinished"):
        playback = _obj(data, "playback", kind)
        if kind == "PlaybackStarted":
            return PlaybackStarted(
                playback_id=_str(playback, "id", kind),
                target_uri=_str(playback, "target_uri", kind),
                state=str(playback.get("state", "")),
            )
        return PlaybackFinished(
            playback_id=_str(playback, "id", kind),
            target_uri=_str(playback, "target_uri", kind),
            state=str(playback.get("state", "")),
            media_uri=str(playback.get("media_uri", "")),
        )
    if kind in ("ChannelEnteredBridge", "ChannelLeftBridge"):
        bridge_cls = ChannelEnteredBridge if kind == "ChannelEnteredBridge" else ChannelLeftBridge
        return bridge_cls(
            bridge_id=_str(_obj(data, "bridge", kind), "id", kind),
            channel=_channel(data, "channel", kind),
        )
    if kind == "BridgeDestroyed":
        return BridgeDestroyed(bridge_id=_str(_obj(data, "bridge", kind), "id", kind))
    if kind == "ApplicationReplaced":
        return ApplicationReplaced(application=str(data.get("application", "")))
    return OtherEvent(type=kind)


def decode_event(frame: str | bytes | Mapping[str, Any]) -> AriEvent:
    """One WebSocket frame (JSON text or an already parsed object) as a typed event.

    Raises:
        AriDecodeError: the frame is not JSON, not an object, has no ``type``, or lacks a field
            the backend needs.
    """
    if isinstance(frame, Mapping):
        data: Any = frame
    else:
        try:
            data = json.loads(frame)
        except (ValueError, UnicodeDecodeError) as exc:
            raise AriDecodeError(f"frame is not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise AriDecodeError(f"frame is not a JSON object: {type(data).__name__}")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise AriDecodeError("event without a 'type'")
    return _decode(kind, data)
