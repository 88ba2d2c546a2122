"""What a part of the core asks of the core itself, returned beside the commands.

The parts of the dialer core (the operator desk, the script runner) own their state and return
values: the commands for the switch and the store (:mod:`.commands`) and, in the same list and
order, these few requests that only the composing :class:`~autoinformer.core.dialer.DialerCore`
can carry out because they touch state no part owns alone: arm a call's timer (the timers), tell
the pacing policy what happened, hand a call to the operator desk. The core applies them in
order, right after the part returns, so a part's results take effect exactly where it made
them. None of them ever leaves the core. :func:`hang_up` is the results that hang a customer's
call up, the same for every part.
"""

from __future__ import annotations

import attrs

from autoinformer.core import commands as c
from autoinformer.core.calls import SWITCH_GRACE, Call, Stage
from autoinformer.outcomes import HangupCause
from autoinformer.pacing.base import PacingObservation

__all__ = ["Arm", "Effect", "Observe", "Results", "Transfer", "hang_up"]


@attrs.frozen
class Arm:
    """Arm timer ``kind`` of ``call`` for ``at`` (an earlier timer of that kind is void)."""

    at: float
    call: Call
    kind: str


@attrs.frozen
class Observe:
    """Tell the pacing policy what happened (:meth:`PacingPolicy.observe`)."""

    observation: PacingObservation


@attrs.frozen
class Transfer:
    """The script asked for an operator: the desk queues ``call`` for ``queue``."""

    call: Call
    queue: str


Effect = Arm | Observe | Transfer
"""A request of a part to the core."""

Results = list[c.Command | Effect]
"""What a part returns: commands and effects, in the order they take effect."""


def hang_up(call: Call, now: float, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> Results:
    """Hang the customer's call up, once: the call is ``ENDING`` from now, and the result is
    the hang-up and the "gone" timer that ends the call should the switch never confirm (empty
    for a call already ending)."""
    if call.stage is Stage.ENDING:
        return []
    call.stage = Stage.ENDING
    return [c.Hangup(call.call_id, cause), Arm(now + SWITCH_GRACE, call, "gone")]
