"""callee_zones: the contact's zone, else the number's single zone, else the campaign's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from autoinformer.errors import SettingsError
from autoinformer.policy import callee_zones, number_zones

NOW = dt.datetime(2026, 1, 16, 12, 0, tzinfo=dt.UTC)
MSK = ZoneInfo("Europe/Moscow")


def test_contact_zone_wins() -> None:
    assert callee_zones("+17605632123", "Asia/Tokyo", MSK, NOW) == (ZoneInfo("Asia/Tokyo"),)


def test_number_with_one_zone() -> None:
    assert callee_zones("+17605632123", None, MSK, NOW) == (ZoneInfo("America/Los_Angeles"),)


def test_number_with_many_offsets_falls_back_to_the_campaign() -> None:
    assert callee_zones("+79508881234", None, MSK, NOW) == (MSK,)


def test_strict_mode_returns_every_zone() -> None:
    zones = callee_zones("+79508881234", None, MSK, NOW, strict=True)
    assert ZoneInfo("Asia/Anadyr") in zones
    assert MSK in zones
    assert len(zones) == len(number_zones("+79508881234"))


def test_zones_sharing_one_offset_count_as_one() -> None:
    # A UK mobile maps to London, Guernsey, Jersey and the Isle of Man: one offset, one zone.
    assert len(number_zones("+447400123456")) == 4
    assert callee_zones("+447400123456", None, MSK, NOW) == (ZoneInfo("Europe/Guernsey"),)
    # US toll-free spans every North American zone: different offsets -> the campaign's.
    assert callee_zones("+18005550100", None, MSK, NOW) == (MSK,)


def test_unknown_or_garbage_number_uses_the_campaign_zone() -> None:
    assert callee_zones("+15555550100", None, "Europe/Moscow", NOW) == (MSK,)
    assert callee_zones("not a number", None, "Europe/Moscow", NOW) == (MSK,)


def test_bad_zone_names_the_field() -> None:
    with pytest.raises(SettingsError) as info:
        callee_zones("+17605632123", "Mars/Base", MSK, NOW)
    assert info.value.field == "contact_tz"
    with pytest.raises(SettingsError) as info:
        callee_zones("+17605632123", None, "Nowhere", NOW)
    assert info.value.field == "campaign_tz"


def test_naive_now_is_refused() -> None:
    with pytest.raises(SettingsError):
        callee_zones("+17605632123", None, MSK, dt.datetime(2026, 1, 16))
