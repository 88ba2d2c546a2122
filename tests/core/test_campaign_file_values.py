"""Campaign-file values are checked for type and range before they reach the policies: a wrong
one is a SettingsError naming its key, never a TypeError, OverflowError or OSError from deeper
down (issue #14, item 10). Good values of every shape the docs show still load."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from autoinformer.campaign_file import parse_campaign
from autoinformer.errors import SettingsError

EXAMPLE = Path(__file__).parents[2] / "examples" / "campaign" / "campaign.toml"


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(EXAMPLE.read_text())
    table = data
    for key in path[:-1]:
        table = table.setdefault(key, {})
    table[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("campaign", "window", "days"), ["mon", "wed", 4]),
        (("campaign", "window", "hours"), ["09:00-13:00", "14:00-20:00"]),
        (("campaign", "window", "holidays"), [dt.date(2026, 1, 1), "2026-01-02..2026-01-08"]),
        (("campaign", "window", "start"), dt.datetime(2026, 1, 16, 9, 0)),
        (("campaign", "window", "timezone"), "Asia/Jakarta"),
        (("campaign", "retry", "interval"), 1200),
        (
            ("campaign", "retry", "rules"),
            {"busy": {"retry": True, "delay": "5m"}, "no_answer": "1h"},
        ),
        (("campaign", "limits", "min_interval"), "1d"),
        (("campaign", "abandon_window"), "24h"),
        (("sim", "digit_rates"), {"1": 0.5}),
        (("sim", "fail_after_s"), [0.5, 2]),
    ],
)
def test_good_values_load(path: tuple[str, ...], value: Any) -> None:
    parse_campaign(_with(path, value), base=EXAMPLE.parent)


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        (("campaign", "sms", "on_missed"), False, "campaign.sms.on_missed", "a string"),
        (("campaign", "window", "days"), 5, "campaign.window.days", "mon-fri"),
        (("campaign", "window", "days"), 0.02, "campaign.window.days", "mon-fri"),
        (("campaign", "window", "hours"), {"mon": 9}, "campaign.window.hours.mon", "09:00"),
        (("campaign", "window", "holidays"), 5, "campaign.window.holidays", "dates"),
        (("campaign", "window", "strict"), "yes", "campaign.window.strict", "true or false"),
        (("campaign", "timezone"), "X" * 300, "campaign.timezone", "IANA"),
        (("campaign", "window", "timezone"), "Nowhere/City", "campaign.window.timezone", "unknown"),
        (("campaign", "retry", "interval"), 1e20, "campaign.retry.interval", "ten years"),
        (
            ("campaign", "retry", "interval"),
            "999999999999h",
            "campaign.retry.interval",
            "ten years",
        ),
        (
            ("campaign", "retry", "rules"),
            {"busy": {"delay": 1e300}},
            "campaign.retry.rules.busy.delay",
            "ten years",
        ),
        (
            ("campaign", "limits", "min_interval"),
            1e300,
            "campaign.limits.min_interval",
            "ten years",
        ),
        (("campaign", "limits", "per_day"), 1.5, "campaign.limits.per_day", "whole number"),
        (("campaign", "caller_id", "numbers"), 5, "campaign.caller_id.numbers", "E.164"),
        (
            ("campaign", "caller_id", "cooldown"),
            float("inf"),
            "campaign.caller_id.cooldown",
            "non-negative",
        ),
        (("campaign", "abandon_window"), 1e300, "campaign.abandon_window", "ten years"),
        (("campaign", "max_call_seconds"), float("nan"), "campaign.max_call_seconds", "finite"),
        (("campaign", "contacts"), "a\x00b.csv", "campaign.contacts", "NUL"),
        (("speech", "cache"), "cache\x00", "speech.cache", "NUL"),
        (("sim", "digit_rates"), "x", "sim.digit_rates", "table"),
        (("sim", "digit_rates"), {"1": "often"}, "sim.digit_rates.1", "number"),
        (("sim", "digit_rates"), {"1": 2.0}, "sim.digit_rates['1']", "probability"),
        (("sim", "fail_after_s"), [1], "sim.fail_after_s", "2 numbers"),
        (("sim", "colour"), "red", "sim.colour", "unknown"),
        (("sim", "model"), ["population"], "sim.model", "population or parties"),
        (("campaign", "pacing"), {"kind": []}, "campaign.pacing.kind", "expected one of"),
        (
            ("campaign", "pacing"),
            {"kind": "power", "ratio": "2"},
            "campaign.pacing.ratio",
            "number",
        ),
        (("backend", "password"), "s3cret-pw", "backend.password", "password_env"),
    ],
)
def test_bad_values_name_their_key(
    path: tuple[str, ...], value: Any, field: str, words: str
) -> None:
    with pytest.raises(SettingsError) as info:
        parse_campaign(_with(path, value), base=EXAMPLE.parent)
    assert info.value.field == field, info.value
    assert words in info.value.message
    assert "s3cret-pw" not in str(info.value)
