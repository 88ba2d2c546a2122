"""Caller-ID pools: which of the user's own numbers to present on each call (seed 001's carousel).

A :class:`CallerIdPool` is the validated setting (the numbers, the strategy, caps); a
:class:`CallerIdCarousel` is the small stateful object the core keeps per campaign to pick from it.
The carousel never reads a clock (``now`` is passed in) and never returns a number that is not in
the pool: rotation spreads load and gives local presence, it never invents numbers.

Strategies: ``round_robin`` (in pool order), ``random`` (seeded, so a run can be replayed), ``lru``
(least recently used first), ``local`` (a number from the callee's country and area code when
there is one, then the same country, then any; least recently used among equals). With
``sticky`` a contact keeps the number it was first shown across retries, as long as that number is
available. ``daily_cap`` limits uses per number per day (days in ``cap_timezone``, UTC by
default); ``cooldown`` is the least time between two uses of one number, counted from the pick.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs
import phonenumbers

from autoinformer.errors import SettingsError
from autoinformer.policy._config import build
from autoinformer.policy.durations import DurationLike, parse_duration
from autoinformer.policy.zones import ZoneLike, to_zone

__all__ = ["STRATEGIES", "CallerIdCarousel", "CallerIdPool", "Strategy", "normalize_e164"]

Strategy = Literal["round_robin", "random", "lru", "local"]
STRATEGIES: tuple[str, ...] = ("round_robin", "random", "lru", "local")


def normalize_e164(number: str, field: str = "numbers") -> str:
    """The number in E.164 (``+79508881234``) if it is a possible international number.

    Raises:
        SettingsError: not a string starting with ``+`` or not a possible number.
    """
    if not isinstance(number, str) or not number.strip().startswith("+"):
        raise SettingsError(field, f"expected an E.164 number like '+79508881234', got {number!r}")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise SettingsError(field, f"{number!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise SettingsError(field, f"{number!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _numbers(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in value.replace(";", ",").split(",") if part.strip()]
    out: list[str] = []
    for i, raw in enumerate(value):
        number = normalize_e164(raw, f"numbers[{i}]")
        if number in out:
            raise SettingsError(f"numbers[{i}]", f"{number} is listed twice")
        out.append(number)
    if not out:
        raise SettingsError("numbers", "the caller-ID pool needs at least one number")
    return tuple(out)


def _strategy(value: str) -> str:
    if value not in STRATEGIES:
        raise SettingsError("strategy", f"expected one of {', '.join(STRATEGIES)}, got {value!r}")
    return value


def _cooldown(value: DurationLike) -> dt.timedelta:
    return parse_duration(value, "cooldown")


def _cap(value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise SettingsError("daily_cap", f"expected a whole number >= 1 or None, got {value!r}")
    return value


def _zone(value: ZoneLike) -> dt.tzinfo:
    return to_zone(value, "cap_timezone")


@functools.lru_cache(maxsize=65536)
def _place(number: str) -> tuple[int, str]:
    """(country code, area code) of a number; area '' when it has no geographic area code."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return (0, "")
    length = phonenumbers.length_of_geographical_area_code(parsed)
    national = phonenumbers.national_significant_number(parsed)
    return (parsed.country_code or 0, national[:length] if length else "")


@attrs.frozen
class CallerIdPool:
    """The numbers a campaign may show as caller ID, and how to rotate them.

    Attributes:
        numbers: E.164 numbers the user owns (validated, duplicates rejected). A string of
            numbers separated by commas or semicolons is accepted too.
        strategy: ``round_robin``, ``random``, ``lru`` or ``local``.
        sticky: keep showing a contact the same number across retries.
        daily_cap: most uses per number per day (None: no cap).
        cooldown: least time between two uses of one number (``"2m"`` accepted).
        seed: seed of the ``random`` strategy (same seed, same picks).
        cap_timezone: the zone whose calendar day ``daily_cap`` counts in.
    """

    numbers: tuple[str, ...] = attrs.field(converter=_numbers)
    strategy: Strategy = attrs.field(default="round_robin", converter=_strategy)
    sticky: bool = True
    daily_cap: int | None = attrs.field(default=None, converter=_cap)
    cooldown: dt.timedelta = attrs.field(default=dt.timedelta(0), converter=_cooldown)
    seed: int = 0
    cap_timezone: dt.tzinfo = attrs.field(default=dt.UTC, converter=_zone)

    @classmethod
    def from_config(cls, data: Mapping[str, object], prefix: str = "caller_ids") -> CallerIdPool:
        """A pool from a campaign file's table (keys: the attribute names).

        Raises:
            SettingsError: an unknown key or a wrong value, named ``caller_ids.<key>``.
        """
        return build(cls, data, prefix, [a.name for a in attrs.fields(cls)])


@attrs.define(kw_only=True)
class _Usage:
    last_used: dt.datetime | None = None
    day: dt.date | None = None
    today: int = 0


