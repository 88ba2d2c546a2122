"""from_config: campaign-file tables into policy settings, errors named ``table.key``."""

from __future__ import annotations

import datetime as dt

import pytest

from autoinformer.errors import SettingsError
from autoinformer.outcomes import Outcome
from autoinformer.policy import (
    CallerIdPool,
    CallWindow,
    ContactLimits,
    DeliveryRule,
    RetryPolicy,
    TimeRange,
)


def test_tables_build_settings() -> None:
    window = CallWindow.from_config(
        {
            "days": "mon-fri",
            "hours": ["09:00-13:00", "14:00-20:00"],
            "timezone": "Europe/Moscow",
            "holidays": "2026-01-01..2026-01-08, 2026-02-23",
        }
    )
    assert window.weekly[0] == (TimeRange(540, 780), TimeRange(840, 1200))
    assert dt.date(2026, 2, 23) in window.holidays
    assert len(window.holidays) == 9
    retry = RetryPolicy.from_config({"attempts": 4, "interval": "15m", "rules": {"busy": "2m"}})
    assert retry.default_delay == dt.timedelta(minutes=15)
    assert retry.rule(Outcome.BUSY).delay == dt.timedelta(minutes=2)
    assert ContactLimits.from_config({"per_day": 1}).per_day == 1
    pool = CallerIdPool.from_config({"numbers": ["+74951110001"], "strategy": "lru"})
    assert pool.strategy == "lru"
    assert DeliveryRule.from_config({"min_duration": "15s"}).min_duration.total_seconds() == 15


@pytest.mark.parametrize(
    ("build", "data", "field"),
    [
        (CallWindow.from_config, {"hours": "9-99"}, "window.hours"),
        (CallWindow.from_config, {"hour": "9-10"}, "window.hour"),
        (CallWindow.from_config, ["mon"], "window"),
        (RetryPolicy.from_config, {"attempts": 0}, "retry.attempts"),
        (RetryPolicy.from_config, {"rules": {"busy": "x"}}, "retry.rules[busy]"),
        (RetryPolicy.from_config, {"interval": "1m", "default_delay": "2m"}, "retry.default_delay"),
        (RetryPolicy.from_config, {"rules": {"busy": {"delay": "x"}}}, "retry.rules[busy].delay"),
        (RetryPolicy.from_config, {"rules": {"busy": {"retyr": True}}}, "retry.rules[busy].retyr"),
        (RetryPolicy.from_config, {"rules": {"busy": {"retry": "yes"}}}, "retry.rules[busy].retry"),
        (ContactLimits.from_config, {"per_week": 3}, "limits.per_week"),
        (CallerIdPool.from_config, {"numbers": ["123"]}, "caller_ids.numbers[0]"),
        (DeliveryRule.from_config, {"min_duration": "long"}, "delivery.min_duration"),
    ],
)
def test_errors_name_the_key(build: object, data: object, field: str) -> None:
    with pytest.raises(SettingsError) as info:
        build(data)  # type: ignore[operator]
    assert info.value.field == field


def test_retry_rules_as_tables() -> None:
    # TOML: [retry.rules] no_answer = { retry = true, delay = "2h" }, machine = { retry = false }
    retry = RetryPolicy.from_config(
        {
            "rules": {
                "no_answer": {"retry": True, "delay": "2h"},
                "machine": {"retry": False},
                "busy": {"delay": "5m"},  # retry defaults to true
                "failed": {"retry": True},  # delay defaults to the policy's
            }
        }
    )
    assert retry.rule(Outcome.NO_ANSWER).delay == dt.timedelta(hours=2)
    assert not retry.rule(Outcome.MACHINE).retry
    assert retry.rule(Outcome.BUSY).retry
    assert retry.rule(Outcome.BUSY).delay == dt.timedelta(minutes=5)
    assert retry.rule(Outcome.FAILED).delay == retry.default_delay
