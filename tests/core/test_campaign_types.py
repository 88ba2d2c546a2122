"""Issue #14, item 6: the public constructors refuse wrong types at once, naming the field,
and take the tables a campaign file would give."""

from __future__ import annotations

import datetime as dt

import pytest

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.errors import SettingsError
from autoinformer.queues.base import Operator
from autoinformer.script import Script, say, transfer

SCRIPT = Script.of(say("Hello."))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"retry": "3x20m"}, "retry"),
        ({"window": "09:00-20:00"}, "window"),
        ({"limits": "7 a week"}, "limits"),
        ({"caller_ids": "+74951234567"}, "caller_ids"),
        ({"script": "Hello."}, "script"),
        ({"region": "XX"}, "region"),
        ({"countries": ["KZ", "Kazakhstan"]}, "countries[1]"),
        ({"timezone": "Moscow"}, "timezone"),
        ({"queues": "operators"}, "queues"),
        ({"retry": {"attempts": 3, "interval": "twenty"}}, "retry.default_delay"),
        ({"window": {"hours": "9-25"}}, "window.hours"),
    ],
)
def test_a_wrong_value_is_a_settings_error_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    settings: dict[str, object] = {"name": "c", "script": SCRIPT, "timezone": "UTC", **kwargs}
    with pytest.raises(SettingsError) as info:
        Campaign(**settings)  # type: ignore[arg-type]
    assert info.value.field == field


def test_campaign_file_tables_are_parsed() -> None:
    campaign = Campaign(
        name="c",
        script=say("Hello."),  # one step is a script of one step
        timezone="Europe/Moscow",
        retry={"attempts": 2, "interval": "20m"},
        window={"days": "mon-fri", "hours": "09:00-18:00"},
        limits={"per_day": 1},
        countries="KZ, US",
    )
    assert campaign.script == SCRIPT
    assert campaign.retry.attempts == 2
    assert campaign.retry.default_delay == dt.timedelta(minutes=20)
    assert campaign.window.describe() == "mon-fri 09:00-18:00 (Europe/Moscow)"
    assert campaign.limits is not None
    assert campaign.limits.per_day == 1
    assert campaign.countries == frozenset({"KZ", "US"})


def test_script_of_one_step_and_wrong_steps() -> None:
    assert Script(say("Hi.")).steps == (say("Hi."),)
    with pytest.raises(SettingsError) as info:
        Script("Hi.")  # type: ignore[arg-type]
    assert info.value.field == "script"


def test_operators_must_be_operators_or_tables() -> None:
    with pytest.raises(SettingsError) as info:
        QueueSettings(name="operators", operators=["anna"])  # type: ignore[list-item]
    assert info.value.field == "operators[0]"
    assert "endpoint" in info.value.message
    queue = QueueSettings(name="operators", operators=[{"id": "anna", "endpoint": "PJSIP/101"}])
    assert queue.operators == (Operator("anna", "PJSIP/101"),)
    with pytest.raises(SettingsError) as info:
        Operator("anna", "")
    assert info.value.field == "endpoint"
    campaign = Campaign(
        name="c",
        script=Script.of(say("Hi."), transfer("operators")),
        timezone="UTC",
        queues={"operators": {"operators": [Operator("anna", "PJSIP/101")]}},
    )
    assert campaign.queues["operators"].operators[0].id == "anna"
