"""Shared pieces of the ``autoinformer serve`` tests: a fast sim campaign, a served app."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

pytest.importorskip(
    "litestar", reason="autoinformer serve needs: pip install 'autoinformer[serve]'"
)

import httpx

from autoinformer.serve import CampaignManager, ServeSettings, create_app
from autoinformer.testing.postgres_fixture import postgres_url

__all__ = ["postgres_url"]  # a fixture: store_target asks for it by name

TOKEN = "s3cret-token"

FAST_CAMPAIGN = """
[campaign]
name = "{name}"
region = "RU"
lines = 4
timezone = "Europe/Moscow"

[campaign.window]
days = "mon-sun"
hours = "09:00-20:00"

[campaign.retry]
attempts = 1

[[script]]
say = "Hello {{name}}, your debt is {{BALANCE}} roubles."

[backend]
kind = "sim"

[sim]
seed = 3
speed = {speed}
"""

SEED_000_LIST = (
    '"NAME", "PHONE_NUMBER", "USER_VARS"\n'
    '"Igor Lipko", "17605632123; 79508881234", "BALANCE = -68.27"\n'
    '"Ilya mihailov", "7760569623", "BALANCE = -525.19"\n'
    '"Anna Petrova", "8 (916) 123-45-67", "BALANCE = -1200.00; DUE = 2026-01-16"\n'
    '"Sergey Ivanov", "+7 903 555 12 34", "BALANCE = -15.50"\n'
)
"""Seed 000's list as its article shows it (a US number without +, refused for RU)."""


def campaign_toml(name: str = "HOA debt", speed: float = 2000.0) -> str:
    """A broadcast campaign on the simulated switch, ``speed`` times faster than real time."""
    return FAST_CAMPAIGN.format(name=name, speed=speed)


def numbers_csv(count: int, start: int = 0) -> str:
    """``count`` valid Moscow numbers with a BALANCE each."""
    lines = ["phone,name,BALANCE"]
    lines += [f"+7495{start + i:07d},Person {start + i},-{10 + i}.50" for i in range(count)]
    return "\n".join(lines) + "\n"


@contextlib.asynccontextmanager
async def serving(store: Path | str, token: str | None = TOKEN) -> AsyncIterator[httpx.AsyncClient]:
    """The app over a manager on ``store`` (a SQLite file or a PostgreSQL URL), with a client
    through httpx's ASGI transport."""
    settings = ServeSettings(store=store, token=token)
    async with CampaignManager.open(store) as manager:
        app = create_app(settings, manager)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://serve.test", headers=headers, timeout=30
        ) as client:
            yield client


def manager_of(client: httpx.AsyncClient) -> CampaignManager:
    """The manager behind a client of :func:`serving` (to wait on a campaign's events)."""
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    manager: CampaignManager = transport.app.state.manager  # type: ignore[attr-defined]
    return manager


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(tmp_path / "serve.sqlite") as c:
        yield c


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Each store the server runs on: a SQLite file, and a PostgreSQL URL (an empty schema of
    its own on the test server; skipped, with how to get one, without a server)."""
    if request.param == "sqlite":
        return tmp_path / "serve.sqlite"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store_client(store_target: Path | str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over each store in turn (``store_target``)."""
    async with serving(store_target) as c:
        yield c


STARTUP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def server(
    store: Path | str,
    port: int,
    *,
    token: str | None = TOKEN,
    environ: dict[str, str] | None = None,
    banner: list[str] | None = None,
) -> Iterator[subprocess.Popen[str]]:
    """``autoinformer serve`` in a child process; returns once it listens (its stderr says
    so, in lines added to ``banner``), is stopped with SIGTERM (as a service manager does)
    on exit."""
    env = {k: v for k, v in (environ or os.environ).items() if k != "AUTOINFORMER_TOKEN"}
    if token is not None:
        env["AUTOINFORMER_TOKEN"] = token
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    argv = [sys.executable, "-m", "autoinformer", "serve", "--port", str(port)]
    argv += ["--store", str(store)]
    proc = subprocess.Popen(
        [*argv, "--host", "127.0.0.1"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                raise AssertionError(f"the server exited: {''.join(seen)}")
            seen.append(line)
            if "Uvicorn running on" in line:  # printed once the socket listens
                break
        else:
            raise AssertionError(f"the server did not start: {''.join(seen)}")
        if banner is not None:
            banner.extend(seen)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung shutdown
            proc.kill()
            proc.wait()
            raise
        proc.stderr.close()


def create_with_list(base_url: str, contacts: int, *, speed: float = 50) -> str:
    """Over HTTP: a sim campaign with ``contacts`` contacts (a draft); returns its id."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        made = client.post(
            "/api/campaigns",
            content=campaign_toml(speed=speed),
            headers={"Content-Type": "application/toml"},
        )
        assert made.status_code == 201, made.text
        campaign_id = str(made.json()["id"])
        report = client.post(
            f"/api/campaigns/{campaign_id}/contacts",
            content=numbers_csv(contacts),
            headers={"Content-Type": "text/csv"},
        )
        assert report.json()["added"] == contacts
    return campaign_id
