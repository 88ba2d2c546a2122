"""next_call_time: the call window and the contact limits together."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.core.gates import limits_next_allowed
from autoinformer.policy import CallWindow, ContactLimits, callee_zones, next_call_time

UTC = dt.UTC
LA = ZoneInfo("America/Los_Angeles")
WINDOW = CallWindow.parse(days="mon-fri", hours="09:00-20:00", timezone="Europe/Moscow")


def test_los_angeles_number_waits_for_morning_in_los_angeles() -> None:
    now = dt.datetime(2026, 1, 16, 12, 0, tzinfo=UTC)  # 04:00 in Los Angeles
    at = next_call_time(now, window=WINDOW, number_e164="+17605632123")
    assert at == dt.datetime(2026, 1, 16, 9, 0, tzinfo=LA)


def test_once_a_day_pushes_to_the_next_open_day() -> None:
    now = dt.datetime(2026, 1, 16, 10, 0, tzinfo=UTC)  # Friday, 13:00 Moscow
    limits = ContactLimits(per_day=1)
    history = [dt.datetime(2026, 1, 16, 7, 0, tzinfo=UTC)]
    at = next_call_time(
        now, window=WINDOW, number_e164="+74951234567", limits=limits, history=history
    )
    assert at == dt.datetime(2026, 1, 19, 6, 0, tzinfo=UTC)  # Monday 09:00 Moscow


def test_retry_time_and_lifetime_cap() -> None:
    now = dt.datetime(2026, 1, 16, 10, 0, tzinfo=UTC)
    later = now + dt.timedelta(minutes=20)
    assert next_call_time(now, window=WINDOW, number_e164="+74951234567", not_before=later) == later
    capped = ContactLimits(lifetime=1)
    assert (
        next_call_time(now, window=WINDOW, number_e164="+74951234567", limits=capped, history=[now])
        is None
    )


numbers = st.sampled_from(
    ["+17605632123", "+74951234567", "+79508881234", "+447400123456", "+19282831234"]
)


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 1)).map(
        lambda t: t.replace(tzinfo=UTC)
    ),
    numbers,
    st.lists(st.integers(1, 10 * 86400), max_size=10),
    st.booleans(),
)
def test_the_answer_satisfies_both(
    now: dt.datetime, number: str, ages: list[int], strict: bool
) -> None:
    window = CallWindow.parse(
        hours={"mon-fri": "09:00-20:00", "sat": "10:00-14:00"},
        timezone="Europe/Moscow",
        strict=strict,
    )
    limits = ContactLimits(min_interval="2h", per_day=2, per_7_days=5)
    history = [now - dt.timedelta(seconds=a) for a in ages]
    at = next_call_time(now, window=window, number_e164=number, limits=limits, history=history)
    assert at is not None
    zones = callee_zones(number, None, window.timezone, at, strict=strict)
    assert window.allows(at, zones)
    assert all(limits.allows(history, at, zone) for zone in zones)


# A Flagstaff-area number may be in Denver or in Phoenix: one offset in winter (UTC-7), two in
# summer, when Denver keeps daylight-saving time and Arizona does not.
DENVER, PHOENIX = ZoneInfo("America/Denver"), ZoneInfo("America/Phoenix")
FLAGSTAFF = "+19282831234"


def test_strict_mode_judges_every_zone_even_when_they_agree_today() -> None:
    winter = dt.datetime(2026, 1, 16, 12, 0, tzinfo=UTC)
    assert set(callee_zones(FLAGSTAFF, None, "UTC", winter, strict=True)) == {DENVER, PHOENIX}
    window = CallWindow.parse(
        days="daily", hours="09:00-20:00", timezone="UTC", start="2026-07-01 12:00", strict=True
    )
    at = next_call_time(winter, window=window, number_e164=FLAGSTAFF)
    # 09:00 in Denver (MDT) is 08:00 in Phoenix (MST): strict waits for 09:00 in Phoenix.
    assert at == dt.datetime(2026, 7, 1, 9, 0, tzinfo=PHOENIX)
    assert window.allows(at, [DENVER, PHOENIX])


def test_zones_are_judged_at_the_time_of_the_call_not_at_the_time_of_asking() -> None:
    winter = dt.datetime(2026, 1, 16, 12, 0, tzinfo=UTC)
    window = CallWindow.parse(
        days="daily", hours="09:00-20:00", timezone="America/New_York", start="2026-07-01"
    )
    at = next_call_time(winter, window=window, number_e164=FLAGSTAFF)
    assert at is not None
    # In July the number's zones disagree, so the campaign's zone decides (DESIGN.md), not
    # the zone that happened to agree in January.
    assert callee_zones(FLAGSTAFF, None, window.timezone, at) == (window.timezone,)
    assert at == dt.datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("America/New_York"))


def test_per_day_cap_holds_in_every_zone_of_a_strict_number() -> None:
    # July: Denver is UTC-6, Phoenix UTC-7. A call at 06:30 UTC is on July 1 in Denver and on
    # June 30 in Phoenix, so a once-a-day number may not be called again on Denver's July 1,
    # though it may on Phoenix's (the campaign's zone).
    window = CallWindow.parse(
        days="daily", hours="09:00-20:00", timezone="America/Phoenix", strict=True
    )
    limits = ContactLimits(per_day=1)
    history = [dt.datetime(2026, 7, 1, 6, 30, tzinfo=UTC)]
    now = dt.datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # 10:00 Denver, 09:00 Phoenix
    assert window.allows(now, [DENVER, PHOENIX])
    assert limits.allows(history, now, PHOENIX)
    assert not limits.allows(history, now, DENVER)
    at = next_call_time(now, window=window, number_e164=FLAGSTAFF, limits=limits, history=history)
    # Denver's next day starts at 06:00 UTC on July 2; the window opens in both zones at
    # 09:00 Phoenix (10:00 Denver), the same answer the dialer core gives at dial time
    assert at == dt.datetime(2026, 7, 2, 9, 0, tzinfo=PHOENIX)
    zones = callee_zones(FLAGSTAFF, None, window.timezone, now, strict=True)
    assert at == window.next_allowed(limits_next_allowed(limits, history, now, zones), zones)
