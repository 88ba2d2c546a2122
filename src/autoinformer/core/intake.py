"""The contacts' side of the core: contacts in, their states, and what follows an attempt.

A part of the sans-IO dialer core. :class:`Intake` owns the contact book (every contact's
state, who is due), the numbers already claimed (one person is called once for one list), the
caller-ID carousel's memory of each contact, and the count of attempts that never went out; it
takes new contacts, ones restored from the store and cancelled ones, closes contacts with their
reason and decides, with the campaign's retry policy, what follows each attempt. Every method
returns the commands (progress to save) for the caller to run. Restoring is where crash safety
is decided: attempts journaled without a result were in flight when the process stopped, and
become ``unknown``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import attrs

from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.core.book import ContactBook, Slot
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.policy.callerid import CallerIdCarousel
from autoinformer.policy.retry import RetryDecision
from autoinformer.records import AttemptRecord
from autoinformer.speech import Template

__all__ = [
    "DUPLICATE_REASON",
    "NOT_PLACED",
    "GuardHistory",
    "Intake",
    "Timed",
    "abandoned_time",
    "guard_history",
    "is_not_placed",
    "live_answer_time",
    "missing_variables",
    "skip_reason",
    "template_problems",
]

NOT_PLACED = "not placed: the switch could not be reached"
"""How the ``detail`` of an attempt that never went out (the switch was unreachable) starts:
such an attempt is journaled (``failed``, cause 38) but not counted against the budget."""

DUPLICATE_REASON = "duplicate: every number belongs to an earlier contact"
"""The skip reason of a contact whose numbers all belong to contacts the campaign already has
(the summary counts such contacts under it, with examples)."""

_REACHED = frozenset({Outcome.DELIVERED, Outcome.TRANSFERRED, Outcome.OPTED_OUT})
_OPEN = frozenset({ContactState.PENDING, ContactState.SCHEDULED, ContactState.IN_CALL})


def is_not_placed(record: AttemptRecord) -> bool:
    """True for an attempt journaled as never placed (the switch could not be reached)."""
    return (
        record.outcome is Outcome.FAILED
        and record.answered_at is None
        and record.detail.startswith(NOT_PLACED)
    )


def missing_variables(templates: Mapping[str, Template], contact: Contact) -> list[str]:
    """The variables the campaign's templates need that ``contact`` lacks."""
    missing: list[str] = []
    for tpl in templates.values():
        missing += [v for v in tpl.missing(contact) if v not in missing]
    return missing


def template_problems(templates: Mapping[str, Template], lang: str, contact: Contact) -> list[str]:
    """Why the campaign's templates cannot be spoken for ``contact`` (empty when they can).

    The speech template's full check (:meth:`autoinformer.speech.Template.check`): a value
    that does not read as its span expects (a BALANCE that is not a number inside
    ``<currency>``, a date that is no date) would stop the call half-way or say nonsense, so
    such a contact is skipped before it is dialled. Whatever the check raises is a problem of
    this contact only: it is reported as its reason and never stops the campaign.
    """
    problems: list[str] = []
    for tpl in templates.values():
        try:
            found = tpl.check(contact, lang)
        except Exception as exc:  # one bad contact must never stop the campaign
            found = [f"{type(exc).__name__}: {exc}"]
        problems += [p for p in found if p not in problems]
    return problems


def skip_reason(templates: Mapping[str, Template], lang: str, contact: Contact) -> str:
    """Why ``contact`` can never be called ("" when it can): no number, a variable the
    script needs is missing, or a value the script cannot speak."""
    if not contact.phones:
        return "no phone number"
    missing = missing_variables(templates, contact)
    if missing:
        return "missing variable(s): " + ", ".join(missing)
    problems = template_problems(templates, lang, contact)
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


class Timed(Protocol):
    """An attempt's times (an :class:`~autoinformer.records.AttemptRecord`, or the store's
    lighter :class:`~autoinformer.store.base.AttemptTimes`)."""

    @property
    def machine(self) -> bool: ...
    @property
    def started_at(self) -> float: ...
    @property
    def answered_at(self) -> float | None: ...
    @property
    def ended_at(self) -> float | None: ...


def live_answer_time(record: Timed) -> float | None:
    """When a person (not a machine) answered the attempt: the guard's window counts it.
    None for an attempt no person answered."""
    return record.answered_at if not record.machine else None


def abandoned_time(record: Timed) -> float:
    """When an abandoned attempt was abandoned (its end; else its answer; else its start)."""
    return (
        record.ended_at if record.ended_at is not None else record.answered_at or record.started_at
    )


