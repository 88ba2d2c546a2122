"""The ARI REST calls the backend makes, over one pooled httpx client.

Each method is one documented ARI operation (``channels.json``, ``bridges.json``,
``playbacks.json``); the fake server in :mod:`autoinformer.testing.fake_ari` checks every request
against those definitions. HTTP failures become the library's exceptions here, once:
404 -> :class:`CallNotFound`, 409/412/422 -> :class:`WrongCallState`, other refusals ->
:class:`BackendError` (or the ``refused`` class the caller names, e.g. OriginateError),
connection problems -> :class:`BackendUnavailable`, timeouts -> :class:`BackendTimeout`.
Credentials travel in the Authorization header only and never appear in messages.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import attrs
import httpx

from autoinformer.backends.ari.events import ChannelRef
from autoinformer.backends.ari.settings import AriSettings
from autoinformer.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    CallNotFound,
    WrongCallState,
)

__all__ = ["AriClient", "error_for_status"]

_NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
"""httpcore writes a request's head and body separately; without TCP_NODELAY, Nagle and the
peer's delayed ACK hold each request back (measured: 130 -> 750 sequential requests/s)."""

_REASONS: dict[int, str] = {
    1: "unallocated",
    16: "normal",
    17: "busy",
    19: "no_answer",
    21: "rejected",
    31: "normal_unspecified",
    34: "congestion",
    127: "interworking",
}
"""Q.850 causes that ARI's ``reason`` names (older Asterisk knows these; others use reason_code)."""


def error_for_status(
    status: int, what: str, body: str, refused: type[BackendError] = BackendError
) -> BackendError:
    """The library exception for an ARI error reply (see the module docstring)."""
    message = body.strip()[:200] or "(no message)"
    text = f"{what}: HTTP {status}: {message}"
    if status == 404:
        return CallNotFound(text)
    if status in (409, 412, 422):  # 422: a channel not in Stasis (bridges)
        return WrongCallState(text)
    if status in (401, 403):
        return BackendUnavailable(f"{what}: HTTP {status}: check the ARI username and password")
    if status >= 500:
        return BackendUnavailable(text)
    return refused(text)


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        return str(data["message"])
    return response.text


