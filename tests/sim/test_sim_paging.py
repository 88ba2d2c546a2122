"""Resume at scale in virtual time (#13 item 7): the driver pages the store as the runtime does.

``simulate`` with a store reads the campaign's open contacts a page at a time
(:class:`~autoinformer.feed.ContactFeed`) and forgets finished ones. Its results are held
to those of the same campaign read whole (one page larger than the list), fresh and resumed
after a stop; a counting store shows how much a start reads.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from autoinformer.cli import demo, main
from autoinformer.cli.demo import demo_campaign, demo_contacts, demo_model
from autoinformer.contacts.model import Contact
from autoinformer.policy.retry import RetryPolicy
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.sim.driver import DEFAULT_START, Simulation, simulate
from autoinformer.store.base import StoredContact
from autoinformer.store.sqlite import SqliteStore

WHOLE = 10**6  # a page larger than any list here: the store read at once


class CountingStore(SqliteStore):
    """A SQLite store counting the contacts it hands out (every way of reading them), and how
    many it had handed out when the first attempt was journaled (just before its originate)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, durability="normal")
        self.read = 0
        self.read_at_first_call: int | None = None

    def _count(self, rows: list[StoredContact]) -> list[StoredContact]:
        self.read += len(rows)
        return rows

    def contacts(self, campaign: str) -> Iterator[tuple[Contact, ContactProgress]]:
        for row in super().contacts(campaign):
            self.read += 1
            yield row

    def queued_contacts(self, campaign: str, *, after: int = 0, limit: int) -> list[StoredContact]:
        return self._count(super().queued_contacts(campaign, after=after, limit=limit))

    def timed_contacts(
        self, campaign: str, *, after: tuple[float, int] | None = None, limit: int
    ) -> list[StoredContact]:
        return self._count(super().timed_contacts(campaign, after=after, limit=limit))

    def in_call_contacts(self, campaign: str) -> list[StoredContact]:
        return self._count(super().in_call_contacts(campaign))

    def contacts_by_id(self, campaign: str, ids: Collection[str]) -> list[StoredContact]:
        return self._count(super().contacts_by_id(campaign, ids))

    def begin_attempt(self, record: AttemptRecord) -> None:
        if self.read_at_first_call is None:
            self.read_at_first_call = self.read
        super().begin_attempt(record)


def _results(store: SqliteStore, campaign: str) -> tuple[list[Any], list[Any]]:
    attempts = [
        (r.attempt_id, r.contact_id, r.attempt_no, r.number, r.outcome, r.started_at, r.ended_at)
        for r in store.attempts(campaign)
    ]
    progress = [
        (c.id, p.state, p.attempts, p.next_at, p.reason) for c, p in store.contacts(campaign)
    ]
    return attempts, progress


@pytest.mark.parametrize("seed", [3, 8, 9])
@pytest.mark.parametrize(
    ("begin", "stop_after", "page", "loaded", "guard"),
    [
        (0.0, None, 7, 50, True),  # fresh: the abandon guard has no history to miss
        (0.0, 1800.0, 25, 50, False),  # stopped in the first hour (retries waiting), resumed
        (0.0, 1800.0, 200, 50, True),  # the same with the guard: every retry in page one
        # begun at 19:00 MSK, stopped at night, resumed: all of the queue is read and put to
        # wait for 09:00 (a max_loaded under the list would call those it read first)
        (6 * 3600.0, 5400.0, 25, WHOLE, False),
    ],
)
def test_paged_runs_make_the_same_attempts_as_the_store_read_whole(
    tmp_path: Path,
    seed: int,
    begin: float,
    stop_after: float | None,
    page: int,
    loaded: int,
    guard: bool,
) -> None:
    """The demo campaign (calling hours, retries, operators) on a list many pages long,
    fresh or stopped and resumed: every attempt, time and final state is the same as with
    the whole store read at once.

    The abandon guard's history of a *resumed* run is only whole once every open contact
    with earlier attempts was paged in (see docs/reliability.md): with it, the resumed case
    has every retry in the first page."""
    campaign = demo_campaign(lines=6)
    if not guard:
        campaign = attrs.evolve(campaign, abandon_cap=1.0)
    contacts = demo_contacts(400, seed)
    runs = []
    for size, most in ((page, loaded), (WHOLE, WHOLE)):
        store = SqliteStore(tmp_path / f"s{seed}-{size}.sqlite", durability="normal")
        kw: dict[str, Any] = {"model": demo_model(seed), "page_size": size, "max_loaded": most}
        kw["start"] = DEFAULT_START + begin
        if stop_after is not None:
            first = simulate(campaign, contacts, store=store, until=kw["start"] + stop_after, **kw)
            assert first.records
            assert len(first.progress) < len(contacts)
        result = simulate(campaign, contacts, store=store, **kw)
        runs.append((_results(store, campaign.name), result.ended_at))
        store.close()
    (paged, paged_end), (whole, whole_end) = runs
    assert len(paged[0]) > 500  # retries happened: the test is not trivial
    assert paged == whole
    assert paged_end == whole_end


