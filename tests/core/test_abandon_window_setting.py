"""``Campaign.abandon_window`` and the campaign-file key ``abandon_window``: the rolling window
the core's abandon guard also holds the cap over (Ofcom's 24 hours by default)."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.campaign_file import parse_campaign
from autoinformer.core import DialerCore
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.errors import SettingsError
from autoinformer.queues.base import Operator
from autoinformer.script import Script, menu, transfer

TRANSFER = Script.of(menu("Press 1 for an operator.", {"1": transfer("operators")}))
OPERATORS = QueueSettings(name="operators", operators=[Operator("anna", "PJSIP/101")])


def _file(line: str) -> dict[str, Any]:
    text = f"""
[campaign]
name = "window"
timezone = "UTC"
{line}
[[script]]
menu = "Press 1 for an operator."
options = {{ 1 = "transfer:operators" }}

[[operators]]
id = "anna"
endpoint = "PJSIP/101"
"""
    return tomllib.loads(text)


def _window_of(line: str) -> float | None:
    return parse_campaign(_file(line), base=Path(".")).campaign.abandon_window


def test_the_default_window_is_24_hours() -> None:
    assert (
        Campaign(timezone="UTC", name="c", script=TRANSFER, queues=[OPERATORS]).abandon_window
        == 86400.0
    )
    assert _window_of("") == 86400.0


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        ('abandon_window = "24h"', 86400.0),
        ('abandon_window = "30m"', 1800.0),
        ('abandon_window = "1h30m"', 5400.0),
        ("abandon_window = 3600", 3600.0),
        ("abandon_window = 7200.5", 7200.5),
        ("abandon_window = false", None),
    ],
)
def test_the_file_key_takes_durations_seconds_and_false(line: str, seconds: float | None) -> None:
    assert _window_of(line) == seconds


@pytest.mark.parametrize(
    "line",
    [
        'abandon_window = "soon"',
        'abandon_window = ""',
        "abandon_window = -5",
        "abandon_window = 0",
        'abandon_window = "0s"',
        "abandon_window = true",
        "abandon_window = [24]",
    ],
)
def test_a_bad_file_value_names_the_key(line: str) -> None:
    with pytest.raises(SettingsError) as info:
        parse_campaign(_file(line), base=Path("."))
    assert info.value.field == "campaign.abandon_window"


@pytest.mark.parametrize("window", [0, -1.0, math.inf, math.nan, "24h", True])
def test_the_campaign_setting_is_validated(window: object) -> None:
    with pytest.raises(SettingsError) as info:
        Campaign(
            timezone="UTC", name="c", script=TRANSFER, queues=[OPERATORS], abandon_window=window
        )  # type: ignore[arg-type]
    assert info.value.field == "abandon_window"


@pytest.mark.parametrize("window", [1800.0, None])
def test_the_core_guard_gets_the_campaign_window(window: float | None) -> None:
    campaign = Campaign(
        timezone="UTC", name="c", script=TRANSFER, queues=[OPERATORS], abandon_window=window
    )
    guard = DialerCore(campaign=campaign).pacing
    assert isinstance(guard, AbandonGuard)
    assert guard.window_seconds == window


def test_a_file_window_reaches_the_core_guard() -> None:
    spec = parse_campaign(_file('abandon_window = "30m"'), base=Path("."))
    guard = DialerCore(campaign=spec.campaign, pacing=spec.pacing()).pacing
    assert isinstance(guard, AbandonGuard)
    assert guard.window_seconds == 1800.0
