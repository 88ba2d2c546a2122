"""Both faces of the simulator, one model: the virtual-time driver and the runtime on SimSwitch
give every contact the same outcome and digits for the same seed.

The runtime runs in virtual time too: the event loop's clock jumps to the next timer whenever
nothing is ready and no worker thread (a store call) is running. Real
(scaled) time made the comparison depend on how quickly a busy CI machine schedules the runtime
(a reaction 30 ms late at speed 25 is 0.75 model seconds: past party 7's closest margin).
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Callable
from typing import Any

import anyio
import attrs
import pytest
import trio.abc

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, play, transfer
from autoinformer.sim.driver import simulate
from autoinformer.sim.model import PartiesModel
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.parties import PARTIES

CAMPAIGN = Campaign(
    name="faces",
    script=Script.of(
        play("sound:greeting"),
        menu("Press 1 for an operator.", {"1": transfer("operators")}, timeout=4),
    ),
    lines=10,
    min_delivered_seconds=10,
    retry=RetryPolicy.simple(attempts=1),
    queues=[
        QueueSettings(name="operators", operators=(Operator("anna", "PJSIP/101"),), max_wait=10.0)
    ],
)
CONTACTS = [Contact(id=f"p{d}", phones=(f"+7950000000{d}",)) for d in sorted(PARTIES)]


START = 1_767_261_600.0  # 2026-01-01 10:00 UTC, inside a working day


@attrs.define
class Threads:
    """Worker threads the runtime is waiting for (its store calls): time must not jump then."""

    in_flight: int = 0


THREADS = Threads()


async def counted_run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    THREADS.in_flight += 1
    try:
        return await REAL_RUN_SYNC(func, *args, **kwargs)
    finally:
        THREADS.in_flight -= 1


REAL_RUN_SYNC = anyio.to_thread.run_sync


class _JumpingSelector(selectors.BaseSelector):
    """A selector that does not wait for timers: when nothing is ready it moves its loop's clock
    to the next one instead (unless a worker thread is running: its reply wakes the loop)."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._inner = selectors.DefaultSelector()
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None or THREADS.in_flight:  # only I/O or a thread's reply can wake us
            return self._inner.select(None if timeout is None else min(timeout, 1.0))
        self._loop.virtual_now += timeout
        return ready

    def get_map(self) -> Any:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop in virtual time: idle waits for timers take no real time."""

    def __init__(self) -> None:
        self.virtual_now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self.virtual_now


class TrioVirtualClock(trio.abc.Clock):
    """trio's twin of :class:`VirtualTimeLoop` (MockClock's autojump also jumps while a worker
    thread runs, which is exactly when the runtime must not fall behind)."""

    def __init__(self) -> None:
        self._now = 0.0

    def start_clock(self) -> None:
        pass

    def current_time(self) -> float:
        return self._now

    def deadline_to_sleep_time(self, deadline: float) -> float:
        if deadline <= self._now:
            return 0.0
        if THREADS.in_flight or deadline == math.inf:
            return min(deadline - self._now, 1.0)  # a thread's reply wakes trio early
        self._now = deadline
        return 0.0


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, dict[str, Any]]:
    """Both backends as in tests/conftest.py, each in virtual time."""
    monkeypatch.setattr(anyio.to_thread, "run_sync", counted_run_sync)
    if request.param == "trio":
        return ("trio", {"clock": TrioVirtualClock()})
    return ("asyncio", {"loop_factory": VirtualTimeLoop})


@attrs.define(kw_only=True)
class LoopClock:
    """Model time = the event loop's (virtual) clock, from ``START``."""

    _origin: float = attrs.field(init=False, factory=anyio.current_time)

    def now(self) -> float:
        return START + anyio.current_time() - self._origin

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - self.now()
        if delay > 0:
            await anyio.sleep(delay)


def by_contact(records: list[AttemptRecord]) -> dict[str, tuple[Outcome | None, str]]:
    return {r.contact_id: (r.outcome, r.digits) for r in records}


@pytest.mark.anyio
async def test_driver_and_runtime_on_simswitch_agree() -> None:
    model = PartiesModel(seed=3)
    virtual = simulate(CAMPAIGN, CONTACTS, model=model)
    expected = by_contact(list(virtual.records))
    assert len(expected) == len(CONTACTS)

    # virtual time: the runtime reacts at the instant an event happens, as the driver assumes;
    # the script's closest margin (party 7's digit vs the end of the greeting) is 0.7 s
    clock = LoopClock()
    store = MemoryStore()
    async with SimSwitch(model=model, clock=clock) as switch:
        await Runtime(campaign=CAMPAIGN, switch=switch, store=store, clock=clock).run(CONTACTS)
    real = by_contact(list(store.attempts(CAMPAIGN.name)))

    assert real == expected
    # and the convention's outcomes hold where the script does not change them
    for digit in "123456790":
        assert real[f"p{digit}"][0] is PARTIES[digit].expected, (digit, real[f"p{digit}"])
    assert real["p8"] == (Outcome.TRANSFERRED, "1")