def test_a_start_reads_one_page_before_the_first_call_and_a_finished_store_none(
    tmp_path: Path,
) -> None:
    campaign = demo_campaign(lines=5)
    store = CountingStore(tmp_path / "c.sqlite")
    store.add_contacts(campaign.name, demo_contacts(600, 1))  # imported before the run
    result = simulate(campaign, (), model=demo_model(1), store=store, page_size=40)
    assert store.read_at_first_call is not None
    assert store.read_at_first_call <= 40
    assert store.read >= 600  # every contact was paged in, in its turn
    states = store.state_counts(campaign.name)
    assert sum(states.values()) == 600
    assert {s.value for s in states} <= {"done", "exhausted", "skipped"}
    assert len(result.records) == sum(1 for _ in store.attempts(campaign.name))

    store.read = 0
    again = simulate(campaign, demo_contacts(600, 1), model=demo_model(1), store=store)
    assert again.records == ()
    assert again.events <= 1
    assert store.read == 0  # a finished store says done without reading a contact
    assert again.started_at >= result.ended_at  # the resumed clock starts where it stopped
    store.close()


def test_memory_follows_the_open_contacts_not_the_list(tmp_path: Path) -> None:
    """Finished contacts leave the core's book (the store keeps them): it never holds much
    more than ``max_loaded`` plus a page, while the whole list is called; with
    ``keep_results=False`` (the CLI) the results are only in the store."""
    campaign = attrs.evolve(demo_campaign(lines=8), retry=RetryPolicy.simple(attempts=1))
    store = SqliteStore(tmp_path / "m.sqlite", durability="normal")
    store.add_contacts(campaign.name, demo_contacts(800, 2))
    sim = Simulation(campaign=campaign, model=demo_model(2), store=store, keep_results=False)
    held: list[int] = []
    sim.on_result = lambda _record: held.append(len(sim.core.book.slots))
    sim.page_from_store(page_size=20, max_loaded=30)
    result = sim.run()
    assert len(held) >= 800  # every result was still reported
    assert len(held) == sum(1 for _ in store.attempts(campaign.name))
    assert result.records == ()
    assert result.progress == {}
    assert max(held) <= 30 + 20
    assert sum(store.state_counts(campaign.name).values()) == 800
    assert not store.queued_contacts(campaign.name, limit=1)  # nobody left uncalled
    store.close()


def test_page_from_store_needs_a_store() -> None:
    with pytest.raises(ValueError, match="needs a store"):
        Simulation(campaign=demo_campaign()).page_from_store()


def test_a_contact_added_on_resume_does_not_get_a_finished_contacts_number(
    tmp_path: Path,
) -> None:
    """A number claimed by a contact finished before the restart (never paged in again) is not
    called again for a contact added with the resumed list: one person, one call per list."""
    campaign = attrs.evolve(demo_campaign(lines=4), retry=RetryPolicy.simple(attempts=1))
    contacts = demo_contacts(60, 4)
    store = SqliteStore(tmp_path / "d.sqlite", durability="normal")
    simulate(campaign, contacts, model=demo_model(4), store=store, page_size=5)
    assert not store.queued_contacts(campaign.name, limit=1)  # all of them finished
    late = contacts[45]
    twin = Contact(id="late-twin", phones=late.phones, variables=late.variables)
    fresh = Contact(id="late-new", phones=("+79990000000",), variables=late.variables)
    again = simulate(
        campaign, [*contacts, twin, fresh], model=demo_model(4), store=store, page_size=5
    )
    assert [r.contact_id for r in again.records] == ["late-new"]
    assert again.progress["late-twin"].state.value == "skipped"
    store.close()


def test_a_resumed_demo_takes_its_list_from_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`autoinformer demo` in virtual time, run again on its store with the same --contacts
    and --seed, does not build the list again (a million contacts took 12 s and ~650 MB):
    the driver pages it from the store, with the same summary."""
    path = str(tmp_path / "demo.sqlite")
    argv = ["demo", "--contacts", "300", "--seed", "5", "--json", "--store", path]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    built: list[int] = []
    real = demo.demo_contacts
    monkeypatch.setattr(demo, "demo_contacts", lambda n, s: built.append(n) or real(n, s))
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert built == []
    assert again["attempts"] == first["attempts"]
    assert again["contacts"] == first["contacts"]
    assert main([*argv[:2], "310", *argv[3:]]) == 0  # ten more: the list is built, they join
    more = json.loads(capsys.readouterr().out)
    assert built == [310]
    assert sum(more["contacts"].values()) == 310
