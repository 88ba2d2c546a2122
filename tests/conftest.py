"""Shared test configuration: every async test runs on both asyncio and trio."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each ``@pytest.mark.anyio`` test once per event loop (anyio's own convention)."""
    return str(request.param)


# The real switches are one Asterisk and one FreeSWITCH shared by every test that uses them
# (some restart or stop them): under ``pytest -n N --dist loadgroup`` those tests run one after
# another in one worker, the rest spread over the others.
_REAL_SWITCH_FILES = frozenset(
    {
        "test_ari_real.py",
        "test_esl_real.py",
        "test_serve_real.py",
        "test_campaign_file_backends.py",
        "test_runtime_speech.py",
    }
)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the tests of the real switches in one xdist group (see above)."""
    for item in items:
        if "realpbx" in item.path.parts or item.path.name in _REAL_SWITCH_FILES:
            item.add_marker(pytest.mark.xdist_group("real_switches"))
