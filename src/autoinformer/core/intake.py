"""Contacts entering the core: new ones, ones restored from the store, cancelled ones.

Part of the sans-IO dialer core (:class:`~autoinformer.core.dialer.DialerCore`); split out so
each module keeps one job. Restoring is where crash safety is decided: attempts journaled
without a result were in flight when the process stopped, and become ``unknown``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.core.book import Slot
from autoinformer.outcomes import ContactState, Outcome

if TYPE_CHECKING:
    from autoinformer.core.dialer import DialerCore

__all__ = [
    "DUPLICATE_REASON",
    "add_contacts",
    "cancel_contact",
    "claim_numbers",
    "missing_variables",
    "restore_contacts",
    "skip_reason",
    "template_problems",
]


def missing_variables(core: DialerCore, contact: Contact) -> list[str]:
    """The variables the campaign's templates need that ``contact`` lacks."""
    missing: list[str] = []
    for tpl in core._templates.values():
        missing += [v for v in tpl.missing(contact) if v not in missing]
    return missing


def template_problems(core: DialerCore, contact: Contact) -> list[str]:
    """Why the campaign's templates cannot be spoken for ``contact`` (empty when they can).

    The speech template's full check (:meth:`autoinformer.speech.Template.check`): a value
    that does not read as its span expects (a BALANCE that is not a number inside
    ``<currency>``, a date that is no date) would stop the call half-way or say nonsense, so
    such a contact is skipped before it is dialled. Whatever the check raises is a problem of
    this contact only: it is reported as its reason and never stops the campaign.
    """
    problems: list[str] = []
    lang = core.campaign.lang
    for tpl in core._templates.values():
        try:
            found = tpl.check(contact, lang)
        except Exception as exc:  # one bad contact must never stop the campaign
            found = [f"{type(exc).__name__}: {exc}"]
        problems += [p for p in found if p not in problems]
    return problems


DUPLICATE_REASON = "duplicate: every number belongs to an earlier contact"
"""The skip reason of a contact whose numbers all belong to contacts the campaign already has
(the summary counts such contacts under it, with examples)."""


def claim_numbers(core: DialerCore, contact: Contact) -> tuple[Contact, str]:
    """The contact with only the numbers no earlier contact has, and a skip reason when none
    is left ("" otherwise). One person is called once for one list, as the importer drops a
    number seen in an earlier row; the numbers kept are claimed for this contact."""
    owners = core.numbers
    fresh = tuple(p for p in contact.phones if owners.get(p, contact.id) == contact.id)
    if contact.phones and not fresh:
        return contact, DUPLICATE_REASON
    for phone in fresh:
        owners[phone] = contact.id
    if len(fresh) != len(contact.phones):
        contact = attrs.evolve(contact, phones=fresh)
    return contact, ""


def add_contacts(core: DialerCore, contacts: tuple[Contact, ...], out: list[c.Command]) -> None:
    """New contacts: pending, or skipped at once with the reason (no number, every number
    belongs to an earlier contact, a variable the script needs is missing or cannot be
    spoken). Ids already known are ignored; a number an earlier contact has is dropped from
    a later one (:func:`claim_numbers`)."""
    for contact in contacts:
        if contact.id in core.book:
            continue
        contact, reason = claim_numbers(core, contact)
        slot = Slot(contact=contact)
        core.book.add(slot)
        core._done_sent = False
        reason = reason or skip_reason(core, contact)
        if reason:
            core.close_contact(slot, ContactState.SKIPPED, reason, out)


def skip_reason(core: DialerCore, contact: Contact) -> str:
    """Why ``contact`` can never be called ("" when it can): no number, a variable the
    script needs is missing, or a value the script cannot speak."""
    if not contact.phones:
        return "no phone number"
    missing = missing_variables(core, contact)
    if missing:
        return "missing variable(s): " + ", ".join(missing)
    problems = template_problems(core, contact)
    if problems:
        return "cannot speak the script: " + "; ".join(problems)
    return ""


_LIVE = frozenset(
    {
        Outcome.DELIVERED,
        Outcome.HUNG_UP_EARLY,
        Outcome.TRANSFERRED,
        Outcome.ABANDONED,
        Outcome.AGENT_ERROR,
        Outcome.OPTED_OUT,
    }
)
_ASKED = frozenset({Outcome.TRANSFERRED, Outcome.ABANDONED, Outcome.AGENT_ERROR})


