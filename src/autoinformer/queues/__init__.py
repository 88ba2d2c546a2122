"""Operators, queues and distribution strategies."""

from autoinformer.queues.base import (
    DistributionStrategy,
    FirstIdle,
    Operator,
    OperatorQueue,
    OperatorState,
    OperatorStatus,
)

__all__ = [
    "DistributionStrategy",
    "FirstIdle",
    "Operator",
    "OperatorQueue",
    "OperatorState",
    "OperatorStatus",
]
