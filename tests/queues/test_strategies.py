"""Distribution strategies: app_queue / mod_callcenter semantics, property-tested."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.errors import SettingsError
from autoinformer.queues.base import Operator, OperatorStatus
from autoinformer.queues.strategies import (
    STRATEGIES,
    FewestCalls,
    LeastTalkTime,
    Linear,
    LongestIdle,
    RandomOrder,
    RingAll,
    RoundRobin,
    WeightedRandom,
    strategy_named,
)

member = st.builds(
    lambda i, calls, talk, end, penalty, weight: (i, calls, talk, end, penalty, weight),
    st.integers(0, 0),
    st.integers(0, 50),
    st.floats(0, 10_000, allow_nan=False),
    st.floats(0, 10_000, allow_nan=False),
    st.integers(0, 2),
    st.integers(0, 5),
)


def _idle(rows: list[tuple[int, int, float, float, int, int]]) -> list[OperatorStatus]:
    return [
        OperatorStatus(
            operator=Operator(id=f"op{i}", endpoint=f"PJSIP/{100 + i}", weight=w, penalty=pen),
            position=i,
            calls=calls,
            talk_seconds=talk,
            last_call_end=end,
        )
        for i, (_, calls, talk, end, pen, w) in enumerate(rows)
    ]


idle_lists = st.lists(member, min_size=0, max_size=12).map(_idle)


@given(idle=idle_lists, name=st.sampled_from(sorted(STRATEGIES)))
@settings(max_examples=60, deadline=None)
def test_every_strategy_orders_only_the_lowest_penalty_idle_operators(
    idle: list[OperatorStatus], name: str
) -> None:
    chosen = strategy_named(name).choose(idle, now=0.0)
    ids = [m.operator.id for m in chosen]
    assert len(ids) == len(set(ids)), "nobody is rung twice"
    if not idle:
        assert chosen == []
        return
    best = min(m.operator.penalty for m in idle)
    expected = {m.operator.id for m in idle if m.operator.penalty == best}
    assert set(ids) == expected


@given(idle=idle_lists.filter(bool))
def test_longest_idle_rings_the_least_recent_first(idle: list[OperatorStatus]) -> None:
    first = LongestIdle().choose(idle, 0.0)[0]
    best = min(m.operator.penalty for m in idle)
    assert first.last_call_end == min(m.last_call_end for m in idle if m.operator.penalty == best)


@given(idle=idle_lists.filter(bool))
def test_fewest_calls_and_least_talk_time(idle: list[OperatorStatus]) -> None:
    best = min(m.operator.penalty for m in idle)
    pool = [m for m in idle if m.operator.penalty == best]
    assert FewestCalls().choose(idle, 0.0)[0].calls == min(m.calls for m in pool)
    assert LeastTalkTime().choose(idle, 0.0)[0].talk_seconds == min(m.talk_seconds for m in pool)


@given(idle=idle_lists.filter(bool))
def test_linear_and_ringall_keep_member_order(idle: list[OperatorStatus]) -> None:
    for strategy in (Linear(), RingAll()):
        positions = [m.position for m in strategy.choose(idle, 0.0)]
        assert positions == sorted(positions)


@given(n=st.integers(1, 9), rounds=st.integers(1, 4))
def test_round_robin_with_memory_serves_everyone_once_per_cycle(n: int, rounds: int) -> None:
    idle = _idle([(0, 0, 0.0, 0.0, 0, 1)] * n)
    rr = RoundRobin()
    firsts = [rr.choose(idle, float(t))[0].operator.id for t in range(n * rounds)]
    assert Counter(firsts) == Counter({f"op{i}": rounds for i in range(n)})
    assert firsts[:n] == [f"op{i}" for i in range(n)]


def test_round_robin_skips_busy_members_and_remembers_position() -> None:
    idle = _idle([(0, 0, 0.0, 0.0, 0, 1)] * 4)
    rr = RoundRobin()
    assert rr.choose(idle, 0)[0].operator.id == "op0"
    # op1 is busy now: the next one after op0 that is idle is op2
    assert rr.choose([idle[0], idle[2], idle[3]], 1)[0].operator.id == "op2"
    assert rr.choose(idle, 2)[0].operator.id == "op3"
    assert rr.choose(idle, 3)[0].operator.id == "op0"


@given(seed=st.integers(0, 10_000))
def test_random_strategies_are_reproducible_by_seed(seed: int) -> None:
    idle = _idle([(0, 0, 0.0, 0.0, 0, w) for w in (1, 2, 3, 4)])
    for cls in (RandomOrder, WeightedRandom):
        a, b = cls(seed=seed), cls(seed=seed)
        assert [[m.operator.id for m in a.choose(idle, t)] for t in range(5)] == [
            [m.operator.id for m in b.choose(idle, t)] for t in range(5)
        ]


def test_weighted_random_follows_the_weights() -> None:
    idle = _idle([(0, 0, 0.0, 0.0, 0, w) for w in (0, 1, 3)])
    wr = WeightedRandom(seed=7)
    firsts = Counter(wr.choose(idle, 0.0)[0].operator.id for _ in range(4000))
    assert firsts["op0"] == 0, "weight 0 is never first while others are idle"
    assert 2.4 < firsts["op2"] / firsts["op1"] < 3.7


def test_unknown_strategy_names_the_field() -> None:
    with pytest.raises(SettingsError, match=r"queue\.strategy: unknown strategy 'fastest'"):
        strategy_named("fastest")
    assert isinstance(strategy_named(" RRMemory "), RoundRobin)
    assert isinstance(strategy_named("longest-idle-agent"), LongestIdle)
