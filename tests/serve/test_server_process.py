"""The real ``autoinformer serve`` process on a free port: HTTP over a socket, SSE streamed
as it happens, and a campaign that survives the server being stopped mid-run (on a SQLite
file and on PostgreSQL); a PostgreSQL URL with a password refused as ``run`` refuses it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests.serve.conftest import TOKEN, campaign_toml, create_with_list, free_port, server

pytest.importorskip("uvicorn", reason="needs the serve extra: pip install 'autoinformer[serve]'")


def stream_status(client: httpx.Client, campaign_id: str, until: str) -> list[dict]:
    """Status events read off the live stream until ``until`` (``end`` or ``progress``: the
    first status with a finished attempt)."""
    out: list[dict] = []
    event = None
    with client.stream("GET", f"/api/campaigns/{campaign_id}/events") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "status":
                out.append(json.loads(line[6:]))
                if until == "progress" and out[-1]["attempts"] > 0:
                    return out
            elif line.startswith("data: ") and event == "end":
                return out
    return out


def libpq_environment(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without its host, port and user, and the ``PG*`` variables that give them:
    the server must leave libpq's own conventions (``PGPASSWORD`` among them) to libpq."""
    parts = urlsplit(url)
    env = dict(os.environ)
    env.update(
        PGHOST=parts.hostname or "",
        PGPORT=str(parts.port or 5432),
        PGUSER=parts.username or "",
        PGPASSWORD="not-needed-on-trust",  # what a real deployment sets instead of the URL
    )
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.path}{query}", env


@pytest.mark.slow
def test_the_server_process_runs_a_campaign_across_a_restart(store_target: Path | str) -> None:
    store, env = store_target, None
    if isinstance(store, str):  # PostgreSQL: the host, port and user from PG* variables
        store, env = libpq_environment(store)
        assert store.startswith("postgresql:///")
    port = free_port()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    base = f"http://127.0.0.1:{port}"
    banner: list[str] = []
    with (
        server(store, port, environ=env, banner=banner),
        httpx.Client(base_url=base, headers=headers, timeout=30) as client,
    ):
        assert f"store {store}" in "".join(banner)
        assert client.get("/openapi.json").json()["info"]["title"] == "autoinformer"
        assert httpx.get(f"{base}/api/campaigns").status_code == 401
        campaign_id = create_with_list(base, 40, speed=100)
        assert client.post(f"/api/campaigns/{campaign_id}/start").json()["state"] == "running"
        seen = stream_status(client, campaign_id, until="progress")
        assert seen[-1]["attempts"] > 0
    # stopped mid-run (SIGTERM); the same store again: the campaign carries on by itself
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (
        server(store, port, environ=env),
        httpx.Client(base_url=base, headers=headers, timeout=60) as client,
    ):
        status = client.get(f"/api/campaigns/{campaign_id}").json()
        assert status["state"] in ("running", "finished")
        assert status["attempts"] >= seen[-1]["attempts"]
        statuses = stream_status(client, campaign_id, until="end")
        final = statuses[-1] if statuses else client.get(f"/api/campaigns/{campaign_id}").json()
        assert final["state"] == "finished"
        contacts = final["contacts"]
        assert contacts["pending"] == contacts["in_call"] == contacts["scheduled"] == 0
        assert sum(contacts.values()) == 40
        records = client.get(f"/api/campaigns/{campaign_id}/records.csv").text
        assert len(records.strip().splitlines()) - 1 == final["attempts"]


def test_without_a_token_it_refuses_a_public_address(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AUTOINFORMER_TOKEN"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-m", "autoinformer", "serve", "--host", "0.0.0.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "AUTOINFORMER_TOKEN" in done.stderr
    assert "loopback" in done.stderr


def test_a_store_url_with_a_password_is_refused_as_run_refuses_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AUTOINFORMER_TOKEN"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    campaign = tmp_path / "c.toml"
    lines = campaign_toml().splitlines(keepends=True)  # run's file: no [sim] speed
    campaign.write_text("".join(x for x in lines if not x.startswith("speed")), encoding="utf-8")
    secret = "s3cret-pw"
    answers = {}
    for url in (
        f"postgresql://dialer:{secret}@db.invalid/calls",
        "postgres://db.invalid/calls?password=" + secret,
    ):
        for command in (["serve"], ["run", str(campaign)]):
            done = subprocess.run(
                [sys.executable, "-m", "autoinformer", *command, "--store", url],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 2, done.stderr
            assert secret not in done.stderr + done.stdout
            answers[command[0]] = done.stderr
        assert "PGPASSWORD or ~/.pgpass" in answers["serve"]
        assert answers["serve"] == answers["run"]  # the same message, word for word


def test_an_unreachable_database_is_one_clear_line_not_a_traceback() -> None:
    pytest.importorskip("psycopg", reason="the PostgreSQL store needs psycopg")
    env = {k: v for k, v in os.environ.items() if k != "AUTOINFORMER_TOKEN"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    url = f"postgresql://dialer@127.0.0.1:{free_port()}/calls"  # nothing listens there
    done = subprocess.run(
        [sys.executable, "-m", "autoinformer", "serve", "--store", url, "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"autoinformer serve: error: cannot open store '{url}'")
    assert "Traceback" not in done.stderr


def test_a_second_server_on_one_postgresql_schema_is_refused_a_killed_one_is_not(
    postgres_url: str,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AUTOINFORMER_TOKEN"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    with server(postgres_url, free_port()):
        done = subprocess.run(
            [sys.executable, "-m", "autoinformer", "serve", "--store", postgres_url],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr.startswith("autoinformer serve: error: another autoinformer serve")
    assert "Traceback" not in done.stderr
    with server(postgres_url, free_port()) as killed:
        killed.kill()  # kill -9: the lock goes with its connection
        killed.wait()
    with server(postgres_url, free_port()):  # starts: nothing stale holds the schema
        pass
