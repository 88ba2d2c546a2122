"""Building policy settings from a campaign file's tables, with errors that name the key.

A campaign file says ``[retry] attempts = 3``; a wrong value must come back as
``retry.attempts: ...``, and a misspelt key as an error, not a silent default.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from autoinformer.errors import SettingsError

T = TypeVar("T")


def build(
    factory: Callable[..., T],
    data: object,
    prefix: str,
    keys: Collection[str],
    aliases: Mapping[str, str] | None = None,
) -> T:
    """``factory(**data)`` with unknown keys refused and every error's field prefixed.

    Args:
        factory: the class or classmethod that builds the setting.
        data: the campaign file's table for this setting.
        prefix: the table's name (``"retry"``), prepended to error fields.
        keys: the keys ``factory`` accepts.
        aliases: other spellings accepted for a key (``interval`` -> ``default_delay``).

    Raises:
        SettingsError: ``prefix.key: message``.
    """
    if not isinstance(data, Mapping):
        raise SettingsError(prefix, f"expected a table of settings, got {type(data).__name__}")
    aliases = aliases or {}
    kwargs: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = aliases.get(str(raw_key), str(raw_key))
        if key not in keys:
            known = ", ".join(sorted({*keys, *aliases}))
            raise SettingsError(
                f"{prefix}.{raw_key}", f"unknown setting (expected one of: {known})"
            )
        if key in kwargs:
            raise SettingsError(f"{prefix}.{raw_key}", f"given twice (also as {key!r})")
        kwargs[key] = value
    try:
        return factory(**kwargs)
    except SettingsError as exc:
        raise SettingsError(f"{prefix}.{exc.field}", exc.message) from None
