"""The conformance suite against a real Asterisk (opt-in).

Set ``AUTOINFORMER_ARI_URL`` (e.g. ``http://pbx:8088``), ``AUTOINFORMER_ARI_USERNAME``,
``AUTOINFORMER_ARI_PASSWORD`` and, optionally, ``AUTOINFORMER_ARI_ENDPOINT`` (default
``Local/{digits}@phones``), ``AUTOINFORMER_ARI_OPERATOR`` (default ``Local/operator@phones``)
and ``AUTOINFORMER_ARI_MACHINE`` (a number answered by a machine). The dialplan is in
``docs/backends/asterisk.md`` (the ``phones`` context jumps on the last digit).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from autoinformer.backends.ari import AriSettings, AriSwitch
from autoinformer.backends.base import Media, Switch
from autoinformer.testing.conformance import CHECKS, SwitchHarness

URL = os.environ.get("AUTOINFORMER_ARI_URL")

pytestmark = [
    pytest.mark.real_asterisk,
    pytest.mark.skipif(not URL, reason="set AUTOINFORMER_ARI_URL to run against a real Asterisk"),
]


def real_harness() -> SwitchHarness:
    assert URL is not None
    settings = AriSettings(
        url=URL,
        username=os.environ.get("AUTOINFORMER_ARI_USERNAME", "autoinformer"),
        password=os.environ.get("AUTOINFORMER_ARI_PASSWORD", ""),
        endpoint=os.environ.get("AUTOINFORMER_ARI_ENDPOINT", "Local/{digits}@phones"),
    )

    @contextlib.asynccontextmanager
    async def connect() -> AsyncIterator[Switch]:
        async with AriSwitch(settings=settings) as switch:
            yield switch

    return SwitchHarness(
        connect=connect,
        speed=1.0,
        slack=3.0,
        operator_endpoint=os.environ.get("AUTOINFORMER_ARI_OPERATOR", "Local/operator@phones"),
        media=Media(builtin="beep"),
        media_seconds=None,
        machine_number=os.environ.get("AUTOINFORMER_ARI_MACHINE"),
        refused_destination="refused:+79500000001",
        ring_timeout=6.0,
    )


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance_on_real_asterisk(
    check: Callable[[SwitchHarness], Awaitable[None]],
) -> None:
    await check(real_harness())
