"""Which zone a list's calling hours will be judged in: the numbers whose zone is ambiguous.

Calling hours are judged in the callee's local time: the contact's own ``timezone`` when the
list gives one, else the number's zone when phonenumbers knows a single one (or several that
keep one UTC offset), else the campaign's zone. :func:`zone_summary` counts the numbers that
fall back to the campaign's zone (a Russian mobile may be in any of 11 offsets) and says which
zone that will be, so ``autoinformer contacts check`` can show it before anyone is called.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.contacts.phones import check_countries, check_region
from autoinformer.policy.zones import number_zone_is_ambiguous, number_zones, region_zone, to_zone

__all__ = ["ZoneSummary", "zone_summary"]


@attrs.frozen(kw_only=True)
class ZoneSummary:
    """How a list's numbers get their zone.

    Attributes:
        numbers: numbers looked at.
        own_zone: numbers of contacts that give their own zone (it wins).
        number_zone: numbers whose zone phonenumbers knows (one offset).
        ambiguous: numbers of several possible zones and no contact zone: judged in
            ``fallback``.
        fallback: the zone they are judged in (the campaign's ``timezone``, else the zone of
            the region when it has one offset); None: none, and a campaign with such numbers
            must name one.
        fallback_source: ``timezone`` (named), ``region`` (the region's one zone) or ``none``.
        examples: a few ambiguous numbers.
    """

    numbers: int
    own_zone: int
    number_zone: int
    ambiguous: int
    fallback: str | None
    fallback_source: str
    examples: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a terminal."""
        if not self.ambiguous:
            return (
                f"time zones: every number's zone is known ({self.own_zone} from the list, "
                f"{self.number_zone} from the number)"
            )
        head = f"time zones: {self.ambiguous} of {self.numbers} numbers may be in several zones"
        if self.fallback is None:
            return (
                f"{head} and no zone is named: a campaign calling them must name the zone "
                "your list is in (timezone, e.g. Europe/Moscow) or the list a TIMEZONE column"
            )
        source = "the campaign's timezone" if self.fallback_source == "timezone" else "the region's"
        return f"{head}: calling hours for them are judged in {self.fallback} ({source})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"numbers", "own_zone", "number_zone", "ambiguous", "fallback",
        "fallback_source", "examples"}``."""
        return {
            "numbers": self.numbers,
            "own_zone": self.own_zone,
            "number_zone": self.number_zone,
            "ambiguous": self.ambiguous,
            "fallback": self.fallback,
            "fallback_source": self.fallback_source,
            "examples": list(self.examples),
        }


def zone_summary(
    contacts: Iterable[Contact | tuple[int, Contact]],
    *,
    timezone: str | None = None,
    region: str | None = None,
    countries: Iterable[str] | str = (),
    max_examples: int = 5,
) -> ZoneSummary:
    """Count the numbers whose calling hours fall back to the campaign's zone, and name it.

    The same order of evidence as the dialer (:func:`~autoinformer.policy.zones.callee_zones`):
    the contact's zone, then the number's, then the fallback. The fallback is what a
    :class:`~autoinformer.campaign.Campaign` with these settings would use: ``timezone``, else
    the zone of ``region`` (and ``countries``) when they keep one UTC offset, else none (such
    a campaign is refused until it names one).

    Args:
        contacts: contacts, or ``(row, contact)`` pairs as in ``ImportReport.contacts``.
        timezone: the campaign's zone, if named.
        region: the list's region.
        countries: other countries the campaign allows.
        max_examples: how many ambiguous numbers to keep as examples.

    Cost: phonenumbers looks each new number's zones up (tens of microseconds a number).

    Raises:
        SettingsError: an unknown zone or region.
    """
    home = check_region(region)
    allowed = check_countries(countries) or frozenset()
    fallback: str | None = timezone
    if timezone is not None:
        to_zone(timezone)
        source = "timezone"
    else:
        fallback = region_zone(home, *sorted(allowed)) if home is not None else None
        source = "region" if fallback is not None else "none"
    counts: collections.Counter[str] = collections.Counter()
    examples: list[str] = []
    for item in contacts:
        contact = item[1] if isinstance(item, tuple) else item
        for phone in contact.phones:
            counts["numbers"] += 1
            if contact.timezone is not None:
                counts["own"] += 1
            elif number_zone_is_ambiguous(phone):
                counts["ambiguous"] += 1
                if len(examples) < max_examples:
                    examples.append(phone)
            elif number_zones(phone):
                counts["number"] += 1
            else:  # phonenumbers knows no zone at all: the fallback too
                counts["ambiguous"] += 1
                if len(examples) < max_examples:
                    examples.append(phone)
    return ZoneSummary(
        numbers=counts["numbers"],
        own_zone=counts["own"],
        number_zone=counts["number"],
        ambiguous=counts["ambiguous"],
        fallback=fallback,
        fallback_source=source,
        examples=tuple(examples),
    )
