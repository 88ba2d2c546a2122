"""Telephone switch backends, loaded lazily by name.

``import autoinformer`` does not import httpx-ws or any backend module; :func:`load_backend`
imports the one asked for, so a user of the simulated switch needs none of the extras.
"""

from __future__ import annotations

import importlib
from typing import Any

from autoinformer.backends.base import Switch
from autoinformer.backends.multi import Member, SwitchSet

__all__ = ["BACKENDS", "Member", "Switch", "SwitchSet", "load_backend"]

BACKENDS: dict[str, str] = {
    "sim": "autoinformer.backends.sim:SimSwitch",
    "ari": "autoinformer.backends.ari:AriSwitch",
    "esl": "autoinformer.backends.esl:EslSwitch",
}


def load_backend(kind: str) -> type[Any]:
    """The Switch class for ``kind`` (``sim``, ``ari`` or ``esl``)."""
    try:
        target = BACKENDS[kind]
    except KeyError:
        from autoinformer.errors import SettingsError

        raise SettingsError(
            "backend.kind", f"expected one of {', '.join(sorted(BACKENDS))}, got {kind!r}"
        ) from None
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    cls: type[Any] = getattr(module, attr)
    return cls
