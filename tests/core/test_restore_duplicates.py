"""A number two contacts share is called by one of them only, across a resume too.

Intake drops from a contact the numbers an earlier contact has. A resumed campaign reads its
contacts back from the store, in the store's page order and without the finished ones: the
numbers dropped must not come back (the same person would be called twice, once for each
contact). The core saves the numbers it leaves a contact (``SaveNumbers``), and a restore
claims numbers again: a number a contact dialled stays its own, the rest go in list order.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import attrs
import pytest

from autoinformer.campaign import Campaign
from autoinformer.contacts import Contact
from autoinformer.core import DialerCore
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.intake import DUPLICATE_REASON
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.policy import CallWindow, RetryPolicy
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.script import Script, say
from autoinformer.sim.driver import DEFAULT_START, Simulation, load_from_store, simulate
from autoinformer.store import MemoryStore, SqliteStore, Store

CAMPAIGN = Campaign(
    name="dup",
    script=Script.of(say("Hello.")),
    window=CallWindow.any_time(),
    retry=RetryPolicy.simple(attempts=3, interval="2m"),
    limits=None,
)
SHARED = "+79500000001"  # answers (the test parties' last digit 1)
OTHER = "+79500000003"  # never answers: retried, on the contact's next number
SPARE = "+79500000013"  # never answers
ELSE = "+79500000021"  # an unrelated contact's (answers)


def _contacts(owner_done: bool) -> list[Contact]:
    """The owner has the shared number first (done at once) or second (called after its
    first number: the number is still to dial at the cut); ``b`` lists it before its own."""
    owner = (SHARED,) if owner_done else (SPARE, SHARED)
    return [
        Contact(id="a", phones=owner),
        Contact(id="b", phones=(SHARED, OTHER)),
        Contact(id="c", phones=(ELSE,)),
    ]


def _cut(store: Store, owner_done: bool) -> float:
    """The campaign's first minute: ``b`` was called on its own number and waits for a
    retry; the owner is done, or waits too. Returns the time of the cut."""
    until = DEFAULT_START + 60
    first = simulate(CAMPAIGN, _contacts(owner_done), store=store, until=until)
    assert [(r.contact_id, r.number) for r in first.records if r.contact_id == "b"] == [
        ("b", OTHER)
    ]
    owner = ContactState.DONE if owner_done else ContactState.SCHEDULED
    assert first.progress["a"].state is owner
    assert first.progress["b"].state is ContactState.SCHEDULED
    return until


def _numbers(records: list[AttemptRecord] | tuple[AttemptRecord, ...], cid: str) -> list[str]:
    return [r.number for r in records if r.contact_id == cid]


@pytest.mark.parametrize("owner_done", [True, False], ids=["owner-done", "owner-open"])
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_resume_from_the_store_never_gives_a_dropped_number_back(
    tmp_path: Path, kind: str, owner_done: bool
) -> None:
    store: Store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "d.sqlite")
    with store:
        _cut(store, owner_done)
        saved = {contact.id: contact.phones for contact, _ in store.contacts("dup")}
        assert saved["b"] == (OTHER,), "the numbers intake left b are saved"
        assert saved["a"] == _contacts(owner_done)[0].phones
        second = simulate(CAMPAIGN, _contacts(owner_done), store=store)  # resumes the store
        records = list(store.attempts("dup"))
    assert _numbers(records, "b") == [OTHER] * 3, "b retried on its own number only"
    assert second.progress["b"].state is ContactState.EXHAUSTED
    assert _numbers(records, "a") == ([SHARED] if owner_done else [SPARE, SHARED])


def _legacy(owner_done: bool) -> tuple[list[e.RestoredContact], float]:
    """The campaign at the cut as a store written before the core saved the numbers it
    left a contact gives it back: ``b`` with the shared number it never had."""
    store = MemoryStore()
    until = _cut(store, owner_done)
    store.save_numbers("dup", "b", (SHARED, OTHER))
    event, _ = load_from_store(store, "dup")
    return list(event.entries), until


def _resume(entries: tuple[e.RestoredContact, ...], at: float) -> tuple[AttemptRecord, ...]:
    sim = Simulation(campaign=CAMPAIGN, start=at)
    sim.at(at, e.ContactsRestored(entries))
    return sim.run().records


CASES = {
    # owner done, its records restored (a whole read of the store)
    "done": (True, False, False),
    # owner done and never paged in: given for its numbers only, no records
    "done-no-records": (True, True, False),
    "done-no-seq": (True, False, True),
    "done-no-records-no-seq": (True, True, True),
    # owner open: neither dialled the shared number yet; the list order decides
    "open": (False, False, False),
}


@pytest.mark.parametrize("case", CASES)
def test_a_restore_in_any_order_keeps_the_shared_number_with_its_owner(case: str) -> None:
    owner_done, no_records, no_seq = CASES[case]
    entries, at = _legacy(owner_done)
    if no_records:
        entries = [attrs.evolve(x, attempts=()) if x.contact.id == "a" else x for x in entries]
    if no_seq:
        entries = [attrs.evolve(x, seq=None) for x in entries]
    for order in itertools.permutations(entries):
        records = _resume(order, at)
        ids = [x.contact.id for x in order]
        assert _numbers(records, "b") == [OTHER, OTHER], ids
        if not owner_done:
            assert _numbers(records, "a") == [SHARED], ids  # the owner keeps it
        assert set(_numbers(records, "c")) <= {ELSE}, ids  # unrelated: done or in flight


def test_a_contact_called_on_the_number_before_a_restore_keeps_it() -> None:
    """The number a contact dialled is its own, even when an earlier contact lists it
    (added after that call, say): the earlier one is trimmed of it, not the caller."""
    entries, at = _legacy(owner_done=False)
    a, b, _ = entries
    dialled = attrs.evolve(b.attempts[0], number=SHARED)
    b = attrs.evolve(b, attempts=(dialled,))
    for order in ([a, b], [b, a]):
        records = _resume(tuple(order), at)
        assert _numbers(records, "a") == [SPARE, SPARE]  # its other number only
        assert _numbers(records, "b") == [OTHER, SHARED]


def test_a_contact_in_flight_on_a_number_of_a_done_contact_is_skipped_not_retried() -> None:
    """A store whose contacts both called the shared number (before this fix): the one
    later in the list, in flight at the cut, is closed as a duplicate once its attempt is
    recorded, never called on it again."""
    contact_a = Contact(id="a", phones=(SHARED,))
    contact_b = Contact(id="b", phones=(SHARED,))
    record = AttemptRecord(
        attempt_id="a-1",
        campaign="dup",
        contact_id="a",
        attempt_no=1,
        number=SHARED,
        caller_id=None,
        started_at=DEFAULT_START - 600,
        outcome=Outcome.DELIVERED,
        ended_at=DEFAULT_START - 560,
    )
    crashed = attrs.evolve(record, attempt_id="b-1", contact_id="b", outcome=None, ended_at=None)
    done = e.RestoredContact(contact_a, ContactProgress("a", ContactState.DONE, 1), [record], 1)
    flight = e.RestoredContact(
        contact_b, ContactProgress("b", ContactState.IN_CALL, 1), [crashed], 2
    )
    for order in ([done, flight], [flight, done]):
        core = DialerCore(campaign=CAMPAIGN)
        out = core.handle(DEFAULT_START, e.ContactsRestored(order))
        journals = [cmd.record for cmd in out if isinstance(cmd, c.Journal)]
        assert [(r.attempt_id, r.outcome) for r in journals] == [("b-1", Outcome.UNKNOWN)]
        saved = [cmd.progress for cmd in out if isinstance(cmd, c.SaveProgress)]
        assert saved[-1] == ContactProgress("b", ContactState.SKIPPED, 1, None, DUPLICATE_REASON)
        assert not any(isinstance(cmd, c.Originate) for cmd in out)


def test_intake_saves_the_numbers_it_leaves_a_contact_and_none_for_a_skipped_one() -> None:
    core = DialerCore(campaign=CAMPAIGN)
    out = core.handle(
        DEFAULT_START,
        e.ContactsAdded(
            [
                Contact(id="a", phones=(SHARED,)),
                Contact(id="b", phones=(SHARED, OTHER)),  # trimmed: saved
                Contact(id="d", phones=(OTHER,)),  # every number taken: skipped
                Contact(id="c", phones=(ELSE,)),  # kept whole: nothing to save
            ]
        ),
    )
    assert [cmd for cmd in out if isinstance(cmd, c.SaveNumbers)] == [c.SaveNumbers("b", (OTHER,))]
    saved = [cmd.progress for cmd in out if isinstance(cmd, c.SaveProgress)]
    skipped = [p for p in saved if p.state is ContactState.SKIPPED]
    assert [(p.contact_id, p.reason) for p in skipped] == [("d", DUPLICATE_REASON)]
