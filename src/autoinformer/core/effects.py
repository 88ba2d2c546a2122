"""What a part of the core asks of the core itself, returned beside the commands.

The parts of the dialer core (the operator desk, the script runner) own their state and return
values: the commands for the switch and the store (:mod:`.commands`) and, in the same list and
order, these few requests that only the composing :class:`~autoinformer.core.dialer.DialerCore`
can carry out because they touch state no part owns alone: arm a call's timer (the timers), tell
the pacing policy what happened, hand a call to the operator desk. The core applies them in
order, right after the part returns, so a part's results take effect exactly where it made
them. None of them ever leaves the core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from autoinformer.pacing.base import PacingObservation

if TYPE_CHECKING:
    from autoinformer.core.calls import Call

__all__ = ["Arm", "Effect", "Observe", "Transfer"]


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
