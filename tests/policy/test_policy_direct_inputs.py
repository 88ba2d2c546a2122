"""Policy parsers called directly (not through a campaign file) refuse what is no value with a
SettingsError naming the field: no OverflowError, OSError or TypeError escapes (#14)."""

from __future__ import annotations

import pytest

from autoinformer.campaign import SmsRules
from autoinformer.contacts.template import safe_cell
from autoinformer.errors import SettingsError
from autoinformer.policy.durations import parse_duration
from autoinformer.policy.schedule import CallWindow
from autoinformer.policy.zones import to_zone


@pytest.mark.parametrize("value", [1e20, "99999999999999999999h", "4000d", 10**12])
def test_a_duration_past_ten_years_is_refused(value: object) -> None:
    with pytest.raises(SettingsError, match="at most ten years"):
        parse_duration(value, "retry.interval")  # type: ignore[arg-type]


def test_ten_years_is_still_a_duration() -> None:
    assert parse_duration("3650d", "x").days == 3650


@pytest.mark.parametrize("name", ["A" * 300, "Europe/Moscow\0", "../../../etc/passwd"])
def test_a_zone_name_that_cannot_be_a_zone_is_a_settings_error(name: str) -> None:
    with pytest.raises(SettingsError) as info:
        to_zone(name, "campaign.timezone")
    assert info.value.field == "campaign.timezone"


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("31.02.2026", "no such date"),
        ("2026-02-31", "no such date"),
        ("2026-13-01", "no such date"),
        ("07.12.2026", "year first"),
        ("soon", "expected a date like"),
    ],
)
def test_an_impossible_date_is_not_called_a_format_error(day: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=reason):
        CallWindow.parse(hours="09:00-20:00", timezone="UTC", holidays=[day])


def test_a_text_rule_that_is_no_text_names_the_key() -> None:
    with pytest.raises(SettingsError, match=r"sms\.on_missed: expected a text template"):
        SmsRules(on_missed=False)  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["\n=1+1", " =1+1", "\u00a0@SUM(A1)", "＝1+1", "＋7", "\t-1"])
def test_template_cells_use_the_export_rule(cell: str) -> None:
    assert safe_cell(cell).startswith("'")
    assert safe_cell("Ivan") == "Ivan"
