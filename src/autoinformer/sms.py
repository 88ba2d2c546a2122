"""SMS senders: where the campaign's "SMS on hang-up / on missed call" rules (seed 004) go.

The dialer core decides *when* to send and *what* (``SendSms(number, text)``); a sender only
delivers. Anything with an ``async def send(number, text)`` is a :class:`SmsSender`; provided:

- :class:`LogSmsSender`: logs each message and keeps it in ``sent`` (demos, tests);
- :class:`FileSmsSender`: appends one JSON line per message to a file (an outbox another
  process picks up);
- :class:`WebhookSmsSender`: POSTs ``{"to": ..., "text": ...}`` as JSON to an SMS gateway with
  httpx, retrying 5xx / 429 / network errors with exponential backoff.

Errors are :class:`SmsError` (a :class:`~autoinformer.errors.BackendError`): the gateway
refused the message (:class:`SmsRejected`, not retried) or could not be reached
(:class:`SmsUnavailable`, after the retries). Headers carry credentials, so they are never
logged nor put in an error message, and URLs are logged without their query string.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import attrs

from autoinformer.clock import Clock, WallClock
from autoinformer.errors import (
    InputError,
    SettingsError,
    SmsError,
    SmsRejected,
    SmsUnavailable,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FileSmsSender",
    "LogSmsSender",
    "SmsError",
    "SmsMessage",
    "SmsRejected",
    "SmsSender",
    "SmsUnavailable",
    "WebhookSmsSender",
]

logger = logging.getLogger("autoinformer.sms")


class SmsSender(Protocol):
    """Delivers one text message; raises :class:`SmsError` when it cannot."""

    async def send(self, number: str, text: str) -> None:
        """Send ``text`` to ``number`` (E.164)."""
        ...


@attrs.frozen
class SmsMessage:
    """A message a sender handled: who to, what, and when (POSIX seconds)."""

    to: str
    text: str
    at: float


def _check(number: str, text: str) -> None:
    if not number.strip():
        raise InputError("SMS: the destination number is empty")
    if not text.strip():
        raise InputError(f"SMS to {number}: the text is empty")


@attrs.define(kw_only=True)
class LogSmsSender:
    """Logs each message (INFO on ``autoinformer.sms``) and keeps it in :attr:`sent`."""

    clock: Clock = attrs.field(factory=WallClock)
    sent: list[SmsMessage] = attrs.field(factory=list, init=False)

    async def send(self, number: str, text: str) -> None:
        _check(number, text)
        self.sent.append(SmsMessage(number, text, self.clock.now()))
        logger.info("SMS to %s: %s", number, text)


@attrs.define(kw_only=True)
class FileSmsSender:
    """Appends ``{"to", "text", "at"}`` JSON lines (UTF-8) to ``path``; a simple outbox.

    Writes happen in a worker thread, one at a time, each line flushed whole.

    Raises:
        SmsError: from :meth:`send` when the file cannot be written (names the file).
    """

    path: Path = attrs.field(converter=Path)
    clock: Clock = attrs.field(factory=WallClock)
    _lock: anyio.Lock | None = attrs.field(default=None, init=False)

    async def send(self, number: str, text: str) -> None:
        _check(number, text)
        line = json.dumps({"to": number, "text": text, "at": self.clock.now()}, ensure_ascii=False)
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            try:
                await anyio.to_thread.run_sync(self._append, line + "\n")
            except OSError as exc:
                raise SmsError(f"{self.path}: cannot append the SMS: {exc.strerror}") from exc

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)


def _redacted(url: httpx.URL) -> str:
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


def _settings(instance: WebhookSmsSender, attribute: Any, value: Any) -> None:
    name = attribute.name
    if name == "retries" and (not isinstance(value, int) or value < 0):
        raise SettingsError(name, f"expected a whole number >= 0, got {value!r}")
    if name in ("timeout", "backoff", "max_backoff") and not (
        value >= 0 and math.isfinite(value) and (value > 0 or name != "timeout")
    ):
        raise SettingsError(name, f"expected a finite number of seconds, got {value!r}")


@attrs.define(kw_only=True)
class WebhookSmsSender:
    """Sends each message as an HTTP POST of JSON ``{"to": number, "text": text, **extra}``.

    Args:
        url: the gateway's endpoint (http or https).
        headers: sent with every request (an ``Authorization`` header...); never logged.
        extra: more JSON fields for every message (``{"from": "Shop"}``).
        timeout: seconds for each request.
        retries: further attempts after a 5xx / 429 / network error (0: no retry).
        backoff: seconds before the first retry, doubled each time up to ``max_backoff``;
            a ``Retry-After`` header in seconds is honoured within the same cap.
        client: an httpx.AsyncClient to use (e.g. with ``httpx.MockTransport`` in tests);
            by default one is made on first use and closed by :meth:`aclose`.

    Raises:
        SettingsError: at construction, for a bad URL or number (names the field).
    """

    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    timeout: float = attrs.field(default=10.0, validator=_settings)
    retries: int = attrs.field(default=3, validator=_settings)
    backoff: float = attrs.field(default=0.5, validator=_settings)
    max_backoff: float = attrs.field(default=8.0, validator=_settings)
    client: httpx.AsyncClient | None = attrs.field(default=None, repr=False)
    _own_client: bool = attrs.field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        import httpx

        try:
            url = httpx.URL(self.url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise SettingsError("url", f"not a URL: {exc}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise SettingsError("url", "expected an http:// or https:// URL with a host")
        if {"to", "text"} & set(self.extra):
            raise SettingsError("extra", "may not override the 'to' and 'text' fields")

    async def __aenter__(self) -> WebhookSmsSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client this sender made (a client passed in is left open)."""
        if self._own_client and self.client is not None:
            await self.client.aclose()
            self.client = None
            self._own_client = False

    async def send(self, number: str, text: str) -> None:
        """POST the message; retry what can be retried.

        Raises:
            InputError: empty number or text.
            SmsRejected: the gateway answered 4xx (other than 429).
            SmsUnavailable: network errors, timeouts, 5xx or 429 after every retry.
        """
        import httpx

        _check(number, text)
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=self.timeout)
            self._own_client = True
        url = httpx.URL(self.url)
        where = _redacted(url)
        payload = {**self.extra, "to": number, "text": text}
        delay = self.backoff
        for attempt in range(self.retries + 1):
            retry_after: float | None = None
            try:
                response = await self.client.post(
                    url, json=payload, headers=dict(self.headers), timeout=self.timeout
                )
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}"
            else:
                status = response.status_code
                if status < 300:
                    logger.debug("SMS to %s accepted by %s (%d)", number, where, status)
                    return
                reason = response.text[:200]
                if status < 500 and status != 429:
                    raise SmsRejected(
                        f"SMS to {number}: {where} refused it with HTTP {status}: {reason}",
                        status=status,
                        reason=reason,
                    )
                problem = f"HTTP {status}"
                retry_after = _retry_after(response.headers.get("Retry-After"))
            if attempt == self.retries:
                raise SmsUnavailable(
                    f"SMS to {number}: {where} failed {attempt + 1} time(s), last: {problem}"
                )
            wait = min(self.max_backoff, retry_after if retry_after is not None else delay)
            logger.warning(
                "SMS to %s: %s gave %s; retry %d/%d in %.2f s",
                number,
                where,
                problem,
                attempt + 1,
                self.retries,
                wait,
            )
            await anyio.sleep(wait)
            delay = min(self.max_backoff, delay * 2)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
    return seconds if seconds >= 0 and math.isfinite(seconds) else None
