"""The backend conformance suite against EslSwitch and the fake ESL server.

In virtual time (:mod:`autoinformer.testing.virtual_time`): the fake's callees run at model
speed on the loop's clock, every deadline of the suite is in model seconds, and the clock only
jumps when no byte is on the wire, so a busy machine can make a check slower, never fail it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from autoinformer.testing.conformance import CHECKS, SwitchHarness
from autoinformer.testing.fake_esl_harness import esl_harness
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


@pytest.mark.anyio
@pytest.mark.parametrize("event_format", ["plain", "json"])
@pytest.mark.parametrize("detector", ["mod_amd", "mod_avmd"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance(
    check: Callable[[SwitchHarness], Awaitable[None]], event_format: str, detector: str
) -> None:
    await check(
        esl_harness(
            1.0,  # model seconds per virtual second
            modules=frozenset({detector}),
            switch_options={"event_format": event_format},
        )
    )
