"""Type and range checks for the values of a campaign file, before they reach the policies.

:mod:`autoinformer.campaign_file` hands TOML values to the policies' own parsers
(``CallWindow.parse``, ``RetryPolicy``, ``ContactLimits``...), which expect the types their
docstrings name. TOML can say anything (``days = 5``, ``interval = 1e20``, ``timezone`` of 300
characters, a NUL byte in a path), so every value is checked here first and a wrong one raises
:class:`~autoinformer.errors.SettingsError` naming its dotted key, never a ``TypeError``,
``OverflowError`` or ``OSError`` from deeper down.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from autoinformer.errors import SettingsError
from autoinformer.store.urls import PASSWORD_HELP, has_password, is_postgres_url

__all__ = [
    "MAX_DURATION_SECONDS",
    "check_caller_id",
    "check_duration",
    "check_limits",
    "check_options",
    "check_retry",
    "check_sim",
    "check_sms",
    "check_store",
    "check_text",
    "check_window",
    "check_zone",
]

MAX_DURATION_SECONDS = 10 * 366 * 86_400
"""The longest duration a campaign file may give (ten years): longer ones are typos, and
``now + duration`` must stay within what a datetime can hold."""

_MAX_ZONE_NAME = 64  # the longest IANA name is 32 characters


def check_text(value: Any, field: str) -> str:
    """A string without NUL bytes (a NUL cannot be in a path, a zone or a template)."""
    if not isinstance(value, str):
        raise SettingsError(field, f"expected a string, got {value!r}")
    if "\x00" in value:
        raise SettingsError(field, "contains a NUL character")
    return value


def check_store(value: Any, base: Path, field: str = "campaign.store") -> str | None:
    """A ``postgresql://`` URL without a password, or a SQLite file (relative to ``base``).

    A password in the file would be read by everyone who reads the campaign, so it is refused
    without quoting the value: libpq takes it from PGPASSWORD or ~/.pgpass.
    """
    if value is None:
        return None
    text = check_text(value, field)
    if is_postgres_url(text):
        try:
            secret = has_password(text)
        except ValueError:
            raise SettingsError(field, "not a valid postgresql:// URL") from None
        if secret:
            raise SettingsError(
                field,
                f"the URL carries a password: keep it out of the campaign file; {PASSWORD_HELP}",
            )
        return text
    if not text.strip():
        raise SettingsError(field, "expected a SQLite file or a postgresql:// URL, got ''")
    return str(base / text)


def check_zone(value: Any, field: str) -> str:
    """An IANA time zone name that exists on this machine (``Europe/Moscow``)."""
    text = check_text(value, field)
    hint = "expected an IANA time zone like 'Europe/Moscow'"
    if not text.strip() or len(text) > _MAX_ZONE_NAME:
        raise SettingsError(field, f"{hint}, got {_short(text)}")
    try:
        zoneinfo.ZoneInfo(text.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise SettingsError(field, f"unknown time zone {_short(text)} ({hint})") from None
    return text


def check_duration(value: Any, field: str) -> Any:
    """A duration as the policies take it (``"20m"``, seconds as a number), no longer than
    :data:`MAX_DURATION_SECONDS`; returned unchanged."""
    from autoinformer.policy.durations import parse_duration

    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SettingsError(field, f"expected a duration like '20m' or seconds, got {value!r}")
    if isinstance(value, str):
        check_text(value, field)
    if isinstance(value, int | float) and (not math.isfinite(value) or value < 0):
        raise SettingsError(field, f"expected a non-negative number of seconds, got {value!r}")
    if isinstance(value, int | float) and value > MAX_DURATION_SECONDS:
        raise SettingsError(field, f"{value!r} seconds is more than ten years")
    try:
        seconds = parse_duration(value, field).total_seconds()
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise SettingsError(field, f"{_short(value)} is more than ten years") from None
    if seconds > MAX_DURATION_SECONDS:
        raise SettingsError(field, f"{_short(value)} is more than ten years")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any, field: str, kinds: tuple[type, ...], words: str) -> Any:
    if isinstance(value, bool) and bool not in kinds:
        raise SettingsError(field, f"expected {words}, got {value!r}")
    if not isinstance(value, kinds):
        raise SettingsError(field, f"expected {words}, got {_short(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(field, f"expected a finite number, got {value!r}")
    if isinstance(value, str):
        check_text(value, field)
    return value


def _list_of(value: Any, field: str, kinds: tuple[type, ...], words: str) -> None:
    if not isinstance(value, list):
        raise SettingsError(field, f"expected {words}, got {_short(value)}")
    for i, item in enumerate(value):
        _kind(item, f"{field}[{i}]", kinds, words)


def check_sms(table: Mapping[str, Any], prefix: str) -> None:
    """``[campaign.sms]``: the texts are templates (strings), ``missed_when`` a string."""
    for key in ("on_hangup", "on_missed", "missed_when"):
        if key in table:
            _kind(table[key], f"{prefix}.{key}", (str,), "a string (leave it out for none)")


def check_window(table: Mapping[str, Any], prefix: str) -> None:
    """``[campaign.window]``: the types :meth:`CallWindow.parse` documents."""
    days_words = "days like 'mon-fri' or a list like ['mon', 'wed']"
    if "days" in table:
        days = table["days"]
        if isinstance(days, list):
            _list_of(days, f"{prefix}.days", (str, int), days_words)
        else:
            _kind(days, f"{prefix}.days", (str,), days_words)
    if "hours" in table:
        hours = table["hours"]
        words = "hours like '09:00-20:00', a list of them, or a table of days to hours"
        if isinstance(hours, Mapping):
            for day, spec in hours.items():
                field = f"{prefix}.hours.{day}"
                if isinstance(spec, list):
                    _list_of(spec, field, (str,), words)
                else:
                    _kind(spec, field, (str,), words)
        elif isinstance(hours, list):
            _list_of(hours, f"{prefix}.hours", (str,), words)
        else:
            _kind(hours, f"{prefix}.hours", (str,), words)
    if "timezone" in table:
        check_zone(table["timezone"], f"{prefix}.timezone")
    if "holidays" in table:
        holidays = table["holidays"]
        words = "dates like '2026-01-01' or ranges '2026-01-01..2026-01-08'"
        if isinstance(holidays, list):
            _list_of(holidays, f"{prefix}.holidays", (str, dt.date), words)
            for i, day in enumerate(holidays):
                if isinstance(day, dt.datetime):
                    raise SettingsError(f"{prefix}.holidays[{i}]", f"expected a date, got {day}")
        else:
            _kind(holidays, f"{prefix}.holidays", (str,), words)
    for key in ("start", "end"):
        if key in table:
            _kind(table[key], f"{prefix}.{key}", (str, dt.date), "a date or a date and time")
    if "strict" in table:
        _kind(table["strict"], f"{prefix}.strict", (bool,), "true or false")


_RETRY_DURATIONS = ("interval", "abandoned_cooldown", "min_ring_seconds", "ring_timeout")


def check_retry(table: Mapping[str, Any], prefix: str) -> None:
    """``[campaign.retry]``: whole numbers, durations, flags and the per-outcome rules."""
    if "attempts" in table:
        _kind(table["attempts"], f"{prefix}.attempts", (int,), "a whole number >= 1")
    for key in _RETRY_DURATIONS:
        if key in table:
            check_duration(table[key], f"{prefix}.{key}")
    for key in ("alternate_numbers", "cooldown_unless_operator_guaranteed"):
        if key in table:
            _kind(table[key], f"{prefix}.{key}", (bool,), "true or false")
    if "rules" not in table:
        return
    rules = table["rules"]
    if not isinstance(rules, Mapping):
        raise SettingsError(f"{prefix}.rules", f"expected a table of outcome = rule, got {rules!r}")
    for outcome, rule in rules.items():
        field = f"{prefix}.rules.{outcome}"
        if isinstance(rule, bool):
            continue
        if isinstance(rule, Mapping):
            if "retry" in rule:
                _kind(rule["retry"], f"{field}.retry", (bool,), "true or false")
            if "delay" in rule:
                check_duration(rule["delay"], f"{field}.delay")
            continue
        check_duration(rule, field)


def check_limits(table: Mapping[str, Any], prefix: str) -> None:
    """``[campaign.limits]``: ``min_interval`` a duration, the caps whole numbers."""
    if "min_interval" in table:
        check_duration(table["min_interval"], f"{prefix}.min_interval")
    for key in ("per_day", "per_7_days", "lifetime"):
        if key in table:
            _kind(table[key], f"{prefix}.{key}", (int,), "a whole number >= 1")


def check_caller_id(table: Mapping[str, Any], prefix: str) -> None:
    """``[campaign.caller_id]``: numbers, strategy, caps, cool-down and the cap's zone."""
    if "numbers" in table:
        numbers = table["numbers"]
        words = "E.164 numbers like '+79508881234'"
        if isinstance(numbers, list):
            _list_of(numbers, f"{prefix}.numbers", (str,), words)
        else:
            _kind(numbers, f"{prefix}.numbers", (str,), words)
    if "strategy" in table:
        _kind(table["strategy"], f"{prefix}.strategy", (str,), "a strategy name")
    if "sticky" in table:
        _kind(table["sticky"], f"{prefix}.sticky", (bool,), "true or false")
    for key in ("daily_cap", "seed"):
        if key in table:
            _kind(table[key], f"{prefix}.{key}", (int,), "a whole number")
    if "cooldown" in table:
        check_duration(table["cooldown"], f"{prefix}.cooldown")
    if "cap_timezone" in table:
        check_zone(table["cap_timezone"], f"{prefix}.cap_timezone")