@attrs.frozen
class GuardHistory:
    """What a resumed campaign's abandon guard must know of the attempts before the restart
    (the arguments of :meth:`~autoinformer.core.abandon_guard.AbandonGuard.restore`).

    Two sources build it: the records a restore brings (:func:`guard_history`) and the
    store's aggregates over finished contacts that are never paged in
    (:func:`autoinformer.feed.closed_history`). Both count with :meth:`tally` and hand
    it over with :meth:`apply`, so the two cannot come to count differently.
    """

    finished: int = 0
    answers: int = 0
    requests: int = 0
    abandons: int = 0
    answered_at: Sequence[float] = ()
    abandoned_at: Sequence[float] = ()

    @classmethod
    def tally(
        cls,
        counts: Iterable[tuple[Outcome, bool, int]],
        answered_at: Sequence[float] = (),
        abandoned_at: Sequence[float] = (),
    ) -> GuardHistory:
        """Count finished attempts given as (outcome, machine, how many): a live answer is
        a person's (not a machine's); a request is an attempt that asked for an operator."""
        finished = answers = requests = abandons = 0
        for outcome, machine, n in counts:
            finished += n
            if outcome in _LIVE and not machine:
                answers += n
            if outcome in _ASKED:
                requests += n
            if outcome is Outcome.ABANDONED:
                abandons += n
        return cls(finished, answers, requests, abandons, answered_at, abandoned_at)

    def apply(self, guard: AbandonGuard, now: float) -> None:
        """Give ``guard`` these counts and its rolling window's times."""
        guard.restore(
            finished=self.finished,
            answers=self.answers,
            requests=self.requests,
            abandons=self.abandons,
            now=now,
            answered_at=self.answered_at,
            abandoned_at=self.abandoned_at,
        )


def guard_history(event: e.ContactsRestored) -> GuardHistory:
    """The abandon cap is per campaign: a resumed campaign's guard counts the earlier attempts,
    and its rolling window gets back the live answers (answered, not a machine) and abandons
    of the last ``window_seconds`` from the same records (they are all in the event already,
    so this is one more look at each)."""
    finished = [r for entry in event.entries for r in entry.attempts if r.outcome]
    return GuardHistory.tally(
        ((r.outcome, r.machine, 1) for r in finished if r.outcome is not None),
        answered_at=[t for r in finished if (t := live_answer_time(r)) is not None],
        abandoned_at=[abandoned_time(r) for r in finished if r.outcome is Outcome.ABANDONED],
    )


