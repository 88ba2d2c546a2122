"""A contact added since an earlier contact finished (a resumed list with new contacts, or one
added live after a restart) is never called on a number of that earlier contact, though the
finished contact is never paged in: the runtime gives the core the stored contacts that have
one of the new numbers first (asyncio and trio, in virtual time)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core.intake import DUPLICATE_REASON
from autoinformer.outcomes import ContactState
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.runtime import Runtime
from autoinformer.script import Script, say
from autoinformer.store.base import Store
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

Saved = dict[str, object]

DEADLINE = 86400.0  # virtual seconds
anyio_backend = virtual_anyio_backend

SHARED = "+79500000001"  # answers (the test parties' last digit 1): a is done on it
OWN = "+79500000011"  # answers too: b's own number
BUSY = "+79500000002"  # busy: keeps the second run going while b is added
CAMPAIGN = Campaign(
    name="ro",
    script=Script.of(say("Hello.")),
    window=CallWindow.any_time(),
    retry=RetryPolicy.simple(attempts=3, interval="2m"),
    lines=2,
    limits=None,
)
A = Contact(id="a", phones=(SHARED,))
BOTH = Contact(id="b", phones=(SHARED, OWN))
ONLY_SHARED = Contact(id="b", phones=(SHARED,))
C = Contact(id="c", phones=(BUSY,))


async def _finish_a(store: Store) -> tuple[float, ContactProgress]:
    """The first process: a is called on the shared number and done. Returns the time it
    ended and a's progress as saved."""
    clock = LoopClock()
    async with SimSwitch(clock=clock) as switch:
        first = Runtime(campaign=CAMPAIGN, switch=switch, store=store, clock=clock)
        with anyio.fail_after(DEADLINE):
            await first.run([A])
    (row,) = store.contacts_by_id("ro", ["a"])
    assert row.progress.state is ContactState.DONE
    return clock.now(), row.progress


def _outcome(store: Store, a_before: ContactProgress) -> tuple[list[tuple[str, str]], Saved]:
    """Who was dialled on which number, and b's saved numbers, state and reason; a's
    progress is as the first process left it."""
    numbers = [(r.contact_id, r.number) for r in store.attempts("ro")]
    rows = {row.contact.id: row for row in store.contacts_by_id("ro", ["a", "b"])}
    assert rows["a"].progress == a_before  # a is never called again nor changed
    b = rows["b"]
    return numbers, {
        "phones": b.contact.phones,
        "state": b.progress.state,
        "why": b.progress.reason,
    }


# b with a finished contact's number and one of its own (trimmed), or only that (skipped)
B_CASES = pytest.mark.parametrize(
    ("b", "dialled", "saved"),
    [
        (BOTH, [("b", OWN)], {"phones": (OWN,), "state": ContactState.DONE}),
        (ONLY_SHARED, [], {"phones": (SHARED,), "state": ContactState.SKIPPED}),
    ],
    ids=["trimmed", "duplicate"],
)


def _assert_saved(b_saved: Saved, saved: Saved) -> None:
    assert b_saved["phones"] == saved["phones"]
    assert b_saved["state"] is saved["state"]
    if saved["state"] is ContactState.SKIPPED:
        assert b_saved["why"] == DUPLICATE_REASON


@pytest.mark.anyio
@B_CASES
async def test_a_resumed_list_never_calls_a_new_contact_on_a_finished_contacts_number(
    tmp_path: Path, b: Contact, dialled: list[tuple[str, str]], saved: Saved
) -> None:
    with SqliteStore(tmp_path / "ro.sqlite", durability="normal") as store:
        ended, a_before = await _finish_a(store)
        clock = LoopClock(start=ended)
        async with SimSwitch(clock=clock) as switch:
            second = Runtime(campaign=CAMPAIGN, switch=switch, store=store, clock=clock)
            with anyio.fail_after(DEADLINE):
                await second.run([A, b])  # a is done: never paged in
        numbers, b_saved = _outcome(store, a_before)
    assert numbers == [("a", SHARED), *dialled]
    _assert_saved(b_saved, saved)


@pytest.mark.anyio
@B_CASES
async def test_a_contact_added_live_after_a_restart_never_calls_a_finished_contacts_number(
    tmp_path: Path, b: Contact, dialled: list[tuple[str, str]], saved: Saved
) -> None:
    with SqliteStore(tmp_path / "ro.sqlite", durability="normal") as store:
        ended, a_before = await _finish_a(store)
        clock = LoopClock(start=ended)
        async with SimSwitch(clock=clock) as switch:
            second = Runtime(campaign=CAMPAIGN, switch=switch, store=store, clock=clock)

            def add_b(record: AttemptRecord) -> None:
                if record.contact_id == "c" and record.attempt_no == 1:
                    second.add_contacts([b])  # while c waits for its retry

            second.on_result(add_b)
            with anyio.fail_after(DEADLINE):
                await second.run([C])  # a is done: never paged in
        numbers, b_saved = _outcome(store, a_before)
    assert [n for n in numbers if n[0] != "c"] == [("a", SHARED), *dialled]
    assert [n for n in numbers if n[0] == "c"] == [("c", BUSY)] * 3  # the run went on
    _assert_saved(b_saved, saved)
