"""The core's contact book: every contact's state and who is due for a call.

Pure bookkeeping with no policy of its own: a FIFO of contacts never called, a heap of
contacts waiting for a time (a scheduled retry, or a window or limit that opens later) and a
count of open contacts, so picking the next contact is O(log n) and never scans the list.

The book need not hold the whole campaign: a runtime that pages contacts in from its store
sets :attr:`ContactBook.more` while the store still has open contacts the book has not seen,
so the campaign is not finished (:attr:`ContactBook.open_count` counts them as one), and reads
:meth:`ContactBook.queued`, :meth:`ContactBook.ready` and :attr:`ContactBook.loaded_open` to
decide when to page more in.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import deque

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState
from autoinformer.records import ContactProgress
from autoinformer.store.base import OPEN_STATES

__all__ = ["OPEN_STATES", "ContactBook", "Slot"]

_WAITING = (ContactState.PENDING, ContactState.SCHEDULED)


@attrs.define(kw_only=True)
class Slot:
    """One contact inside the core.

    Attributes:
        contact: the contact.
        state: its :class:`ContactState`.
        attempts: attempts begun so far (the next one is ``attempts + 1``).
        next_at: when it is due again (POSIX seconds; None: now).
        reason: why it is in its state (``skipped``/``exhausted``/``cancelled`` reasons).
        history: start times of its attempts (for frequency limits).
        number_index: which of its numbers the next attempt uses.
        call_id: the call in progress (None: not in a call).
        cancel_after_call: the app cancelled it during a call.
    """

    contact: Contact
    state: ContactState = ContactState.PENDING
    attempts: int = 0
    next_at: float | None = None
    reason: str = ""
    history: list[dt.datetime] = attrs.field(factory=list)
    number_index: int = 0
    call_id: str | None = None
    cancel_after_call: bool = False

    def progress(self) -> ContactProgress:
        """The store's view of this contact."""
        return ContactProgress(
            contact_id=self.contact.id,
            state=self.state,
            attempts=self.attempts,
            next_at=self.next_at,
            reason=self.reason,
        )


@attrs.define(kw_only=True)
class ContactBook:
    """All contacts of a campaign and the queues of those due for a call."""

    slots: dict[str, Slot] = attrs.field(factory=dict)
    _fresh: deque[str] = attrs.field(factory=deque)
    _timed: list[tuple[float, int, str]] = attrs.field(factory=list)
    _ready: deque[str] = attrs.field(factory=deque)
    _seq: int = 0
    loaded_open: int = 0
    """Open contacts in the book."""
    scheduled: int = 0
    """Of those, the ones scheduled for a retry."""
    more: bool = False
    """The store has open contacts not in the book yet (a paging runtime sets it)."""
    forget_closed: bool = False
    """Drop a contact from the book when it reaches a final state (a paging runtime sets it:
    its store keeps the contact, so memory grows with the open contacts, not the list)."""

    def __contains__(self, contact_id: str) -> bool:
        return contact_id in self.slots

    @property
    def open_count(self) -> int:
        """Open contacts: those in the book, plus one while :attr:`more` (0: finished)."""
        return self.loaded_open + int(self.more)

    def queued(self) -> int:
        """Contacts in line that were never put to wait (may count a few stale entries)."""
        return len(self._fresh)

    def ready(self) -> int:
        """Contacts due and put back in line ahead of the queue (may count stale entries)."""
        return len(self._ready)

    def add(self, slot: Slot) -> None:
        """Add a contact with its state; open ones are queued."""
        self.slots[slot.contact.id] = slot
        if slot.state in OPEN_STATES:
            self.loaded_open += 1
        if slot.state is ContactState.SCHEDULED:
            self.scheduled += 1
        if slot.state is ContactState.PENDING and slot.next_at is None:
            self._fresh.append(slot.contact.id)
        elif slot.state in (ContactState.PENDING, ContactState.SCHEDULED):
            self.wait_until(slot, slot.next_at or 0.0)

    def set_state(self, slot: Slot, state: ContactState, reason: str = "") -> None:
        """Move a contact to ``state`` keeping the open count right."""
        was = slot.state
        was_open = was in OPEN_STATES
        slot.state, slot.reason = state, reason
        now_open = state in OPEN_STATES
        self.loaded_open += int(now_open) - int(was_open)
        if not now_open and self.forget_closed:
            self.slots.pop(slot.contact.id, None)
        self.scheduled += int(state is ContactState.SCHEDULED) - int(was is ContactState.SCHEDULED)
        if not now_open:
            slot.next_at = None

    def drop(self, contact_id: str) -> Slot | None:
        """Take a contact out of the book (it went to another worker, or back to the
        store's pool to wait there): the counts forget it, its queue entries go stale."""
        slot = self.slots.pop(contact_id, None)
        if slot is not None:
            self.loaded_open -= int(slot.state in OPEN_STATES)
            self.scheduled -= int(slot.state is ContactState.SCHEDULED)
        return slot

    def wait_until(self, slot: Slot, at: float) -> None:
        """The contact is due at ``at`` (a retry, or a window/limit opening)."""
        slot.next_at = at
        self._seq += 1
        heapq.heappush(self._timed, (at, self._seq, slot.contact.id))

    def push_front(self, slot: Slot) -> None:
        """Put a contact back at the head of the queue (it could not be dialled just now)."""
        self._ready.appendleft(slot.contact.id)

    def requeue(self, slot: Slot) -> None:
        """Queue a contact again ahead of the fresh ones, behind those already waiting (its
        call never went out: the switch could not be reached)."""
        self._ready.append(slot.contact.id)

    def next_due(self, now: float) -> Slot | None:
        """The next contact to call at ``now``: due retries first, then fresh contacts."""
        timed = self._timed
        slots = self.slots
        while timed and timed[0][0] <= now:
            at, _, cid = heapq.heappop(timed)
            slot = slots.get(cid)  # None: closed and forgotten
            if slot is not None and slot.next_at == at and slot.state in _WAITING:
                self._ready.append(cid)
        for queue in (self._ready, self._fresh):
            while queue:
                found = slots.get(queue.popleft())
                if (
                    found is not None
                    and found.state in _WAITING
                    and (found.next_at is None or found.next_at <= now)
                ):
                    return found
        return None

    def next_time(self) -> float | None:
        """When the earliest waiting contact is due (None: nobody is waiting)."""
        timed = self._timed
        while timed:
            at, _, cid = timed[0]
            slot = self.slots.get(cid)
            if slot is not None and slot.next_at == at and slot.state in _WAITING:
                return at
            heapq.heappop(timed)
        return None

    def has_ready(self) -> bool:
        """True when some contact may be due now (cheap; may say True for stale entries)."""
        return bool(self._ready or self._fresh)
