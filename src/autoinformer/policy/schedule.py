"""The call window: on which days, at which hours and between which dates calls may be placed.

A :class:`CallWindow` is a pure value. It never reads a clock: the caller passes ``now`` and the
callee's zone(s) (see :func:`autoinformer.policy.zones.callee_zones`), and gets back whether a call
is allowed now (:meth:`CallWindow.allows`) or the first moment it will be
(:meth:`CallWindow.next_allowed`), so a scheduler can sleep until the window opens instead of
polling it.

Hours are local to the callee: "09:00-20:00" means nine to eight where the phone rings. A holiday
blocks the whole local calendar date. Campaign ``start`` and ``end`` are absolute instants (a date
or naive time is read in the campaign's zone; an ``end`` given as a date includes that day).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from autoinformer.errors import SettingsError
from autoinformer.policy._config import build
from autoinformer.policy.zones import ZoneLike, bisect_seconds, first_local_instant, to_zone

__all__ = ["ANY_HOURS", "SAFE_HOURS", "CallWindow", "TimeRange", "parse_days", "parse_hours"]

SAFE_HOURS = "09:00-20:00"
"""The default calling hours, every day, in the callee's local time.

The intersection of the rules a debt reminder most often falls under: the US TCPA allows
08:00-21:00 local time, and Russia's 230-FZ (debt collection) 08:00-22:00 on weekdays and
09:00-20:00 at weekends. 09:00-20:00 every day is inside both on every day of the week, so a
campaign that says nothing about hours is lawful in both places without a per-country table.
"""

ANY_HOURS = frozenset({"any", "any time", "anytime", "always"})
"""Spellings of ``hours`` that turn the hours rule off (an explicit opt-out)."""

_UTC = dt.UTC
_DAY = dt.timedelta(days=1)
_MINUTES_PER_DAY = 24 * 60
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES: dict[str, int] = {
    **{name: i for i, name in enumerate(_WEEKDAYS)},
    "monday": 0,
    "tues": 1,
    "tuesday": 1,
    "wednesday": 2,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_EVERY_DAY = {"daily", "all", "*", "every day", "everyday"}
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(?:([ap])\.?\s*m\.?)?", re.IGNORECASE)
_MAX_HOLIDAY_SPAN = 3 * 366
_SEARCH_HORIZON = dt.timedelta(days=371)


@attrs.frozen(order=True)
class TimeRange:
    """A half-open range of local clock time within one day, in minutes since midnight.

    Attributes:
        start: first minute inside the range (0..1439).
        end: first minute after the range (1..1440; 1440 is midnight at the end of the day).
    """

    start: int
    end: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.start < self.end <= _MINUTES_PER_DAY:
            raise SettingsError(
                "hours", f"a range must satisfy 00:00 <= start < end <= 24:00, got {self}"
            )

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"

    def contains(self, seconds_of_day: float) -> bool:
        """True when a local time (seconds since midnight) falls inside the range."""
        return self.start * 60 <= seconds_of_day < self.end * 60


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_clock(text: str, field: str) -> int:
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise SettingsError(field, f"expected a time like '09:00', got {text.strip()!r}")
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if match.group(3):  # 9am, 8 p.m., 12am = midnight, 12pm = noon
        if not 1 <= hours <= 12:
            raise SettingsError(field, f"no such time of day: {text.strip()!r}")
        hours = hours % 12 + (12 if match.group(3).lower() == "p" else 0)
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise SettingsError(field, f"no such time of day: {text.strip()!r}")
    return hours * 60 + minutes


def parse_days(spec: str | Iterable[str | int], field: str = "days") -> frozenset[int]:
    """Weekday numbers (Monday = 0) from ``"mon-fri"``, ``"mon,wed,fri"``, ``"fri-mon"``, ``"*"``.

    Raises:
        SettingsError: an unknown day name or an empty spec.
    """
    parts: list[str | int] = list(spec.split(",")) if isinstance(spec, str) else list(spec)
    days: set[int] = set()
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            if not 0 <= part <= 6:
                raise SettingsError(field, f"a weekday number is 0 (Monday) to 6, got {part}")
            days.add(part)
            continue
        text = str(part).strip().lower()
        if text in _EVERY_DAY:
            days.update(range(7))
            continue
        if "-" in text:
            first, _, last = text.partition("-")
            a, b = _day(first, field), _day(last, field)
            days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
        else:
            days.add(_day(text, field))
    if not days:
        raise SettingsError(field, f"expected days like 'mon-fri', got {spec!r}")
    return frozenset(days)


def _day(text: str, field: str) -> int:
    try:
        return _DAY_NAMES[text.strip()]
    except KeyError:
        raise SettingsError(
            field, f"unknown day {text.strip()!r} (expected mon, tue, wed, thu, fri, sat, sun)"
        ) from None


def parse_hours(spec: str | Sequence[str], field: str = "hours") -> tuple[tuple[int, int], ...]:
    """Clock ranges ``(start, end)`` in minutes from ``"09:00-13:00,14:00-20:00"``.

    ``end`` may be ``24:00``. A range whose end is before its start runs past midnight
    (``"22:00-02:00"``) and is returned with ``end < start``; :meth:`CallWindow.parse` splits it
    over two days.

    Raises:
        SettingsError: a malformed time or an empty range.
    """
    if isinstance(spec, list | tuple) and all(isinstance(part, str) for part in spec):
        spec = ",".join(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise SettingsError(field, f"expected hours like '09:00-20:00', got {spec!r}")
    ranges: list[tuple[int, int]] = []
    for part in spec.split(","):
        first, sep, last = part.partition("-")
        if not sep:
            raise SettingsError(field, f"expected a range like '09:00-20:00', got {part.strip()!r}")
        start, end = _parse_clock(first, field), _parse_clock(last, field)
        if start in (end, _MINUTES_PER_DAY):
            raise SettingsError(field, f"empty range {part.strip()!r}")
        ranges.append((start, end))
    return tuple(ranges)


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[TimeRange, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple(TimeRange(start, end) for start, end in merged)


def _weekly_from(
    days: frozenset[int], hours: str | Sequence[str], field: str
) -> list[list[tuple[int, int]]]:
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for start, end in parse_hours(hours, field):
        for day in days:
            if end > start:
                week[day].append((start, end))
            else:  # past midnight: the tail belongs to the next weekday
                week[day].append((start, _MINUTES_PER_DAY))
                if end:
                    week[(day + 1) % 7].append((0, end))
    return week


def _holidays(values: Iterable[dt.date | str] | str) -> frozenset[dt.date]:
    if isinstance(values, str):
        values = [part for part in values.split(",") if part.strip()]
    out: set[dt.date] = set()
    for value in values:
        if isinstance(value, dt.datetime):
            out.add(value.date())
        elif isinstance(value, dt.date):
            out.add(value)
        elif isinstance(value, str):
            first, sep, last = value.partition("..")
            a = _iso_date(first, "holidays")
            b = _iso_date(last, "holidays") if sep else a
            if b < a or (b - a).days > _MAX_HOLIDAY_SPAN:
                raise SettingsError("holidays", f"bad date range {value!r}")
            out.update(a + dt.timedelta(days=i) for i in range((b - a).days + 1))
        else:
            raise SettingsError(
                "holidays", f"expected dates like '2026-01-01', got {type(value).__name__}"
            )
    return frozenset(out)


def _iso_date(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise SettingsError(field, _date_problem(text.strip())) from None


def _date_problem(text: str) -> str:
    """Why ``text`` is no date: an impossible day (``2026-02-31``) is not a format error."""
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})|(\d{1,2})[./](\d{1,2})[./](\d{4})", text)
    if match is not None:
        year, month, day = match.group(1, 2, 3) if match.group(1) else match.group(6, 5, 4)
        try:
            dt.date(int(year), int(month), int(day))
        except ValueError as exc:
            return f"no such date: {text!r} ({exc})"
        if not match.group(1):
            return f"expected a date like '2026-01-01' (year first), got {text!r}"
    return f"expected a date like '2026-01-01', got {text!r}"


def _instant(
    value: dt.datetime | dt.date | str | None, zone: dt.tzinfo, field: str, *, is_end: bool
) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (
                dt.datetime.fromisoformat(text) if len(text) > 10 else dt.date.fromisoformat(text)
            )
        except ValueError:
            raise SettingsError(
                field, f"expected a date or time like '2026-01-16 09:00', got {value!r}"
            ) from None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, dt.date):
        day = value + _DAY if is_end else value
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    raise SettingsError(field, f"expected a date or datetime, got {type(value).__name__}")


def _aware_input(value: object) -> bool:
    """Whether a ``start``/``end`` as given is an instant on its own (has a UTC offset)."""
    if isinstance(value, str) and len(value.strip()) > 10:
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return False
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def _check_aware(value: dt.datetime | None, field: str) -> None:
    if value is not None and value.tzinfo is None:
        raise SettingsError(field, "must be a timezone-aware datetime")


def _validate_weekly(instance: object, attribute: object, value: tuple[object, ...]) -> None:
    if len(value) != 7 or not all(
        isinstance(day, tuple) and all(isinstance(r, TimeRange) for r in day) for day in value
    ):
        raise SettingsError("weekly", "expected 7 tuples of TimeRange, Monday first")


def _offset_differs(zone: dt.tzinfo, before: dt.timedelta | None) -> Callable[[dt.datetime], bool]:
    def differs(t: dt.datetime) -> bool:
        return t.astimezone(zone).utcoffset() != before

    return differs


def _transitions(lo: dt.datetime, hi: dt.datetime, zone: dt.tzinfo) -> list[dt.datetime]:
    """The instants in ``[lo, hi)`` at which ``zone`` changes its UTC offset (to the second).

    After clocks go back, a local time that had just left the window can come round again;
    such a re-opening starts at a transition, so these are candidates too.
    """
    found: list[dt.datetime] = []
    step = dt.timedelta(hours=12)
    a = lo
    while a < hi:
        b = min(a + step, hi)
        if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset():
            found.append(
                bisect_seconds(a, b, _offset_differs(zone, a.astimezone(zone).utcoffset()))
            )
        a = b
    return found


@attrs.frozen
class CallWindow:
    """When calls may be placed: weekly hours in the callee's local time, holidays, dates.

    Build one with :meth:`parse` (the friendly spellings) or :meth:`always`; the fields are the
    normalised form.

    Attributes:
        weekly: seven tuples of :class:`TimeRange` (Monday first), sorted and merged.
        timezone: the campaign's zone: used when no callee zone is passed, and to read dates.
        holidays: local dates on which no call is placed at all.
        start: first instant of the campaign (None: start immediately).
        end: instant after the campaign's last allowed moment (None: open-ended).
        strict: the campaign wants the window to hold in every zone a number may be in
            (passed on to :func:`~autoinformer.policy.zones.callee_zones` by the caller).
        campaign_default: the zone a :class:`~autoinformer.campaign.Campaign` made this window
            in for itself because none was given (None: not a campaign's own). While the
            window's ``timezone`` is still that zone it follows the campaign's ``timezone``,
            also through ``attrs.evolve``; once someone gives it another zone
            (``attrs.evolve(window, timezone=...)``) it is theirs. Not part of equality.
        named_zone: whether whoever built the window named its zone. A window built without
            one (``CallWindow.parse(hours=...)``) reads UTC on its own; in a
            :class:`~autoinformer.campaign.Campaign` it takes the campaign's zone, and a
            campaign that has none to give refuses it when the zone matters (no implicit
            UTC). Not part of equality.
    """

    weekly: tuple[tuple[TimeRange, ...], ...] = attrs.field(validator=_validate_weekly)
    timezone: dt.tzinfo = attrs.field(default=_UTC, converter=to_zone)
    holidays: frozenset[dt.date] = attrs.field(default=frozenset(), converter=_holidays)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    strict: bool = False
    campaign_default: dt.tzinfo | None = attrs.field(
        default=None, eq=False, repr=False, kw_only=True
    )
    named_zone: bool = attrs.field(default=True, eq=False, repr=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        _check_aware(self.start, "start")
        _check_aware(self.end, "end")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise SettingsError("end", f"must be after start ({self.start}), got {self.end}")

    @classmethod
    def parse(
        cls,
        days: str | Iterable[str | int] | None = None,
        hours: str | Sequence[str] | Mapping[str, str | Sequence[str]] = "09:00-20:00",
        timezone: ZoneLike | None = None,
        holidays: Iterable[dt.date | str] | str = (),
        start: dt.datetime | dt.date | str | None = None,
        end: dt.datetime | dt.date | str | None = None,
        strict: bool = False,
    ) -> CallWindow:
        """A window from the spellings people use in campaign files.

        Args:
            days: weekdays for ``hours`` (``"mon-fri"`` when not given, every day with
                ``hours="any"``); not allowed together with per-day ``hours``.
            hours: ``"any"`` (all day: the explicit opt-out of safe hours),
                ``"09:00-20:00"``, several ranges ``"09:00-13:00,14:00-20:00"`` (or a list
                of ranges), a range past midnight ``"22:00-02:00"``, or per-day hours
                ``{"mon-fri": "09:00-20:00", "sat": "10:00-14:00"}`` (days not named: no calls).
            timezone: the campaign's IANA zone (the fallback callee zone, and how naive
                ``start``/``end`` are read). None: not named here; the window then takes
                the campaign's zone (on its own it reads UTC), and dates or naive times in
                ``start``/``end`` are refused, since they would be read in a zone no one
                named.
            holidays: dates (``date`` or ``"2026-01-01"``) or inclusive ranges
                (``"2026-01-01..2026-01-08"``) on which no call is placed.
            start: when the campaign starts (None: immediately).
            end: when it ends; a date means "through the end of that day".
            strict: judge an ambiguous number in every zone it may be in.

        Returns:
            The normalised window.

        Raises:
            SettingsError: naming the field that is wrong.
        """
        zone = _UTC if timezone is None else to_zone(timezone)
        if isinstance(hours, str) and hours.strip().lower() in ANY_HOURS:
            hours, days = "00:00-24:00", "daily" if days is None else days
        if isinstance(hours, Mapping):
            if days is not None:
                raise SettingsError("days", "give the days inside per-day hours, not both")
            week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
            for day_spec, day_hours in hours.items():
                field = f"hours[{day_spec!r}]"
                for day, ranges in enumerate(
                    _weekly_from(parse_days(day_spec, field), day_hours, field)
                ):
                    week[day].extend(ranges)
        else:
            week = _weekly_from(parse_days("mon-fri" if days is None else days), hours, "hours")
        window = cls(
            weekly=tuple(_merge(day) for day in week),
            timezone=zone,
            holidays=_holidays(holidays),
            start=_instant(start, zone, "start", is_end=False),
            end=_instant(end, zone, "end", is_end=True),
            strict=strict,
            named_zone=timezone is not None,
        )
        if timezone is None:
            for field, value in (("start", start), ("end", end)):
                if value is not None and not _aware_input(value):
                    raise SettingsError(
                        "timezone",
                        f"{field} {value!r} is read in the window's zone: name it "
                        "(timezone='Europe/Moscow'), or give an aware datetime",
                    )
        return window

    @classmethod
    def from_config(cls, data: Mapping[str, object], prefix: str = "window") -> CallWindow:
        """A window from a campaign file's table (the keys of :meth:`parse`).

        Raises:
            SettingsError: an unknown key or a wrong value, named ``window.<key>``.
        """
        keys = ("days", "hours", "timezone", "holidays", "start", "end", "strict")
        return build(cls.parse, data, prefix, keys)

    @classmethod
    def always(cls, timezone: ZoneLike | None = None) -> CallWindow:
        """Every day, all day (tests, internal numbers, or a user who turns the rule off).

        ``timezone`` None: not named (see :meth:`parse`); all day needs no zone.
        """
        full = (TimeRange(0, _MINUTES_PER_DAY),)
        zone = _UTC if timezone is None else to_zone(timezone)
        return cls(weekly=(full,) * 7, timezone=zone, named_zone=timezone is not None)

    @classmethod
    def any_time(cls, timezone: ZoneLike | None = None) -> CallWindow:
        """Every day, all day: the explicit opt-out of the safe default hours.

        ``Campaign(window=CallWindow.any_time())`` or ``hours = "any"`` in a campaign file;
        the same as :meth:`always`, spelled so that a reader sees the rule was turned off.
        """
        return cls.always(timezone)

    @classmethod
    def safe_default(cls, timezone: ZoneLike | None = None) -> CallWindow:
        """The compliance default: :data:`SAFE_HOURS` (09:00-20:00) every day, callee-local.

        Why these hours: they are inside both the US TCPA's 08:00-21:00 and Russia's 230-FZ
        debt-collection hours (08:00-22:00 weekdays, 09:00-20:00 weekends) on every day of
        the week. ``timezone`` is only the fallback for numbers whose zone is not known
        (None: not named, see :meth:`parse`).
        """
        return cls.parse(days="daily", hours=SAFE_HOURS, timezone=timezone)

    @property
    def depends_on_zone(self) -> bool:
        """Whether the zone changes what the window allows: False only for all day, every
        day, without holidays (``any_time()``); start and end are instants either way."""
        full = (TimeRange(0, _MINUTES_PER_DAY),)
        return bool(self.holidays) or any(day != full for day in self.weekly)

    def describe(self) -> str:
        """One line for logs and the CLI: ``mon-fri 09:00-20:00; sat 10:00-14:00 (UTC)``."""
        groups: list[tuple[int, int, tuple[TimeRange, ...]]] = []
        for day, ranges in enumerate(self.weekly):
            if not ranges:
                continue
            if groups and groups[-1][1] == day - 1 and groups[-1][2] == ranges:
                groups[-1] = (groups[-1][0], day, ranges)
            else:
                groups.append((day, day, ranges))
        parts = []
        for first, last, ranges in groups:
            days = _WEEKDAYS[first] if first == last else f"{_WEEKDAYS[first]}-{_WEEKDAYS[last]}"
            parts.append(f"{days} {','.join(str(r) for r in ranges)}")
        text = "; ".join(parts) or "never"
        text += f" ({self.timezone})"
        if self.holidays:
            text += f", {len(self.holidays)} holiday(s)"
        if self.start is not None:
            text += f", from {self.start.isoformat(' ', 'minutes')}"
        if self.end is not None:
            text += f", until {self.end.isoformat(' ', 'minutes')}"
        return text

    def _zones(self, zones: Sequence[dt.tzinfo]) -> tuple[dt.tzinfo, ...]:
        return tuple(zones) or (self.timezone,)

    def _open_locally(self, now: dt.datetime, zone: dt.tzinfo) -> bool:
        local = now.astimezone(zone)
        if local.date() in self.holidays:
            return False
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return any(r.contains(seconds) for r in self.weekly[local.weekday()])

    def allows(self, now: dt.datetime, zones: Sequence[dt.tzinfo] = ()) -> bool:
        """True when a call placed at ``now`` is inside the window in every one of ``zones``.

        Args:
            now: the time of the call (timezone-aware).
            zones: the callee's zone(s) from :func:`callee_zones`; empty means the campaign's.

        Raises:
            SettingsError: ``now`` is naive.
        """
        if now.tzinfo is None:
            raise SettingsError("now", "must be a timezone-aware datetime")
        if self.start is not None and now < self.start:
            return False
        if self.end is not None and now >= self.end:
            return False
        return all(self._open_locally(now, zone) for zone in self._zones(zones))

    def next_allowed(self, now: dt.datetime, zones: Sequence[dt.tzinfo] = ()) -> dt.datetime | None:
        """The first moment at or after ``now`` when :meth:`allows` is true.

        Returns ``now`` itself when the window is open. The search looks ahead a year past the
        campaign start and the last holiday (enough for any weekly pattern through a full cycle
        of daylight-saving changes).

        Args:
            now: the current time (timezone-aware).
            zones: the callee's zone(s); empty means the campaign's.

        Returns:
            The time in UTC (or ``now`` as given), or None when the window never opens again
            (after the campaign end, or no hours at all, or zones whose hours never overlap).

        Raises:
            SettingsError: ``now`` is naive.
        """
        if now.tzinfo is None:
            raise SettingsError("now", "must be a timezone-aware datetime")
        zs = self._zones(zones)
        first = now if self.start is None or now >= self.start else self.start
        if self.allows(first, zs):
            return first
        limit = max([first, *self._holiday_instants()]) + _SEARCH_HORIZON
        if self.end is not None:
            limit = min(limit, self.end)
        # Leapfrog: the answer is open in every zone, so it is no earlier than the latest of the
        # zones' own next openings; move there and ask again until all zones agree.
        at = first
        opens: dict[int, dt.datetime] = {}
        while at < limit:
            latest = at
            for i, zone in enumerate(zs):
                known = opens.get(i)
                if known is None or known < at:  # a zone's next opening stays valid until passed
                    found = self._next_in_zone(at, zone, limit)
                    if found is None:
                        return None
                    opens[i] = known = found
                latest = max(latest, known)
            if latest == at:
                return at
            at = latest
        return None

    def _holiday_instants(self) -> list[dt.datetime]:
        if not self.holidays:
            return []
        last = max(self.holidays) + 2 * _DAY
        return [dt.datetime.combine(last, dt.time(0), tzinfo=_UTC)]

    def _next_in_zone(
        self, at: dt.datetime, zone: dt.tzinfo, limit: dt.datetime
    ) -> dt.datetime | None:
        """The first instant in ``[at, limit)`` at which the hours are open in ``zone``.

        An open stretch can only begin at a range's local start or at a change of the zone's
        UTC offset (after the clocks go back), so only those instants are tried, day by day.
        """
        if self._open_locally(at, zone):
            return at
        day = at.astimezone(zone).date()
        last = limit.astimezone(zone).date()
        while day <= last:
            ranges = () if day in self.holidays else self.weekly[day.weekday()]
            if ranges:
                begin = first_local_instant(day, 0, zone)
                finish = first_local_instant(day + _DAY, 0, zone)
                found = {first_local_instant(day, r.start, zone) for r in ranges}
                found.update(_transitions(begin, finish, zone))
                for candidate in sorted(found):
                    if candidate >= limit:
                        return None
                    if candidate >= at and self._open_locally(candidate, zone):
                        return candidate
            day += _DAY
        return None
