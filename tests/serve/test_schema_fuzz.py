"""The API fuzzed from its own OpenAPI schema (schemathesis): whatever a client sends, the
server answers with a status it chose, never a 500. Runs against the real server process."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.serve.conftest import TOKEN, create_with_list, free_port, server

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis (dev extra)")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def _live(tmp: Path) -> Iterator[str]:
    port = free_port()
    with server(tmp / "serve.sqlite", port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The server's URL and the id of a real campaign with a list."""
    with _live(tmp_path_factory.mktemp("fuzz")) as url:
        campaign_id = create_with_list(url, 5)
        yield url, campaign_id


def test_no_input_makes_a_server_error(live: tuple[str, str]) -> None:
    from hypothesis import strategies as st

    base_url, real_id = live

    def on_the_real_campaign(case: Any) -> Any:
        case.path_parameters = {**case.path_parameters, "campaign_id": real_id}
        return case

    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    seen: dict[str, Counter[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy()
        if "{campaign_id}" in operation.path:  # ids that exist, and ids that do not
            strategy = st.one_of(strategy, strategy.map(on_the_real_campaign))
        statuses = seen.setdefault(f"{operation.method.upper()} {operation.path}", Counter())

        _fuzz(strategy, base_url, statuses)
    assert len(seen) >= 13
    # the inputs reached the handlers, not only the router's 404s: campaigns refused for
    # their content, lists checked or refused, controls answered on the real campaign
    assert set(seen["POST /api/campaigns"]) & {400, 422}, seen
    assert set(seen["POST /api/campaigns/{campaign_id}/contacts"]) & {200, 400, 422}, seen
    assert 200 in seen["GET /api/campaigns/{campaign_id}"], seen


def _fuzz(strategy: Any, base_url: str, statuses: Counter[int]) -> None:
    """Send the strategy's cases; any 5xx fails (shrunk to the smallest input that does)."""
    from hypothesis import given

    @given(strategy)
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same inputs on every run (CI); drop it to explore further
    )
    def check(case: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
        response = case.call_and_validate(
            base_url=base_url, timeout=30, checks=[not_a_server_error]
        )
        statuses[response.status_code] += 1

    check()
