"""Issue #14, items 1 and 2 in the campaign file: no implicit UTC; ``countries``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from autoinformer.campaign_file import CampaignFile, parse_campaign
from autoinformer.cli.run import load_contacts
from autoinformer.errors import SettingsError


def _parse(extra: str, base: Path = Path(".")) -> CampaignFile:
    text = f'[campaign]\nname = "f"\n{extra}\n[[script]]\nsay = "Hello."\n'
    return parse_campaign(tomllib.loads(text), base=base)


def test_a_russian_campaign_file_without_a_zone_is_refused() -> None:
    with pytest.raises(SettingsError) as info:
        _parse('region = "RU"')
    assert info.value.field == "campaign.timezone"
    assert "Europe/Moscow" in info.value.message


def test_the_window_zone_or_the_campaign_zone_is_enough() -> None:
    spec = _parse('timezone = "Europe/Moscow"\n[campaign.window]\nhours = "10:00-18:00"')
    assert spec.campaign.window.describe() == "mon-fri 10:00-18:00 (Europe/Moscow)"
    spec = _parse('[campaign.window]\nhours = "10:00-18:00"\ntimezone = "Asia/Omsk"')
    assert spec.campaign.window.describe() == "mon-fri 10:00-18:00 (Asia/Omsk)"


def test_countries_lets_the_list_call_them_without_plus(tmp_path: Path) -> None:
    (tmp_path / "list.csv").write_text(
        '"NAME", "PHONE_NUMBER", "USER_VARS"\n"Igor", "17605632123", "B = 1"\n'
    )
    common = 'contacts = "list.csv"\ntimezone = "Europe/Moscow"'
    strict = _parse(common, tmp_path)
    contacts, problems = load_contacts(strict)
    assert contacts == []
    assert "United States (+1)" in problems[0]
    allowed = _parse(common + '\ncountries = ["US"]', tmp_path)
    assert allowed.campaign.countries == frozenset({"US"})
    contacts, problems = load_contacts(allowed)
    assert [c.phones for c in contacts] == [("+17605632123",)]
    with pytest.raises(SettingsError) as info:
        _parse('timezone = "UTC"\ncountries = ["USA"]')
    assert info.value.field == "campaign.countries[0]"
