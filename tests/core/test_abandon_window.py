"""The abandon guard's rolling window: the cap also holds over every 24 hours (Ofcom).

Pure: the guard is fed observations and views with the time passed in.
"""

from __future__ import annotations

import math

import pytest

from autoinformer.core.abandon_guard import AbandonGuard, excess_moments
from autoinformer.errors import SettingsError
from autoinformer.pacing import BroadcastPacing
from autoinformer.pacing.base import Observation, PacingObservation, PacingView

DAY = 86400.0
CAP, RESERVE, Z = 0.03, 2.0, 4.0
IDLE, LINES = 2, 10


def _view(now: float) -> PacingView:
    """Two idle operators, ten free lines, nothing in flight: the safe count is 2."""
    return PacingView(now=now, lines_free=LINES, agents_idle=IDLE)


def _feed(guard: AbandonGuard, kind: Observation, n: int, now: float, seconds: float = 0.0) -> None:
    for _ in range(n):
        guard.observe(PacingObservation(kind, now, seconds))


def _calls(guard: AbandonGuard, answered: int, asked: int, now: float) -> None:
    """``answered`` calls dialled, answered and ended at ``now``; ``asked`` of them talked to an
    operator (nothing left in flight)."""
    _feed(guard, Observation.DIALED, answered, now)
    _feed(guard, Observation.ANSWERED, answered, now)
    _feed(guard, Observation.CONNECTED, asked, now)
    _feed(guard, Observation.TALK_ENDED, asked, now)
    _feed(guard, Observation.ENDED, answered - asked, now)


def _largest(budget: float, q: float) -> int:
    """What the guard's rule allows from ``_view``: the largest ``n`` up to the free lines with
    ``mean + z * sd`` of the excess of ``n`` ringing calls within ``budget`` (at least the safe
    count, which needs no budget)."""
    if budget <= 0.0:
        return IDLE
    fitting = [IDLE]
    for n in range(IDLE, LINES + 1):
        mean, var = excess_moments(0, 0, 1.0, n, q, IDLE)
        if mean + Z * math.sqrt(var) <= budget:
            fitting.append(n)
    return max(fitting)


def _two_days(window_seconds: float | None) -> AbandonGuard:
    """Day one: 1000 live answers over an hour, 100 asked for an operator, none abandoned."""
    guard = AbandonGuard(inner=BroadcastPacing(), window_seconds=window_seconds)
    for minute in range(50):
        _calls(guard, answered=20, asked=2, now=60.0 * minute)
    return guard


def test_a_quiet_first_day_does_not_lend_its_budget_to_the_second() -> None:
    day_two = DAY + 3600.0  # every day-one answer is more than 24 hours old
    windowed, campaign_only = _two_days(DAY), _two_days(None)
    q = (100 + 1) / (1000 + 1)  # requests over ended calls, as both guards learn it
    # day two begins: the campaign budget is 0.03 * 1000 - 2 = 28 abandons; the window has none
    assert campaign_only.calls_to_launch(_view(day_two)) == _largest(28.0, q) == LINES
    assert windowed.calls_to_launch(_view(day_two)) == IDLE
    assert windowed.window_answers == 0
    # day two: 200 live answers, 20 asked for an operator
    for guard in (windowed, campaign_only):
        _calls(guard, answered=200, asked=20, now=day_two)
    assert windowed.window_answers == 200
    # now abandons come one by one; count how many each guard takes while still launching
    # beyond the safe count (as an over-dialling policy would keep causing them)
    taken = {}
    for name, guard in (("windowed", windowed), ("campaign", campaign_only)):
        abandons = 0
        while guard.calls_to_launch(_view(day_two)) > IDLE:
            _feed(guard, Observation.ABANDONED, 1, day_two)
            abandons += 1
        taken[name] = abandons
    # campaign only: launches beyond safe until 0.03 * 1200 - 2 - a no longer covers one more
    # call's excess; the window: until 0.03 * 200 - 2 - a does
    q2 = (120 + 1) / (1200 + 1)

    def first_holding(answers: int) -> int:
        return next(a for a in range(100) if _largest(CAP * answers - RESERVE - a, q2) <= IDLE)

    assert taken["campaign"] == first_holding(1200) > CAP * 200  # day two over 3% in 24 h
    assert taken["windowed"] == first_holding(200) <= CAP * 200 - RESERVE
    assert windowed.window_abandons == taken["windowed"]


