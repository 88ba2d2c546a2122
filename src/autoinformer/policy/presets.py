"""Ready-made rule sets for laws a campaign often falls under.

A :class:`Preset` is a call window and contact limits to pass to a
:class:`~autoinformer.campaign.Campaign` together::

    from autoinformer.policy import FZ230

    Campaign(..., timezone="Europe/Moscow", window=FZ230.window, limits=FZ230.limits)

Its window names no zone: it takes the campaign's (hours are judged in the callee's local
time, the campaign's zone being the fallback for numbers whose zone is unknown).
"""

from __future__ import annotations

import attrs

from autoinformer.errors import SettingsError
from autoinformer.policy.limits import ContactLimits
from autoinformer.policy.schedule import CallWindow

__all__ = ["FZ230", "PRESETS", "Preset", "preset"]


@attrs.frozen(kw_only=True)
class Preset:
    """A named call window and contact limits.

    Attributes:
        name: the preset's name (``ru-230fz``).
        description: what it follows, for logs and the CLI.
        window: the calling hours (zone not named: the campaign's).
        limits: how often one person may be called.
    """

    name: str
    description: str
    window: CallWindow
    limits: ContactLimits


FZ230 = Preset(
    name="ru-230fz",
    description=(
        "Russia, Federal Law 230-FZ (debt collection), art. 7: calls 08:00-22:00 on weekdays "
        "and 09:00-20:00 at weekends in the debtor's local time; at most 1 call a day, 2 in "
        "any 7 days, 8 in any 31 days (so in every calendar week and month)"
    ),
    window=CallWindow.parse(hours={"mon-fri": "08:00-22:00", "sat-sun": "09:00-20:00"}),
    limits=ContactLimits(per_day=1, per_7_days=2, per_month=8),
)
"""Russia's 230-FZ for debt collection. The law's weekend hours also hold on public holidays;
add them as ``holidays`` (which blocks them entirely, the stricter choice) with
``attrs.evolve(FZ230.window, holidays=[...])``."""

PRESETS: dict[str, Preset] = {FZ230.name: FZ230}


def preset(name: str) -> Preset:
    """A preset by name (``"ru-230fz"``; case and ``_`` / ``-`` do not matter).

    Raises:
        SettingsError: no such preset (``field`` is ``preset``).
    """
    key = name.strip().lower().replace("_", "-") if isinstance(name, str) else ""
    aliases = {"230fz": "ru-230fz", "230-fz": "ru-230fz", "fz230": "ru-230fz"}
    found = PRESETS.get(aliases.get(key, key))
    if found is None:
        raise SettingsError("preset", f"unknown preset {name!r} (known: {', '.join(PRESETS)})")
    return found
