"""Issue #14, item 3: the same number in two contacts is called once; the second is skipped."""

from __future__ import annotations

from autoinformer.campaign import Campaign
from autoinformer.contacts import Contact
from autoinformer.core.intake import DUPLICATE_REASON
from autoinformer.outcomes import ContactState
from autoinformer.policy import CallWindow, RetryPolicy
from autoinformer.script import Script, say
from autoinformer.sim.driver import simulate
from autoinformer.store.memory import MemoryStore

CAMPAIGN = Campaign(
    name="dup",
    script=Script.of(say("Hello.")),
    window=CallWindow.any_time(),
    retry=RetryPolicy.simple(attempts=1),
    limits=None,
)


def test_a_number_in_two_contacts_is_called_once_and_the_skip_is_counted() -> None:
    contacts = [
        Contact(id="a", phones=("+79500000001",)),
        Contact(id="b", phones=("+7 950 000-00-01",)),  # the same number, written otherwise
        Contact(id="c", phones=("+79500000011",)),
    ]
    result = simulate(CAMPAIGN, contacts)
    dialled = sorted(r.number for r in result.records)
    assert dialled == ["+79500000001", "+79500000011"]
    assert result.progress["b"].state is ContactState.SKIPPED
    assert result.progress["b"].reason == DUPLICATE_REASON


def test_a_contact_with_one_new_number_keeps_only_that_one() -> None:
    contacts = [
        Contact(id="a", phones=("+79500000002",)),  # busy by the test convention
        Contact(id="b", phones=("+79500000002", "+79500000021")),
    ]
    result = simulate(CAMPAIGN, contacts)
    numbers = {r.contact_id: r.number for r in result.records}
    assert numbers == {"a": "+79500000002", "b": "+79500000021"}
    assert result.progress["b"].state is not ContactState.SKIPPED


def test_restored_contacts_are_checked_too() -> None:
    store = MemoryStore()
    first = [Contact(id="a", phones=("+79500000001",))]
    simulate(CAMPAIGN, first, store=store)
    again = [Contact(id="a", phones=("+79500000001",)), Contact(id="b", phones=("+79500000001",))]
    result = simulate(CAMPAIGN, again, store=store)
    assert [r.contact_id for r in result.records] == []  # a was done, b has a's number
    assert result.progress["b"].state is ContactState.SKIPPED
    assert result.progress["b"].reason == DUPLICATE_REASON
