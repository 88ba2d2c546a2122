"""Caller-ID pools and the carousel: strategies, stickiness, caps, cool-downs, determinism."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.errors import SettingsError
from autoinformer.policy import CallerIdCarousel, CallerIdPool

NOW = dt.datetime(2026, 1, 16, 10, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)
MOSCOW_1, MOSCOW_2 = "+74951110001", "+74951110002"
SPB = "+78121110001"
LA = "+17605550100"
NYC = "+12125550100"
POOL = (MOSCOW_1, MOSCOW_2, SPB, LA, NYC)


def picks(carousel: CallerIdCarousel, n: int, callee: str = "+74957654321") -> list[str | None]:
    return [carousel.pick(callee, f"c{i}", NOW + i * S) for i in range(n)]


def test_round_robin_goes_round() -> None:
    carousel = CallerIdCarousel(CallerIdPool(POOL, strategy="round_robin"))
    assert picks(carousel, 7) == [*POOL, MOSCOW_1, MOSCOW_2]


def test_lru_takes_the_least_recently_used() -> None:
    carousel = CallerIdCarousel(CallerIdPool(POOL[:3], strategy="lru", sticky=False))
    carousel.record(MOSCOW_1, NOW)
    carousel.record(SPB, NOW + S)
    assert carousel.pick(LA, "x", NOW + 2 * S) == MOSCOW_2
    assert carousel.pick(LA, "y", NOW + 3 * S) == MOSCOW_1
    assert carousel.pick(LA, "z", NOW + 4 * S) == SPB


def test_local_presence_prefers_area_then_country() -> None:
    carousel = CallerIdCarousel(CallerIdPool(POOL, strategy="local", sticky=False))
    moscow_callee, spb_callee, la_callee = "+74957654321", "+78127654321", "+17605551234"
    assert carousel.pick(moscow_callee, "a", NOW) == MOSCOW_1
    assert carousel.pick(moscow_callee, "b", NOW + S) == MOSCOW_2  # same area, less used
    assert carousel.pick(spb_callee, "c", NOW + 2 * S) == SPB
    assert carousel.pick(la_callee, "d", NOW + 3 * S) == LA
    assert carousel.pick("+12135551234", "e", NOW + 4 * S) == NYC  # US, other area, LRU
    assert carousel.pick("+33612345678", "f", NOW + 5 * S) == MOSCOW_1  # no match: LRU


def test_sticky_contact_keeps_its_number_across_retries() -> None:
    carousel = CallerIdCarousel(CallerIdPool(POOL, strategy="random", seed=7))
    first = carousel.pick("+74957654321", "debtor-1", NOW)
    for i in range(1, 5):
        carousel.pick("+74957654321", f"other-{i}", NOW + i * S)
        assert carousel.pick("+74957654321", "debtor-1", NOW + (10 + i) * S) == first
    carousel.forget("debtor-1")


def test_daily_cap_and_next_available() -> None:
    carousel = CallerIdCarousel(CallerIdPool([MOSCOW_1, SPB], daily_cap=2, sticky=False))
    got = picks(carousel, 5)
    assert got[:4].count(MOSCOW_1) == 2
    assert got[:4].count(SPB) == 2
    assert got[4] is None
    tomorrow = dt.datetime(2026, 1, 17, tzinfo=dt.UTC)
    assert carousel.next_available(NOW + 10 * S) == tomorrow
    assert carousel.pick("+74957654321", "x", tomorrow) is not None


def test_release_gives_back_a_use() -> None:
    carousel = CallerIdCarousel(CallerIdPool([MOSCOW_1], daily_cap=1))
    assert carousel.pick(LA, "a", NOW) == MOSCOW_1
    assert carousel.pick(LA, "b", NOW) is None
    carousel.release(MOSCOW_1, NOW)
    assert carousel.pick(LA, "b", NOW) == MOSCOW_1


def test_cooldown_between_uses_of_one_number() -> None:
    carousel = CallerIdCarousel(CallerIdPool([MOSCOW_1, SPB], cooldown="1m", sticky=False))
    assert carousel.pick(LA, "a", NOW) == MOSCOW_1
    assert carousel.pick(LA, "b", NOW + S) == SPB
    assert carousel.pick(LA, "c", NOW + 2 * S) is None
    assert carousel.next_available(NOW + 2 * S) == NOW + 60 * S
    assert carousel.pick(LA, "c", NOW + 60 * S) == MOSCOW_1


def test_record_ignores_numbers_outside_the_pool() -> None:
    carousel = CallerIdCarousel(CallerIdPool([MOSCOW_1], daily_cap=1))
    carousel.record("+79990000000", NOW, "a")
    assert carousel.pick(LA, "a", NOW) == MOSCOW_1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"numbers": []}, "numbers"),
        ({"numbers": ["84951110001"]}, "numbers[0]"),
        ({"numbers": [MOSCOW_1, "+7abc"]}, "numbers[1]"),
        ({"numbers": [MOSCOW_1, "+7 495 111-00-01"]}, "numbers[1]"),  # the same number twice
        ({"numbers": ["+1"]}, "numbers[0]"),
        ({"numbers": POOL, "strategy": "carousel"}, "strategy"),
        ({"numbers": POOL, "daily_cap": 0}, "daily_cap"),
        ({"numbers": POOL, "cooldown": "later"}, "cooldown"),
        ({"numbers": POOL, "cap_timezone": "Atlantis/Capital"}, "cap_timezone"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        CallerIdPool(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_numbers_are_normalised_and_a_string_list_is_accepted() -> None:
    pool = CallerIdPool("+7 (495) 111-00-01; +7 812 111 00 01")
    assert pool.numbers == (MOSCOW_1, SPB)


# ---------------------------------------------------------------------------------------------
# Laws: only pool numbers, caps and cool-downs hold over any sequence, same seed -> same picks.

callees = st.sampled_from(["+74957654321", "+78127654321", "+17605551234", "+33612345678"])
calls = st.lists(st.tuples(st.integers(0, 3 * 3600), callees, st.integers(0, 5)), max_size=60)
pools = st.builds(
    CallerIdPool,
    numbers=st.lists(st.sampled_from(POOL), min_size=1, unique=True),
    strategy=st.sampled_from(["round_robin", "random", "lru", "local"]),
    sticky=st.booleans(),
    daily_cap=st.none() | st.integers(1, 5),
    cooldown=st.integers(0, 1800).map(lambda s: dt.timedelta(seconds=s)),
    seed=st.integers(0, 100),
)


@settings(max_examples=200, deadline=None)
@given(pools, calls)
def test_caps_and_pool_hold_over_any_sequence(
    pool: CallerIdPool, sequence: list[tuple[int, str, int]]
) -> None:
    carousel = CallerIdCarousel(pool)
    twin = CallerIdCarousel(pool)
    now = NOW
    used: dict[str, list[dt.datetime]] = {}
    for gap, callee, contact in sequence:
        now += dt.timedelta(seconds=gap)
        number = carousel.pick(callee, f"c{contact}", now)
        assert twin.pick(callee, f"c{contact}", now) == number  # deterministic
        if number is None:
            later = carousel.next_available(now)
            assert later is not None
            assert later > now
            assert any(carousel.available(n, later) for n in pool.numbers)
            continue
        assert number in pool.numbers
        used.setdefault(number, []).append(now)
    for times in used.values():
        for earlier, later in itertools.pairwise(times):
            assert later - earlier >= pool.cooldown
        if pool.daily_cap is not None:
            days = [t.date() for t in times]
            assert max(days.count(d) for d in set(days)) <= pool.daily_cap
