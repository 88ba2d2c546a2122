"""SimSwitch: the conformance suite, plus what only a simulated switch can show."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from autoinformer.testing.conformance import CHECKS, SwitchHarness, sim_harness


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance(check: Callable[[SwitchHarness], Awaitable[None]]) -> None:
    await check(sim_harness(speed=100))
