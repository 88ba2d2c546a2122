"""The REST API through httpx's ASGI transport, on asyncio and trio."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import openpyxl
import pytest
from tests.serve.conftest import SEED_000_LIST, TOKEN, campaign_toml, numbers_csv, serving

pytestmark = pytest.mark.anyio

TOML = {"Content-Type": "application/toml"}
CSV = {"Content-Type": "text/csv"}
MOSCOW = ["--timezone", "Europe/Moscow"]


async def create(client: httpx.AsyncClient, name: str = "HOA debt", speed: float = 2000) -> str:
    answer = await client.post("/api/campaigns", content=campaign_toml(name, speed), headers=TOML)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def events_until_end(client: httpx.AsyncClient, campaign_id: str) -> list[dict]:
    """The event stream of a campaign, read to its end (the stream ends when it does)."""
    answer = await client.get(f"/api/campaigns/{campaign_id}/events")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in answer.text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if "event" in fields:
            events.append({"event": fields["event"], **json.loads(fields["data"])})
    return events


async def test_create_from_toml_is_a_draft_with_every_outcome_at_zero(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/api/campaigns", content=campaign_toml(), headers=TOML)
    assert answer.status_code == 201
    body = answer.json()
    assert body["state"] == "draft"
    assert body["name"] == "HOA debt"
    assert body["attempts"] == 0
    assert set(body["outcomes"]) >= {"delivered", "no_answer", "abandoned", "transferred"}
    assert not any(body["outcomes"].values())
    assert body["lines_busy"] == 0
    assert body["abandon_rate"] is None
    assert "09:00-20:00" in body["window"]
    listed = (await client.get("/api/campaigns")).json()
    assert [c["id"] for c in listed] == [body["id"]]


async def test_create_from_json_is_the_same_campaign(client: httpx.AsyncClient) -> None:
    import tomllib

    data = tomllib.loads(campaign_toml("As JSON"))
    answer = await client.post("/api/campaigns", json=data)
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "As JSON"
    assert answer.json()["speed"] == 2000


async def test_a_wrong_key_is_refused_with_its_dotted_name(client: httpx.AsyncClient) -> None:
    text = campaign_toml().replace('hours = "09:00-20:00"', 'hours = "9 to 5"')
    answer = await client.post("/api/campaigns", content=text, headers=TOML)
    assert answer.status_code == 422
    body = answer.json()
    assert body["field"] == "campaign.window.hours"
    assert "campaign.window.hours" in body["error"]
    bad_speed = campaign_toml().replace("speed = 2000.0", "speed = -1")
    answer = await client.post("/api/campaigns", content=bad_speed, headers=TOML)
    assert answer.json()["field"] == "sim.speed"
    assert (await client.get("/api/campaigns")).json() == []  # nothing half-made


async def test_not_toml_and_another_content_type_are_json_errors(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/api/campaigns", content="[campaign", headers=TOML)
    assert answer.status_code == 400
    assert "TOML" in answer.json()["error"]
    assert answer.json()["field"] is None
    answer = await client.post("/api/campaigns", content="x", headers={"Content-Type": "text/x"})
    assert answer.status_code == 400
    assert "application/toml" in answer.json()["error"]


async def test_two_campaigns_of_one_name_conflict(client: httpx.AsyncClient) -> None:
    await create(client)
    answer = await client.post("/api/campaigns", content=campaign_toml(), headers=TOML)
    assert answer.status_code == 409
    assert answer.json()["field"] == "campaign.name"


async def test_every_api_route_answers_401_without_the_token(tmp_path: Path) -> None:
    async with serving(tmp_path / "s.sqlite") as authed:
        campaign_id = await create(authed)
        bare = httpx.AsyncClient(transport=authed._transport, base_url="http://serve.test")
        routes = [
            ("GET", "/api/campaigns"),
            ("POST", "/api/campaigns"),
            ("GET", f"/api/campaigns/{campaign_id}"),
            ("POST", f"/api/campaigns/{campaign_id}/contacts"),
            ("DELETE", f"/api/campaigns/{campaign_id}/contacts/row-2"),
            ("POST", f"/api/campaigns/{campaign_id}/start"),
            ("POST", f"/api/campaigns/{campaign_id}/pause"),
            ("POST", f"/api/campaigns/{campaign_id}/resume"),
            ("POST", f"/api/campaigns/{campaign_id}/stop"),
            ("GET", f"/api/campaigns/{campaign_id}/events"),
            ("GET", f"/api/campaigns/{campaign_id}/records.csv"),
            ("GET", f"/api/campaigns/{campaign_id}/records.xlsx"),
            ("GET", f"/api/campaigns/{campaign_id}/template.xlsx"),
        ]
        async with bare:
            for method, url in routes:
                answer = await bare.request(method, url)
                assert answer.status_code == 401, (method, url)
                assert "token" in answer.json()["error"]
            wrong = await bare.get("/api/campaigns", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            bare.cookies.set("autoinformer_token", TOKEN)
            cookie = await bare.get("/api/campaigns")
            assert cookie.status_code == 200
            assert (await bare.get("/openapi.json")).status_code == 200
        state = (await authed.get(f"/api/campaigns/{campaign_id}")).json()["state"]
        assert state == "draft"  # none of the refused requests did anything


async def test_upload_reports_as_contacts_check_and_adds_the_valid_rows(
    store_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    from autoinformer.cli import main

    campaign_id = await create(store_client)
    answer = await store_client.post(
        f"/api/campaigns/{campaign_id}/contacts", content=SEED_000_LIST, headers=CSV
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows"], report["valid"], report["invalid"]) == (4, 3, 1)
    assert report["added"] == 3
    (error,) = report["errors"]
    assert (error["row"], error["column"]) == (2, "PHONE_NUMBER")
    assert error["value"] == "17605632123"
    # the same report as the CLI's (the source aside)
    listed = tmp_path / "seed000.csv"
    listed.write_text(SEED_000_LIST, encoding="utf-8")
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        main(
            [
                "contacts",
                "check",
                str(listed),
                "--region",
                "RU",
                "--timezone",
                "Europe/Moscow",
                "--json",
            ]
        )
    cli = json.loads(out.getvalue())
    for key in ("rows", "valid", "invalid", "duplicates", "errors", "contacts", "zones"):
        assert report[key] == cli[key], key
    status = (await store_client.get(f"/api/campaigns/{campaign_id}")).json()
    assert status["contacts"]["pending"] == 3


async def test_pasted_tsv_and_xlsx_lists(store_client: httpx.AsyncClient) -> None:
    campaign_id = await create(store_client)
    pasted = "Phone\tName\tBALANCE\n+74951234567\tAnna\t-10\n+74951234568\tBoris\t-20\n"
    answer = await store_client.post(
        f"/api/campaigns/{campaign_id}/contacts",
        content=pasted.encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert answer.json()["valid"] == 2
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["phone", "name", "BALANCE"])
    sheet.append(["+74951234569", "Vera", "-30"])
    sheet.append(["not a number", "Gleb", "-40"])
    data = io.BytesIO()
    book.save(data)
    answer = await store_client.post(
        f"/api/campaigns/{campaign_id}/contacts",
        content=data.getvalue(),
        headers={
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        },
    )
    report = answer.json()
    assert (report["valid"], report["invalid"], report["added"]) == (1, 1, 1)
    assert report["errors"][0]["row"] == 3
    status = (await store_client.get(f"/api/campaigns/{campaign_id}")).json()
    assert status["contacts"]["pending"] == 3  # the second list's row-2 is not the first's


async def test_an_unreadable_list_is_a_json_error_and_adds_nothing(
    client: httpx.AsyncClient,
) -> None:
    campaign_id = await create(client)
    url = f"/api/campaigns/{campaign_id}/contacts"
    answer = await client.post(
        url,
        content=b"PK\x03\x04garbage",
        headers={
            "Content-Type": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"]
    answer = await client.post(url, content=b"a,b", headers={"Content-Type": "image/png"})
    assert answer.status_code == 400
    assert "text/csv" in answer.json()["error"]
    missing_column = "phone,name\n+74951234567,Anna\n"
    answer = await client.post(url, content=missing_column, headers=CSV)
    assert answer.status_code == 422
    assert answer.json()["field"] == "script[0].say"
    assert "BALANCE" in answer.json()["error"]


async def test_a_list_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from autoinformer.serve import CampaignManager, ServeSettings, create_app

    store = tmp_path / "s.sqlite"
    async with CampaignManager.open(store) as manager:
        app = create_app(ServeSettings(store=store, max_upload=1000), manager)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            campaign_id = await create(client)
            answer = await client.post(
                f"/api/campaigns/{campaign_id}/contacts", content=numbers_csv(100), headers=CSV
            )
            assert answer.status_code == 413
            assert answer.json()["field"] is None
            assert answer.json()["error"]
            status = (await client.get(f"/api/campaigns/{campaign_id}")).json()
            assert status["contacts"]["pending"] == 0


async def test_a_fast_sim_campaign_runs_to_the_end_and_streams_its_progress(
    store_client: httpx.AsyncClient,
) -> None:
    campaign_id = await create(store_client)
    await store_client.post(
        f"/api/campaigns/{campaign_id}/contacts", content=numbers_csv(30), headers=CSV
    )
    answer = await store_client.post(f"/api/campaigns/{campaign_id}/start")
    assert answer.status_code == 200
    assert answer.json()["state"] == "running"
    events = await events_until_end(store_client, campaign_id)
    assert events[-1] == {"event": "end", "state": "finished"}
    statuses = [e for e in events if e["event"] == "status"]
    assert statuses[-1]["state"] == "finished"
    assert statuses[-1]["attempts"] == 30
    assert sum(statuses[-1]["outcomes"].values()) == 30
    done = statuses[-1]["contacts"]
    assert done["pending"] == done["in_call"] == 0
    assert done["done"] + done["exhausted"] == 30
    progress = [s["attempts"] for s in statuses]
    assert progress == sorted(progress)  # the counters only go up
    status = (await store_client.get(f"/api/campaigns/{campaign_id}")).json()
    assert status["calls_per_hour"]
    assert sum(h["attempts"] for h in status["calls_per_hour"]) == 30
    again = await store_client.post(f"/api/campaigns/{campaign_id}/resume")
    assert again.status_code == 409


async def test_records_csv_and_xlsx_hold_every_attempt_injection_safe(
    store_client: httpx.AsyncClient,
) -> None:
    campaign_id = await create(store_client)
    hostile = 'phone,name,BALANCE\n+74951234567,=HYPERLINK("http://x"),-10\n'
    await store_client.post(f"/api/campaigns/{campaign_id}/contacts", content=hostile, headers=CSV)
    await store_client.post(f"/api/campaigns/{campaign_id}/start")
    await events_until_end(store_client, campaign_id)
    answer = await store_client.get(f"/api/campaigns/{campaign_id}/records.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 2  # the header and the one attempt
    assert lines[0].startswith("attempt_id,campaign,contact,")
    answer = await store_client.get(f"/api/campaigns/{campaign_id}/records.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert all(not str(v).startswith("=") for v in rows[1] if v is not None)


async def test_pause_resume_stop_and_cancel_one_contact(store_client: httpx.AsyncClient) -> None:
    campaign_id = await create(store_client, speed=1.0)  # real time: nothing ends under the test
    await store_client.post(
        f"/api/campaigns/{campaign_id}/contacts", content=numbers_csv(8), headers=CSV
    )
    paid = await store_client.delete(f"/api/campaigns/{campaign_id}/contacts/row-9")
    assert paid.json() == {"id": "row-9", "state": "cancelled"}
    assert (await store_client.post(f"/api/campaigns/{campaign_id}/pause")).status_code == 409
    assert (await store_client.post(f"/api/campaigns/{campaign_id}/start")).json()[
        "state"
    ] == "running"
    assert (await store_client.post(f"/api/campaigns/{campaign_id}/start")).status_code == 409
    paused = await store_client.post(f"/api/campaigns/{campaign_id}/pause")
    assert paused.json()["state"] == "paused"
    resumed = await store_client.post(f"/api/campaigns/{campaign_id}/resume")
    assert resumed.json()["state"] == "running"
    live = await store_client.delete(f"/api/campaigns/{campaign_id}/contacts/row-8")
    assert live.json()["state"] == "cancelled"
    unknown = await store_client.delete(f"/api/campaigns/{campaign_id}/contacts/nobody")
    assert unknown.status_code == 404
    assert "nobody" in unknown.json()["error"]
    stopped = await store_client.post(f"/api/campaigns/{campaign_id}/stop?hangup=true")
    assert stopped.json()["state"] == "stopped"
    events = await events_until_end(store_client, campaign_id)
    assert events[-1] == {"event": "end", "state": "stopped"}
    status = (await store_client.get(f"/api/campaigns/{campaign_id}")).json()
    assert status["contacts"]["cancelled"] == 2


async def test_unknown_campaign_is_404_json(client: httpx.AsyncClient) -> None:
    for method, url in [
        ("GET", "/api/campaigns/nope"),
        ("POST", "/api/campaigns/nope/start"),
        ("GET", "/api/campaigns/nope/records.csv"),
        ("POST", "/api/campaigns/nope/contacts"),
    ]:
        answer = await client.request(method, url)
        assert answer.status_code == 404
        assert "nope" in answer.json()["error"]


async def test_the_schema_and_the_interactive_docs_need_no_cdn(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/api/campaigns/{campaign_id}/contacts" in schema["paths"]
    body = schema["paths"]["/api/campaigns"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/toml", "application/json"}
    page = await client.get("/docs")
    assert page.status_code == 200
    pytest.importorskip("swagger_ui_bundle", reason="pip install swagger-ui-bundle-v2 (serve)")
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "://" not in page.text.split("<body")[0].replace("http://serve.test", "")
    asset = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.content) > 100_000


async def test_the_dashboard_ships_its_own_files(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    scripts = ["/static/chart.js", "/static/app.js", "/static/app.css"]
    for path in scripts:
        assert path in page.text
        assert (await client.get(path)).status_code == 200
    assert "://" not in page.text  # nothing from another host


async def test_a_list_uploaded_while_running_is_called_in_the_same_run(
    store_client: httpx.AsyncClient,
) -> None:
    campaign_id = await create(store_client, speed=20)  # its first calls take a second or more
    url = f"/api/campaigns/{campaign_id}/contacts"
    await store_client.post(url, content=numbers_csv(3), headers=CSV)
    assert (await store_client.post(f"/api/campaigns/{campaign_id}/start")).json()[
        "state"
    ] == "running"
    crm = "id,phone,name,BALANCE\nC-1,+74957000001,Ann,-10\nC-2,+74957000002,Bob,-20\n"
    more = await store_client.post(f"{url}?id_column=id", content=crm, headers=CSV)
    assert more.json()["added"] == 2
    again = await store_client.post(f"{url}?id_column=id", content=crm, headers=CSV)
    assert again.json()["added"] == 0  # the same ids again: nothing doubled
    assert again.json()["already_present"] == 2
    events = await events_until_end(store_client, campaign_id)
    final = [e for e in events if e["event"] == "status"][-1]
    assert final["state"] == "finished"
    assert final["attempts"] == 5
    assert sum(final["contacts"].values()) == 5
