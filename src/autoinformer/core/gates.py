"""The gates a call passes at dial time: do-not-call list, calling window, frequency limits.

A part of the sans-IO dialer core: :class:`Gates` owns the do-not-call list (and the numbers opted
out in this run) and answers with a verdict value (:class:`Go`, :class:`Hold`, :class:`Close`) that
the contacts' side carries out. They are checked when the call is about to be placed, not when the
list is imported: a number added to the do-not-call list an hour ago, or a window that closed a
minute ago, stops the call. A contact the window or a limit holds back is put to wait until the
earliest moment it may be called; one it can never be called again is closed with the reason.

Two rules fail safe. A do-not-call list that cannot answer (its ``blocks`` raised) blocks the
number for now, and the contact is asked again later rather than called. And when the number may be
in several zones (strict mode), the per-day cap must hold in every one of them: the contact is held
back until no zone's local day is over its cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

import attrs

from autoinformer.campaign import Campaign
from autoinformer.core.book import Slot
from autoinformer.outcomes import ContactState
from autoinformer.policy.limits import ContactLimits
from autoinformer.policy.zones import callee_zones

__all__ = ["DNC_RETRY", "Close", "DoNotCall", "Gates", "Go", "Hold", "limits_next_allowed"]

_LATER = 1e-3  # a contact held back waits at least this long (no busy loop on equal times)
DNC_RETRY = 60.0
"""Seconds before a contact held back by an unanswering do-not-call list is tried again."""


class DoNotCall(Protocol):
    """A do-not-call list as the core uses it (``autoinformer.contacts.DoNotCallList``)."""

    def blocks(self, number: str) -> bool:
        """True when ``number`` must not be called."""
        ...


@attrs.frozen
class Go:
    """The contact may be called now, on ``number`` (its ``index``); ``at`` is now."""

    index: int
    number: str
    at: dt.datetime


@attrs.frozen
class Hold:
    """Not now: the contact waits until ``until``; a ``reason`` is recorded (and saved)."""

    until: float
    reason: str | None = None


@attrs.frozen
class Close:
    """Never again: the contact is closed in ``state`` with ``reason``."""

    state: ContactState
    reason: str


Verdict = Go | Hold | Close


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


@attrs.define
class Gates:
    """The gates of one campaign.

    Args:
        dnc: a do-not-call list (an object with ``blocks(number)``, or a callable). A list
            that raises blocks the number for now (fail safe); ``dnc_errors`` counts such
            failures and ``dnc_last_error`` says the last.
    """

    dnc: DoNotCall | Callable[[str], bool] | None = None
    dnc_errors: int = attrs.field(default=0, init=False)
    dnc_last_error: str = attrs.field(default="", init=False)
    _blocks: Callable[[str], bool] | None = attrs.field(default=None, init=False)
    _opted_out: set[str] = attrs.field(factory=set, init=False)

    def __attrs_post_init__(self) -> None:
        if self.dnc is not None:
            blocks = getattr(self.dnc, "blocks", None)
            self._blocks = blocks if callable(blocks) else self.dnc  # type: ignore[assignment]

    def opt_out(self, number: str) -> None:
        """The callee asked not to be called again (the script's opt-out): blocked from now."""
        self._opted_out.add(number)

    def blocked(self, number: str) -> bool:
        """True when ``number`` must not be called now: on the do-not-call list, opted out in
        this run, or the list could not answer (fail safe)."""
        return self.verdict(number) is not None

    def verdict(self, number: str) -> str | None:
        """Why ``number`` must not be called now (None: it may be).

        ``"do-not-call list"`` when it is listed or opted out; a reason starting with
        ``"do-not-call list unavailable"`` when the list raised (a file that cannot be read,
        a :class:`~autoinformer.errors.PolicyError`, anything a user's list raises): the number
        is blocked for now, never called on a guess, and the failure is counted in
        ``dnc_errors`` (``dnc_last_error`` says what it was, for the runtime's log).
        """
        if number in self._opted_out:
            return "do-not-call list"
        if self._blocks is None:
            return None
        try:
            listed = bool(self._blocks(number))
        except Exception as exc:  # any list, the user's own too: whatever it raises, fail safe
            self.dnc_errors += 1
            self.dnc_last_error = f"{type(exc).__name__}: {exc}"
            return f"do-not-call list unavailable ({self.dnc_last_error})"
        return "do-not-call list" if listed else None

    def check(self, now: float, slot: Slot, campaign: Campaign) -> Verdict:
        """May ``slot`` be called now, and on which of its numbers (from its current one on)?"""
        contact = slot.contact
        phones = contact.phones
        index = None
        unsure = ""
        for k in range(len(phones)):
            i = (slot.number_index + k) % len(phones)
            verdict = self.verdict(phones[i])
            if verdict is None:
                index = i
                break
            if verdict != "do-not-call list":
                unsure = verdict
        if index is None:
            if unsure:  # the list could not answer: do not call, ask again later
                return Hold(now + DNC_RETRY, unsure)
            return Close(ContactState.SKIPPED, "do-not-call list")
        number = phones[index]
        at = dt.datetime.fromtimestamp(now, tz=dt.UTC)
        window, limits = campaign.window, campaign.limits
        zones = callee_zones(number, contact.timezone, window.timezone, at, strict=window.strict)
        if not window.allows(at, zones):
            nxt = window.next_allowed(at, zones)
            if nxt is None:
                return Close(ContactState.SKIPPED, "outside the campaign's dates")
            return Hold(max(nxt.timestamp(), now + _LATER))
        if limits is not None:
            nxt = limits_next_allowed(limits, slot.history, at, zones)
            if nxt is None:
                return Close(ContactState.EXHAUSTED, "lifetime call limit reached")
            if nxt != at:
                return Hold(max(nxt.timestamp(), now + _LATER))
        return Go(index, number, at)
