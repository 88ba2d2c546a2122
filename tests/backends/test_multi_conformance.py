"""A :class:`SwitchSet` of two simulated switches passes the conformance suite every backend
passes (``autoinformer.testing.conformance``), on asyncio and trio in virtual time: one switch
to the runtime, whichever member carries each call.

The transfer check names its operator leg freely, so with two members the leg may land on
the other switch than its call (the set places a leg by the core's name for it,
``<call_id>-op<n>``; ``test_multi.py`` runs transfers through the core). It runs on a set of
one member here, and on two with a leg named as the core names it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import attrs
import pytest

from autoinformer.backends.base import Switch
from autoinformer.backends.multi import Member, SwitchSet
from autoinformer.backends.sim import SimSwitch
from autoinformer.sim.faults import Faults
from autoinformer.testing.conformance import CHECKS, SwitchHarness, check_transfer, sim_harness
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

anyio_backend = virtual_anyio_backend


def _set(members: int = 2) -> AbstractAsyncContextManager[Switch]:
    clock = LoopClock()

    def member() -> SimSwitch:
        return SimSwitch(
            clock=clock,
            faults=Faults(refuse_pattern=r"^refused:"),
            builtin_seconds={"beep": 0.5, "hold-music": 600.0},
        )

    return SwitchSet(
        [Member(member(), name=f"s{i}", weight=1) for i in range(members)], clock=clock
    )


@pytest.mark.anyio
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
async def test_conformance(check: Callable[[SwitchHarness], Awaitable[None]]) -> None:
    members = 1 if check is check_transfer else 2
    await check(attrs.evolve(sim_harness(virtual=True), connect=lambda: _set(members)))
