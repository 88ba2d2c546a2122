"""Campaign policies: pure decisions about when, how often and from which caller ID to call.

Nothing here reads a clock or does I/O; every query takes ``now`` (a timezone-aware datetime).
See ``docs/campaigns.md``.

- :mod:`~autoinformer.policy.durations`: ``parse_duration("1h30m")``
- :mod:`~autoinformer.policy.zones`: ``callee_zones(number, contact_tz, campaign_tz, now)``
- :mod:`~autoinformer.policy.schedule`: ``CallWindow`` (days, hours, holidays, dates)
- :mod:`~autoinformer.policy.limits`: ``ContactLimits`` (interval, per day / 7 days / lifetime),
  ``LineLimit``
- :mod:`~autoinformer.policy.retry`: ``RetryPolicy`` and its ``RetryDecision``
- :mod:`~autoinformer.policy.delivery`: ``DeliveryRule`` (minimum delivered duration)
- :mod:`~autoinformer.policy.callerid`: ``CallerIdPool`` and ``CallerIdCarousel``
- :mod:`~autoinformer.policy.gate`: ``next_call_time`` (window + limits for one number)
- :mod:`~autoinformer.policy.presets`: ``FZ230`` (Russia's 230-FZ hours and caps), ``preset``
"""

from __future__ import annotations

from autoinformer.policy.callerid import CallerIdCarousel, CallerIdPool, normalize_e164
from autoinformer.policy.delivery import DeliveryRule
from autoinformer.policy.durations import format_duration, parse_duration
from autoinformer.policy.gate import next_call_time
from autoinformer.policy.limits import ContactLimits, LineLimit
from autoinformer.policy.presets import FZ230, Preset, preset
from autoinformer.policy.retry import FINAL_OUTCOMES, RetryDecision, RetryPolicy, RetryRule
from autoinformer.policy.schedule import CallWindow, TimeRange
from autoinformer.policy.zones import (
    callee_zones,
    number_zone_is_ambiguous,
    number_zones,
    region_zone,
    to_zone,
)

__all__ = [
    "FINAL_OUTCOMES",
    "FZ230",
    "CallWindow",
    "CallerIdCarousel",
    "CallerIdPool",
    "ContactLimits",
    "DeliveryRule",
    "LineLimit",
    "Preset",
    "RetryDecision",
    "RetryPolicy",
    "RetryRule",
    "TimeRange",
    "callee_zones",
    "format_duration",
    "next_call_time",
    "normalize_e164",
    "number_zone_is_ambiguous",
    "number_zones",
    "parse_duration",
    "preset",
    "region_zone",
    "to_zone",
]
