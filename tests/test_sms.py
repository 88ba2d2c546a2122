"""SMS senders: log, file outbox, and a webhook against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import pytest

from autoinformer.errors import BackendError, BackendUnavailable, InputError, SettingsError
from autoinformer.sms import (
    FileSmsSender,
    LogSmsSender,
    SmsError,
    SmsMessage,
    SmsRejected,
    SmsSender,
    SmsUnavailable,
    WebhookSmsSender,
)

SECRET = "Bearer s3cr3t-token"


@attrs.define
class FixedClock:
    t: float = 1_768_557_600.0

    def now(self) -> float:
        return self.t

    async def sleep_until(self, deadline: float) -> None:
        self.t = max(self.t, deadline)


# --- a tiny SMS gateway on 127.0.0.1 ------------------------------------------------------


@attrs.define
class Gateway:
    """Answers each POST with the next status from ``statuses`` (then 200), records bodies."""

    statuses: list[int] = attrs.field(factory=list)
    received: list[tuple[str, dict[str, str], dict[str, object]]] = attrs.field(factory=list)
    url: str = ""


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            gw.received.append((self.path, dict(self.headers), body))
            status = gw.statuses.pop(0) if gw.statuses else 200
            payload = b'{"error": "invalid number"}' if status == 400 else b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if status == 503:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    gw.url = f"http://127.0.0.1:{server.server_address[1]}/send?api_key=k3y"
    try:
        yield gw
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.anyio
async def test_webhook_posts_json_with_headers(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="autoinformer.sms")
    async with WebhookSmsSender(
        url=gateway.url, headers={"Authorization": SECRET}, extra={"from": "Shop"}
    ) as sender:
        await sender.send("+79508881234", "Вы пропустили звонок")
    [(path, headers, body)] = gateway.received
    assert path == "/send?api_key=k3y"
    assert headers["Authorization"] == SECRET
    assert headers["Content-Type"] == "application/json"
    assert body == {"from": "Shop", "to": "+79508881234", "text": "Вы пропустили звонок"}
    assert "s3cr3t" not in caplog.text
    assert "k3y" not in caplog.text


@pytest.mark.anyio
async def test_webhook_retries_5xx_then_succeeds(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.statuses = [503, 500]
    async with WebhookSmsSender(
        url=gateway.url, headers={"Authorization": SECRET}, backoff=0.0, retries=3
    ) as sender:
        await sender.send("+79508881234", "hello")
    assert len(gateway.received) == 3
    assert "retry 1/3" in caplog.text
    assert "retry 2/3" in caplog.text
    assert "s3cr3t" not in caplog.text
    assert "k3y" not in caplog.text


@pytest.mark.anyio
async def test_webhook_gives_up_after_retries(gateway: Gateway) -> None:
    gateway.statuses = [500] * 10
    sender = WebhookSmsSender(
        url=gateway.url, headers={"Authorization": SECRET}, backoff=0.0, retries=2
    )
    with pytest.raises(SmsUnavailable, match="failed 3 time") as exc:
        await sender.send("+79508881234", "hello")
    await sender.aclose()
    assert len(gateway.received) == 3
    assert isinstance(exc.value, BackendUnavailable)
    assert "s3cr3t" not in str(exc.value)
    assert "k3y" not in str(exc.value)


@pytest.mark.anyio
async def test_webhook_does_not_retry_a_rejection(gateway: Gateway) -> None:
    gateway.statuses = [400]
    async with WebhookSmsSender(url=gateway.url, backoff=0.0) as sender:
        with pytest.raises(SmsRejected, match="HTTP 400") as exc:
            await sender.send("+7950", "hello")
    assert exc.value.status == 400
    assert "invalid number" in exc.value.reason
    assert len(gateway.received) == 1


@pytest.mark.anyio
async def test_webhook_unreachable_gateway() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with WebhookSmsSender(
        url=f"http://127.0.0.1:{port}/send", retries=1, backoff=0.0
    ) as sender:
        with pytest.raises(SmsUnavailable, match="ConnectError"):
            await sender.send("+79508881234", "hello")


# --- error cases with httpx.MockTransport -------------------------------------------------


@pytest.mark.anyio
async def test_mock_transport_timeout_then_429_then_ok() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ReadTimeout("slow gateway", request=request)
        if len(seen) == 2:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(202, json={"id": "m1"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        sender = WebhookSmsSender(url="https://sms.example/api", client=client, backoff=0.0)
        await sender.send("+79508881234", "hello")
        await sender.aclose()
        assert not client.is_closed  # a client passed in is the caller's to close
    assert len(seen) == 3
    assert json.loads(seen[-1].content) == {"to": "+79508881234", "text": "hello"}


@pytest.mark.anyio
async def test_mock_transport_no_retries_wanted() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(502)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        sender = WebhookSmsSender(url="https://sms.example/api", client=client, retries=0)
        with pytest.raises(SmsUnavailable, match="HTTP 502"):
            await sender.send("+79508881234", "hello")
    assert calls == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "ftp://sms.example"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://x.example", "retries": -1}, "retries"),
        ({"url": "https://x.example", "timeout": 0}, "timeout"),
        ({"url": "https://x.example", "backoff": float("inf")}, "backoff"),
        ({"url": "https://x.example", "extra": {"to": "x"}}, "extra"),
    ],
)
def test_webhook_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as exc:
        WebhookSmsSender(**kwargs)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_webhook_repr_hides_headers() -> None:
    sender = WebhookSmsSender(url="https://x.example", headers={"Authorization": SECRET})
    assert "s3cr3t" not in repr(sender)


# --- log and file senders -----------------------------------------------------------------


@pytest.mark.anyio
async def test_log_sender_keeps_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="autoinformer.sms")
    sender: SmsSender = LogSmsSender(clock=FixedClock())
    await sender.send("+79508881234", "hello")
    assert sender.sent == [SmsMessage("+79508881234", "hello", 1_768_557_600.0)]  # type: ignore[attr-defined]
    assert "SMS to +79508881234: hello" in caplog.text
    with pytest.raises(InputError, match="empty"):
        await sender.send("+79508881234", "  ")
    with pytest.raises(InputError, match="number is empty"):
        await sender.send("", "hello")


@pytest.mark.anyio
async def test_file_sender_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    path.write_text('{"to": "+1", "text": "earlier", "at": 0}\n', encoding="utf-8")
    sender = FileSmsSender(path=path, clock=FixedClock())
    await sender.send("+79508881234", "Долг: 525,19 ₽")
    await sender.send("+79508881235", "second")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"to": "+1", "text": "earlier", "at": 0},
        {"to": "+79508881234", "text": "Долг: 525,19 ₽", "at": 1_768_557_600.0},
        {"to": "+79508881235", "text": "second", "at": 1_768_557_600.0},
    ]


@pytest.mark.anyio
async def test_file_sender_error_is_ours(tmp_path: Path) -> None:
    sender = FileSmsSender(path=tmp_path / "no-such-dir" / "outbox.jsonl")
    with pytest.raises(SmsError, match="no-such-dir") as exc:
        await sender.send("+79508881234", "hello")
    assert isinstance(exc.value, BackendError)


def test_sms_errors_live_in_the_one_tree() -> None:
    import autoinformer.errors as errors

    assert SmsError is errors.SmsError
    assert SmsRejected is errors.SmsRejected
    assert SmsUnavailable is errors.SmsUnavailable
    assert issubclass(SmsError, BackendError)
    assert issubclass(SmsRejected, SmsError)
    assert issubclass(SmsUnavailable, SmsError)
    assert issubclass(SmsUnavailable, BackendUnavailable)
    rejected = errors.SmsRejected("HTTP 400", status=400, reason="bad number")
    assert (rejected.status, rejected.reason) == (400, "bad number")
    assert "SmsError" in (errors.__doc__ or "")