def check_sim(table: Mapping[str, Any]) -> None:
    """``[sim]``: the settings of the simulated population (``model = "population"``, the
    default, or ``"parties"``), typed as the model's fields are and then validated by
    building the model once, so a wrong one fails when the file loads, not mid-run."""
    from autoinformer.sim.model import PartiesModel, PopulationModel

    models: dict[str, type] = {"population": PopulationModel, "parties": PartiesModel}
    model = table.get("model", "population")
    if not isinstance(model, str) or model not in models:
        raise SettingsError("sim.model", f"expected population or parties, got {_short(model)}")
    cls = models[model]
    fields = {a.name: a for a in attrs.fields(cls) if a.init}
    options: dict[str, Any] = {}
    for key, value in table.items():
        if key == "model":
            continue
        field = f"sim.{key}"
        if key not in fields:
            known = ", ".join(["model", *sorted(fields)])
            raise SettingsError(field, f"unknown setting of the {model} model (expected {known})")
        default = fields[key].default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        options[key] = _sim_value(value, default, field)
    try:
        cls(**options)
    except SettingsError as exc:
        raise SettingsError(f"sim.{exc.field.removeprefix('sim.')}", exc.message) from None
    except (TypeError, ValueError) as exc:  # pragma: no cover - the checks above come first
        raise SettingsError("sim", str(exc)) from None


