"""Campaigns and their progress survive a restart of the server (read back from the store,
SQLite or PostgreSQL: the registry is in the store's meta table)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.serve.conftest import campaign_toml, manager_of, numbers_csv, serving

pytestmark = pytest.mark.anyio

TOML = {"Content-Type": "application/toml"}
CSV = {"Content-Type": "text/csv"}


async def test_each_campaign_comes_back_as_it_was(store_target: Path | str) -> None:
    store = store_target  # a SQLite file, then a PostgreSQL database
    async with serving(store) as client:
        ids = {}
        for name in ("paused one", "draft one", "stopped one"):
            answer = await client.post(
                "/api/campaigns", content=campaign_toml(name, speed=1.0), headers=TOML
            )
            ids[name] = answer.json()["id"]
            url = f"/api/campaigns/{ids[name]}/contacts"
            await client.post(url, content=numbers_csv(12), headers=CSV)
        paused = ids["paused one"]
        await client.post(f"/api/campaigns/{paused}/start")
        assert (await client.post(f"/api/campaigns/{paused}/pause")).json()["state"] == "paused"
        await client.post(f"/api/campaigns/{ids['stopped one']}/start")
        await client.post(f"/api/campaigns/{ids['stopped one']}/stop")
        before = {c["id"]: c for c in (await client.get("/api/campaigns")).json()}
    # the server went away with calls in progress; a new one on the same store:
    async with serving(store) as client:
        after = {c["id"]: c for c in (await client.get("/api/campaigns")).json()}
        assert set(after) == set(before)
        for campaign_id, status in after.items():
            assert status["state"] == before[campaign_id]["state"]
            assert status["name"] == before[campaign_id]["name"]
        assert after[ids["draft one"]]["contacts"]["pending"] == 12
        served = manager_of(client).get(paused)
        while served.runtime is None:  # resumed paused: its runtime places no call
            await served.changed.wait()
        assert served.runtime.start_paused
        resumed = await client.post(f"/api/campaigns/{paused}/resume")
        assert resumed.json()["state"] == "running"
        assert (await client.post(f"/api/campaigns/{ids['stopped one']}/resume")).status_code == 409


async def test_a_running_campaign_resumes_by_itself_and_finishes(
    store_target: Path | str,
) -> None:
    store = store_target
    async with serving(store) as client:
        answer = await client.post(
            "/api/campaigns", content=campaign_toml("runner", speed=50), headers=TOML
        )
        campaign_id = answer.json()["id"]
        url = f"/api/campaigns/{campaign_id}/contacts"
        await client.post(url, content=numbers_csv(20), headers=CSV)
        await client.post(f"/api/campaigns/{campaign_id}/start")
        served = manager_of(client).get(campaign_id)
        while served.counters.attempts == 0:  # the first finished attempt: cut off here
            await served.changed.wait()
        cut = (await client.get(f"/api/campaigns/{campaign_id}")).json()
        assert cut["state"] == "running"
        assert 0 < cut["attempts"] < 20
    async with serving(store) as client:
        events = await client.get(f"/api/campaigns/{campaign_id}/events")  # to the end
        assert events.text.rstrip().endswith('data: {"state": "finished"}')
        status = (await client.get(f"/api/campaigns/{campaign_id}")).json()
        assert status["state"] == "finished"
        contacts = status["contacts"]
        assert contacts["pending"] == contacts["in_call"] == contacts["scheduled"] == 0
        assert sum(contacts.values()) == 20
        assert status["attempts"] == 20  # one attempt each (retry attempts = 1): none doubled


async def test_one_server_per_postgresql_schema(postgres_url: str) -> None:
    from autoinformer.errors import StoreError
    from autoinformer.serve import CampaignManager

    async with CampaignManager.open(postgres_url):
        with pytest.raises(StoreError, match="another autoinformer serve is running"):
            async with CampaignManager.open(postgres_url):
                pass  # pragma: no cover - refused before it opens
    async with CampaignManager.open(postgres_url) as again:  # the first one's lock went with it
        assert again.campaigns() == []
