"""CallWindow: parsing, local-time judgement, next_allowed, and the never-outside laws."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.errors import SettingsError
from autoinformer.policy import CallWindow, TimeRange, callee_zones

UTC = dt.UTC
MSK = ZoneInfo("Europe/Moscow")
NY = ZoneInfo("America/New_York")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# 2026-01-16 is a Friday, 2026-01-17 a Saturday, 2026-01-19 a Monday.


def test_weekday_hours_in_the_campaign_zone() -> None:
    window = CallWindow.parse(days="mon-fri", hours="09:00-20:00", timezone="Europe/Moscow")
    assert window.allows(utc(2026, 1, 16, 6, 0))  # 09:00 Moscow, Friday
    assert not window.allows(utc(2026, 1, 16, 5, 59, 59))
    assert window.allows(utc(2026, 1, 16, 16, 59, 59))
    assert not window.allows(utc(2026, 1, 16, 17, 0))  # 20:00 Moscow: the end is excluded
    assert not window.allows(utc(2026, 1, 17, 10, 0))  # Saturday


def test_next_allowed_sleeps_over_the_weekend() -> None:
    window = CallWindow.parse(days="mon-fri", hours="09:00-20:00", timezone="Europe/Moscow")
    assert window.next_allowed(utc(2026, 1, 16, 18, 0)) == utc(2026, 1, 19, 6, 0)
    inside = utc(2026, 1, 16, 12, 34, 56)
    assert window.next_allowed(inside) == inside


def test_callee_local_time_beats_the_campaign_zone() -> None:
    window = CallWindow.parse(days="mon-fri", hours="09:00-20:00", timezone="Europe/Moscow")
    now = utc(2026, 1, 16, 13, 0)  # 16:00 in Moscow, 08:00 in New York
    assert window.allows(now)
    assert not window.allows(now, [NY])
    assert window.next_allowed(now, [NY]) == utc(2026, 1, 16, 14, 0)


def test_several_ranges_and_per_day_hours() -> None:
    window = CallWindow.parse(
        hours={"mon-fri": "09:00-13:00,14:00-20:00", "sat": "10:00-14:00"}, timezone="UTC"
    )
    assert window.weekly[0] == (TimeRange(540, 780), TimeRange(840, 1200))
    assert window.weekly[5] == (TimeRange(600, 840),)
    assert window.weekly[6] == ()
    assert not window.allows(utc(2026, 1, 16, 13, 30))  # lunch break
    assert window.next_allowed(utc(2026, 1, 16, 13, 30)) == utc(2026, 1, 16, 14, 0)
    assert window.next_allowed(utc(2026, 1, 17, 15, 0)) == utc(2026, 1, 19, 9, 0)


@pytest.mark.parametrize(
    "hours", ["09:00-20:00", "9-20", "9.00-20.00", "9am-8pm", "9 a.m. - 8 p.m.", "9:00 AM-8:00 PM"]
)
def test_spellings_of_hours(hours: str) -> None:
    assert CallWindow.parse(hours=hours).weekly[0] == (TimeRange(540, 1200),)


def test_twelve_am_and_pm() -> None:
    assert CallWindow.parse(hours="12am-12pm").weekly[0] == (TimeRange(0, 720),)
    with pytest.raises(SettingsError, match="no such time"):
        CallWindow.parse(hours="13pm-14pm")


def test_range_past_midnight_spills_into_the_next_day() -> None:
    window = CallWindow.parse(days="fri", hours="22:00-02:00", timezone="UTC")
    assert window.allows(utc(2026, 1, 16, 23, 0))
    assert window.allows(utc(2026, 1, 17, 1, 59))  # Saturday morning, from Friday's range
    assert not window.allows(utc(2026, 1, 17, 2, 0))
    assert not window.allows(utc(2026, 1, 17, 23, 0))  # Saturday evening is not listed


def test_holidays_block_whole_local_days_and_ranges_are_inclusive() -> None:
    window = CallWindow.parse(
        days="daily",
        hours="09:00-20:00",
        timezone="Europe/Moscow",
        holidays=["2026-01-01..2026-01-08", dt.date(2026, 2, 23)],
    )
    assert not window.allows(utc(2026, 1, 8, 10, 0))
    assert window.next_allowed(utc(2025, 12, 31, 18, 0)) == utc(2026, 1, 9, 6, 0)
    assert not window.allows(utc(2026, 2, 23, 10, 0))


def test_campaign_start_and_end() -> None:
    window = CallWindow.parse(
        days="daily",
        hours="09:00-20:00",
        timezone="Europe/Moscow",
        start="2026-01-20 12:00",
        end=dt.date(2026, 1, 21),
    )
    assert window.start == dt.datetime(2026, 1, 20, 12, tzinfo=MSK)
    assert window.end == dt.datetime(2026, 1, 22, tzinfo=MSK)  # the end date is included
    assert not window.allows(utc(2026, 1, 19, 10, 0))
    assert window.next_allowed(utc(2026, 1, 19, 10, 0)) == window.start
    assert window.allows(utc(2026, 1, 21, 16, 59))
    assert window.next_allowed(utc(2026, 1, 21, 17, 0)) is None  # closed for good


def test_immediate_start_is_the_default() -> None:
    window = CallWindow.parse(days="daily", hours="00:00-24:00")
    assert window.start is None
    assert window.allows(utc(2000, 1, 1, 0, 0))


def test_window_that_never_opens_returns_none() -> None:
    window = CallWindow.parse(days="mon", hours="09:00-10:00", timezone="UTC")
    tokyo, ny = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
    # 09-10 in Tokyo and 09-10 in New York never overlap.
    assert window.next_allowed(utc(2026, 1, 16, 0, 0), [tokyo, ny]) is None


def test_strict_mode_keeps_only_the_overlap_of_a_russian_mobile() -> None:
    window = CallWindow.parse(days="daily", hours="09:00-20:00", timezone="Europe/Moscow")
    now = utc(2026, 1, 16, 5, 0)
    zones = callee_zones("+79508881234", None, window.timezone, now, strict=True)
    assert len(zones) > 10
    opening = window.next_allowed(now, zones)
    # Bucharest (UTC+2 in winter) opens at 07:00 UTC; Anadyr (UTC+12) closes at 08:00 UTC.
    assert opening == utc(2026, 1, 16, 7, 0)
    assert window.allows(utc(2026, 1, 16, 7, 59), zones)
    assert not window.allows(utc(2026, 1, 16, 8, 0), zones)


def test_daylight_saving_gap_opens_when_the_clocks_jump() -> None:
    # 02:30 does not exist in New York on 2026-03-08; the window opens at 03:00 EDT.
    window = CallWindow.parse(days="daily", hours="02:30-05:00", timezone="America/New_York")
    opening = window.next_allowed(utc(2026, 3, 8, 5, 0))
    assert opening == dt.datetime(2026, 3, 8, 3, 0, tzinfo=NY)


def test_daylight_saving_fold_reopens_the_window() -> None:
    # 00:00-01:30 in New York on 2026-11-01: 01:00-01:30 happens twice.
    window = CallWindow.parse(days="sun", hours="00:00-01:30", timezone="America/New_York")
    after_first = utc(2026, 11, 1, 5, 30)  # 01:30 EDT: closed
    assert not window.allows(after_first)
    assert window.next_allowed(after_first) == utc(2026, 11, 1, 6, 0)  # 01:00 EST


def test_describe() -> None:
    window = CallWindow.parse(
        hours={"mon-fri": "09:00-13:00,14:00-20:00", "sat": "10:00-14:00"},
        timezone="Europe/Moscow",
        holidays=["2026-01-01"],
        end="2026-12-31",
    )
    assert window.describe() == (
        "mon-fri 09:00-13:00,14:00-20:00; sat 10:00-14:00 (Europe/Moscow), 1 holiday(s), "
        "until 2027-01-01 00:00+03:00"
    )


def test_always() -> None:
    window = CallWindow.always()
    assert window.allows(utc(2026, 1, 17, 3, 33))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days": "mon-fry"}, "days"),
        ({"days": ""}, "days"),
        ({"hours": "9-25"}, "hours"),
        ({"hours": "09:00-09:00"}, "hours"),
        ({"hours": "09:00"}, "hours"),
        ({"hours": "09:61-10:00"}, "hours"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"holidays": ["2026-13-01"]}, "holidays"),
        ({"holidays": ["2026-02-01..2026-01-01"]}, "holidays"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "end"),
        ({"days": "mon", "hours": {"tue": "09:00-10:00"}}, "days"),
        ({"hours": {"tue": "9-x"}}, "hours['tue']"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        CallWindow.parse(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_naive_now_is_refused() -> None:
    window = CallWindow.always()
    with pytest.raises(SettingsError, match="now"):
        window.allows(dt.datetime(2026, 1, 16, 12, 0))


# ---------------------------------------------------------------------------------------------
# Laws, checked against an independent reading of the settings.

ZONES = [UTC, MSK, NY, ZoneInfo("Asia/Kolkata"), ZoneInfo("Australia/Lord_Howe")]
clock = st.integers(min_value=0, max_value=95).map(lambda q: q * 15)  # quarter hours


@st.composite
def windows(draw: st.DrawFn) -> tuple[CallWindow, dict[str, object]]:
    days = draw(st.sets(st.integers(0, 6), min_size=1))
    ranges = draw(
        st.lists(st.tuples(clock, clock).filter(lambda r: r[0] != r[1]), min_size=1, max_size=2)
    )
    holidays = draw(st.sets(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), max_size=3))
    start = draw(st.none() | st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 6, 1)))
    length = draw(st.none() | st.integers(1, 200))
    zone = draw(st.sampled_from(ZONES))
    hours = ",".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in ranges)
    start_at = None if start is None else start.replace(tzinfo=zone)
    end_at = None
    if length is not None:
        base = start_at or dt.datetime(2026, 1, 1, tzinfo=zone)
        end_at = base + dt.timedelta(days=length)
    window = CallWindow.parse(
        days=",".join(DAYS[d] for d in sorted(days)),
        hours=hours,
        timezone=zone,
        holidays=sorted(holidays),
        start=start_at,
        end=end_at,
    )
    spec = {"days": days, "ranges": ranges, "holidays": holidays, "start": start_at, "end": end_at}
    return window, spec


def oracle(spec: dict[str, object], now: dt.datetime, zone: dt.tzinfo) -> bool:
    """The settings read literally, without any of CallWindow's machinery."""
    start, end = spec["start"], spec["end"]
    if isinstance(start, dt.datetime) and now < start:
        return False
    if isinstance(end, dt.datetime) and now >= end:
        return False
    local = now.astimezone(zone)
    if local.date() in spec["holidays"]:  # type: ignore[operator]
        return False
    minute = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 6e7
    day, days = local.weekday(), spec["days"]
    for a, b in spec["ranges"]:  # type: ignore[attr-defined]
        if a < b and day in days and a <= minute < b:  # type: ignore[operator]
            return True
        if b < a and day in days and minute >= a:  # type: ignore[operator]
            return True
        if b < a and (day - 1) % 7 in days and minute < b:  # type: ignore[operator]
            return True
    return False


