"""``Store.save_numbers``: the numbers the core left a contact (it dropped those an earlier
contact has) replace the ones it was added with; its place and progress stay. Every store
answers the same (PostgreSQL skips without a server)."""

from __future__ import annotations

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.errors import StoreError
from autoinformer.outcomes import ContactState
from autoinformer.records import ContactProgress
from autoinformer.store import Store

C = "numbers"


def test_saved_numbers_are_read_back_by_every_read_and_keep_place_and_progress(
    store: Store,
) -> None:
    contacts = [
        Contact(id="a", phones=("+79500000001",)),
        Contact(id="b", name="B", phones=("+79500000001", "+79500000003"), variables={"X": "1"}),
        Contact(id="c", phones=("+79500000021",)),
    ]
    store.add_contacts(C, contacts)
    progress = ContactProgress("b", ContactState.SCHEDULED, 1, 500.0, "retry after busy")
    store.save_progress(C, progress)
    before = {row.contact.id: row.seq for row in store.contacts_by_id(C, ["a", "b", "c"])}
    store.save_numbers(C, "b", ("+79500000003",))
    rows = store.contacts_by_id(C, ["a", "b", "c"])
    assert {row.contact.id: row.seq for row in rows} == before
    b = next(row for row in rows if row.contact.id == "b")
    assert b.contact == Contact(id="b", name="B", phones=("+79500000003",), variables={"X": "1"})
    assert b.progress == progress
    assert [row.contact.phones for row in store.timed_contacts(C, limit=10)] == [("+79500000003",)]
    assert dict((c.id, c.phones) for c, _ in store.contacts(C))["a"] == ("+79500000001",)
    store.add_contacts(C, contacts)  # added again: kept as it is
    assert dict((c.id, c.phones) for c, _ in store.contacts(C))["b"] == ("+79500000003",)


def test_numbers_of_an_unknown_contact_are_refused(store: Store) -> None:
    store.add_contacts(C, [Contact(id="a", phones=("+79500000001",))])
    with pytest.raises(StoreError):
        store.save_numbers(C, "zz", ("+79500000001",))
    with pytest.raises(StoreError):
        store.save_numbers("other", "a", ("+79500000001",))
