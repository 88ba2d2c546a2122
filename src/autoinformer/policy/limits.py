"""Caps on how often one person is called, and on how many calls run at once.

:class:`ContactLimits` judges a contact's attempt history (the start times of earlier attempts)
against a minimum interval, a per-day cap, a rolling seven-day cap and a lifetime cap. The
seven-day cap defaults to 7 because US debt-collection rules (Regulation F) presume harassment
above seven calls in seven consecutive days.

"Per day" is the callee's local calendar day when a zone is passed (the same zone the call window
uses), else the UTC day. The seven-day cap is a rolling window of 7 x 24 hours.

:class:`LineLimit` is the campaign's concurrent-call ceiling ("5 lines, 3 for the informer").
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence

import attrs

from autoinformer.errors import SettingsError
from autoinformer.policy._config import build
from autoinformer.policy.durations import DurationLike, parse_duration
from autoinformer.policy.zones import first_local_instant

__all__ = ["ContactLimits", "LineLimit"]

_WEEK = dt.timedelta(days=7)
_MONTH = dt.timedelta(days=31)
_UTC = dt.UTC


def _min_interval(value: DurationLike) -> dt.timedelta:
    return parse_duration(value, "min_interval")


def _check_cap(field: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(field, f"expected a whole number >= 1 or None, got {value!r}")


def _aware(value: dt.datetime, field: str) -> None:
    if value.tzinfo is None:
        raise SettingsError(field, "must be a timezone-aware datetime")


def _local_day_bounds(now: dt.datetime, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants at which the local calendar day containing ``now`` starts and ends."""
    day = now.astimezone(tz).date()
    return first_local_instant(day, 0, tz), first_local_instant(day + dt.timedelta(days=1), 0, tz)


