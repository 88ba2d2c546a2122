"""The fake ESL server's conformance harness.

:func:`esl_harness` runs the backend conformance suite against
:class:`~autoinformer.backends.esl.EslSwitch` on a
:class:`~autoinformer.testing.fake_esl.FakeEslServer`. It depends on the server, never the
other way round (the server's command line, ``python -m autoinformer.testing.fake_esl``, lives
with the server).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from autoinformer.testing.fake_esl import FakeEslServer

if TYPE_CHECKING:
    from autoinformer.backends.base import Switch
    from autoinformer.testing.conformance import SwitchHarness

__all__ = ["esl_harness"]


def esl_harness(
    speed: float = 50.0,
    *,
    switch_options: Mapping[str, Any] | None = None,
    **server_options: Any,
) -> SwitchHarness:
    """The conformance harness for :class:`~autoinformer.backends.esl.EslSwitch` on this fake.

    Args:
        speed: model seconds per real second, for the fake and the harness's deadlines (1.0
            in a test in virtual time, see :mod:`autoinformer.testing.virtual_time`).
        switch_options: extra EslSwitch settings (``event_format="json"``...).
        server_options: extra FakeEslServer settings (``modules=...``...).
    """
    from contextlib import asynccontextmanager

    from autoinformer.backends.base import Media
    from autoinformer.backends.esl import EslSwitch
    from autoinformer.testing.conformance import SwitchHarness

    options: dict[str, Any] = {"speed": speed, "machine_numbers": ("15550100001",)}
    options.update(server_options)

    @asynccontextmanager
    async def session() -> Any:
        async with FakeEslServer(**options) as server:
            switch = EslSwitch(
                port=server.port,
                password=server.password,
                dial="sofia/gateway/gw1/{digits}",
                # real seconds: a person is declared only if no beep came by then; the
                # fake beeps 1.5 model s after avmd_start, so leave room for a busy machine
                avmd_timeout=max(4.0 / speed, 0.75),
                command_timeout=5.0,
                **(switch_options or {}),
            )
            async with switch:
                yield switch

    def connect() -> AbstractAsyncContextManager[Switch]:
        return session()  # type: ignore[no-any-return, unused-ignore]

    return SwitchHarness(
        connect=connect,
        speed=speed,
        slack=2.0,
        operator_endpoint="user/1001",
        media=Media(builtin="tone_stream://%(500,0,800)"),
        media_seconds=0.5,
        long_media=Media(builtin="tone_stream://%(600000,0,800)"),  # 10 minutes
        missing_media=Media(builtin="/nonexistent/autoinformer-missing.wav"),
        machine_number="+15550100001",
        refused_destination="refused:+79500000001",
    )
