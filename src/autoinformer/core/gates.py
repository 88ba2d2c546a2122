"""The gates a call passes at dial time: do-not-call list, calling window, frequency limits.

Part of the sans-IO dialer core. They are checked when the call is about to be placed, not
when the list is imported: a number added to the do-not-call list an hour ago, or a window
that closed a minute ago, stops the call. A contact the window or a limit holds back is put to
wait until the earliest moment it may be called; one it can never be called again is closed
with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from autoinformer.core import commands as c
from autoinformer.core.book import Slot
from autoinformer.outcomes import ContactState
from autoinformer.policy.zones import callee_zones

if TYPE_CHECKING:
    from autoinformer.core.dialer import DialerCore

__all__ = ["check"]

_LATER = 1e-3  # a contact held back waits at least this long (no busy loop on equal times)


def check(
    core: DialerCore, now: float, slot: Slot, out: list[c.Command]
) -> tuple[int, str, dt.datetime] | None:
    """(number index, number, now as a datetime) when ``slot`` may be called now, else None
    (the contact was put to wait, or closed with the reason)."""
    contact, campaign = slot.contact, core.campaign
    phones = contact.phones
    index = None
    for k in range(len(phones)):
        i = (slot.number_index + k) % len(phones)
        if not core.blocked(phones[i]):
            index = i
            break
    if index is None:
        core.close_contact(slot, ContactState.SKIPPED, "do-not-call list", out)
        return None
    number = phones[index]
    at = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    window, limits = campaign.window, campaign.limits
    if window is None and limits is None:
        return index, number, at
    zones = callee_zones(
        number,
        contact.timezone,
        window.timezone if window is not None else campaign.timezone,
        at,
        strict=window.strict if window is not None else False,
    )
    if window is not None and not window.allows(at, zones):
        nxt = window.next_allowed(at, zones)
        if nxt is None:
            core.close_contact(slot, ContactState.SKIPPED, "outside the campaign's dates", out)
        else:
            core.book.wait_until(slot, max(nxt.timestamp(), now + _LATER))
        return None
    if limits is not None and not limits.allows(slot.history, at, zones[0]):
        nxt = limits.next_allowed(slot.history, at, zones[0])
        if nxt is None:
            core.close_contact(slot, ContactState.EXHAUSTED, "lifetime call limit reached", out)
        else:
            core.book.wait_until(slot, max(nxt.timestamp(), now + _LATER))
        return None
    return index, number, at
