"""The backend conformance suite's harness for AriSwitch on the fake ARI server.

``await check(ari_harness())`` for each check in
:data:`autoinformer.testing.conformance.CHECKS` runs it against a fresh
:class:`~autoinformer.testing.fake_ari.FakeAri` and a connected
:class:`~autoinformer.backends.ari.AriSwitch`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from autoinformer.backends.ari import AriSettings, AriSwitch
from autoinformer.backends.base import Media, Switch
from autoinformer.testing.conformance import SwitchHarness
from autoinformer.testing.fake_ari import FakeAri

__all__ = ["ari_harness"]


def ari_harness(
    reference_dir: Path | None = None,
    *,
    endpoint: str = "Local/{digits}@phones",
    time_scale: float = 0.01,
    machine_number: str = "+15550100001",
    **fake_options: Any,
) -> SwitchHarness:
    """The conformance-suite harness for AriSwitch against a fresh FakeAri per check.

    Each check gets its own server (checking requests and events against ``reference_dir``)
    and asserts at the end that the server saw no violation of the ARI definitions. In a test
    in virtual time (:mod:`autoinformer.testing.virtual_time`) pass ``time_scale=1.0``: the
    callees and every deadline then run exactly on the loop's clock.
    """

    @contextlib.asynccontextmanager
    async def connect() -> AsyncIterator[Switch]:
        fake = FakeAri(
            reference_dir=reference_dir,
            time_scale=time_scale,
            builtin_seconds={"beep": 0.5, "hold-music": 600.0},
            machine_numbers=frozenset({machine_number}),
            **fake_options,
        )
        async with fake:
            settings = AriSettings(
                url=fake.url, username=fake.username, password=fake.password, endpoint=endpoint
            )
            async with AriSwitch(settings=settings) as switch:
                yield switch
            assert fake.violations == [], (
                f"requests or events broke the ARI definitions: {fake.violations}"
            )

    return SwitchHarness(
        connect=connect,
        speed=1 / time_scale,
        slack=2.0,
        operator_endpoint="PJSIP/operator-1001",
        media=Media(builtin="beep"),
        media_seconds=0.5,
        long_media=Media(builtin="hold-music"),  # a stop, however late, finds it playing
        missing_media=Media(builtin="autoinformer/does-not-exist"),
        machine_number=machine_number,
        refused_destination="refused:+79500000001",
    )
