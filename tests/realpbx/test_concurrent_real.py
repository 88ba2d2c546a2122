"""A hundred calls at once on each real switch: every one is placed, answered and ended,
each with exactly one CallEnded, and no channel is left behind."""

from __future__ import annotations

import anyio
import pytest

from autoinformer.backends import load_backend
from autoinformer.backends.base import CallAnswered, CallEnded, SwitchEvent
from autoinformer.testing.realpbx import RealPbx, live_calls, wait_until

CALLS = 100


@pytest.mark.real_pbx
@pytest.mark.anyio
async def test_a_hundred_concurrent_calls(pbx: RealPbx, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pbx.password_env, pbx.password)
    settings = {k: v for k, v in pbx.backend.items() if k != "kind"}
    ids = [f"burst-{n:03d}" for n in range(CALLS)]
    answered: set[str] = set()
    ended: dict[str, list[CallEnded]] = {}
    all_answered, all_ended = anyio.Event(), anyio.Event()

    async with load_backend(pbx.kind)(**settings) as switch:

        async def read() -> None:
            event: SwitchEvent
            async for event in switch.events():
                if isinstance(event, CallAnswered) and event.call_id in ids:
                    answered.add(event.call_id)
                    if len(answered) == CALLS:
                        all_answered.set()
                elif isinstance(event, CallEnded) and event.call_id in ids:
                    ended.setdefault(event.call_id, []).append(event)
                    if len(ended) == CALLS:
                        all_ended.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            with anyio.fail_after(60):
                async with anyio.create_task_group() as placing:
                    for n, call_id in enumerate(ids):
                        number = f"+7950777{n:03d}1"  # party 1: answers and holds
                        placing.start_soon(
                            lambda c=call_id, d=number: switch.originate(
                                c, d, caller_id=None, ring_timeout=20
                            )
                        )
                await all_answered.wait()
            with anyio.fail_after(60):
                async with anyio.create_task_group() as hanging:
                    for call_id in ids:
                        hanging.start_soon(switch.hangup, call_id)
                await all_ended.wait()
            tg.cancel_scope.cancel()
    assert answered == set(ids)
    assert all(len(ends) == 1 for ends in ended.values()), "a call ended twice"
    assert all(ends[0].answered for ends in ended.values())
    # the switch lets go of them (its own count, polled with a deadline)
    await anyio.to_thread.run_sync(wait_until, lambda: live_calls(pbx) == 0, 10, "no channels")