@attrs.define(kw_only=True, init=False)
class CallerIdCarousel:
    """Picks caller IDs from a pool, remembering uses, caps, cool-downs and sticky bindings.

    Usage: ``number = carousel.pick(callee, contact_id, now)``; None means every number is
    capped or cooling down, and :meth:`next_available` says when one frees up. Each pick
    counts as a use; :meth:`release` takes it back when the call was never placed, and
    :meth:`record` replays uses from the store after a restart.
    """

    pool: CallerIdPool
    _usage: dict[str, _Usage] = attrs.field(init=False, factory=dict, repr=False)
    _sticky: dict[str, str] = attrs.field(init=False, factory=dict, repr=False)
    _cursor: int = attrs.field(init=False, default=0, repr=False)
    _rng: random.Random = attrs.field(init=False, repr=False)
    _places: dict[str, tuple[int, str]] = attrs.field(init=False, factory=dict, repr=False)
    _order: dict[str, int] = attrs.field(init=False, factory=dict, repr=False)

    def __init__(self, pool: CallerIdPool) -> None:
        """Args: pool: the campaign's caller-ID pool."""
        self.__attrs_init__(pool=pool)

    @_rng.default
    def _make_rng(self) -> random.Random:
        return random.Random(self.pool.seed)

    def __attrs_post_init__(self) -> None:
        for i, number in enumerate(self.pool.numbers):
            self._usage[number] = _Usage()
            self._places[number] = _place(number)
            self._order[number] = i

    def _day(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.pool.cap_timezone).date()

    def _uses_today(self, number: str, now: dt.datetime) -> int:
        usage = self._usage[number]
        return usage.today if usage.day == self._day(now) else 0

    def available(self, number: str, now: dt.datetime) -> bool:
        """True when ``number`` is in the pool, under its daily cap and not cooling down."""
        usage = self._usage.get(number)
        if usage is None:
            return False
        cap = self.pool.daily_cap
        if cap is not None and self._uses_today(number, now) >= cap:
            return False
        return not (
            usage.last_used is not None
            and self.pool.cooldown
            and now < usage.last_used + self.pool.cooldown
        )

    def pick(self, callee_e164: str, contact_id: str, now: dt.datetime) -> str | None:
        """The caller ID for a call to ``callee_e164`` at ``now``, counted as used.

        Args:
            callee_e164: the number being dialled (drives the ``local`` strategy).
            contact_id: the contact, for sticky bindings across retries.
            now: the time of the call (aware).

        Returns:
            A number from the pool, or None when every number is capped or cooling down.

        Raises:
            SettingsError: ``now`` is naive.
        """
        if now.tzinfo is None:
            raise SettingsError("now", "must be a timezone-aware datetime")
        free = [n for n in self.pool.numbers if self.available(n, now)]
        if not free:
            return None
        chosen: str | None = None
        if self.pool.sticky:
            bound = self._sticky.get(contact_id)
            if bound is not None and bound in free:
                chosen = bound
        if chosen is None:
            chosen = self._choose(free, callee_e164)
        self.record(chosen, now, contact_id)
        return chosen

    def _choose(self, free: list[str], callee: str) -> str:
        strategy = self.pool.strategy
        if strategy == "random":
            return self._rng.choice(free)
        if strategy == "round_robin":
            numbers = self.pool.numbers
            for step in range(len(numbers)):
                candidate = numbers[(self._cursor + step) % len(numbers)]
                if candidate in free:
                    self._cursor = (self._order[candidate] + 1) % len(numbers)
                    return candidate
        if strategy == "local":
            country, area = _place(callee)

            def closeness(n: str) -> int:
                c, a = self._places[n]
                return (c == country) + (c == country and a == area and bool(area))

            best = max(closeness(n) for n in free)
            free = [n for n in free if closeness(n) == best]
        return min(free, key=self._lru_key)

    def _lru_key(self, number: str) -> tuple[int, dt.datetime, int]:
        last = self._usage[number].last_used
        if last is None:
            return (0, dt.datetime.min.replace(tzinfo=dt.UTC), self._order[number])
        return (1, last, self._order[number])

    def record(self, number: str, now: dt.datetime, contact_id: str | None = None) -> None:
        """Count a use of ``number`` at ``now`` (and bind it to the contact when sticky).

        :meth:`pick` calls this itself; call it directly to replay uses from the store after
        a restart, in any order (a use of an earlier day than one already recorded counts
        only toward the last use). Numbers outside the pool are ignored (a pool may have
        changed since).
        """
        usage = self._usage.get(number)
        if usage is None:
            return
        day = self._day(now)
        if usage.day is None or day > usage.day:
            usage.day, usage.today = day, 0
        if day == usage.day:  # a replayed use of an earlier day leaves today's count alone
            usage.today += 1
        if usage.last_used is None or now > usage.last_used:
            usage.last_used = now
        if contact_id is not None and self.pool.sticky:
            self._sticky[contact_id] = number

    def release(self, number: str, now: dt.datetime) -> None:
        """Take back a pick whose call was never placed: it no longer counts toward the cap.

        The cool-down stays (the last-use time is not rewound): a refused originate is rare,
        and keeping it is the safe side.
        """
        usage = self._usage.get(number)
        if usage is not None and usage.day == self._day(now) and usage.today > 0:
            usage.today -= 1

    def forget(self, contact_id: str) -> None:
        """Drop a contact's sticky binding (the contact is done; keeps memory bounded)."""
        self._sticky.pop(contact_id, None)

    def next_available(self, now: dt.datetime) -> dt.datetime | None:
        """When the first number becomes available again: ``now`` if one is, else a later time.

        A capped number frees up at the start of the next day in ``cap_timezone``.
        """
        best: dt.datetime | None = None
        for number in self.pool.numbers:
            if self.available(number, now):
                return now
            at = now
            usage = self._usage[number]
            if usage.last_used is not None and self.pool.cooldown:
                at = max(at, usage.last_used + self.pool.cooldown)
            cap = self.pool.daily_cap
            if cap is not None and self._uses_today(number, at) >= cap:
                tomorrow = self._day(at) + dt.timedelta(days=1)
                at = dt.datetime.combine(tomorrow, dt.time(0), tzinfo=self.pool.cap_timezone)
            if best is None or at < best:
                best = at
        return best
