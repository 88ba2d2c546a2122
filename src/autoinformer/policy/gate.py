"""The one question the scheduler asks per contact: when may this number next be called?

It combines the call window (judged in the callee's zone(s)) with the contact's attempt limits.
With a history of past attempts, the limits only ever relax as time passes (an interval elapses,
an attempt leaves the seven-day window, a new day begins), so the answer is the first window
opening at or after the moment the limits allow: two pure look-ups, no search. The callee's
zone is judged at the time of the call: when a number's zones agree at one time and not at
another (Denver and Phoenix share UTC-7 in winter only) and the answer lies past such a change,
the question is asked again from the change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from autoinformer.policy.limits import ContactLimits
from autoinformer.policy.schedule import CallWindow
from autoinformer.policy.zones import ZoneLike, bisect_seconds, callee_zones

__all__ = ["next_call_time"]

_MAX_ZONE_CHANGES = 6


def next_call_time(
    now: dt.datetime,
    *,
    window: CallWindow,
    number_e164: str,
    contact_tz: ZoneLike | None = None,
    limits: ContactLimits | None = None,
    history: Sequence[dt.datetime] = (),
    not_before: dt.datetime | None = None,
) -> dt.datetime | None:
    """The earliest time at or after ``now`` when a call to this number is allowed.

    Args:
        now: the current time (aware).
        window: the campaign's call window (its ``timezone`` and ``strict`` are used to find
            the callee's zones).
        number_e164: the number to dial.
        contact_tz: the contact's own zone, if the list gives one.
        limits: the contact's attempt limits (None: none).
        history: start times of the contact's earlier attempts.
        not_before: a time the retry policy asked for (``RetryDecision.at``).

    Returns:
        ``now`` if the call may go out now, a later time, or None when it never may (the
        campaign has ended or a lifetime cap is reached).

    Raises:
        SettingsError: a naive datetime or an unknown zone name.
    """
    at = now if not_before is None else max(now, not_before)
    found: dt.datetime | None = None
    for _ in range(_MAX_ZONE_CHANGES):
        zones = _zones(number_e164, contact_tz, window, at)
        if limits is not None:
            # every zone the callee may be in (strict mode): no local day over its cap, as
            # the dialer core judges it at dial time (core.gates.limits_next_allowed)
            allowed = limits.next_allowed_in_zones(history, at, zones)
            if allowed is None:
                return None
            at = allowed
        found = window.next_allowed(at, zones)
        if found is None or _zones(number_e164, contact_tz, window, found) == zones:
            return found
        # The callee's zones (judged at the time of the call) changed on the way, at a
        # daylight-saving transition: ask again from the moment they changed.
        at = bisect_seconds(at, found, partial(_differ, number_e164, contact_tz, window, zones))
    return found  # pragma: no cover - zones change at most twice a year


def _differ(
    number: str,
    contact_tz: ZoneLike | None,
    window: CallWindow,
    zones: tuple[dt.tzinfo, ...],
    at: dt.datetime,
) -> bool:
    return _zones(number, contact_tz, window, at) != zones


def _zones(
    number: str, contact_tz: ZoneLike | None, window: CallWindow, at: dt.datetime
) -> tuple[dt.tzinfo, ...]:
    return callee_zones(number, contact_tz, window.timezone, at, strict=window.strict)
