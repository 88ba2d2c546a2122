"""Which time zone(s) a callee is in, for judging calling hours in the callee's local time.

The order of evidence (DESIGN.md, compliance defaults): the contact's own zone when the list
gives one; else the zone of the number when phonenumbers knows a single one (or several that have
the same UTC offset at the moment of the call, which for calling hours is the same thing); else the
campaign's zone. In strict mode an ambiguous number yields every zone it may be in, and the call
window must then hold in all of them (a Russian mobile number maps to 16 zones, so strict mode can
leave only a narrow overlap, which is why it is opt-in).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import zoneinfo
from collections.abc import Callable

import phonenumbers
from phonenumbers import timezone as pn_timezone

from autoinformer.errors import SettingsError

__all__ = [
    "ZoneLike",
    "bisect_seconds",
    "callee_zones",
    "first_local_instant",
    "number_zone_is_ambiguous",
    "number_zones",
    "region_zone",
    "region_zones",
    "to_zone",
    "zones_differ",
]

ZoneLike = str | dt.tzinfo
"""An IANA zone name (``"Europe/Moscow"``) or a tzinfo object."""

_UNKNOWN = "Etc/Unknown"


def to_zone(value: ZoneLike, field: str = "timezone") -> dt.tzinfo:
    """The tzinfo for an IANA name or a tzinfo (returned as is).

    Raises:
        SettingsError: the name is not a known IANA zone.
    """
    if isinstance(value, dt.tzinfo):
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > 64 or "\0" in value:
        raise SettingsError(
            field,
            f"expected an IANA time zone like 'Europe/Moscow', got {value[:80]!r}"
            if isinstance(value, str)
            else f"expected an IANA time zone like 'Europe/Moscow', got {value!r}",
        )
    try:
        return _load_zone(value.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise SettingsError(
            field, f"unknown time zone {value!r} (expected an IANA name like 'Europe/Moscow')"
        ) from None


@functools.lru_cache(maxsize=1024)
def _load_zone(name: str) -> zoneinfo.ZoneInfo:
    """A zone by name, kept alive here: ``ZoneInfo`` itself keeps only its 8 most recent zones
    strongly, so the 16 zones of a Russian mobile number would be read from disk on every call.
    """
    return zoneinfo.ZoneInfo(name)


@functools.lru_cache(maxsize=4096)
def _number_zone_objects(number_e164: str) -> tuple[zoneinfo.ZoneInfo, ...]:
    return tuple(_load_zone(name) for name in number_zones(number_e164))


@functools.lru_cache(maxsize=4096)
def number_zones(number_e164: str) -> tuple[str, ...]:
    """The IANA zones phonenumbers gives for a number, sorted; () when unknown or unparsable."""
    try:
        parsed = phonenumbers.parse(number_e164, None)
    except phonenumbers.NumberParseException:
        return ()
    names = pn_timezone.time_zones_for_number(parsed)
    return tuple(sorted(name for name in set(names) if name != _UNKNOWN))


def _one_offset(zones: tuple[dt.tzinfo, ...], now: dt.datetime) -> bool:
    """True when every zone has the same UTC offset at ``now`` (stops at the first that differs)."""
    first = zones[0].utcoffset(now.astimezone(zones[0]))
    return all(zone.utcoffset(now.astimezone(zone)) == first for zone in zones[1:])


def callee_zones(
    number_e164: str,
    contact_tz: ZoneLike | None,
    campaign_tz: ZoneLike,
    now: dt.datetime,
    strict: bool = False,
) -> tuple[dt.tzinfo, ...]:
    """The zone(s) in which to judge the calling hours for one call.

    Args:
        number_e164: the number about to be dialled (``+79508881234``).
        contact_tz: the contact's own zone from the list, if any; it wins over the number.
        campaign_tz: the campaign's zone, the fallback.
        now: the time of the call (timezone-aware); decides whether several zones of a number
            share one UTC offset.
        strict: for a number in several zones, return all of them (the window must hold in
            each) instead of one of them or the campaign's zone.

    Returns:
        One zone, or in strict mode possibly several (every zone of the number, sorted by
        name, even when they share an offset now: zones that agree now may differ after a
        daylight-saving change). Without strict mode the answer holds for ``now`` only: a
        number whose zones agree in winter may fall back to the campaign's zone in summer.

    Raises:
        SettingsError: a zone name is unknown, or ``now`` is naive.
    """
    if now.tzinfo is None:
        raise SettingsError("now", "must be a timezone-aware datetime")
    if contact_tz is not None:
        return (to_zone(contact_tz, "contact_tz"),)
    campaign = to_zone(campaign_tz, "campaign_tz")
    zones = _number_zone_objects(number_e164)
    if not zones:
        return (campaign,)
    if strict:
        # Every zone, even when they agree now: they may not at the time the call is made
        # (Denver and Phoenix share UTC-7 in winter only), and agreeing zones cost nothing.
        return zones
    if _one_offset(zones, now):
        return (zones[0],)
    return (campaign,)


def first_local_instant(day: dt.date, minutes: int, zone: dt.tzinfo) -> dt.datetime:
    """The first UTC instant at which the local clock in ``zone`` reads ``day minutes`` or later.

    Usually the local time itself; in a daylight-saving gap (02:30 that never happens) it is the
    moment the clocks jump forward; in a fold (01:30 that happens twice) the first occurrence.
    """
    naive = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))
    early = naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    late = naive.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    low, high = min(early, late), max(early, late)
    if low.astimezone(zone).replace(tzinfo=None) == naive:
        return low
    if high.astimezone(zone).replace(tzinfo=None) != naive:  # a gap: find the jump
        return bisect_seconds(low, high, lambda t: t.astimezone(zone).replace(tzinfo=None) >= naive)
    return high


def bisect_seconds(
    low: dt.datetime, high: dt.datetime, after: Callable[[dt.datetime], bool]
) -> dt.datetime:
    """The first whole second in ``(low, high]`` where ``after`` holds (it holds at ``high``)."""
    lo, hi = math.floor(low.timestamp()), math.ceil(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if after(dt.datetime.fromtimestamp(mid, dt.UTC)):
            hi = mid
        else:
            lo = mid
    return dt.datetime.fromtimestamp(hi, dt.UTC)


# Offsets are compared under the zones' current rules: zoneinfo extends each zone's last rule
# indefinitely, so a winter and a summer instant far ahead show today's standard and summer
# offsets without reading the clock.
_RULE_PROBES = (
    dt.datetime(2100, 1, 15, 12, tzinfo=dt.UTC),
    dt.datetime(2100, 7, 15, 12, tzinfo=dt.UTC),
)


@functools.lru_cache(maxsize=4096)
def zones_differ(names: tuple[str, ...]) -> bool:
    """True when the zones do not keep one UTC offset between them (in winter or summer).

    Zones that always agree (``Europe/Berlin`` and ``Europe/Busingen``) judge calling hours
    alike, so a number in either of them has a known local time.
    """
    if len(names) < 2:
        return False
    zones = [_load_zone(name) for name in names]
    return any(
        len({zone.utcoffset(probe.astimezone(zone)) for zone in zones}) > 1
        for probe in _RULE_PROBES
    )


def number_zone_is_ambiguous(number_e164: str) -> bool:
    """True when phonenumbers places a number in zones with different offsets (a Russian
    mobile: 16 zones), so its calling hours are judged in the contact's or campaign's zone."""
    return zones_differ(number_zones(number_e164))


@functools.lru_cache(maxsize=512)
def region_zones(region: str) -> tuple[str, ...]:
    """The IANA zones of a country (CLDR's territory zones, sorted); () when unknown."""
    from babel.core import get_global  # babel is a dependency; its data loads on first use

    territory_zones = get_global("territory_zones")
    return tuple(sorted(territory_zones.get(region.upper(), ())))


def region_zone(*regions: str | None) -> str | None:
    """The one zone the numbers of ``regions`` can be in, when they keep one UTC offset
    (Great Britain: ``Europe/London``; Kazakhstan since 2024: ``Asia/Almaty``); None when
    they span several (Russia, the US, Indonesia) or a region is None (any country) or
    unknown. The first zone by name stands for them all."""
    names: set[str] = set()
    for region in regions:
        if region is None:
            return None
        zones = region_zones(region)
        if not zones:
            return None
        names.update(zones)
    ordered = tuple(sorted(names))
    if not ordered or zones_differ(ordered):
        return None
    return ordered[0]
