"""The summary's skip reasons: reasons that differ only in a quoted cell value are one entry."""

from __future__ import annotations

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState
from autoinformer.records import ContactProgress
from autoinformer.store.memory import MemoryStore
from autoinformer.summary import summarize

NOT_A_DEBT = "cannot speak the script: column 'BALANCE' = '{}': not a debt (|debt reads...)"


def _skip(store: MemoryStore, contact_id: str, reason: str) -> None:
    store.add_contacts("c", [Contact(id=contact_id, phones=("+79500000001",))])
    progress = ContactProgress(contact_id=contact_id)
    store.save_progress("c", attrs.evolve(progress, state=ContactState.SKIPPED, reason=reason))


def test_a_thousand_credits_are_one_reason_with_a_few_values() -> None:
    store = MemoryStore()
    for i in range(1000):
        _skip(store, f"c{i:04}", NOT_A_DEBT.format(f"{i}.00"))
    _skip(store, "nophone", "no phone number")
    summary = summarize(store, "c")
    first, second = summary.skipped
    assert first.count == 1000
    assert first.reason == NOT_A_DEBT.format("…")
    assert len(first.values) == 3
    assert all(v.endswith(".00") for v in first.values)
    assert len(first.examples) == 3
    assert (second.reason, second.count, second.values) == ("no phone number", 1, ())
    assert first.to_dict()["values"] == list(first.values)
    assert "values" not in second.to_dict()  # the JSON form gains a key only when needed


def test_one_value_keeps_its_text() -> None:
    store = MemoryStore()
    for i in range(3):
        _skip(store, f"c{i}", NOT_A_DEBT.format("15.00"))
    (entry,) = summarize(store, "c").skipped
    assert (entry.reason, entry.count, entry.values) == (NOT_A_DEBT.format("15.00"), 3, ())


def test_two_quoted_values_in_one_reason_are_kept_once() -> None:
    store = MemoryStore()
    reason = "column 'BALANCE' = '{0}': |debt expects a number: got '{0}'"
    _skip(store, "a", reason.format("N/A"))
    _skip(store, "b", reason.format("n.a."))
    (entry,) = summarize(store, "c").skipped
    assert entry.reason == "column 'BALANCE' = '…': |debt expects a number: got '…'"
    assert entry.values == ("N/A", "n.a.") or entry.values == ("n.a.", "N/A")
