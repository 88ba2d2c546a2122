"""The backend conformance suite against AriSwitch and the fake ARI server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from autoinformer.testing.ari_harness import ari_harness
from autoinformer.testing.conformance import CHECKS, SwitchHarness

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "ari"


@pytest.mark.anyio
@pytest.mark.parametrize("endpoint", ["Local/{digits}@phones", "PJSIP/{digits}@trunk"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance(
    check: Callable[[SwitchHarness], Awaitable[None]], endpoint: str
) -> None:
    await check(ari_harness(REFERENCE, endpoint=endpoint))
