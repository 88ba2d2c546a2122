"""The FreeSWITCH Event Socket framing parser: bytes in, messages out, no I/O (sans-IO).

The wire format (see ``shared/reference/esl-notes.md``): ``Header: value`` lines, a blank line,
then exactly ``Content-Length`` bytes of body if that header is present. Events arrive as the
body of an outer message with ``Content-Type: text/event-plain`` (header lines whose values are
URL-encoded, possibly followed by the event's *own* ``Content-Length`` and body, as in
BACKGROUND_JOB) or ``text/event-json`` (one JSON object, the body in ``_body``).

Why it is written this way:

- Correctness first. Each header line is split at the first ``": "`` *before* its value is
  URL-decoded, so an encoded newline or colon inside a value (``%0A``, ``%3A``) can never break
  the header structure; the event's own ``Content-Length`` is honoured, so a BACKGROUND_JOB
  result (``+OK <uuid>`` / ``-ERR USER_BUSY``) is the event body, never glued to a header.
- Speed, because the reader must never fall 500 events behind (FreeSWITCH then drops the
  listener): the stream is framed with ``bytes.find`` and slicing, header blocks are split by
  C-level ``split``/``map``, and values are URL-decoded and turned into ``str`` lazily, only
  when somebody asks for them (the backend reads five headers of the eighty an event carries).
- Any split of the byte stream gives the same messages; a message fed one byte at a time
  costs no quadratic copying (the parser remembers how many bytes it still needs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import unquote

from autoinformer.errors import BackendError

__all__ = [
    "EslEvent",
    "EslMessage",
    "EslParser",
    "EslProtocolError",
    "parse_event_json",
    "parse_event_plain",
]

_SEP: Final = b"\n\n"
_COLON: Final = b": "

DEFAULT_MAX_MESSAGE: Final = 64 * 1024 * 1024
"""No real ESL message comes near this; a larger Content-Length means a corrupt stream."""


class EslProtocolError(BackendError):
    """The byte stream from the switch is not valid Event Socket framing."""


def _decode(value: bytes) -> str:
    """A raw (URL-encoded) header value as text."""
    text = value.decode("utf-8", "replace")
    return _unquote(text) if "%" in text else text


def _find_raw(block: bytes, name: bytes) -> bytes | None:
    """The raw value of header ``name`` in a header block, without splitting the block.

    A header line starts the block or follows a newline; values of plain events are
    URL-encoded, so a raw newline never occurs inside one and the search cannot be fooled.
    """
    key = name + _COLON
    if block.startswith(key):
        start = len(key)
    else:
        at = block.find(b"\n" + key)
        if at < 0:
            return None
        start = at + len(key) + 1
    stop = block.find(b"\n", start)
    value = block[start:] if stop < 0 else block[start:stop]
    return value[:-1] if value.endswith(b"\r") else value


def _unquote(value: str) -> str:
    """URL-decode a header value; the two escapes FreeSWITCH writes most are replaced in C.

    In a well-formed value every ``%`` starts an escape, so replacing the exact tokens ``%20``
    and ``%3A`` first is the same as decoding them; whatever ``%`` is left goes to ``unquote``.
    """
    value = value.replace("%20", " ").replace("%3A", ":")
    if "%" in value:
        value = unquote(value, errors="replace")
    return value


def _decode_block(block: bytes) -> dict[str, str]:
    """Every header of a block, decoded: split first, then unquote only the values with ``%``.

    The block is decoded to text once; each line is split at its first ``": "`` *before* its
    value is unquoted (an encoded newline or colon stays data). A plain loop with
    ``partition`` measured faster here than the C-level ``map``/``dict`` variants.
    """
    text = block.decode("utf-8", "replace")
    headers: dict[str, str] = {}
    percent = "%" in text
    for line in reversed(text.split("\n")):  # the first of a repeated name wins
        name, _, value = line.partition(": ")
        if percent and "%" in value:
            value = _unquote(value)
        headers[name] = value
    headers.pop("", None)
    return headers


class EslEvent(Mapping[str, str]):
    """One FreeSWITCH event: read-only headers (decoded on access) and an optional body.

    Behaves as a ``Mapping[str, str]`` of decoded header values; :attr:`body` is the event's
    own body (the BACKGROUND_JOB result, for instance), already decoded. A plain event keeps
    its raw header block and looks a header up only when asked (the reader needs five of an
    event's eighty headers); iterating decodes them all once.
    """

    __slots__ = ("_block", "_body", "_decoded")

    def __init__(
        self,
        block: bytes = b"",
        body: bytes | str = b"",
        decoded: dict[str, str] | None = None,
    ) -> None:
        self._block = block
        self._decoded = decoded
        self._body = body

    @property
    def name(self) -> str:
        """``Event-Name`` (``CHANNEL_ANSWER``, ``CUSTOM``...), or ``""``."""
        return self.get("Event-Name") or ""

    @property
    def subclass(self) -> str:
        """``Event-Subclass`` of a CUSTOM event (``avmd::beep``), or ``""``."""
        return self.get("Event-Subclass") or ""

    @property
    def headers(self) -> Mapping[str, str]:
        """Every header, decoded (read-only); the first access decodes them all at once."""
        return MappingProxyType(self._all())

    @property
    def body(self) -> str:
        """The event's own body (``+OK <uuid>`` for a BACKGROUND_JOB), or ``""``."""
        body = self._body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
            self._body = body
        return body

    def __getitem__(self, key: str) -> str:
        if self._decoded is not None:
            return self._decoded[key]
        raw = _find_raw(self._block, key.encode("utf-8"))
        if raw is None:
            raise KeyError(key)
        return _decode(raw)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if self._decoded is not None:
            return key in self._decoded
        return _find_raw(self._block, key.encode("utf-8")) is not None

    def _all(self) -> dict[str, str]:
        if self._decoded is None:
            self._decoded = _decode_block(self._block)
            self._block = b""
        return self._decoded

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        uuid = self.get("Unique-ID")
        return f"<EslEvent {self.name or '?'}{' ' + uuid if uuid else ''}>"


def parse_event_plain(data: bytes) -> EslEvent:
    """The body of a ``text/event-plain`` message as an event.

    Values stay URL-encoded until read. If the event carries its own ``Content-Length`` (a
    BACKGROUND_JOB does), exactly that many bytes after the blank line are its body.

    Raises:
        EslProtocolError: the event's own Content-Length is not a number.
    """
    end = data.find(_SEP)
    if end < 0:
        return EslEvent(data.rstrip(b"\n"))
    block = data[:end]
    body = data[end + 2 :]
    if body:
        length = _find_raw(block, b"Content-Length")
        if length is not None:
            try:
                body = body[: int(length)]
            except ValueError:
                raise EslProtocolError(
                    f"event Content-Length is not a number: {length[:20]!r}"
                ) from None
    return EslEvent(block, body)


def parse_event_json(data: bytes) -> EslEvent:
    """The body of a ``text/event-json`` message as an event (the body is in ``_body``).

    Raises:
        EslProtocolError: the body is not a JSON object.
    """
    try:
        obj = json.loads(data)
    except ValueError as exc:
        raise EslProtocolError(f"text/event-json body is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise EslProtocolError("text/event-json body is not a JSON object")
    body = obj.pop("_body", "")
    headers = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in obj.items()}
    return EslEvent(decoded=headers, body=body if isinstance(body, str) else json.dumps(body))


class EslMessage:
    """One framed message: its outer headers and body.

    Outer headers are few and never URL-encoded (``Content-Type``, ``Reply-Text``,
    ``Job-UUID``...), so they are decoded at once. :meth:`event` parses an event body.
    """

    __slots__ = ("body", "headers")

    def __init__(self, headers: dict[str, str], body: bytes = b"") -> None:
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        """``Content-Type`` (``command/reply``, ``text/event-plain``...), or ``""``."""
        return self.headers.get("Content-Type", "")

    @property
    def reply_text(self) -> str:
        """``Reply-Text`` of a command reply (``+OK accepted``), or ``""``."""
        return self.headers.get("Reply-Text", "")

    @property
    def is_event(self) -> bool:
        """True for ``text/event-plain`` and ``text/event-json``."""
        return self.content_type in ("text/event-plain", "text/event-json")

    def event(self) -> EslEvent:
        """The event in the body (plain or JSON).

        Raises:
            EslProtocolError: this message is not an event, or its body is malformed.
        """
        kind = self.content_type
        if kind == "text/event-plain":
            return parse_event_plain(self.body)
        if kind == "text/event-json":
            return parse_event_json(self.body)
        raise EslProtocolError(f"not an event message: Content-Type {kind!r}")

    def __repr__(self) -> str:
        return f"<EslMessage {self.content_type} {len(self.body)} bytes>"


class EslParser:
    """Turns the byte stream from the switch into :class:`EslMessage` objects.

    Feed it whatever the socket returned; it returns the messages completed so far and keeps
    the rest. Any split of the stream gives the same messages.

    Args:
        max_message: the largest Content-Length accepted; larger means a corrupt stream.
    """

    __slots__ = ("_buf", "_max", "_need", "_scan")

    def __init__(self, *, max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self._buf = bytearray()
        self._need = 0  # feed nothing to the parse loop until the buffer holds this many bytes
        self._scan = 0  # where to resume looking for the end of the pending header block
        self._max = max_message

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[EslMessage]:
        """Add bytes from the stream; return the messages they complete (possibly none).

        Raises:
            EslProtocolError: a header block or Content-Length is malformed.
        """
        buf = self._buf
        if buf:
            buf += data
            if len(buf) < self._need:
                return []
            work = bytes(buf)
        else:
            work = data
        messages, pos = self._parse(work)
        if pos:
            self._buf = bytearray(work[pos:]) if pos < len(work) else bytearray()
        elif not buf:
            self._buf = bytearray(work)
        return messages

    def _parse(self, work: bytes) -> tuple[list[EslMessage], int]:
        messages: list[EslMessage] = []
        append = messages.append
        find = work.find
        size = len(work)
        pos = 0
        scan = self._scan
        while pos < size:
            # Stray blank lines between messages carry nothing.
            if work[pos] == 10:
                pos += 1
                continue
            end = find(_SEP, max(pos, scan - 1))
            if end < 0:
                self._scan = size - pos
                self._need = 0
                return messages, pos
            scan = 0
            headers: dict[str, str] = {}
            length = 0
            for line in work[pos:end].split(b"\n"):
                name, sep, value = line.partition(_COLON)
                if not sep:
                    name = name.rstrip(b":\r")
                    if not name:
                        continue
                text = value.rstrip(b"\r").decode("utf-8", "replace")
                key = name.decode("utf-8", "replace")
                headers[key] = text
                if key == "Content-Length":
                    try:
                        length = int(text)
                    except ValueError:
                        raise EslProtocolError(
                            f"Content-Length is not a number: {text[:20]!r}"
                        ) from None
                    if length < 0 or length > self._max:
                        raise EslProtocolError(f"Content-Length {length} out of range")
            start = end + 2
            if length:
                stop = start + length
                if stop > size:
                    self._need = stop - pos
                    self._scan = 0
                    return messages, pos
                append(EslMessage(headers, work[start:stop]))
                pos = stop
            else:
                append(EslMessage(headers))
                pos = start
        self._scan = 0
        self._need = 0
        return messages, pos