@attrs.frozen
class ContactLimits:
    """How often one contact may be called.

    Attributes:
        min_interval: least time between the starts of two attempts ("every 5 minutes",
            "once a day" is ``per_day=1``); a string like ``"5m"`` is accepted.
        per_day: most attempts per calendar day (callee-local with ``tz``), None: no cap.
        per_7_days: most attempts in any rolling 7 x 24 hours, None: no cap (default 7).
        per_month: most attempts in any rolling 31 x 24 hours, None: no cap. Every calendar
            month fits in such a window, so "N a month" (Russia's 230-FZ: 8) holds in each.
        lifetime: most attempts ever, None: no cap (the retry budget usually binds first).
    """

    min_interval: dt.timedelta = attrs.field(default=dt.timedelta(0), converter=_min_interval)
    per_day: int | None = None
    per_7_days: int | None = 7
    lifetime: int | None = None
    per_month: int | None = None

    def __attrs_post_init__(self) -> None:
        _check_cap("per_day", self.per_day)
        _check_cap("per_7_days", self.per_7_days)
        _check_cap("per_month", self.per_month)
        _check_cap("lifetime", self.lifetime)

    @classmethod
    def from_config(cls, data: Mapping[str, object], prefix: str = "limits") -> ContactLimits:
        """Limits from a campaign file's table (keys: the attribute names).

        Raises:
            SettingsError: an unknown key or a wrong value, named ``limits.<key>``.
        """
        keys = ("min_interval", "per_day", "per_7_days", "per_month", "lifetime")
        return build(cls, data, prefix, keys)

    def allows(
        self, history: Sequence[dt.datetime], now: dt.datetime, tz: dt.tzinfo | None = None
    ) -> bool:
        """True when one more attempt may start at ``now``.

        Args:
            history: start times of the contact's earlier attempts (any order, aware).
            now: the time of the would-be attempt (aware).
            tz: the callee's zone, for "per day"; None: the UTC day.
        """
        return self.next_allowed(history, now, tz) == now

    def next_allowed(
        self, history: Sequence[dt.datetime], now: dt.datetime, tz: dt.tzinfo | None = None
    ) -> dt.datetime | None:
        """The first moment at or after ``now`` when one more attempt would be within limits.

        Args:
            history: start times of the contact's earlier attempts (any order, aware).
            now: the current time (aware).
            tz: the callee's zone, for "per day"; None: the UTC day.

        Returns:
            ``now`` when allowed now; a later time; or None when the lifetime cap is reached.

        Raises:
            SettingsError: a naive datetime.
        """
        _aware(now, "now")
        for t in history:
            _aware(t, "history")
        if self.lifetime is not None and len(history) >= self.lifetime:
            return None
        times = sorted(t.astimezone(_UTC) for t in history)
        at = now.astimezone(_UTC)
        # Each rule moves ``at`` forward only; repeat until none objects (a few rounds at most).
        for _ in range(len(times) + 3):
            moved = self._earliest(times, at, tz or _UTC)
            if moved == at:
                return now if at == now.astimezone(_UTC) else at
            at = moved
        return at  # pragma: no cover - the rules are monotone and settle above

    def next_allowed_in_zones(
        self,
        history: Sequence[dt.datetime],
        now: dt.datetime,
        zones: Sequence[dt.tzinfo],
    ) -> dt.datetime | None:
        """The first moment at or after ``now`` when the limits hold in every one of ``zones``.

        A number that may be in several zones (strict mode) is judged conservatively: no
        zone's local calendar day may be over the per-day cap. Each zone's answer only moves
        time forward, so asking every zone again from the latest answer until they all agree
        finds the first moment that suits them all. No zones: the UTC day.

        Returns:
            ``now`` when allowed now; a later time; None when the lifetime cap is reached.
        """
        candidate = now
        for _ in range(len(zones) * (len(history) + 3) + 1):
            latest = candidate
            for zone in zones or (None,):
                found = self.next_allowed(history, candidate, zone)
                if found is None:
                    return None
                latest = max(latest, found)
            if latest == candidate:
                return candidate
            candidate = latest
        return candidate  # pragma: no cover - each rule is monotone and settles above

    def _earliest(self, times: list[dt.datetime], at: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        candidate = at
        if times and self.min_interval:
            candidate = max(candidate, times[-1] + self.min_interval)
        for cap, span in ((self.per_7_days, _WEEK), (self.per_month, _MONTH)):
            if cap is None:
                continue
            window = times[bisect.bisect_right(times, candidate - span) :]
            window = window[: bisect.bisect_right(window, candidate)]
            if len(window) >= cap:
                # the oldest attempt that must leave the window before one more fits
                candidate = max(candidate, window[len(window) - cap] + span)
        if self.per_day is not None:
            start, end = _local_day_bounds(candidate, tz)
            today = bisect.bisect_left(times, end) - bisect.bisect_left(times, start)
            if today >= self.per_day:
                candidate = max(candidate, end)
        return candidate

    def remaining_today(
        self, history: Sequence[dt.datetime], now: dt.datetime, tz: dt.tzinfo | None = None
    ) -> int | None:
        """Attempts still allowed in the current day (None: no per-day cap)."""
        if self.per_day is None:
            return None
        _aware(now, "now")
        start, end = _local_day_bounds(now, tz or _UTC)
        today = sum(1 for t in history if start <= t < end)
        return max(0, self.per_day - today)


@attrs.frozen
class LineLimit:
    """The most calls the campaign may have in progress at once.

    Attributes:
        lines: concurrent calls allowed (seed 000: 5 trunk lines, 3 given to the informer).
    """

    lines: int = attrs.field()

    @lines.validator
    def _check(self, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SettingsError("lines", f"expected a whole number >= 1, got {value!r}")

    def free(self, in_progress: int) -> int:
        """How many more calls may start now, given the calls already in progress."""
        return max(0, self.lines - in_progress)

    def allows(self, in_progress: int) -> bool:
        """True when one more call may start."""
        return in_progress < self.lines
