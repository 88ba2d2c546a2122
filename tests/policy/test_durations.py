"""parse_duration: the one spelling of durations for the API and campaign files."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoinformer.errors import SettingsError
from autoinformer.policy import format_duration, parse_duration

td = dt.timedelta


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20m", td(minutes=20)),
        ("1h30m", td(hours=1, minutes=30)),
        ("1h 30m", td(hours=1, minutes=30)),
        ("500ms", td(milliseconds=500)),
        ("5s", td(seconds=5)),
        ("5sec", td(seconds=5)),
        ("10min", td(minutes=10)),
        ("1d", td(days=1)),
        ("2w", td(weeks=2)),
        ("1.5h", td(minutes=90)),
        ("1H30M", td(minutes=90)),
        ("90", td(seconds=90)),
        (90, td(seconds=90)),
        (2.5, td(seconds=2.5)),
        (0, td(0)),
        (td(minutes=3), td(minutes=3)),
    ],
)
def test_accepted_spellings(value: object, expected: dt.timedelta) -> None:
    assert parse_duration(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", ["", "  ", "abc", "5x", "1h30", "-5m", "m5", -1, float("nan"), True, None, [1]]
)
def test_garbage_is_a_settings_error_naming_the_field(value: object) -> None:
    with pytest.raises(SettingsError) as info:
        parse_duration(value, "retry.interval")  # type: ignore[arg-type]
    assert info.value.field == "retry.interval"


def test_negative_timedelta_is_refused() -> None:
    with pytest.raises(SettingsError, match="negative"):
        parse_duration(td(seconds=-1))


@given(st.integers(min_value=0, max_value=10**6).map(lambda ms: td(milliseconds=ms)))
def test_format_reads_back(value: dt.timedelta) -> None:
    assert parse_duration(format_duration(value)) == value
