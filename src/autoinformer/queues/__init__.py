"""Operators, queues and distribution strategies."""

from autoinformer.queues.base import (
    DistributionStrategy,
    FirstIdle,
    Operator,
    OperatorQueue,
    OperatorState,
    OperatorStatus,
)
from autoinformer.queues.stats import OperatorSummary, QueueSummary, summarize
from autoinformer.queues.strategies import (
    STRATEGIES,
    FewestCalls,
    LeastTalkTime,
    Linear,
    LongestIdle,
    RandomOrder,
    RingAll,
    RoundRobin,
    RoundRobinOrdered,
    WeightedRandom,
    strategy_named,
)

__all__ = [
    "STRATEGIES",
    "DistributionStrategy",
    "FewestCalls",
    "FirstIdle",
    "LeastTalkTime",
    "Linear",
    "LongestIdle",
    "Operator",
    "OperatorQueue",
    "OperatorState",
    "OperatorStatus",
    "OperatorSummary",
    "QueueSummary",
    "RandomOrder",
    "RingAll",
    "RoundRobin",
    "RoundRobinOrdered",
    "WeightedRandom",
    "strategy_named",
    "summarize",
]
