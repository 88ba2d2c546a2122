"""``Store.contacts_with_numbers``: the contacts that have one of some numbers (as stored,
after ``save_numbers``), in the order added, each once, in any state; only of the campaign.
Every store answers the same, the base class's default (a full read) too (PostgreSQL skips
without a server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState
from autoinformer.records import ContactProgress
from autoinformer.store import MemoryStore, SqliteStore, Store

C = "owners"
X, Y, Z, W = "+79500000001", "+79500000002", "+79500000003", "+79500000004"


class _Default(MemoryStore):
    """A store relying on the contract's default implementation."""

    contacts_with_numbers = Store.contacts_with_numbers


@pytest.fixture(params=["memory", "sqlite", "postgres", "default"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")  # skips without a server or psycopg
        from autoinformer.store.postgres import PostgresStore

        s = PostgresStore(url)
    elif request.param == "sqlite":
        s = SqliteStore(tmp_path / "o.db", durability="normal")
    else:
        s = MemoryStore() if request.param == "memory" else _Default()
    yield s
    s.close()


def _fill(store: Store) -> None:
    store.add_contacts(
        C,
        [
            Contact(id="p", phones=(Z, X)),
            Contact(id="q", phones=(W,)),
            Contact(id="r", phones=(X, Y)),
            Contact(id="s", phones=()),
            Contact(id="t", phones=(Y,)),
        ],
    )
    store.add_contacts("other", [Contact(id="o", phones=(X,))])


def test_the_owners_of_any_number_in_the_order_added_each_once(store: Store) -> None:
    _fill(store)
    store.save_progress(C, ContactProgress("p", ContactState.DONE, 1, None, "delivered"))
    rows = store.contacts_with_numbers(C, [Y, X, X, "+79509999999"])
    assert [row.contact.id for row in rows] == ["p", "r", "t"]
    seqs = {row.contact.id: row.seq for row in store.contacts_by_id(C, ["p", "r", "t"])}
    assert [row.seq for row in rows] == [seqs["p"], seqs["r"], seqs["t"]]
    assert rows[0].contact == Contact(id="p", phones=(Z, X))
    assert rows[0].progress == ContactProgress("p", ContactState.DONE, 1, None, "delivered")
    assert [row.contact.id for row in store.contacts_with_numbers(C, {W})] == ["q"]
    assert store.contacts_with_numbers(C, []) == []
    assert store.contacts_with_numbers(C, ["+79509999999"]) == []
    assert store.contacts_with_numbers(C, [X[:-1], X + "0", X[1:]]) == []  # whole numbers only
    assert store.contacts_with_numbers("nobody", [X]) == []
    assert [row.contact.id for row in store.contacts_with_numbers("other", [X, Y])] == ["o"]


def test_owners_are_found_by_their_numbers_as_saved(store: Store) -> None:
    _fill(store)
    store.save_numbers(C, "r", (Y,))  # the core dropped X from r: p has it
    assert [row.contact.id for row in store.contacts_with_numbers(C, [X])] == ["p"]
    assert [row.contact.id for row in store.contacts_with_numbers(C, [Y])] == ["r", "t"]


def test_many_numbers_at_once(store: Store) -> None:
    """More numbers than one query's bound parameters allow (a resumed list's new contacts)."""
    many = [f"+7951{i:07d}" for i in range(40_000)]
    store.add_contacts(C, [Contact(id=f"m{i}", phones=(many[i],)) for i in range(0, 40_000, 997)])
    rows = store.contacts_with_numbers(C, many)
    assert [row.contact.id for row in rows] == [f"m{i}" for i in range(0, 40_000, 997)]