def _restore_guard(core: DialerCore, now: float, event: e.ContactsRestored) -> None:
    """The abandon cap is per campaign: a resumed campaign's guard counts the earlier attempts,
    and its rolling window gets back the live answers (answered, not a machine) and abandons
    of the last ``window_seconds`` from the same records (they are all in the event already,
    so this is one more look at each)."""
    guard = core.pacing
    if not isinstance(guard, AbandonGuard):
        return
    finished = [r for entry in event.entries for r in entry.attempts if r.outcome]
    outcomes = [r.outcome for r in finished]
    answered_at = [r.answered_at for r in finished if r.answered_at is not None and not r.machine]
    abandoned_at = [
        r.ended_at if r.ended_at is not None else r.answered_at or r.started_at
        for r in finished
        if r.outcome is Outcome.ABANDONED
    ]
    guard.restore(
        finished=len(outcomes),
        answers=sum(r.outcome in _LIVE and not r.machine for r in finished),
        requests=sum(o in _ASKED for o in outcomes),
        abandons=sum(o is Outcome.ABANDONED for o in outcomes),
        now=now,
        answered_at=answered_at,
        abandoned_at=abandoned_at,
    )


def restore_contacts(
    core: DialerCore, now: float, event: e.ContactsRestored, out: list[c.Command]
) -> None:
    """Contacts from the store: attempts in flight at a crash become ``unknown`` (journaled
    and notified) and the retry policy decides what follows, as after any attempt."""
    _restore_guard(core, now, event)
    for entry in event.entries:
        contact, progress = entry.contact, entry.progress
        if contact.id in core.book:
            continue
        records = sorted(entry.attempts, key=lambda r: r.attempt_no)
        duplicate = ""
        fresh = not records and progress.attempts == 0
        if fresh and progress.state in (ContactState.PENDING, ContactState.SCHEDULED):
            contact, duplicate = claim_numbers(core, contact)  # a new contact, as in add
        elif progress.state is not ContactState.SKIPPED:
            for phone in contact.phones:  # called before: its numbers stay its own
                core.numbers.setdefault(phone, contact.id)
        attempts = max([progress.attempts, *(r.attempt_no for r in records)])
        slot = Slot(
            contact=contact,
            state=progress.state,
            attempts=attempts,
            next_at=progress.next_at,
            reason=progress.reason,
            history=[_utc(r.started_at) for r in records],
        )
        carousel = core.carousel
        if carousel is not None:  # caps and cool-downs count the uses before the restart
            for record in records:
                if record.caller_id is not None:
                    carousel.record(record.caller_id, _utc(record.started_at), contact.id)
        last = records[-1] if records else None
        if last is not None and last.number in contact.phones:
            slot.number_index = contact.phones.index(last.number)
        unfinished = [r for r in records if r.outcome is None]
        in_flight = slot.state is ContactState.IN_CALL or bool(unfinished)
        if in_flight:
            slot.state = ContactState.PENDING  # not open-counted twice below
        elif slot.state is ContactState.SCHEDULED and last is not None:
            decision = core._decide(slot, last.outcome or Outcome.UNKNOWN, now)
            slot.number_index = decision.number_index
        core.book.add(slot)
        core._done_sent = False
        if not in_flight:
            if slot.state in (ContactState.PENDING, ContactState.SCHEDULED):
                # the list or the script may have changed
                reason = duplicate or skip_reason(core, contact)
                if reason:
                    core.close_contact(slot, ContactState.SKIPPED, reason, out)
            continue
        core.book.set_state(slot, ContactState.IN_CALL)
        for record in unfinished:
            final = attrs.evolve(
                record,
                outcome=Outcome.UNKNOWN,
                ended_at=now,
                detail="in flight when the process stopped",
            )
            out += [c.Journal(final, begin=False), c.Notify(final)]
            last = final
        core._after_attempt(now, slot, last.outcome if last else None, out)


def cancel_contact(core: DialerCore, event: e.ContactCancelled, out: list[c.Command]) -> None:
    """The app cancels a contact; one in a call is cancelled when the call ends."""
    slot = core.book.slots.get(event.contact_id)
    if slot is None or slot.state not in (
        ContactState.PENDING,
        ContactState.SCHEDULED,
        ContactState.IN_CALL,
    ):
        return
    if slot.state is ContactState.IN_CALL:
        slot.cancel_after_call = True
        slot.reason = event.reason
        return
    core.close_contact(slot, ContactState.CANCELLED, event.reason, out)


def _utc(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(now, tz=dt.UTC)