@attrs.define
class Intake:
    """The campaign's contacts and their states.

    Args:
        campaign: the settings (retry policy, language, caller IDs).
        templates: the campaign's parsed templates, by text (a contact whose values they
            cannot speak is skipped).

    ``added`` counts the contacts taken in so far (new or restored): a campaign that gets
    contacts after it finished is not finished any more.
    """

    campaign: Campaign
    templates: Mapping[str, Template]
    book: ContactBook = attrs.field(factory=ContactBook, init=False)
    numbers: dict[str, str] = attrs.field(factory=dict, init=False)
    """Each number of the campaign's contacts -> the contact that has it (intake skips or
    trims a later contact with the same number, so nobody is called twice for one list)."""
    carousel: CallerIdCarousel | None = attrs.field(default=None, init=False)
    added: int = attrs.field(default=0, init=False)
    _unplaced: dict[str, int] = attrs.field(factory=dict, init=False)

    def __attrs_post_init__(self) -> None:
        if self.campaign.caller_ids is not None:
            self.carousel = CallerIdCarousel(self.campaign.caller_ids)

    def unplaced(self, contact_id: str) -> int:
        """Attempts of this contact that never went out (the switch was unreachable)."""
        return self._unplaced.get(contact_id, 0)

    def skip_reason(self, contact: Contact) -> str:
        """Why ``contact`` can never be called ("" when it can): see :func:`skip_reason`."""
        return skip_reason(self.templates, self.campaign.lang, contact)

    # --- contacts in ---------------------------------------------------------------------

    def claim_numbers(self, contact: Contact) -> tuple[Contact, str]:
        """The contact with only the numbers no earlier contact has, and a skip reason when
        none is left ("" otherwise). One person is called once for one list, as the importer
        drops a number seen in an earlier row; the numbers kept are claimed for this contact."""
        owners = self.numbers
        fresh = tuple(p for p in contact.phones if owners.get(p, contact.id) == contact.id)
        if contact.phones and not fresh:
            return contact, DUPLICATE_REASON
        for phone in fresh:
            owners[phone] = contact.id
        if len(fresh) != len(contact.phones):
            contact = attrs.evolve(contact, phones=fresh)
        return contact, ""

    def add(self, contacts: tuple[Contact, ...]) -> list[c.Command]:
        """New contacts: pending, or skipped at once with the reason (no number, every number
        belongs to an earlier contact, a variable the script needs is missing or cannot be
        spoken). Ids already known are ignored; a number an earlier contact has is dropped
        from a later one (:meth:`claim_numbers`)."""
        out: list[c.Command] = []
        for contact in contacts:
            if contact.id in self.book:
                continue
            kept, reason = self.claim_numbers(contact)
            out += _numbers_saved(contact, kept, reason)
            slot = Slot(contact=kept)
            self.book.add(slot)
            self.added += 1
            reason = reason or self.skip_reason(kept)
            if reason:
                out += self.close(slot, ContactState.SKIPPED, reason)
        return out

    def restore(self, now: float, event: e.ContactsRestored) -> list[c.Command]:
        """Contacts from the store: attempts in flight at a crash become ``unknown`` (journaled
        and notified) and the retry policy decides what follows, as after any attempt.
        Attempts that were never placed stay out of the budget and of the frequency limits."""
        for entry in event.entries:
            n = sum(1 for r in entry.attempts if is_not_placed(r))
            if n:
                self._unplaced[entry.contact.id] = n
        out: list[c.Command] = []
        claimed = self._claim_restored(event.entries)
        for entry in event.entries:
            self._restore_one(now, entry, claimed.get(entry.contact.id), out)
        for entry in event.entries:
            unplaced = {_utc(r.started_at) for r in entry.attempts if is_not_placed(r)}
            slot = self.book.slots.get(entry.contact.id)
            if unplaced and slot is not None:
                slot.history = [t for t in slot.history if t not in unplaced]
        return out

    def _claim_restored(
        self, entries: Sequence[e.RestoredContact]
    ) -> dict[str, tuple[Contact, str]]:
        """Claim the numbers of the restored contacts (not skipped, not in the book yet) as
        :meth:`claim_numbers` does for new ones: each contact with only the numbers it keeps,
        and the duplicate reason when it keeps none.

        Restored contacts come in the store's page order, not in the list's, and a store
        written before :class:`~autoinformer.core.commands.SaveNumbers` keeps a contact with
        the numbers intake dropped from it: so a number a contact dialled (its records) stays
        its own, then the contacts claim the rest in list order (the entries' ``seq``, the
        order they were claimed in when added). Without ``seq``, safest first: closed
        contacts (they may have called theirs: another contact must not), then contacts never
        called (as when added), then the others, in the order they came."""
        todo: dict[str, e.RestoredContact] = {}
        for entry in entries:
            cid = entry.contact.id
            if cid in self.book or cid in todo or entry.progress.state is ContactState.SKIPPED:
                continue
            todo[cid] = entry
        ranked = sorted(todo.values(), key=_claim_order)  # stable: page order among equals
        for entry in ranked:
            phones = entry.contact.phones
            for record in entry.attempts:
                if record.number in phones:
                    self.numbers.setdefault(record.number, entry.contact.id)
        return {entry.contact.id: self.claim_numbers(entry.contact) for entry in ranked}

    def _restore_one(
        self,
        now: float,
        entry: e.RestoredContact,
        claimed: tuple[Contact, str] | None,
        out: list[c.Command],
    ) -> None:
        contact, progress = entry.contact, entry.progress
        if contact.id in self.book:
            return
        records = sorted(entry.attempts, key=lambda r: r.attempt_no)
        contact, duplicate = claimed if claimed is not None else (contact, "")
        if progress.state in _OPEN:  # a closed contact's numbers are its history: kept
            out += _numbers_saved(entry.contact, contact, duplicate)
        attempts = max([progress.attempts, *(r.attempt_no for r in records)])
        slot = Slot(
            contact=contact,
            state=progress.state,
            attempts=attempts,
            next_at=progress.next_at,
            reason=progress.reason,
            history=[_utc(r.started_at) for r in records],
        )
        carousel = self.carousel
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
            decision = self.decide(slot, last.outcome or Outcome.UNKNOWN, now)
            slot.number_index = decision.number_index
        self.book.add(slot)
        self.added += 1
        if not in_flight:
            if slot.state in (ContactState.PENDING, ContactState.SCHEDULED):
                # the list or the script may have changed
                reason = duplicate or self.skip_reason(contact)
                if reason:
                    out += self.close(slot, ContactState.SKIPPED, reason)
            return
        self.book.set_state(slot, ContactState.IN_CALL)
        for record in unfinished:
            final = attrs.evolve(
                record,
                outcome=Outcome.UNKNOWN,
                ended_at=now,
                detail="in flight when the process stopped",
            )
            out += [c.Journal(final, begin=False), c.Notify(final)]
            last = final
        if duplicate:  # every number it kept is another contact's now: no retry on them
            out += self.close(slot, ContactState.SKIPPED, duplicate)
            return
        out += self.after_attempt(now, slot, last.outcome if last else None)[1]

    def cancel(self, event: e.ContactCancelled) -> list[c.Command]:
        """The app cancels a contact; one in a call is cancelled when the call ends."""
        slot = self.book.slots.get(event.contact_id)
        if slot is None or slot.state not in (
            ContactState.PENDING,
            ContactState.SCHEDULED,
            ContactState.IN_CALL,
        ):
            return []
        if slot.state is ContactState.IN_CALL:
            slot.cancel_after_call = True
            slot.reason = event.reason
            return []
        return self.close(slot, ContactState.CANCELLED, event.reason)

    # --- states --------------------------------------------------------------------------

    def close(self, slot: Slot, state: ContactState, reason: str) -> list[c.Command]:
        """Move a contact to a final state (with the reason) and save it."""
        self.book.set_state(slot, state, reason)
        if self.carousel is not None:
            self.carousel.forget(slot.contact.id)
        return [c.SaveProgress(slot.progress())]

    def hold(self, slot: Slot, until: float, reason: str | None) -> list[c.Command]:
        """The contact may not be called before ``until``; a ``reason`` is recorded and saved."""
        if reason is None:
            self.book.wait_until(slot, until)
            return []
        slot.reason = reason
        self.book.wait_until(slot, until)
        return [c.SaveProgress(slot.progress())]

    def begin(self, slot: Slot, index: int, at: dt.datetime) -> int:
        """An attempt on the contact's number ``index`` starts at ``at``: its number."""
        slot.number_index = index
        slot.attempts += 1
        slot.history.append(at)
        return slot.attempts

    def in_call(self, slot: Slot, call_id: str) -> c.SaveProgress:
        """The attempt's call was placed: the contact is in a call (saved)."""
        slot.call_id = call_id
        self.book.set_state(slot, ContactState.IN_CALL)
        slot.next_at = None
        return c.SaveProgress(slot.progress())

    def decide(self, slot: Slot, outcome: Outcome, now: float) -> RetryDecision:
        """The retry policy's decision after an attempt with ``outcome`` (attempts that never
        went out do not count)."""
        phones = max(1, len(slot.contact.phones))
        index = min(slot.number_index, phones - 1)
        made = slot.attempts - self._unplaced.get(slot.contact.id, 0)  # placed ones only
        return self.campaign.retry.decide(outcome, made, index, phones, _utc(now))

    def after_attempt(
        self, now: float, slot: Slot, outcome: Outcome | None
    ) -> tuple[bool, list[c.Command]]:
        """Decide the contact's next state after an attempt: (will it be retried, the
        commands)."""
        slot.call_id = None
        outcome = outcome or Outcome.UNKNOWN
        if slot.cancel_after_call:
            return False, self.close(slot, ContactState.CANCELLED, slot.reason or "cancelled")
        decision = self.decide(slot, outcome, now)
        if decision.retry and decision.at is not None:
            slot.number_index = decision.number_index
            self.book.set_state(slot, ContactState.SCHEDULED, decision.reason)
            self.book.wait_until(slot, decision.at.timestamp())
            return True, [c.SaveProgress(slot.progress())]
        if outcome in _REACHED:
            state = ContactState.DONE
        elif outcome is Outcome.INVALID_NUMBER:
            state = ContactState.SKIPPED
        else:
            state = ContactState.EXHAUSTED
        return False, self.close(slot, state, decision.reason)

    def not_placed(self, slot: Slot) -> list[c.Command]:
        """The contact's attempt never went out: it does not count against the budget nor the
        frequency limits, and the contact is the first called when the switch is back."""
        cid = slot.contact.id
        self._unplaced[cid] = self._unplaced.get(cid, 0) + 1
        if slot.history:
            slot.history.pop()  # no call went out: frequency limits do not count it
        slot.call_id = None
        if slot.cancel_after_call:
            return self.close(slot, ContactState.CANCELLED, slot.reason or "cancelled")
        self.book.set_state(slot, ContactState.PENDING)
        slot.next_at = None
        self.book.requeue(slot)
        return [c.SaveProgress(slot.progress())]


def _numbers_saved(before: Contact, kept: Contact, duplicate: str) -> list[c.Command]:
    """Save the numbers a claim left the contact when it dropped some (a resume reads the
    contact from the store as it was added otherwise); none for a duplicate, skipped."""
    if duplicate or kept.phones == before.phones:
        return []
    return [c.SaveNumbers(kept.id, kept.phones)]


def _claim_order(entry: e.RestoredContact) -> tuple[bool, int, int]:
    """The order restored contacts claim their numbers in (:meth:`Intake._claim_restored`):
    the list's when the store gave it (``seq``: as they were claimed when added); else
    closed ones, then those never called, then the others."""
    progress = entry.progress
    if progress.state not in _OPEN:
        rank = 0
    else:
        rank = 1 if not entry.attempts and progress.attempts == 0 else 2
    return entry.seq is None, entry.seq or 0, rank


def _utc(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(now, tz=dt.UTC)
