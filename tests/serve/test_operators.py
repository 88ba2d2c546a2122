"""The status's ``operators``: read from the running core's public snapshots
(``DialerCore.operators()``), ``logged_out`` with no calls while the campaign does not run."""

from __future__ import annotations

import anyio
import httpx
import pytest
from tests.serve.conftest import campaign_toml, manager_of, numbers_csv

from autoinformer.queues.base import OperatorState

pytestmark = pytest.mark.anyio

SAY = '[[script]]\nsay = "Hello {name}, your debt is {BALANCE} roubles."\n'
DESK = """[[script]]
menu = "Press 1 to talk to an operator."
options = { "1" = "transfer:operators" }
timeout = 5

[[operators]]
id = "anna"
endpoint = "PJSIP/101"

[[operators]]
id = "boris"
endpoint = "PJSIP/102"

[queues.operators]
max_wait = 20
wrapup = 10
"""
QUEUED_CAMPAIGN = campaign_toml("Desk", speed=50.0).replace(SAY, DESK) + (
    'answer_rate = 0.95\nmachine_rate = 0.0\nearly_hangup_rate = 0.0\ndigit_rates = { "1" = 0.8 }\n'
)
"""The fast campaign of the other tests, with a menu that hands callers to two operators
(most press 1) and a population that answers (the ``[sim]`` table is the file's last)."""


async def test_a_running_campaign_shows_its_operators_calls_from_the_core(
    client: httpx.AsyncClient,
) -> None:
    assert DESK in QUEUED_CAMPAIGN
    answer = await client.post(
        "/api/campaigns", content=QUEUED_CAMPAIGN, headers={"Content-Type": "application/toml"}
    )
    assert answer.status_code == 201, answer.text
    campaign_id = answer.json()["id"]
    url = f"/api/campaigns/{campaign_id}"
    idle = answer.json()["operators"]
    assert idle == [
        {"id": "anna", "queue": "operators", "state": "logged_out", "calls": 0},
        {"id": "boris", "queue": "operators", "state": "logged_out", "calls": 0},
    ]
    await client.post(
        f"{url}/contacts", content=numbers_csv(30), headers={"Content-Type": "text/csv"}
    )
    served = manager_of(client).get(campaign_id)
    assert (await client.post(f"{url}/start")).json()["state"] == "running"
    with anyio.fail_after(60):
        while True:  # until the first transferred call is counted
            changed = served.changed
            if served.counters.outcomes.get("transferred") or served.state != "running":
                break
            await changed.wait()
    assert served.state == "running", {k: v for k, v in served.status()["outcomes"].items() if v}
    paused = (await client.post(f"{url}/pause")).json()
    assert paused["state"] == "paused"
    operators = paused["operators"]
    assert [(o["id"], o["queue"]) for o in operators] == [
        ("anna", "operators"),
        ("boris", "operators"),
    ]
    assert all(o["state"] in set(OperatorState) - {"logged_out"} for o in operators)
    # a call counts for its operator when bridged, before its result is journaled
    assert sum(o["calls"] for o in operators) >= paused["outcomes"]["transferred"] >= 1
    stopped = await client.post(f"{url}/stop")
    assert stopped.status_code == 200
    with anyio.fail_after(60):
        while served.runtime is not None:
            changed = served.changed
            if served.runtime is None:
                break
            await changed.wait()
    assert (await client.get(url)).json()["operators"] == idle
