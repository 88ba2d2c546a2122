"""ContactLimits and LineLimit: caps hold over any sequence of attempts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.errors import SettingsError
from autoinformer.policy import ContactLimits, LineLimit

UTC = dt.UTC
H = dt.timedelta(hours=1)
T0 = dt.datetime(2026, 1, 16, 10, 0, tzinfo=UTC)


def test_every_five_minutes() -> None:
    limits = ContactLimits(min_interval="5m", per_7_days=None)
    history = [T0]
    assert not limits.allows(history, T0 + dt.timedelta(minutes=4))
    assert limits.next_allowed(history, T0 + dt.timedelta(minutes=1)) == T0 + 5 * H / 60
    assert limits.allows(history, T0 + dt.timedelta(minutes=5))


def test_once_a_day_in_the_callees_local_day() -> None:
    limits = ContactLimits(per_day=1)
    vladivostok = ZoneInfo("Asia/Vladivostok")  # UTC+10
    history = [dt.datetime(2026, 1, 16, 12, 0, tzinfo=vladivostok)]  # 02:00 UTC
    later = dt.datetime(2026, 1, 16, 15, 0, tzinfo=UTC)  # already 01:00 on the 17th locally
    assert limits.allows(history, later, vladivostok)
    assert not limits.allows(history, later)  # the same UTC day
    assert limits.next_allowed(history, later) == dt.datetime(2026, 1, 17, tzinfo=UTC)
    assert limits.remaining_today(history, later, vladivostok) == 1


def test_seven_in_seven_days_is_a_rolling_window() -> None:
    limits = ContactLimits()  # per_7_days=7 by default
    history = [T0 + k * 20 * H for k in range(7)]
    now = history[-1] + H
    assert not limits.allows(history, now)
    # the oldest attempt leaves the 7 x 24 h window exactly a week after it started
    assert limits.next_allowed(history, now) == T0 + 7 * 24 * H


def test_lifetime_cap_means_never() -> None:
    limits = ContactLimits(lifetime=2, per_7_days=None)
    assert limits.next_allowed([T0, T0 + H], T0 + 100 * 24 * H) is None


def test_rules_combine() -> None:
    # per day 2 and min interval 3 h: the third call of the day waits for midnight,
    # and midnight must also be 3 h after the last one.
    limits = ContactLimits(min_interval="3h", per_day=2, per_7_days=None)
    history = [dt.datetime(2026, 1, 16, 20, tzinfo=UTC), dt.datetime(2026, 1, 16, 22, tzinfo=UTC)]
    assert limits.next_allowed(history, dt.datetime(2026, 1, 16, 23, tzinfo=UTC)) == dt.datetime(
        2026, 1, 17, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"min_interval": "soon"}, "min_interval"),
        ({"per_day": 0}, "per_day"),
        ({"per_7_days": -1}, "per_7_days"),
        ({"lifetime": 1.5}, "lifetime"),
        ({"per_day": True}, "per_day"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        ContactLimits(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_naive_times_are_refused() -> None:
    with pytest.raises(SettingsError):
        ContactLimits().allows([], dt.datetime(2026, 1, 1))
    with pytest.raises(SettingsError):
        ContactLimits().allows([dt.datetime(2026, 1, 1)], T0)


def test_line_limit() -> None:
    lines = LineLimit(3)
    assert lines.free(0) == 3
    assert lines.free(5) == 0
    assert lines.allows(2)
    assert not lines.allows(3)
    with pytest.raises(SettingsError, match="lines"):
        LineLimit(0)


# ---------------------------------------------------------------------------------------------
# Laws: a dialer that only calls when ``allows`` says so never breaks a cap, and
# ``next_allowed`` is the earliest moment it may call.

limits_strategy = st.builds(
    ContactLimits,
    min_interval=st.integers(0, 6 * 3600).map(lambda s: dt.timedelta(seconds=s)),
    per_day=st.none() | st.integers(1, 4),
    per_7_days=st.none() | st.integers(1, 9),
    lifetime=st.none() | st.integers(1, 30),
)
zones = st.sampled_from([None, ZoneInfo("Asia/Vladivostok"), ZoneInfo("America/New_York")])
wishes = st.lists(st.integers(0, 30 * 3600), min_size=1, max_size=40)


def _count(history: list[dt.datetime], lo: dt.datetime, hi: dt.datetime) -> int:
    return sum(1 for t in history if lo <= t < hi)


@settings(max_examples=200, deadline=None)
@given(limits_strategy, zones, wishes)
def test_caps_hold_over_any_sequence_of_attempts(
    limits: ContactLimits, tz: ZoneInfo | None, gaps: list[int]
) -> None:
    history: list[dt.datetime] = []
    now = T0
    for gap in gaps:
        now += dt.timedelta(seconds=gap)
        at = limits.next_allowed(history, now, tz)
        if at is None:
            assert limits.lifetime is not None
            assert len(history) >= limits.lifetime
            break
        assert at >= now
        assert limits.allows(history, at, tz)
        if at > now:
            assert not limits.allows(history, now, tz)
            midway = now + (at - now) / 2
            assert not limits.allows(history, midway, tz)
        history.append(at)
        now = at
    zone = tz or UTC
    for i, t in enumerate(history):
        if i and limits.min_interval:
            assert t - history[i - 1] >= limits.min_interval
        if limits.per_7_days is not None:
            assert (
                _count(
                    history,
                    t - dt.timedelta(days=7) + dt.timedelta(microseconds=1),
                    t + dt.timedelta(microseconds=1),
                )
                <= limits.per_7_days
            )
        if limits.per_day is not None:
            day = t.astimezone(zone).date()
            assert sum(1 for u in history if u.astimezone(zone).date() == day) <= limits.per_day
    if limits.lifetime is not None:
        assert len(history) <= limits.lifetime
