"""``autoinformer serve`` against the real switches of the test PBX: a campaign created over
HTTP with ``kind = "ari"`` / ``"esl"`` calls through the real Asterisk / FreeSWITCH as
``autoinformer run`` does (recording, rendered speech), and its records come back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest
from tests.serve.conftest import TOKEN, free_port, server

from autoinformer.testing.parties import PARTIES
from autoinformer.testing.realpbx import PREFIX, RealPbx, asterisk, freeswitch, write_campaign

DIGITS = "129"  # delivered, busy, an unallocated number: quick ones


@pytest.fixture(params=["ari", "esl"])
def pbx(request: pytest.FixtureRequest) -> RealPbx:
    """Each real switch in turn (skipped when it is not there)."""
    found = asterisk(app="autoinformer-serve-test") if request.param == "ari" else freeswitch()
    if found is None:
        pytest.skip(
            f"no real {request.param} server: bash shared/pbx/install.sh && bash "
            "shared/pbx/start.sh all, then set AUTOINFORMER_ARI_URL / AUTOINFORMER_ESL_HOST"
        )
    return found


@pytest.mark.real_pbx
@pytest.mark.timeout(300)
def test_a_served_campaign_calls_through_the_real_switch(pbx: RealPbx, tmp_path: Path) -> None:
    path = write_campaign(tmp_path, pbx, DIGITS, menu=False, name=f"served {pbx.kind}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    # the store beside the file: the recording (greeting.wav) is found relative to it
    with (
        server(tmp_path / "serve.sqlite", port, environ=pbx.environ()),
        httpx.Client(base_url=base, headers=headers, timeout=240) as client,
    ):
        made = client.post(
            "/api/campaigns",
            content=path.read_text(encoding="utf-8"),
            headers={"Content-Type": "application/toml"},
        )
        assert made.status_code == 201, made.text
        campaign_id = made.json()["id"]
        assert made.json()["backend"] == pbx.kind
        report = client.post(
            f"/api/campaigns/{campaign_id}/contacts",
            content=(tmp_path / "debtors.csv").read_bytes(),
            headers={"Content-Type": "text/csv"},
        ).json()
        assert report["added"] == len(DIGITS), report
        assert client.post(f"/api/campaigns/{campaign_id}/start").status_code == 200
        events = client.get(f"/api/campaigns/{campaign_id}/events").text  # to the end
        assert events.rstrip().endswith('data: {"state": "finished"}'), events[-500:]
        status = client.get(f"/api/campaigns/{campaign_id}").json()
        assert status["attempts"] == len(DIGITS), status
        records = client.get(f"/api/campaigns/{campaign_id}/records.csv").content
    rows = list(csv.DictReader(io.StringIO(records.decode("utf-8-sig"))))
    got = {row["number"][-1]: row["outcome"] for row in rows}
    want = {d: PARTIES[d].expected.value for d in DIGITS}
    assert got == want, rows
    # a cell starting with + is written '+ (never taken for a formula), as autoinformer export
    assert {row["number"] for row in rows} == {f"'{PREFIX}{d}" for d in DIGITS}
    assert not [row for row in rows if "failed" in row["detail"]], rows
