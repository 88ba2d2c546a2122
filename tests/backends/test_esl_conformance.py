"""The backend conformance suite against EslSwitch and the fake ESL server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from autoinformer.testing.conformance import CHECKS, SwitchHarness
from autoinformer.testing.fake_esl import esl_harness


@pytest.mark.anyio
@pytest.mark.parametrize("event_format", ["plain", "json"])
@pytest.mark.parametrize("detector", ["mod_amd", "mod_avmd"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance(
    check: Callable[[SwitchHarness], Awaitable[None]], event_format: str, detector: str
) -> None:
    await check(
        esl_harness(modules=frozenset({detector}), switch_options={"event_format": event_format})
    )
