"""The backend conformance suite against AriSwitch and the fake ARI server.

In virtual time (:mod:`autoinformer.testing.virtual_time`): the fake's callees run at model
speed on the loop's clock, every deadline of the suite is in model seconds, and the clock only
jumps when no byte is on the wire, so a busy machine can make a check slower, never fail it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from autoinformer.testing.ari_harness import ari_harness
from autoinformer.testing.ari_spec import bundled_reference_dir
from autoinformer.testing.conformance import CHECKS, SwitchHarness
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

REFERENCE = bundled_reference_dir()

anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


@pytest.mark.anyio
@pytest.mark.parametrize("endpoint", ["Local/{digits}@phones", "PJSIP/{digits}@trunk"])
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance(
    check: Callable[[SwitchHarness], Awaitable[None]], endpoint: str
) -> None:
    await check(ari_harness(REFERENCE, endpoint=endpoint, time_scale=1.0))
