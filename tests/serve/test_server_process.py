"""The real ``autoinformer serve`` process on a free port: HTTP over a socket, SSE streamed
as it happens, and a campaign that survives the server being stopped mid-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.serve.conftest import TOKEN, create_with_list, free_port, server

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


@pytest.mark.slow
def test_the_server_process_runs_a_campaign_across_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "serve.sqlite"
    port = free_port()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    base = f"http://127.0.0.1:{port}"
    with server(store, port), httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "autoinformer"
        assert httpx.get(f"{base}/api/campaigns").status_code == 401
        campaign_id = create_with_list(base, 40, speed=100)
        assert client.post(f"/api/campaigns/{campaign_id}/start").json()["state"] == "running"
        seen = stream_status(client, campaign_id, until="progress")
        assert seen[-1]["attempts"] > 0
    # stopped mid-run (SIGTERM); the same store again: the campaign carries on by itself
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with server(store, port), httpx.Client(base_url=base, headers=headers, timeout=60) as client:
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
