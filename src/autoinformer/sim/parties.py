"""Called parties by convention: the last digit of the dialled number chooses the behaviour.

This is the convention of ``shared/reference/samples/README.md``, so one conformance campaign
runs unchanged on the simulated switch, on the fake ARI and ESL servers, and on a real server
whose dialplan jumps on the last digit. Every fake reads its callees from :data:`PARTIES`, and
so does the simulator's :class:`~autoinformer.sim.model.PartiesModel`: it lives here, beside
the simulator, and :mod:`autoinformer.testing.parties` hands it on to the tests and fakes.
"""

from __future__ import annotations

import attrs

from autoinformer.outcomes import HangupCause, Outcome

__all__ = ["PARTIES", "Party", "party_for"]


@attrs.frozen
class Party:
    """How a called party behaves.

    Attributes:
        answers: picks up (after ``ring_seconds``) or not.
        fail_cause: for a party that does not answer, the cause the network reports (None:
            it rings until our ring timeout).
        ring_seconds: how long it rings before answering or failing.
        digits: DTMF digits it presses, as (seconds after answer, digit) pairs.
        stays_seconds: seconds after answer before it hangs up (None: until we hang up).
        expected: the outcome a campaign should record for it.
        expected_digits: the digits the call record should show.
    """

    answers: bool
    expected: Outcome
    fail_cause: HangupCause | None = None
    ring_seconds: float = 1.0
    digits: tuple[tuple[float, str], ...] = ()
    stays_seconds: float | None = None
    expected_digits: str = ""


PARTIES: dict[str, Party] = {
    "1": Party(answers=True, expected=Outcome.DELIVERED),
    "2": Party(
        answers=False, fail_cause=HangupCause.USER_BUSY, expected=Outcome.BUSY, ring_seconds=0.5
    ),
    "3": Party(answers=False, expected=Outcome.NO_ANSWER),
    "4": Party(
        answers=False,
        fail_cause=HangupCause.NORMAL_CIRCUIT_CONGESTION,
        expected=Outcome.FAILED,
        ring_seconds=0.2,
    ),
    "5": Party(
        answers=False,
        fail_cause=HangupCause.CALL_REJECTED,
        expected=Outcome.REJECTED,
        ring_seconds=0.5,
    ),
    "6": Party(answers=True, stays_seconds=2.0, expected=Outcome.HUNG_UP_EARLY),
    "7": Party(
        answers=True,
        digits=((2.0, "2"),),
        stays_seconds=20.0,
        expected=Outcome.DELIVERED,
        expected_digits="2",
    ),
    "8": Party(
        answers=True,
        digits=((1.0, "1"),),
        stays_seconds=20.0,
        expected=Outcome.TRANSFERRED,
        expected_digits="1",
    ),
    "9": Party(
        answers=False,
        fail_cause=HangupCause.UNALLOCATED_NUMBER,
        expected=Outcome.UNREACHABLE,
        ring_seconds=0.1,
    ),
    "0": Party(answers=True, stays_seconds=12.0, expected=Outcome.DELIVERED),
}

OPERATOR_TALK_SECONDS = 15.0
"""An operator endpoint answers and talks this long (the convention's operator)."""


def party_for(number: str) -> Party:
    """The behaviour of the party at ``number`` (E.164 or any dial string ending in a digit)."""
    digits = [c for c in number if c.isdigit()]
    if not digits:
        raise ValueError(f"test number {number!r} has no digits")
    return PARTIES[digits[-1]]
