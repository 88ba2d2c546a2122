"""The workers' shared fast clock (#17): anchored on wall time in the campaign's meta, so
processes started seconds apart read one model time; a fleet carried on after it stopped
starts where its clock had got to."""

from __future__ import annotations

import time

import pytest

from autoinformer.cli._fleet import CLOCK_KEY, SEEN_KEY, STALE_SECONDS, fleet_clock
from autoinformer.clock import DEFAULT_START, ClockAnchor, ScaledClock, shared_anchor
from autoinformer.errors import InputError
from autoinformer.store.memory import MemoryStore


def test_clocks_anchored_alike_agree_whenever_they_were_made() -> None:
    """A worker made 5 s after the anchor reads what the anchor says for now, not 5 s x speed
    behind as a clock anchored on its own start would."""
    wall = time.time() - 5.0  # the first worker anchored the clock 5 s ago
    anchor = ClockAnchor(speed=200.0, start=DEFAULT_START, wall=wall)
    joined = anchor.clock()
    own = ScaledClock(speed=200.0, start=DEFAULT_START)  # today's single-process clock
    expected = anchor.at(time.time())
    assert abs(joined.now() - expected) < 0.05 * 200  # a few ms x speed
    assert expected - own.now() > 4.0 * 200  # the process-local clock is ~1000 s behind


def test_an_anchored_clock_runs_at_its_speed() -> None:
    clock = ClockAnchor(speed=100.0, start=1000.0, wall=time.time()).clock()
    first, t0 = clock.now(), time.monotonic()
    while time.monotonic() - t0 < 0.02:  # a busy few ms: no sleep to wait on
        pass
    second, t1 = clock.now(), time.monotonic()
    assert second - first == pytest.approx((t1 - t0) * 100.0, abs=0.5)


def test_a_worker_joins_a_live_fleet_s_anchor() -> None:
    stored = ClockAnchor(speed=100.0, start=DEFAULT_START, wall=1000.0)
    got = shared_anchor(stored, speed=100.0, wall=1010.0, seen=1008.0, latest=None, stale=15.0)
    assert got is stored


def test_a_worker_at_another_speed_than_the_live_fleet_is_refused() -> None:
    stored = ClockAnchor(speed=100.0, start=DEFAULT_START, wall=1000.0)
    with pytest.raises(InputError, match="--speed 100"):
        shared_anchor(stored, speed=50.0, wall=1010.0, seen=1008.0, latest=None, stale=15.0)


def test_a_fleet_carried_on_later_starts_where_its_clock_had_got_to() -> None:
    """Everyone stopped at wall 1100 (model DEFAULT_START + 10,000 s); started again an hour
    later: the new anchor starts just after, not 100 hours of model time ahead."""
    stored = ClockAnchor(speed=100.0, start=DEFAULT_START, wall=1000.0)
    got = shared_anchor(stored, speed=100.0, wall=4700.0, seen=1100.0, latest=None, stale=15.0)
    assert got.wall == 4700.0
    assert got.start == DEFAULT_START + 100 * 100.0 + 1
    assert got.at(4700.0) < stored.at(4700.0)


def test_a_new_anchor_never_goes_back_before_the_store_s_latest_time() -> None:
    latest = DEFAULT_START + 86_400.0
    assert shared_anchor(None, speed=10.0, wall=5.0, seen=None, latest=latest, stale=15.0) == (
        ClockAnchor(speed=10.0, start=latest + 1, wall=5.0)
    )
    fresh = shared_anchor(None, speed=10.0, wall=5.0, seen=None, latest=None, stale=15.0)
    assert fresh.start == DEFAULT_START


def test_a_stale_fleet_at_another_speed_is_replaced() -> None:
    stored = ClockAnchor(speed=100.0, start=DEFAULT_START, wall=1000.0)
    got = shared_anchor(stored, speed=50.0, wall=2000.0, seen=1001.0, latest=None, stale=15.0)
    assert got.speed == 50.0
    assert got.wall == 2000.0
    assert got.start > DEFAULT_START


@pytest.mark.parametrize("text", [None, "", "{", '{"speed": 0, "start": 1, "wall": 2}', "[]"])
def test_an_unreadable_anchor_is_none(text: str | None) -> None:
    assert ClockAnchor.from_text(text) is None


def test_an_anchor_round_trips_as_text() -> None:
    anchor = ClockAnchor(speed=123.5, start=DEFAULT_START + 0.25, wall=1_765_000_000.125)
    assert ClockAnchor.from_text(anchor.to_text()) == anchor


def test_fleet_clock_is_laid_once_and_joined_through_the_store() -> None:
    store = MemoryStore()
    first = fleet_clock(store, "c", 100.0, wall=1000.0)
    laid = store.get_meta("c", CLOCK_KEY)
    assert laid is not None
    assert store.get_meta("c", SEEN_KEY) == repr(1000.0)
    second = fleet_clock(store, "c", 100.0, wall=1003.0)  # 3 s later, the fleet alive
    assert store.get_meta("c", CLOCK_KEY) == laid
    assert (first.start, first.wall) == (second.start, second.wall)
    later = fleet_clock(store, "c", 100.0, wall=1003.0 + STALE_SECONDS + 1)  # all had stopped
    assert later.wall == 1003.0 + STALE_SECONDS + 1
    assert later.start == DEFAULT_START + 300.0 + 1  # where the clock had got to, at 1003
