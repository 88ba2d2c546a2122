"""The event stream says it is alive while nothing changes, whatever the campaign's state."""

from __future__ import annotations

import anyio
import httpx
import pytest
from tests.serve.conftest import campaign_toml, manager_of, numbers_csv

from autoinformer.serve import app

pytestmark = pytest.mark.anyio

TOML = {"Content-Type": "application/toml"}
CSV = {"Content-Type": "text/csv"}


async def test_a_paused_campaigns_stream_sends_keepalives(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paused campaign (or a running one waiting overnight for its hours) changes nothing
    for hours; its stream must still send something, or proxies and clients drop it."""
    monkeypatch.setattr(app, "KEEPALIVE_SECONDS", 0.5)
    made = await client.post("/api/campaigns", content=campaign_toml(speed=1.0), headers=TOML)
    campaign_id = made.json()["id"]
    await client.post(f"/api/campaigns/{campaign_id}/contacts", content=numbers_csv(5), headers=CSV)
    await client.post(f"/api/campaigns/{campaign_id}/start")
    assert (await client.post(f"/api/campaigns/{campaign_id}/pause")).json()["state"] == "paused"
    served = manager_of(client).get(campaign_id)
    while served.runtime is None:  # the paused runtime is up: the stream's "running" branch
        await served.changed.wait()
    kinds: list[str] = []
    with anyio.move_on_after(20):  # far longer than the keepalive: a failure, not a hang
        async for message in app._events(served):
            kinds.append("comment" if message.comment else str(message.event))
            if kinds[-1] == "comment":
                break
    assert kinds[0] == "status"
    assert kinds[-1] == "comment", kinds
    await client.post(f"/api/campaigns/{campaign_id}/stop?hangup=true")
