"""Operator statistics: what a supervisor's wallboard shows, computed from a queue's state.

Pure: the time is passed in. Occupancy here is talk time over the time since ``since`` (the
shift start); the simulator's occupancy also counts wrap-up.
"""

from __future__ import annotations

from collections import Counter

import attrs

from autoinformer.queues.base import OperatorQueue, OperatorState

__all__ = ["OperatorSummary", "QueueSummary", "summarize"]


@attrs.frozen
class OperatorSummary:
    """One operator's figures.

    Attributes:
        operator_id: the operator.
        state: the state now.
        in_state_s: seconds in that state.
        calls: calls taken.
        talk_seconds: total talk time (ongoing call included).
        mean_talk_s: talk seconds per call (0 without calls).
        talk_share: talk seconds over the time since the shift start.
    """

    operator_id: str
    state: OperatorState
    in_state_s: float
    calls: int
    talk_seconds: float
    mean_talk_s: float
    talk_share: float


@attrs.frozen
class QueueSummary:
    """A queue's figures: per operator, and operators counted by state."""

    name: str
    operators: tuple[OperatorSummary, ...]
    by_state: dict[str, int]
    calls: int
    talk_seconds: float


def summarize(queue: OperatorQueue, now: float, since: float) -> QueueSummary:
    """The queue's statistics at ``now`` for a shift that began at ``since``."""
    queue.idle(now)  # brings finished wrap-ups back to idle
    span = max(1e-9, now - since)
    ops = []
    for m in queue.members:
        talk = m.talk_seconds + (
            max(0.0, now - m.since) if m.state is OperatorState.TALKING else 0.0
        )
        ops.append(
            OperatorSummary(
                operator_id=m.operator.id,
                state=m.state,
                in_state_s=max(0.0, now - m.since),
                calls=m.calls,
                talk_seconds=talk,
                mean_talk_s=talk / m.calls if m.calls else 0.0,
                talk_share=min(1.0, talk / span),
            )
        )
    counts = Counter(str(o.state) for o in ops)
    return QueueSummary(
        name=queue.name,
        operators=tuple(ops),
        by_state={str(s): counts.get(str(s), 0) for s in OperatorState},
        calls=sum(o.calls for o in ops),
        talk_seconds=sum(o.talk_seconds for o in ops),
    )
