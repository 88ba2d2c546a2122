"""The vocabulary: attempt outcomes, contact states and Q.850 hang-up causes.

These words are used everywhere (code, docs, statistics, exports); see ``docs/outcomes.md``.
The mapping from a switch's hang-up cause to an outcome lives here, once, so that Asterisk,
FreeSWITCH and the simulated switch classify the same failure the same way.
"""

from __future__ import annotations

import enum

__all__ = [
    "MISSED_OUTCOMES",
    "ContactState",
    "HangupCause",
    "Outcome",
    "outcome_for_unanswered",
]


class Outcome(enum.StrEnum):
    """What one call attempt came to."""

    DELIVERED = "delivered"
    HUNG_UP_EARLY = "hung_up_early"
    TRANSFERRED = "transferred"
    ABANDONED = "abandoned"
    AGENT_ERROR = "agent_error"
    MACHINE = "machine"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    INVALID_NUMBER = "invalid_number"
    OPTED_OUT = "opted_out"
    UNKNOWN = "unknown"
    """The process died while the call was in flight; reconciled on restart, retried by policy."""

    @property
    def answered(self) -> bool:
        """True when a person (or a machine) picked up."""
        return self in _ANSWERED


_ANSWERED = frozenset(
    {
        Outcome.DELIVERED,
        Outcome.HUNG_UP_EARLY,
        Outcome.TRANSFERRED,
        Outcome.ABANDONED,
        Outcome.AGENT_ERROR,
        Outcome.MACHINE,
        Outcome.OPTED_OUT,
    }
)

MISSED_OUTCOMES = frozenset(
    {Outcome.NO_ANSWER, Outcome.BUSY, Outcome.REJECTED, Outcome.UNREACHABLE}
)
"""Outcomes that count as a missed call (the "SMS on missed call" rule of seed 004)."""


class ContactState(enum.StrEnum):
    """Where a contact stands in a campaign."""

    PENDING = "pending"
    SCHEDULED = "scheduled"
    IN_CALL = "in_call"
    DONE = "done"
    EXHAUSTED = "exhausted"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class HangupCause(enum.IntEnum):
    """ITU-T Q.850 cause values, with the names Asterisk and FreeSWITCH both use.

    ``UNSPECIFIED`` (0) is not a Q.850 value; Asterisk reports it on the ``;1`` half of a Local
    channel whose real cause is on the ``;2`` half.
    """

    UNSPECIFIED = 0
    UNALLOCATED_NUMBER = 1
    NO_ROUTE_TRANSIT_NET = 2
    NO_ROUTE_DESTINATION = 3
    CHANNEL_UNACCEPTABLE = 6
    CALL_AWARDED_DELIVERED = 7
    NORMAL_CLEARING = 16
    USER_BUSY = 17
    NO_USER_RESPONSE = 18
    NO_ANSWER = 19
    SUBSCRIBER_ABSENT = 20
    CALL_REJECTED = 21
    NUMBER_CHANGED = 22
    REDIRECTION_TO_NEW_DESTINATION = 23
    EXCHANGE_ROUTING_ERROR = 25
    DESTINATION_OUT_OF_ORDER = 27
    INVALID_NUMBER_FORMAT = 28
    FACILITY_REJECTED = 29
    RESPONSE_TO_STATUS_ENQUIRY = 30
    NORMAL_UNSPECIFIED = 31
    NORMAL_CIRCUIT_CONGESTION = 34
    NETWORK_OUT_OF_ORDER = 38
    NORMAL_TEMPORARY_FAILURE = 41
    SWITCH_CONGESTION = 42
    ACCESS_INFO_DISCARDED = 43
    REQUESTED_CHAN_UNAVAIL = 44
    PRE_EMPTED = 45
    FACILITY_NOT_SUBSCRIBED = 50
    OUTGOING_CALL_BARRED = 52
    INCOMING_CALL_BARRED = 54
    BEARERCAPABILITY_NOTAUTH = 57
    BEARERCAPABILITY_NOTAVAIL = 58
    SERVICE_UNAVAILABLE = 63
    BEARERCAPABILITY_NOTIMPL = 65
    CHAN_NOT_IMPLEMENTED = 66
    FACILITY_NOT_IMPLEMENTED = 69
    SERVICE_NOT_IMPLEMENTED = 79
    INVALID_CALL_REFERENCE = 81
    INCOMPATIBLE_DESTINATION = 88
    INVALID_MSG_UNSPECIFIED = 95
    MANDATORY_IE_MISSING = 96
    MESSAGE_TYPE_NONEXIST = 97
    WRONG_MESSAGE = 98
    IE_NONEXIST = 99
    INVALID_IE_CONTENTS = 100
    WRONG_CALL_STATE = 101
    RECOVERY_ON_TIMER_EXPIRE = 102
    MANDATORY_IE_LENGTH_ERROR = 103
    PROTOCOL_ERROR = 111
    INTERWORKING = 127

    @classmethod
    def from_name(cls, name: str) -> HangupCause:
        """The cause for a switch's cause name (``USER_BUSY``); unknown names -> UNSPECIFIED.

        FreeSWITCH adds causes outside Q.850 (``ORIGINATOR_CANCEL``, ``ALLOTTED_TIMEOUT``...);
        they are folded onto the nearest Q.850 meaning here, once for every backend.
        """
        key = name.strip().upper()
        if key in cls.__members__:
            return cls[key]
        return _FREESWITCH_EXTRA.get(key, cls.UNSPECIFIED)

    @classmethod
    def from_code(cls, code: int | str | None) -> HangupCause:
        """The cause for a numeric code; unknown or missing codes -> UNSPECIFIED."""
        try:
            return cls(int(code))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return cls.UNSPECIFIED


