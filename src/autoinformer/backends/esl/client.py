"""One inbound Event Socket connection over anyio (asyncio and trio).

It authenticates, sends commands and matches their replies, and reads events. Replies
(``command/reply``, ``api/response``) come back in the order the commands went out, so each
command registers a waiter in a FIFO *before* its bytes are sent. Events are handed to a plain
function the owner supplies (the switch's router, which only updates state and puts events in
a bounded stream): the reader never awaits user code, so it never falls behind the switch.

The password is sent once, during :meth:`EslConnection.open`, and is never logged or shown in
a repr or an error message.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping

import anyio
import anyio.abc
import attrs

from autoinformer.backends.esl.parser import EslEvent, EslMessage, EslParser, EslProtocolError
from autoinformer.errors import BackendError, BackendTimeout, BackendUnavailable

__all__ = ["EslCommandError", "EslConnection"]

log = logging.getLogger(__name__)

_READ_SIZE = 65536
_REPLY_TYPES = frozenset({"command/reply", "api/response"})


class EslCommandError(BackendError):
    """The switch answered a command with ``-ERR ...``; ``reply`` holds its words."""

    def __init__(self, command: str, reply: str) -> None:
        self.command = command
        self.reply = reply
        super().__init__(f"{command}: {reply}")


def _check_line(text: str, what: str) -> str:
    """Refuse a newline in a command line or header: it would end the command early."""
    if "\n" in text or "\r" in text:
        raise BackendError(f"{what} must not contain a line break: {text[:40]!r}")
    return text


@attrs.define(eq=False)
class _Waiter:
    """A command waiting for its reply (FIFO order is the switch's reply order)."""

    command: str
    done: anyio.Event = attrs.field(factory=anyio.Event)
    reply: EslMessage | None = None
    error: BaseException | None = None


@attrs.define(kw_only=True, eq=False)
class EslConnection:
    """An authenticated connection to a switch's Event Socket. Build it with :meth:`open`.

    Attributes:
        host: the switch's address (for messages).
        port: its Event Socket port.
    """

    host: str
    port: int
    _stream: anyio.abc.ByteStream = attrs.field(alias="stream", repr=False)
    _parser: EslParser = attrs.field(alias="parser", factory=EslParser, repr=False)
    _pending: deque[_Waiter] = attrs.field(init=False, factory=deque, repr=False)
    _send_lock: anyio.Lock = attrs.field(init=False, factory=anyio.Lock, repr=False)
    _closed: bool = attrs.field(init=False, default=False)
    _early: list[EslMessage] = attrs.field(init=False, factory=list, repr=False)

    @classmethod
    async def open(
        cls, host: str, port: int, password: str, *, handshake_timeout: float = 5.0
    ) -> EslConnection:
        """Connect and authenticate.

        Raises:
            BackendUnavailable: the switch cannot be reached, refused us (ACL), or did not
                accept the password (the password itself is never in the message).
            BackendTimeout: the switch did not finish the handshake within ``timeout``.
        """
        timeout = handshake_timeout
        try:
            with anyio.fail_after(timeout):
                stream = await anyio.connect_tcp(host, port)
        except TimeoutError:
            raise BackendTimeout(f"ESL {host}:{port}: no connection within {timeout:g} s") from None
        except OSError as exc:
            raise BackendUnavailable(f"ESL {host}:{port}: cannot connect ({exc})") from None
        conn = cls(host=host, port=port, stream=stream)
        try:
            with anyio.fail_after(timeout):
                first = await conn._read_one()
                if first.content_type == "text/rude-rejection":
                    raise BackendUnavailable(
                        f"ESL {host}:{port}: connection refused by the switch's ACL"
                    )
                if first.content_type != "auth/request":
                    raise BackendUnavailable(
                        f"ESL {host}:{port}: expected auth/request, got {first.content_type!r}"
                    )
                await conn._send(f"auth {password}\n\n")
                reply = await conn._read_one()
                if not reply.reply_text.startswith("+OK"):
                    raise BackendUnavailable(
                        f"ESL {host}:{port}: authentication failed ({reply.reply_text or '?'})"
                    )
        except TimeoutError:
            await conn.aclose()
            raise BackendTimeout(
                f"ESL {host}:{port}: no auth handshake within {timeout:g} s"
            ) from None
        except BaseException:
            await conn.aclose()
            raise
        return conn

    async def _read_one(self) -> EslMessage:
        """The next message, read directly (only during the handshake, before the reader)."""
        while not self._early:
            try:
                data = await self._stream.receive(_READ_SIZE)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                raise BackendUnavailable(
                    f"ESL {self.host}:{self.port}: connection closed during the handshake"
                ) from None
            self._early.extend(self._parser.feed(data))
        return self._early.pop(0)

    async def _send(self, text: str) -> None:
        try:
            await self._stream.send(text.encode("utf-8"))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            raise BackendUnavailable(f"ESL {self.host}:{self.port}: connection lost") from None

    @property
    def closed(self) -> bool:
        """True once the connection is closed or lost."""
        return self._closed

    async def command(
        self,
        line: str,
        headers: Mapping[str, str] | None = None,
        *,
        reply_timeout: float = 10.0,
        check: bool = True,
    ) -> EslMessage:
        """Send one command (``bgapi ...``, ``sendmsg UUID``, ``event ...``); await its reply.

        Args:
            line: the command line.
            headers: extra header lines (``Job-UUID``, ``call-command``...).
            reply_timeout: seconds to wait for the reply.
            check: raise :class:`EslCommandError` on a ``-ERR`` reply.

        Returns:
            The ``command/reply`` or ``api/response`` message.

        Raises:
            BackendUnavailable: the connection is gone.
            BackendTimeout: no reply within ``timeout``.
            EslCommandError: the reply was ``-ERR ...`` (with ``check``).
        """
        if self._closed:
            raise BackendUnavailable(f"ESL {self.host}:{self.port}: not connected")
        parts = [_check_line(line, "command")]
        for name, value in (headers or {}).items():
            parts.append(f"{_check_line(name, 'header name')}: {_check_line(value, name)}")
        text = "\n".join(parts) + "\n\n"
        waiter = _Waiter(line.split(" ", 1)[0])
        async with self._send_lock:
            self._pending.append(waiter)
            try:
                await self._send(text)
            except BackendUnavailable as exc:
                self._fail_all(exc)
                raise
        try:
            with anyio.fail_after(reply_timeout):
                await waiter.done.wait()
        except TimeoutError:
            # Replies come in order: one that never came leaves every later reply unmatched,
            # so the connection is useless now. Close it; the owner reconnects and resyncs.
            await self.aclose()
            raise BackendTimeout(
                f"ESL {self.host}:{self.port}: no reply to {waiter.command!r} "
                f"within {reply_timeout:g} s"
            ) from None
        if waiter.error is not None:
            raise waiter.error
        assert waiter.reply is not None
        reply = waiter.reply
        if check:
            text_reply = reply.reply_text or reply.body[:200].decode("utf-8", "replace").strip()
            if text_reply.startswith("-ERR"):
                raise EslCommandError(waiter.command, text_reply)
        return reply

    def _fail_all(self, exc: BaseException) -> None:
        while self._pending:
            waiter = self._pending.popleft()
            waiter.error = exc
            waiter.done.set()

    async def read_events(self, on_event: Callable[[EslEvent], None]) -> None:
        """Read until the connection ends: replies to their waiters, events to ``on_event``.

        ``on_event`` must be quick and must not await: it runs inside the reader.

        Raises:
            BackendUnavailable: the connection dropped or the switch said goodbye (every
                pending command fails with it too).
        """
        error: BackendUnavailable
        try:
            for message in self._early:
                self._dispatch(message, on_event)
            self._early.clear()
            while True:
                try:
                    data = await self._stream.receive(_READ_SIZE)
                except anyio.EndOfStream:
                    error = BackendUnavailable(
                        f"ESL {self.host}:{self.port}: the switch closed the connection"
                    )
                    break
                except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    error = BackendUnavailable(f"ESL {self.host}:{self.port}: connection lost")
                    break
                try:
                    messages = self._parser.feed(data)
                except EslProtocolError as exc:
                    error = BackendUnavailable(f"ESL {self.host}:{self.port}: {exc}")
                    break
                gone = False
                for message in messages:
                    if message.content_type == "text/disconnect-notice":
                        gone = True
                        continue
                    self._dispatch(message, on_event)
                if gone:
                    error = BackendUnavailable(
                        f"ESL {self.host}:{self.port}: the switch sent a disconnect notice"
                    )
                    break
        finally:
            self._closed = True
        self._fail_all(error)
        await self._close_stream()
        raise error

    def _dispatch(self, message: EslMessage, on_event: Callable[[EslEvent], None]) -> None:
        kind = message.content_type
        if kind in _REPLY_TYPES:
            if not self._pending:
                log.warning("ESL %s:%s: a reply nobody waits for", self.host, self.port)
                return
            waiter = self._pending.popleft()
            waiter.reply = message
            waiter.done.set()
        elif message.is_event:
            try:
                event = message.event()
            except EslProtocolError as exc:
                log.error("ESL %s:%s: dropped a malformed event: %s", self.host, self.port, exc)
                return
            on_event(event)
        elif kind not in ("log/data", "text/event-xml"):
            log.debug("ESL %s:%s: ignored a %s message", self.host, self.port, kind)

    async def _close_stream(self) -> None:
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(OSError, anyio.BrokenResourceError):
                await self._stream.aclose()

    async def aclose(self) -> None:
        """Close the connection; commands still waiting fail with BackendUnavailable."""
        self._closed = True
        self._fail_all(BackendUnavailable(f"ESL {self.host}:{self.port}: connection closed"))
        await self._close_stream()
