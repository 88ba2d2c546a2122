"""The conformance suite against a real FreeSWITCH (opt-in, marker ``real_freeswitch``).

Set ``AUTOINFORMER_ESL_HOST`` (and ``AUTOINFORMER_ESL_PASSWORD``, default ``ClueCon``;
``AUTOINFORMER_ESL_PORT``, default 8021). Optional: ``AUTOINFORMER_ESL_DIAL`` (the dial
template, default ``loopback/{digits}/phones``), ``AUTOINFORMER_ESL_OPERATOR`` (an operator
endpoint that answers and talks, default ``loopback/operator/phones``) and
``AUTOINFORMER_ESL_MACHINE`` (a number answered by a machine). The dialplan (a ``phones``
context that jumps on the last digit) is in ``docs/backends/freeswitch.md``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from autoinformer.backends.base import Media, Switch
from autoinformer.backends.esl import EslSwitch
from autoinformer.testing.conformance import CHECKS, SwitchHarness

HOST = os.environ.get("AUTOINFORMER_ESL_HOST")

pytestmark = [
    pytest.mark.real_freeswitch,
    pytest.mark.skipif(
        not HOST, reason="set AUTOINFORMER_ESL_HOST to run against a real FreeSWITCH"
    ),
]


def real_harness() -> SwitchHarness:
    assert HOST is not None
    os.environ.setdefault("AUTOINFORMER_ESL_PASSWORD", "ClueCon")

    @contextlib.asynccontextmanager
    async def connect() -> AsyncIterator[Switch]:
        switch = EslSwitch(
            host=HOST,
            port=int(os.environ.get("AUTOINFORMER_ESL_PORT", "8021")),
            password_env="AUTOINFORMER_ESL_PASSWORD",
            dial=os.environ.get("AUTOINFORMER_ESL_DIAL", "loopback/{digits}/phones"),
        )
        async with switch:
            yield switch

    return SwitchHarness(
        connect=connect,
        speed=1.0,
        slack=3.0,
        operator_endpoint=os.environ.get("AUTOINFORMER_ESL_OPERATOR", "loopback/operator/phones"),
        media=Media(builtin="tone_stream://%(500,0,800)"),
        media_seconds=0.5,
        machine_number=os.environ.get("AUTOINFORMER_ESL_MACHINE"),
        refused_destination="refused:+79500000001",
        ring_timeout=6.0,
    )


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance_on_real_freeswitch(
    check: Callable[[SwitchHarness], Awaitable[None]],
) -> None:
    await check(real_harness())
