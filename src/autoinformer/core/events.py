"""Events the dialer core takes besides the switch's own (``backends.base``).

Every input to :meth:`autoinformer.core.DialerCore.handle` is one of these or a
:data:`~autoinformer.backends.base.SwitchEvent`; the driver passes the time alongside.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from autoinformer.backends.base import SwitchEvent
from autoinformer.contacts.model import Contact
from autoinformer.records import AttemptRecord, ContactProgress

__all__ = [
    "Abort",
    "AttemptRefused",
    "CallbackDone",
    "CampaignTotals",
    "CommandFailed",
    "ContactCancelled",
    "ContactsAdded",
    "ContactsReleased",
    "ContactsRestored",
    "CoreEvent",
    "Event",
    "LinesGranted",
    "Pause",
    "RestoredContact",
    "Resume",
    "Stop",
    "Tick",
]


def _contacts(value: Iterable[Contact]) -> tuple[Contact, ...]:
    return tuple(value)


def _records(value: Iterable[AttemptRecord]) -> tuple[AttemptRecord, ...]:
    return tuple(value)


def _ids(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _entries(value: Iterable[RestoredContact]) -> tuple[RestoredContact, ...]:
    return tuple(value)


@attrs.frozen
class ContactsAdded:
    """New contacts for the campaign (state ``pending``), in calling order."""

    contacts: tuple[Contact, ...] = attrs.field(converter=_contacts)


@attrs.frozen
class RestoredContact:
    """A contact as the store kept it: its progress and every attempt journaled for it.

    Attempts without an outcome were in flight when the process stopped; the core records them
    as ``unknown`` and lets the retry policy decide. ``seq`` is its place in the list (the
    store's :attr:`~autoinformer.store.base.StoredContact.seq`; None when unknown): contacts
    come in the store's page order, and two that share a number claim it in the list's.
    """

    contact: Contact
    progress: ContactProgress
    attempts: tuple[AttemptRecord, ...] = attrs.field(default=(), converter=_records)
    seq: int | None = None


@attrs.frozen
class ContactsRestored:
    """Contacts loaded from the store when a campaign starts or resumes after a crash."""

    entries: tuple[RestoredContact, ...] = attrs.field(converter=_entries)


@attrs.frozen
class ContactCancelled:
    """The application cancels a contact (seed 001: the debt was paid). A call in progress
    goes on; no further attempt is made."""

    contact_id: str
    reason: str = "cancelled"


@attrs.frozen
class Tick:
    """Time passed (a ``WakeAt`` came due); the core looks at its timers."""


@attrs.frozen
class Pause:
    """Place no new calls; calls in progress carry on."""


@attrs.frozen
class Resume:
    """Place calls again after a :class:`Pause`."""


@attrs.frozen
class Stop:
    """Place no new calls and finish: ``Done`` follows when the calls in progress ended.

    With ``hangup`` the calls in progress are hung up at once (their outcomes are recorded).
    """

    hangup: bool = False


@attrs.frozen
class Abort:
    """The run cannot go on (the switch went away for good, the store failed, a bug): every
    call in progress is hung up and its attempt recorded at once, without waiting for the
    switch to confirm (it may never), and no call is placed any more. An answered call that
    was not yet delivered is ``failed`` (we cut it), so is a call still ringing; ``reason``
    goes into their ``detail``."""

    reason: str


@attrs.frozen
class CallbackDone:
    """The application's hook for a ``callback`` step answered (``result``) or failed."""

    call_id: str
    result: str


@attrs.frozen
class CommandFailed:
    """The driver could not carry out a command for ``call_id`` (the switch refused an
    originate, a playback could not start...). ``originate`` says which kind failed.

    ``unreachable`` (with ``originate``) says the switch could not be reached at all
    (:class:`~autoinformer.errors.BackendUnavailable`): the call never went out, so the attempt
    is recorded as not placed, does not count against the contact's budget, and the core
    pauses dialling until the switch is back (see :class:`~autoinformer.core.DialerCore`).

    ``gone`` says the switch answered that the call does not exist (ARI 404 "Channel not
    found", ESL "no such channel": :class:`~autoinformer.errors.CallNotFound`): the callee has
    just hung up and the call's ``CallEnded`` is on its way, so the core waits for it (up to
    its grace period) and records the attempt from the hang-up instead of as ``failed``.
    """

    call_id: str
    detail: str
    originate: bool = False
    gone: bool = False
    unreachable: bool = False


# --- several workers on one campaign (autoinformer.workers): what the database decided ---


@attrs.frozen
class LinesGranted:
    """The campaign's lines this worker holds now: the core places calls only while its
    calls in progress are fewer than ``min(campaign.lines, count)``. Without this event (one
    process on the campaign) the campaign's ``lines`` is the cap, as always. Calls already
    up when the grant shrinks go on; no new one is placed until they fit under it."""

    count: int = attrs.field(validator=attrs.validators.ge(0))


@attrs.frozen
class CampaignTotals:
    """The abandon guard's counts from the other workers on the campaign (live answers and
    abandons, over the campaign and over the guard's rolling window), as the database has
    them: a guard that is a :class:`~autoinformer.core.shared_guard.SharedAbandonGuard` adds
    them to its own, so each worker spends the campaign's budget, not one of its own. Each
    event replaces the previous counts (they are totals, not increments)."""

    answers: int = attrs.field(validator=attrs.validators.ge(0))
    abandons: int = attrs.field(validator=attrs.validators.ge(0))
    window_answers: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    window_abandons: int = attrs.field(default=0, validator=attrs.validators.ge(0))


@attrs.frozen
class AttemptRefused:
    """The store refused to journal the attempt of ``call_id``, so its originate was never
    sent: the worker lost the contact's lease (``lease_lost``: the contact is another
    worker's now and leaves this core), or the caller ID is at its cap or cooling down
    across the workers (``caller_id_capped``: the carousel counts the number used up, the
    contact waits first in line for another). No attempt is spent either way."""

    call_id: str
    detail: str
    lease_lost: bool = False
    caller_id_capped: bool = False


@attrs.frozen
class ContactsReleased:
    """These contacts left this worker (released back to the campaign's pool to wait for
    their retry, or their lease was taken over): the core forgets them. A contact in a call
    is kept until the call ends (its result is still journaled)."""

    contact_ids: tuple[str, ...] = attrs.field(converter=_ids)


CoreEvent = (
    ContactsAdded
    | ContactsRestored
    | ContactCancelled
    | Tick
    | Pause
    | Resume
    | Stop
    | CallbackDone
    | CommandFailed
    | Abort
    | LinesGranted
    | CampaignTotals
    | AttemptRefused
    | ContactsReleased
)
Event = SwitchEvent | CoreEvent