@attrs.define(kw_only=True)
class AriClient:
    """REST half of the ARI connection. Use :meth:`open` / :meth:`aclose` around its life."""

    settings: AriSettings
    transport: httpx.AsyncBaseTransport | None = None
    _http: httpx.AsyncClient | None = attrs.field(init=False, default=None)
    _limiter: anyio.CapacityLimiter | None = attrs.field(init=False, default=None)

    def open(self) -> httpx.AsyncClient:
        """Create the pooled HTTP client (also used for the WebSocket upgrade)."""
        self._http = httpx.AsyncClient(
            base_url=self.settings.base_url,
            auth=httpx.BasicAuth(self.settings.username, self.settings.password),
            timeout=httpx.Timeout(self.settings.request_timeout),
            transport=self.transport
            or httpx.AsyncHTTPTransport(
                limits=httpx.Limits(
                    max_connections=self.settings.max_connections,
                    max_keepalive_connections=self.settings.max_connections,
                ),
                socket_options=_NODELAY,
            ),
        )
        # Requests wait their turn here, not in httpcore's pool queue: its scan of queued
        # requests grows with the square of the queue and stalls the loop under a burst.
        self._limiter = anyio.CapacityLimiter(self.settings.max_connections)
        return self._http

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self._http is not None:
            http, self._http = self._http, None
            await http.aclose()

    @property
    def http(self) -> httpx.AsyncClient:
        """The open httpx client."""
        if self._http is None:
            raise BackendUnavailable("the ARI client is not connected (use `async with switch`)")
        return self._http

    async def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
        refused: type[BackendError] = BackendError,
    ) -> Any:
        """Send one request; the decoded JSON reply (None for 204).

        Raises:
            BackendError: a subclass as described in the module docstring.
        """
        http = self.http
        assert self._limiter is not None
        try:
            async with self._limiter:
                response = await http.request(method, path, params=list(params), json=body)
        except httpx.TimeoutException:
            raise BackendTimeout(
                f"{what}: no reply within {self.settings.request_timeout} s"
            ) from None
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"{what}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise error_for_status(response.status_code, what, _message(response), refused)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise BackendError(f"{what}: reply is not JSON") from None

    # --- the operations -----------------------------------------------------------------------

    async def originate(
        self,
        *,
        channel_id: str,
        other_id: str,
        endpoint: str,
        app_args: str,
        caller_id: str | None,
        ring_timeout: float,
        variables: Mapping[str, str],
        refused: type[BackendError],
    ) -> None:
        """``POST /channels`` with our ``channelId`` into our Stasis application."""
        params = [
            ("endpoint", endpoint),
            ("app", self.settings.app),
            ("appArgs", app_args),
            ("timeout", str(max(1, math.ceil(ring_timeout)))),
            ("channelId", channel_id),
            ("otherChannelId", other_id),
        ]
        if caller_id:
            params.append(("callerId", caller_id))
        body = {"variables": dict(variables)} if variables else None
        await self.request(
            "POST",
            "/channels",
            what=f"originate {channel_id}",
            params=params,
            body=body,
            refused=refused,
        )

    async def hangup(self, channel_id: str, cause: int) -> None:
        """``DELETE /channels/{id}`` with a Q.850 ``reason_code`` (a named reason if known)."""
        reason = _REASONS.get(cause)
        params = [("reason", reason)] if reason else [("reason_code", str(cause))]
        await self.request(
            "DELETE", f"/channels/{channel_id}", what=f"hang up {channel_id}", params=params
        )

    async def play(self, channel_id: str, playback_id: str, media_uri: str) -> None:
        """``POST /channels/{id}/play`` with our ``playbackId``."""
        await self.request(
            "POST",
            f"/channels/{channel_id}/play",
            what=f"play on {channel_id}",
            params=[("media", media_uri), ("playbackId", playback_id)],
        )

    async def stop_playback(self, playback_id: str) -> None:
        """``DELETE /playbacks/{id}``."""
        await self.request("DELETE", f"/playbacks/{playback_id}", what=f"stop {playback_id}")

    async def continue_in_dialplan(self, channel_id: str, context: str) -> None:
        """``POST /channels/{id}/continue`` to ``context``, extension ``s``, priority 1."""
        await self.request(
            "POST",
            f"/channels/{channel_id}/continue",
            what=f"continue {channel_id} in {context}",
            params=[("context", context), ("extension", "s"), ("priority", "1")],
        )

    async def create_bridge(self, bridge_id: str) -> None:
        """``POST /bridges?type=mixing&bridgeId=...``."""
        await self.request(
            "POST",
            "/bridges",
            what=f"create bridge {bridge_id}",
            params=[("type", "mixing"), ("bridgeId", bridge_id), ("name", bridge_id)],
        )

    async def add_channels(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        """``POST /bridges/{id}/addChannel?channel=a,b``."""
        await self.request(
            "POST",
            f"/bridges/{bridge_id}/addChannel",
            what=f"add {', '.join(channel_ids)} to bridge {bridge_id}",
            params=[("channel", ",".join(channel_ids))],
        )

    async def destroy_bridge(self, bridge_id: str) -> None:
        """``DELETE /bridges/{id}``."""
        await self.request("DELETE", f"/bridges/{bridge_id}", what=f"destroy bridge {bridge_id}")

    async def set_event_filter(self, allowed: Sequence[str]) -> None:
        """``PUT /applications/{app}/eventFilter``: only these event types (Asterisk 16.3+)."""
        await self.request(
            "PUT",
            f"/applications/{self.settings.app}/eventFilter",
            what="set the event filter",
            body={"allowed": [{"type": name} for name in allowed]},
        )

    async def list_channels(self) -> list[ChannelRef]:
        """``GET /channels``: every channel Asterisk has now."""
        data = await self.request("GET", "/channels", what="list channels")
        channels: list[ChannelRef] = []
        for item in data if isinstance(data, list) else []:
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                dialplan = item.get("dialplan")
                app_data = dialplan.get("app_data", "") if isinstance(dialplan, Mapping) else ""
                channels.append(
                    ChannelRef(
                        id=item["id"],
                        name=str(item.get("name", "")),
                        state=str(item.get("state", "")),
                        app_data=str(app_data),
                        created=str(item.get("creationtime", "")),
                    )
                )
        return channels

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        """``GET /channels/{id}/variable``: the value, or None (unset, or no such channel)."""
        try:
            data = await self.request(
                "GET",
                f"/channels/{channel_id}/variable",
                what=f"read {name} of {channel_id}",
                params=[("variable", name)],
            )
        except CallNotFound:
            return None
        value = data.get("value") if isinstance(data, Mapping) else None
        return value if isinstance(value, str) and value else None
