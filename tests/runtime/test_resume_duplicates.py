"""The runtime keeps the numbers the core left a contact (it dropped those an earlier contact
has): a process started again on the store never calls them for it, even when the contact
that has them is finished and never paged in (asyncio and trio, in virtual time)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.script import Script, say
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

DEADLINE = 86400.0  # virtual seconds
anyio_backend = virtual_anyio_backend

SHARED = "+79500000001"  # answers (the test parties' last digit 1)
OTHER = "+79500000003"  # never answers: retried, on the contact's next number
CAMPAIGN = Campaign(
    name="rd",
    script=Script.of(say("Hello.")),
    window=CallWindow.any_time(),
    retry=RetryPolicy.simple(attempts=3, interval="2m"),
    lines=2,
    limits=None,
)
CONTACTS = [Contact(id="a", phones=(SHARED,)), Contact(id="b", phones=(SHARED, OTHER))]


@pytest.mark.anyio
async def test_a_restarted_runtime_never_calls_a_dropped_number_of_a_contact(
    tmp_path: Path,
) -> None:
    with SqliteStore(tmp_path / "rd.sqlite", durability="normal") as store:
        clock = LoopClock()
        async with SimSwitch(clock=clock) as switch:
            first = Runtime(campaign=CAMPAIGN, switch=switch, store=store, clock=clock)

            def stop_after_b(record: AttemptRecord) -> None:
                if record.contact_id == "b":
                    first.stop()  # the process stops; b waits for its retry

            first.on_result(stop_after_b)
            with anyio.fail_after(DEADLINE):
                await first.run(CONTACTS)
        saved = {contact.id: (contact.phones, p.state) for contact, p in store.contacts("rd")}
        assert saved == {
            "a": ((SHARED,), ContactState.DONE),
            "b": ((OTHER,), ContactState.SCHEDULED),
        }
        clock = LoopClock(start=clock.now())
        async with SimSwitch(clock=clock) as switch:
            second = Runtime(campaign=CAMPAIGN, switch=switch, store=store, clock=clock)
            with anyio.fail_after(DEADLINE):
                summary = await second.run(CONTACTS)  # a is done: never paged in
        numbers = [(r.contact_id, r.number) for r in store.attempts("rd")]
    assert numbers == [("a", SHARED), ("b", OTHER), ("b", OTHER), ("b", OTHER)]
    assert summary.to_dict()["contacts"] == {"done": 1, "exhausted": 1}