def check_options(options: Mapping[str, Any], factory: Any, prefix: str) -> None:
    """Options for an attrs class (a pacing policy), typed as its fields' defaults are: a
    number where the default is a number... (unknown keys are left to the class to refuse;
    None is left alone: ``release_after = false`` means None)."""
    if not attrs.has(factory):
        return
    fields = {a.name: a for a in attrs.fields(factory) if a.init}
    for key, value in options.items():
        if key in fields and value is not None:
            default = fields[key].default
            if default is None or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                continue
            _sim_value(value, default, f"{prefix}.{key}")


def _sim_value(value: Any, default: Any, field: str) -> Any:
    if isinstance(default, bool):
        return _kind(value, field, (bool,), "true or false")
    if isinstance(default, int):
        return _kind(value, field, (int,), "a whole number")
    if isinstance(default, float):
        return _kind(value, field, (int, float), "a number")
    if isinstance(default, str):
        return _kind(value, field, (str,), "a string")
    if isinstance(default, tuple):
        words = f"a list of {len(default)} numbers"
        _list_of(value, field, (int, float), words)
        if len(value) != len(default):
            raise SettingsError(field, f"expected {words}, got {_short(value)}")
        return value
    if isinstance(default, Mapping):
        if not isinstance(value, Mapping):
            raise SettingsError(field, f'expected a table like {{ "1" = 0.2 }}, got {value!r}')
        for key, item in value.items():
            _kind(item, f"{field}.{key}", (int, float), "a number")
        return value
    return value  # pragma: no cover - every model field has one of the types above
