"""Issue #14, item 1: calling hours are never judged in an implicit UTC; the 230-FZ preset."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import attrs
import pytest

from autoinformer.campaign import Campaign
from autoinformer.contacts import Contact
from autoinformer.contacts.zones import zone_summary
from autoinformer.errors import SettingsError
from autoinformer.policy import FZ230, CallWindow, ContactLimits, next_call_time, preset
from autoinformer.script import Script, say

SCRIPT = Script.of(say("Hello."))
UTC = dt.UTC
MOSCOW = ZoneInfo("Europe/Moscow")


def test_a_russian_campaign_without_a_zone_is_refused_naming_timezone() -> None:
    with pytest.raises(SettingsError) as info:
        Campaign(name="debt", script=SCRIPT)
    assert info.value.field == "timezone"
    assert "Europe/Moscow" in info.value.message
    assert "TIMEZONE" in info.value.message
    # so is a window whose zone no one named, and a multi-zone allowed country
    with pytest.raises(SettingsError):
        Campaign(name="debt", script=SCRIPT, window=CallWindow.parse(hours="09:00-20:00"))
    with pytest.raises(SettingsError):
        Campaign(name="debt", script=SCRIPT, region="GB", countries=["US"])


def test_a_2230_moscow_call_to_a_russian_mobile_is_not_allowed() -> None:
    campaign = Campaign(name="debt", script=SCRIPT, timezone="Europe/Moscow")
    weekday_2230 = dt.datetime(2026, 1, 14, 22, 30, tzinfo=MOSCOW)  # a Wednesday
    mobile = "+79161234567"  # phonenumbers: 16 zones, so the campaign's zone decides
    at = next_call_time(weekday_2230, window=campaign.window, number_e164=mobile)
    assert at == dt.datetime(2026, 1, 15, 9, 0, tzinfo=MOSCOW)
    # the contact's own zone still wins
    omsk = next_call_time(
        weekday_2230, window=campaign.window, number_e164=mobile, contact_tz="Asia/Omsk"
    )
    assert omsk is not None
    assert omsk.astimezone(ZoneInfo("Asia/Omsk")).hour == 9


def test_a_window_without_a_named_zone_takes_the_campaigns_and_follows_it() -> None:
    hours = CallWindow.parse(days="mon-fri", hours="10:00-18:00")
    campaign = Campaign(name="c", script=SCRIPT, timezone="Europe/Moscow", window=hours)
    assert campaign.window.timezone == MOSCOW
    moved = attrs.evolve(campaign, timezone="Asia/Vladivostok")
    assert moved.window.timezone == ZoneInfo("Asia/Vladivostok")
    assert moved.window.describe() == "mon-fri 10:00-18:00 (Asia/Vladivostok)"
    # a named zone is the user's and is enough on its own
    named = CallWindow.parse(hours="10:00-18:00", timezone="Asia/Omsk")
    assert Campaign(name="c", script=SCRIPT, window=named).window.timezone == ZoneInfo("Asia/Omsk")


def test_one_zone_regions_and_any_time_need_no_zone() -> None:
    assert Campaign(name="c", script=SCRIPT, region="GB").window.describe() == (
        "mon-sun 09:00-20:00 (Europe/London)"
    )
    anytime = Campaign(name="c", script=SCRIPT, window=CallWindow.any_time(), limits=None)
    assert anytime.timezone is None
    # a per-day cap counts the callee's days: that needs a zone too
    with pytest.raises(SettingsError) as info:
        Campaign(
            name="c", script=SCRIPT, window=CallWindow.any_time(), limits=ContactLimits(per_day=1)
        )
    assert info.value.field == "timezone"


def test_window_dates_without_a_zone_are_refused() -> None:
    with pytest.raises(SettingsError) as info:
        CallWindow.parse(hours="09:00-20:00", start="2026-01-12")
    assert info.value.field == "timezone"
    aware = dt.datetime(2026, 1, 12, tzinfo=UTC)
    assert CallWindow.parse(hours="09:00-20:00", start=aware).start == aware


def test_the_230fz_preset_hours_and_caps() -> None:
    assert preset("ru-230fz") is FZ230
    assert preset("230FZ") is FZ230
    campaign = Campaign(
        name="debt",
        script=SCRIPT,
        timezone="Europe/Moscow",
        window=FZ230.window,
        limits=FZ230.limits,
    )
    assert campaign.window.describe() == (
        "mon-fri 08:00-22:00; sat-sun 09:00-20:00 (Europe/Moscow)"
    )
    window = campaign.window
    assert window.allows(dt.datetime(2026, 1, 14, 21, 30, tzinfo=MOSCOW))  # Wednesday
    assert not window.allows(dt.datetime(2026, 1, 14, 22, 0, tzinfo=MOSCOW))
    assert not window.allows(dt.datetime(2026, 1, 17, 8, 30, tzinfo=MOSCOW))  # Saturday
    assert not window.allows(dt.datetime(2026, 1, 17, 20, 0, tzinfo=MOSCOW))
    limits = campaign.limits
    assert limits is not None
    monday = dt.datetime(2026, 1, 12, 10, tzinfo=MOSCOW)
    # one a day
    assert limits.next_allowed([monday], monday + dt.timedelta(hours=2), MOSCOW) == (
        dt.datetime(2026, 1, 13, tzinfo=MOSCOW)
    )
    # two in any 7 days
    two = [monday, monday + dt.timedelta(days=1)]
    assert limits.next_allowed(two, monday + dt.timedelta(days=2), MOSCOW) == (
        monday + dt.timedelta(days=7)
    )
    # eight in any 31 days
    eight = [monday + dt.timedelta(days=3 * i) for i in range(8)]  # days 0..21
    later = eight[-1] + dt.timedelta(days=3)
    assert limits.next_allowed(eight, later, MOSCOW) == monday + dt.timedelta(days=31)
    with pytest.raises(SettingsError) as info:
        preset("us-tcpa")
    assert info.value.field == "preset"


def test_zone_summary_counts_ambiguous_numbers_and_names_the_fallback() -> None:
    contacts = [
        Contact(id="mobile", phones=("+79161234567",)),
        Contact(id="moscow-landline", phones=("+74951234567",)),
        Contact(id="own", phones=("+79031234567",), timezone="Asia/Omsk"),
    ]
    unnamed = zone_summary(contacts, region="RU")
    assert (unnamed.numbers, unnamed.ambiguous, unnamed.own_zone, unnamed.number_zone) == (
        3,
        1,
        1,
        1,
    )
    assert unnamed.fallback is None
    assert "no zone is named" in unnamed.describe()
    named = zone_summary(contacts, region="RU", timezone="Europe/Moscow")
    assert named.fallback == "Europe/Moscow"
    assert "judged in Europe/Moscow" in named.describe()
    assert named.to_dict()["examples"] == ["+79161234567"]
    assert zone_summary(contacts, region="GB").fallback == "Europe/London"
