"""The gates a call passes at dial time: do-not-call list, calling window, frequency limits.

Part of the sans-IO dialer core. They are checked when the call is about to be placed, not
when the list is imported: a number added to the do-not-call list an hour ago, or a window
that closed a minute ago, stops the call. A contact the window or a limit holds back is put to
wait until the earliest moment it may be called; one it can never be called again is closed
with the reason.

Two rules fail safe. A do-not-call list that cannot answer (its ``blocks`` raised) blocks the
number for now, and the contact is asked again later rather than called. And when the number
may be in several zones (strict mode), the per-day cap must hold in every one of them: the
contact is held back until no zone's local day is over its cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from autoinformer.core import commands as c
from autoinformer.core.book import Slot
from autoinformer.outcomes import ContactState
from autoinformer.policy.limits import ContactLimits
from autoinformer.policy.zones import callee_zones

if TYPE_CHECKING:
    from autoinformer.core.dialer import DialerCore

__all__ = ["DNC_RETRY", "check", "limits_next_allowed"]

_LATER = 1e-3  # a contact held back waits at least this long (no busy loop on equal times)
DNC_RETRY = 60.0
"""Seconds before a contact held back by an unanswering do-not-call list is tried again."""


def limits_next_allowed(
    limits: ContactLimits,
    history: Sequence[dt.datetime],
    at: dt.datetime,
    zones: Sequence[dt.tzinfo],
) -> dt.datetime | None:
    """The first moment at or after ``at`` when the limits hold in every one of ``zones``
    (:meth:`~autoinformer.policy.limits.ContactLimits.next_allowed_in_zones`; the
    scheduler's :func:`~autoinformer.policy.gate.next_call_time` asks the same question).

    Returns:
        ``at`` when allowed now; a later time; None when a lifetime cap is reached.
    """
    return limits.next_allowed_in_zones(history, at, zones)


def check(
    core: DialerCore, now: float, slot: Slot, out: list[c.Command]
) -> tuple[int, str, dt.datetime] | None:
    """(number index, number, now as a datetime) when ``slot`` may be called now, else None
    (the contact was put to wait, or closed with the reason)."""
    contact, campaign = slot.contact, core.campaign
    phones = contact.phones
    index = None
    unsure = ""
    for k in range(len(phones)):
        i = (slot.number_index + k) % len(phones)
        verdict = core.dnc_verdict(phones[i])
        if verdict is None:
            index = i
            break
        if verdict != "do-not-call list":
            unsure = verdict
    if index is None:
        if unsure:  # the list could not answer: do not call, ask again later
            slot.reason = unsure
            core.book.wait_until(slot, now + DNC_RETRY)
            out.append(c.SaveProgress(slot.progress()))
        else:
            core.close_contact(slot, ContactState.SKIPPED, "do-not-call list", out)
        return None
    number = phones[index]
    at = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    window, limits = campaign.window, campaign.limits
    zones = callee_zones(number, contact.timezone, window.timezone, at, strict=window.strict)
    if not window.allows(at, zones):
        nxt = window.next_allowed(at, zones)
        if nxt is None:
            core.close_contact(slot, ContactState.SKIPPED, "outside the campaign's dates", out)
        else:
            core.book.wait_until(slot, max(nxt.timestamp(), now + _LATER))
        return None
    if limits is not None:
        nxt = limits_next_allowed(limits, slot.history, at, zones)
        if nxt is None:
            core.close_contact(slot, ContactState.EXHAUSTED, "lifetime call limit reached", out)
            return None
        if nxt != at:
            core.book.wait_until(slot, max(nxt.timestamp(), now + _LATER))
            return None
    return index, number, at
