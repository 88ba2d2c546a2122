"""A simulation resumed on a store with a list of new contacts: a new contact is not called on
a number of a stored contact that is finished (never paged in), even when that contact is not
in the list given now (it came with another list, or was added live)."""

from __future__ import annotations

from pathlib import Path

import attrs

from autoinformer.cli.demo import demo_campaign, demo_contacts, demo_model
from autoinformer.contacts.model import Contact
from autoinformer.core.intake import DUPLICATE_REASON
from autoinformer.outcomes import ContactState
from autoinformer.policy.retry import RetryPolicy
from autoinformer.sim.driver import simulate
from autoinformer.store.sqlite import SqliteStore


def test_a_new_list_does_not_call_a_number_of_a_finished_contact_of_another_list(
    tmp_path: Path,
) -> None:
    campaign = attrs.evolve(demo_campaign(lines=4), retry=RetryPolicy.simple(attempts=1))
    first = demo_contacts(20, 4)
    with SqliteStore(tmp_path / "o.sqlite", durability="normal") as store:
        simulate(campaign, first, model=demo_model(4), store=store, page_size=5)
        assert not store.queued_contacts(campaign.name, limit=1)  # all of them finished
        called = {r.number for r in store.attempts(campaign.name)}
        taken = first[7]
        assert set(taken.phones) <= called
        twin = Contact(id="twin", phones=taken.phones, variables=taken.variables)
        fresh = Contact(id="fresh", phones=("+79990000000",), variables=taken.variables)
        again = simulate(campaign, [twin, fresh], model=demo_model(4), store=store, page_size=5)
        (row,) = store.contacts_by_id(campaign.name, ["twin"])
    assert [r.contact_id for r in again.records] == ["fresh"]
    assert row.progress.state is ContactState.SKIPPED
    assert row.progress.reason == DUPLICATE_REASON