instants = st.datetimes(dt.datetime(2025, 12, 1), dt.datetime(2027, 1, 31)).map(
    lambda t: t.replace(tzinfo=UTC)
)
zone_sets = st.lists(st.sampled_from(ZONES), min_size=0, max_size=3, unique=True)


@settings(max_examples=300, deadline=None)
@given(windows(), instants, zone_sets)
def test_allows_matches_the_literal_reading(
    built: tuple[CallWindow, dict[str, object]], now: dt.datetime, zones: list[dt.tzinfo]
) -> None:
    window, spec = built
    expected = all(oracle(spec, now, z) for z in (zones or [window.timezone]))
    assert window.allows(now, zones) == expected


@settings(max_examples=150, deadline=None)
@given(windows(), instants, zone_sets)
def test_next_allowed_is_allowed_and_nothing_earlier_is(
    built: tuple[CallWindow, dict[str, object]], now: dt.datetime, zones: list[dt.tzinfo]
) -> None:
    window, spec = built
    found = window.next_allowed(now, zones)
    if found is None:
        # never again: a sample of the coming year is all closed
        probes = [now + dt.timedelta(hours=7 * k + 0.25) for k in range(0, 1300, 7)]
    else:
        assert found >= now
        assert all(oracle(spec, found, z) for z in (zones or [window.timezone]))
        gap = found - now
        probes = [now + gap * k / 40 for k in range(40)]
        probes.append(found - dt.timedelta(seconds=1))
    for probe in probes:
        if probe >= now and (found is None or probe < found):
            assert not window.allows(probe, zones), (probe, found)
