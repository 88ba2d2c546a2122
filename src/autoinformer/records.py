"""Call records: one row per attempt, the unit the store journals and statistics count."""

from __future__ import annotations

import attrs

from autoinformer.outcomes import ContactState, Outcome

__all__ = ["AttemptRecord", "ContactProgress"]


@attrs.frozen
class AttemptRecord:
    """One call attempt (a call detail record). Times are POSIX seconds (UTC).

    Journaled twice: once before the originate is sent (``outcome`` None), once when the result
    is known. A record still without an outcome after a restart was in flight at a crash.
    """

    attempt_id: str
    campaign: str
    contact_id: str
    attempt_no: int
    number: str
    caller_id: str | None
    started_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    outcome: Outcome | None = None
    cause: int | None = None
    digits: str = ""
    operator: str | None = None
    machine: bool = False
    detail: str = ""
    callback_result: str | None = None

    @property
    def talk_seconds(self) -> float:
        """Seconds from answer to end (0 when never answered or not ended)."""
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return max(0.0, self.ended_at - self.answered_at)


@attrs.frozen
class ContactProgress:
    """Where one contact stands in one campaign (what the store keeps between attempts)."""

    contact_id: str
    state: ContactState = ContactState.PENDING
    attempts: int = 0
    next_at: float | None = None
    reason: str = ""
