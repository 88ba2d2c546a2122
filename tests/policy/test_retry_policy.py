"""RetryPolicy: per-outcome rules, one budget per contact, number alternation, cool-downs."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.errors import SettingsError
from autoinformer.outcomes import Outcome
from autoinformer.policy import FINAL_OUTCOMES, DeliveryRule, RetryPolicy, RetryRule

NOW = dt.datetime(2026, 1, 16, 10, 0, tzinfo=dt.UTC)
M = dt.timedelta(minutes=1)


def test_simple_policy_retries_after_the_interval() -> None:
    policy = RetryPolicy.simple(attempts=3, interval="20m")
    decision = policy.decide(Outcome.NO_ANSWER, 1, 0, 1, NOW)
    assert decision.retry
    assert decision.at == NOW + 20 * M
    assert decision.number_index == 0
    assert "no_answer" in decision.reason


@pytest.mark.parametrize("outcome", sorted(FINAL_OUTCOMES))
def test_final_outcomes_never_retry(outcome: Outcome) -> None:
    decision = RetryPolicy(attempts=10).decide(outcome, 1, 0, 2, NOW)
    assert not decision.retry
    assert decision.at is None


def test_a_rule_cannot_make_a_final_outcome_retry() -> None:
    with pytest.raises(SettingsError) as info:
        RetryPolicy(rules={"delivered": "5m"})
    assert info.value.field == "rules[delivered]"


def test_per_outcome_rules_and_spellings() -> None:
    policy = RetryPolicy(
        attempts=5,
        rules={
            Outcome.BUSY: RetryRule(retry=True, delay="5m"),
            "no_answer": "1h",
            "machine": False,
            "unknown": dt.timedelta(minutes=2),
        },
    )
    assert policy.decide(Outcome.BUSY, 1, 0, 1, NOW).at == NOW + 5 * M
    assert policy.decide(Outcome.NO_ANSWER, 1, 0, 1, NOW).at == NOW + 60 * M
    assert not policy.decide(Outcome.MACHINE, 1, 0, 1, NOW).retry
    assert policy.decide(Outcome.UNKNOWN, 1, 0, 1, NOW).at == NOW + 2 * M
    assert policy.decide(Outcome.FAILED, 1, 0, 1, NOW).at == NOW + 20 * M  # default delay


def test_a_rule_without_delay_takes_the_default_delay() -> None:
    policy = RetryPolicy(default_delay="45m", rules={"busy": RetryRule(retry=True)})
    assert policy.rule(Outcome.BUSY).delay == 45 * M
    assert policy.decide(Outcome.BUSY, 1, 0, 1, NOW).at == NOW + 45 * M


def test_budget_is_shared_by_every_outcome() -> None:
    policy = RetryPolicy(attempts=3, rules={"busy": "1m"})
    assert policy.decide(Outcome.BUSY, 2, 0, 1, NOW).retry
    last = policy.decide(Outcome.NO_ANSWER, 3, 0, 1, NOW)
    assert not last.retry
    assert "budget" in last.reason


def test_alternates_between_numbers_when_nobody_answered() -> None:
    policy = RetryPolicy(attempts=9)
    assert policy.decide(Outcome.NO_ANSWER, 1, 0, 2, NOW).number_index == 1
    assert policy.decide(Outcome.UNREACHABLE, 2, 1, 2, NOW).number_index == 0
    assert policy.decide(Outcome.BUSY, 1, 2, 3, NOW).number_index == 0
    # a person answered on this number: stay on it
    assert policy.decide(Outcome.HUNG_UP_EARLY, 1, 1, 2, NOW).number_index == 1
    assert RetryPolicy(alternate_numbers=False).decide(Outcome.BUSY, 1, 0, 2, NOW).number_index == 0


def test_abandoned_call_cools_down_72_hours_unless_an_operator_is_guaranteed() -> None:
    policy = RetryPolicy(rules={"abandoned": "10m"})
    assert policy.decide(Outcome.ABANDONED, 1, 0, 1, NOW).at == NOW + dt.timedelta(hours=72)
    guaranteed = policy.decide(Outcome.ABANDONED, 1, 0, 1, NOW, operator_guaranteed=True)
    assert guaranteed.at == NOW + 10 * M
    strict = RetryPolicy(rules={"abandoned": "10m"}, cooldown_unless_operator_guaranteed=False)
    at = strict.decide(Outcome.ABANDONED, 1, 0, 1, NOW, operator_guaranteed=True).at
    assert at == NOW + dt.timedelta(hours=72)


def test_ring_time_floor() -> None:
    policy = RetryPolicy()
    assert policy.ring_timeout_for(10) == 15.0
    assert policy.ring_timeout_for(40) == 40.0
    assert policy.ring_timeout_for() == 30.0
    assert RetryPolicy(ring_timeout="20s").ring_timeout == 20.0
    with pytest.raises(SettingsError) as info:
        RetryPolicy(ring_timeout=10)
    assert info.value.field == "ring_timeout"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"attempts": 0}, "attempts"),
        ({"attempts": "3"}, "attempts"),
        ({"rules": {"sleeping": "5m"}}, "rules"),
        ({"rules": {"busy": "soon"}}, "rules[busy]"),
        ({"rules": {"busy": object()}}, "rules[busy]"),
        ({"default_delay": "x"}, "default_delay"),
        ({"abandoned_cooldown": -1}, "abandoned_cooldown"),
        ({"min_ring_seconds": 0}, "min_ring_seconds"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_arguments() -> None:
    policy = RetryPolicy()
    with pytest.raises(SettingsError, match="phone_count"):
        policy.decide(Outcome.BUSY, 1, 0, 0, NOW)
    with pytest.raises(SettingsError, match="number_index"):
        policy.decide(Outcome.BUSY, 1, 2, 2, NOW)
    with pytest.raises(SettingsError, match="now"):
        policy.decide(Outcome.BUSY, 1, 0, 1, dt.datetime(2026, 1, 1))
    with pytest.raises(SettingsError, match="outcome"):
        policy.decide("sleepy", 1, 0, 1, NOW)  # type: ignore[arg-type]


def test_minimum_delivered_duration() -> None:
    rule = DeliveryRule()  # seed 000: 10 s
    assert rule.outcome(9.9) is Outcome.HUNG_UP_EARLY
    assert rule.outcome(10.0) is Outcome.DELIVERED
    assert rule.outcome(4.0, reached_end=True) is Outcome.DELIVERED
    assert DeliveryRule("30s").outcome(20) is Outcome.HUNG_UP_EARLY
    with pytest.raises(SettingsError, match="min_duration"):
        DeliveryRule("ten")


# ---------------------------------------------------------------------------------------------
# Law: following the policy's decisions, no contact ever gets more attempts than the budget,
# every retry is later than the attempt, and the number index stays in range.

policies = st.builds(
    RetryPolicy,
    attempts=st.integers(1, 8),
    rules=st.dictionaries(
        st.sampled_from([o for o in Outcome if o not in FINAL_OUTCOMES]),
        st.booleans() | st.integers(0, 7200),
    ),
    alternate_numbers=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(
    policies,
    st.lists(st.sampled_from(list(Outcome)), min_size=1, max_size=20),
    st.integers(1, 4),
    st.booleans(),
)
def test_budget_is_never_exceeded(
    policy: RetryPolicy, outcomes: list[Outcome], phones: int, operator: bool
) -> None:
    now, index = NOW, 0
    for made, outcome in enumerate(outcomes, start=1):
        assert made <= policy.attempts
        decision = policy.decide(outcome, made, index, phones, now, operator_guaranteed=operator)
        assert 0 <= decision.number_index < phones
        if not decision.retry:
            assert decision.at is None
            assert (
                outcome in FINAL_OUTCOMES
                or made == policy.attempts
                or not (policy.rule(outcome).retry)
            )
            break
        assert outcome not in FINAL_OUTCOMES
        assert decision.at is not None
        assert decision.at >= now
        if outcome is Outcome.ABANDONED and not operator:
            assert decision.at - now >= policy.abandoned_cooldown
        now, index = decision.at, decision.number_index