def test_answers_and_abandons_older_than_the_window_leave_it() -> None:
    guard = AbandonGuard(inner=BroadcastPacing())
    _calls(guard, answered=10, asked=0, now=0.0)
    _feed(guard, Observation.ABANDONED, 1, now=0.0)
    _calls(guard, answered=5, asked=0, now=100.0)
    guard.calls_to_launch(_view(DAY - 1.0))
    assert (guard.window_answers, guard.window_abandons) == (15, 1)
    guard.calls_to_launch(_view(DAY))  # exactly 24 h after the first ten: they have left
    assert (guard.window_answers, guard.window_abandons) == (5, 0)
    guard.observe(PacingObservation(Observation.DIALED, DAY + 100.0))
    assert (guard.window_answers, guard.window_abandons) == (0, 0)
    assert (guard.answers, guard.abandons) == (15, 1)  # the campaign keeps them all


def test_a_machine_takes_its_answer_off_the_window_it_was_counted_in() -> None:
    guard = AbandonGuard(inner=BroadcastPacing())
    _feed(guard, Observation.ANSWERED, 1, now=0.0)
    _feed(guard, Observation.ANSWERED, 1, now=10.0)
    _feed(guard, Observation.ANSWERED, 1, now=20.0)
    _feed(guard, Observation.MACHINE, 1, now=25.0, seconds=5.0)  # the answer at 20
    _feed(guard, Observation.MACHINE, 1, now=30.0, seconds=30.0)  # the answer at 0
    assert (guard.answers, guard.window_answers, guard.machines) == (1, 1, 2)
    guard.calls_to_launch(_view(DAY + 5.0))  # the answer at 0 and its machine leave together
    assert guard.window_answers == 1
    guard.calls_to_launch(_view(DAY + 15.0))  # the answer at 10, the live one, leaves
    assert guard.window_answers == 0
    # a machine whose answer has already left the window takes nothing off it
    _feed(guard, Observation.ANSWERED, 1, now=DAY + 16.0)
    _feed(guard, Observation.ANSWERED, 1, now=DAY + 17.0)
    _feed(guard, Observation.MACHINE, 1, now=DAY + 30.0, seconds=DAY)  # answered at 30
    assert (guard.answers, guard.window_answers) == (2, 2)


def test_window_none_keeps_the_campaign_budget_alone() -> None:
    guard = _two_days(None)
    later = _view(10 * DAY)
    assert (guard.window_answers, guard.window_abandons) == (1000, 0)
    assert guard.budget(later.now) == pytest.approx(CAP * 1000 - RESERVE)
    assert guard.calls_to_launch(later) == LINES
    assert _two_days(DAY).calls_to_launch(later) == IDLE


def test_a_restore_without_times_starts_with_an_empty_window() -> None:
    def resumed(window_seconds: float | None) -> AbandonGuard:
        guard = AbandonGuard(inner=BroadcastPacing(), window_seconds=window_seconds)
        guard.restore(finished=2000, answers=1000, requests=100, abandons=0)
        return guard

    assert resumed(None).calls_to_launch(_view(0.0)) == LINES
    guard = resumed(DAY)
    assert (guard.answers, guard.window_answers) == (1000, 0)
    assert guard.budget(0.0) == -RESERVE  # no window budget until answers come
    assert guard.calls_to_launch(_view(0.0)) == IDLE
    # answers after the restart build the window budget: 0.03 * 200 - 2 = 4 abandons
    _calls(guard, answered=200, asked=20, now=60.0)
    assert guard.budget(60.0) == pytest.approx(CAP * 200 - RESERVE)
    q = (120 + 1) / (2200 + 1)
    assert guard.calls_to_launch(_view(60.0)) == _largest(CAP * 200 - RESERVE, q) > IDLE


@pytest.mark.parametrize("window", [0, -1.0, math.inf, math.nan, "86400", True])
def test_window_seconds_is_validated(window: object) -> None:
    with pytest.raises(SettingsError) as info:
        AbandonGuard(inner=BroadcastPacing(), window_seconds=window)  # type: ignore[arg-type]
    assert info.value.field == "window_seconds"


def test_window_seconds_accepts_none_and_positive_seconds() -> None:
    assert AbandonGuard(inner=BroadcastPacing()).window_seconds == DAY
    assert AbandonGuard(inner=BroadcastPacing(), window_seconds=None).window_seconds is None
    assert AbandonGuard(inner=BroadcastPacing(), window_seconds=3600).window_seconds == 3600
