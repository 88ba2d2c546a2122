"""When an answered call counts as delivered: the minimum delivered duration (seed 000: 10 s).

A person who hangs up before the minimum has not heard the message; the attempt is then
``hung_up_early`` (which the retry policy may retry), not ``delivered``. Reaching the end of a
message shorter than the minimum still counts as delivered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from autoinformer.outcomes import Outcome
from autoinformer.policy._config import build
from autoinformer.policy.durations import DurationLike, parse_duration

__all__ = ["DeliveryRule"]


def _min_duration(value: DurationLike) -> dt.timedelta:
    return parse_duration(value, "min_duration")


@attrs.frozen
class DeliveryRule:
    """The minimum time a person must listen for the message to count as delivered.

    Attributes:
        min_duration: from answer to hang-up (``"10s"`` accepted); 0 turns the rule off.
    """

    min_duration: dt.timedelta = attrs.field(
        default=dt.timedelta(seconds=10), converter=_min_duration
    )

    @classmethod
    def from_config(cls, data: Mapping[str, object], prefix: str = "delivery") -> DeliveryRule:
        """A rule from a campaign file's table (key: ``min_duration``)."""
        return build(cls, data, prefix, ("min_duration",))

    def outcome(self, talk_seconds: float, reached_end: bool = False) -> Outcome:
        """``delivered`` or ``hung_up_early`` for an answered call that a person ended.

        Args:
            talk_seconds: seconds from answer to hang-up.
            reached_end: the whole message was played (counts even if shorter than the minimum).
        """
        if reached_end or talk_seconds >= self.min_duration.total_seconds():
            return Outcome.DELIVERED
        return Outcome.HUNG_UP_EARLY