_FREESWITCH_EXTRA: dict[str, HangupCause] = {
    "ORIGINATOR_CANCEL": HangupCause.NORMAL_CLEARING,
    "ALLOTTED_TIMEOUT": HangupCause.NO_ANSWER,
    "PROGRESS_TIMEOUT": HangupCause.NO_ANSWER,
    "MEDIA_TIMEOUT": HangupCause.RECOVERY_ON_TIMER_EXPIRE,
    "GATEWAY_DOWN": HangupCause.NETWORK_OUT_OF_ORDER,
    "LOSE_RACE": HangupCause.NORMAL_CLEARING,
    "MANAGER_REQUEST": HangupCause.NORMAL_CLEARING,
    "SYSTEM_SHUTDOWN": HangupCause.NORMAL_TEMPORARY_FAILURE,
    "CRASH": HangupCause.NORMAL_TEMPORARY_FAILURE,
    "USER_NOT_REGISTERED": HangupCause.SUBSCRIBER_ABSENT,
    "INVALID_GATEWAY": HangupCause.NETWORK_OUT_OF_ORDER,
    "INVALID_URL": HangupCause.INVALID_NUMBER_FORMAT,
    "INVALID_PROFILE": HangupCause.NETWORK_OUT_OF_ORDER,
    "NO_PICKUP": HangupCause.NO_ANSWER,
    "CALL_REJECTED": HangupCause.CALL_REJECTED,
    "DESTINATION_OUT_OF_ORDER": HangupCause.DESTINATION_OUT_OF_ORDER,
}

_UNANSWERED: dict[HangupCause, Outcome] = {
    HangupCause.USER_BUSY: Outcome.BUSY,
    HangupCause.NO_USER_RESPONSE: Outcome.NO_ANSWER,
    HangupCause.NO_ANSWER: Outcome.NO_ANSWER,
    HangupCause.RECOVERY_ON_TIMER_EXPIRE: Outcome.NO_ANSWER,
    HangupCause.NORMAL_CLEARING: Outcome.NO_ANSWER,
    HangupCause.CALL_REJECTED: Outcome.REJECTED,
    HangupCause.OUTGOING_CALL_BARRED: Outcome.REJECTED,
    HangupCause.INCOMING_CALL_BARRED: Outcome.REJECTED,
    HangupCause.UNALLOCATED_NUMBER: Outcome.UNREACHABLE,
    HangupCause.NO_ROUTE_DESTINATION: Outcome.UNREACHABLE,
    HangupCause.SUBSCRIBER_ABSENT: Outcome.UNREACHABLE,
    HangupCause.NUMBER_CHANGED: Outcome.UNREACHABLE,
    HangupCause.DESTINATION_OUT_OF_ORDER: Outcome.UNREACHABLE,
    HangupCause.INVALID_NUMBER_FORMAT: Outcome.INVALID_NUMBER,
}


def outcome_for_unanswered(cause: HangupCause) -> Outcome:
    """The outcome of a call that ended before anyone answered, from its Q.850 cause.

    A normal clearing before answer is what a switch reports when our own ring timeout fired,
    hence ``no_answer``. Congestion, network and protocol faults are ``failed``.
    """
    return _UNANSWERED.get(cause, Outcome.FAILED)
