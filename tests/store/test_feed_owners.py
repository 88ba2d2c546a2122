"""The earlier owners of a new contact's numbers (:func:`autoinformer.feed.add_to_store`,
``ContactFeed.event(owners=...)``): a contact added since (a resumed list, a live add) is not
called on a number a stored contact the core does not hold has, finished or waiting for a
retry (every store; PostgreSQL skips without a server)."""

from __future__ import annotations

from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.intake import DUPLICATE_REASON
from autoinformer.feed import ContactFeed, add_to_store
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.pacing import BroadcastPacing
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.script import Script, say
from autoinformer.store.base import Store

NOW = 1_767_700_800.0
C = "fo"
X, Y, Z, W = "+79500000001", "+79500000002", "+79500000003", "+79500000004"


def _core() -> DialerCore:
    campaign = Campaign(
        name=C,
        timezone="UTC",
        script=Script.of(say("Hello.")),
        window=CallWindow.any_time(),
        retry=RetryPolicy.simple(attempts=3, interval="1h"),
        lines=5,
        limits=None,
    )
    core = DialerCore(campaign=campaign, pacing=BroadcastPacing())
    core.book.forget_closed = True
    return core


def _attempt(store: Store, cid: str, number: str, outcome: Outcome) -> AttemptRecord:
    record = AttemptRecord(
        attempt_id=f"{cid}-1",
        campaign=C,
        contact_id=cid,
        attempt_no=1,
        number=number,
        caller_id=None,
        started_at=NOW - 600,
        ended_at=NOW - 540,
        outcome=outcome,
    )
    store.begin_attempt(record)
    store.finish_attempt(record)
    return record


def _stored(store: Store) -> None:
    """done (X, delivered), retry (Y, no answer: waiting an hour), fresh (Z), other (W)."""
    store.add_contacts(
        C,
        [
            Contact(id="done", phones=(X,)),
            Contact(id="retry", phones=(Y,)),
            Contact(id="fresh", phones=(Z,)),
            Contact(id="other", phones=(W,)),
        ],
    )
    _attempt(store, "done", X, Outcome.DELIVERED)
    store.save_progress(C, ContactProgress("done", ContactState.DONE, 1, None, "delivered"))
    _attempt(store, "retry", Y, Outcome.NO_ANSWER)
    store.save_progress(C, ContactProgress("retry", ContactState.SCHEDULED, 1, NOW + 3600))


def test_owners_are_the_stored_contacts_with_a_new_number(store: Store) -> None:
    _stored(store)
    new, owners = add_to_store(
        store,
        C,
        [
            Contact(id="done", phones=(W,)),  # known: kept as it is, not an owner's number
            Contact(id="n1", phones=(X, Y)),
            Contact(id="n2", phones=(Z,)),
        ],
    )
    assert [contact.id for contact in new] == ["n1", "n2"]
    assert [row.contact.id for row in owners] == ["done", "retry", "fresh"]
    assert [row.contact.phones for row in store.contacts_by_id(C, ["done"])] == [(X,)]
    assert store.known_ids(C, ["n1", "n2"]) == {"n1", "n2"}


def test_no_owner_is_looked_up_before_any_call(store: Store) -> None:
    """Before the first attempt no number was called: the core claims them as it pages."""
    store.add_contacts(C, [Contact(id="a", phones=(X,))])
    new, owners = add_to_store(store, C, [Contact(id="b", phones=(X,))])
    assert [contact.id for contact in new] == ["b"]
    assert owners == []


def test_finished_owners_come_with_numbers_only_open_ones_with_their_attempts(
    store: Store,
) -> None:
    _stored(store)
    core, feed = _core(), ContactFeed(store=store, campaign=C)
    _, owners = add_to_store(store, C, [Contact(id="n", phones=(X, Y, Z, W))])
    first = feed.start()  # fresh, other, new (queued); retry (timed)
    event = feed.event(first, core.book, owners)
    entries = {entry.contact.id: entry for entry in event.entries}
    assert sorted(entries) == ["done", "fresh", "n", "other", "retry"]  # each once
    assert entries["done"].attempts == ()  # the closed history counts them already
    assert entries["done"].progress.state is ContactState.DONE
    assert [r.attempt_id for r in entries["retry"].attempts] == ["retry-1"]
    commands = core.handle(NOW, event)
    saved = {
        cmd.progress.contact_id: cmd.progress for cmd in commands if isinstance(cmd, c.SaveProgress)
    }
    assert "done" not in saved  # a finished owner is not changed
    assert saved["n"].state is ContactState.SKIPPED
    assert saved["n"].reason == DUPLICATE_REASON  # X, Y, Z, W are the earlier contacts'
    dialled = sorted(cmd.number for cmd in commands if isinstance(cmd, c.Originate))
    assert dialled == [Z, W]  # fresh and other, once each; retry later; done never


def test_owners_the_core_holds_are_left_out(store: Store) -> None:
    _stored(store)
    core, feed = _core(), ContactFeed(store=store, campaign=C)
    core.handle(NOW, feed.event(feed.start(), core.book))  # retry, fresh, other paged in
    _, owners = add_to_store(store, C, [Contact(id="n", phones=(X, Y))])
    event = feed.event((), core.book, owners)
    assert [(entry.contact.id, entry.attempts) for entry in event.entries] == [("done", ())]


def test_a_live_contact_keeps_off_the_number_of_a_retry_not_paged_in(store: Store) -> None:
    """A retry waiting beyond the first timed page keeps the number it called: a contact
    added live is trimmed to its other numbers (without the owners, it would call it)."""
    _stored(store)
    core, feed = _core(), ContactFeed(store=store, campaign=C, page_size=1)
    core.handle(NOW, e.ContactsRestored(()))  # nothing paged in yet
    _, owners = add_to_store(store, C, [Contact(id="n", phones=(Y, "+79500000011"))])
    core.handle(NOW, feed.event((), core.book, owners))
    commands = core.handle(NOW, e.ContactsAdded([Contact(id="n", phones=(Y, "+79500000011"))]))
    assert c.SaveNumbers("n", ("+79500000011",)) in commands
