"""Commands the dialer core returns for its driver to carry out, in order.

The driver (the anyio runtime or the virtual-time simulator) executes them as they come:
``Journal`` reaches the store before the ``Originate`` that follows it goes out, so a crash at
any moment loses no attempt.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from autoinformer.backends.base import Media
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import HangupCause
from autoinformer.records import AttemptRecord, ContactProgress

__all__ = [
    "AddToDoNotCall",
    "Bridge",
    "CollectDigits",
    "Command",
    "Done",
    "Hangup",
    "Journal",
    "Notify",
    "Originate",
    "Play",
    "RunCallback",
    "SaveNumbers",
    "SaveProgress",
    "SendSms",
    "Speech",
    "StopPlayback",
    "WakeAt",
]


@attrs.frozen
class Speech:
    """Text to speak: the driver renders ``template`` for ``contact`` into audio."""

    template: str
    contact: Contact
    lang: str = "en"


@attrs.frozen
class Originate:
    """Place a call (see :meth:`autoinformer.backends.base.Switch.originate`)."""

    call_id: str
    number: str
    caller_id: str | None
    ring_timeout: float
    variables: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    operator: bool = False
    detect_machine: bool = False


@attrs.frozen
class Play:
    """Play a file or speech on a call; ``PlaybackFinished(playback_id)`` is expected back."""

    call_id: str
    playback_id: str
    media: Media | Speech


@attrs.frozen
class StopPlayback:
    """Stop a playback early."""

    call_id: str
    playback_id: str


@attrs.frozen
class CollectDigits:
    """Digits matter from now on for this call."""

    call_id: str


@attrs.frozen
class Bridge:
    """Join the customer's call and the operator's leg."""

    bridge_id: str
    call_ids: tuple[str, ...]


@attrs.frozen
class Hangup:
    """Hang a call up."""

    call_id: str
    cause: HangupCause = HangupCause.NORMAL_CLEARING


@attrs.frozen
class Journal:
    """Write an attempt to the store: ``begin`` before its originate, else its result."""

    record: AttemptRecord
    begin: bool


@attrs.frozen
class SaveProgress:
    """Write a contact's new state to the store."""

    progress: ContactProgress


@attrs.frozen
class SaveNumbers:
    """Write the numbers a contact keeps to the store: intake dropped the others, which an
    earlier contact has. The store keeps a contact as it was added, so without this a
    resumed campaign would give the dropped numbers back to it (and call someone twice),
    even when the contact that has them is finished and never read again."""

    contact_id: str
    phones: tuple[str, ...]


@attrs.frozen
class WakeAt:
    """Feed a ``Tick`` at (or after) ``time``. Only the latest ``WakeAt`` counts."""

    time: float


@attrs.frozen
class SendSms:
    """Send a text message (the campaign's SMS rules)."""

    number: str
    text: str
    contact_id: str
    rule: str


@attrs.frozen
class Notify:
    """A finished attempt, for the application (results stream and callbacks)."""

    record: AttemptRecord


@attrs.frozen
class RunCallback:
    """Run the application's hook ``name`` off the event path; feed back ``CallbackDone``."""

    call_id: str
    name: str
    contact: Contact
    digits: str
    deadline: float


@attrs.frozen
class AddToDoNotCall:
    """The callee opted out: add ``number`` to the do-not-call list."""

    number: str
    contact_id: str


@attrs.frozen
class Done:
    """Nothing left to do: every contact is finished (or the campaign was stopped)."""

    reason: str


Command = (
    Originate
    | Play
    | StopPlayback
    | CollectDigits
    | Bridge
    | Hangup
    | Journal
    | SaveProgress
    | SaveNumbers
    | WakeAt
    | SendSms
    | Notify
    | RunCallback
    | AddToDoNotCall
    | Done
)
