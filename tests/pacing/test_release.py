"""The release valve: the legal floor, the simulator's order of release, censored estimates and
when the valve stays shut."""

from __future__ import annotations

import bisect
import math
import random

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import (
    MIN_RELEASE_AFTER,
    Observation,
    PacingObservation,
    PacingView,
    release_after,
)
from autoinformer.pacing.estimators import RingHistogram
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import SCENARIOS, simulate


@pytest.mark.parametrize("after", [0.0, 10.0, 14.99])
def test_a_release_under_fifteen_seconds_is_refused_naming_the_field(after: float) -> None:
    with pytest.raises(SettingsError) as info:
        PredictivePacing(release_after=after)
    assert info.value.field == "pacing.release_after"


def test_the_floor_itself_and_none_are_accepted() -> None:
    assert release_after(PredictivePacing()) == MIN_RELEASE_AFTER == 15.0
    assert release_after(PredictivePacing(release_after=20.0)) == 20.0
    assert release_after(PredictivePacing(release_after=None)) is None


@attrs.define
class _Releaser:
    """A plain-protocol policy that asks for releases and checks the simulator's choice.

    It keeps its own list of the calls ringing (from DIALED and how each ended), dials a few
    calls per idle operator, and asks to release two calls at every decision.
    """

    release_after: float = 15.0
    ringing: list[float] = attrs.field(factory=list)
    released_ages: list[float] = attrs.field(factory=list)
    violations: list[str] = attrs.field(factory=list)

    def calls_to_launch(self, view: PacingView) -> int:
        return max(0, min(view.lines_free, 4 * view.agents_idle - view.dialing - view.waiting))

    def calls_to_release(self, view: PacingView) -> int:
        return 2

    def _forget(self, launched: float) -> None:
        i = bisect.bisect_left(self.ringing, launched - 1e-6)
        assert abs(self.ringing[i] - launched) < 1e-6
        del self.ringing[i]

    def observe(self, observation: PacingObservation) -> None:
        now, kind = observation.now, observation.kind
        if kind is Observation.DIALED:
            self.ringing.append(now)
        elif kind in (Observation.ANSWERED, Observation.NOT_ANSWERED):
            self._forget(now - observation.seconds)
        elif kind is Observation.RELEASED:
            age = observation.seconds
            self.released_ages.append(age)
            if age < self.release_after:
                self.violations.append(f"released at {age} s")
            eligible = [now - t for t in self.ringing if now - t >= self.release_after]
            if age > min(eligible) + 1e-9:
                self.violations.append(f"released {age} s old, {min(eligible)} s was eligible")
            self._forget(now - age)


def test_the_simulator_releases_only_old_enough_calls_youngest_first() -> None:
    policy = _Releaser()
    r = simulate(attrs.evolve(SCENARIOS["S1"], hours=0.5), policy, 3)
    assert r.released == len(policy.released_ages) > 100
    assert policy.violations == []
    assert 0 < r.answers_forgone < r.released
    baseline = simulate(attrs.evolve(SCENARIOS["S1"], hours=0.5), _Releaser(release_after=1e9), 3)
    assert baseline.released == 0


def test_never_releasing_changes_nothing_for_the_same_people() -> None:
    s = attrs.evolve(SCENARIOS["S5"], hours=2.0)
    valve = simulate(s, PredictivePacing(), 4)
    closed = simulate(s, PredictivePacing(release_after=None), 4)
    assert closed.released == closed.answers_forgone == 0
    assert valve.released > 0
    assert valve.answers_forgone <= valve.released
    assert valve.released_per_agent_hour == pytest.approx(valve.released / 40.0)
    assert valve.as_dict()["released"] == valve.released
    assert valve.as_dict()["answers_forgone"] == valve.answers_forgone


def test_released_calls_do_not_bias_the_answer_rate_or_the_ring_times() -> None:
    # 20,000 calls, p = 0.3, answered rings uniform 5-25 s; nine in ten of the calls still
    # ringing are released at an age drawn from 15-25 s. The estimator remembers everything (a
    # plain mean) so its standard error is sqrt(p (1 - p) / n); the tolerance is four of those.
    p, n = 0.3, 20_000
    rng = random.Random(7)
    policy = PredictivePacing(memory=1e9)
    answered = 0
    answered_rings = 0.0
    t = 0.0
    for _ in range(n):
        answers = rng.random() < p
        ring = 5.0 + 20.0 * rng.random()
        cut = 15.0 + 10.0 * rng.random() if rng.random() < 0.9 else math.inf
        policy.observe(PacingObservation(Observation.DIALED, t))
        if answers and ring < cut:
            answered += 1
            answered_rings += ring
            policy.observe(PacingObservation(Observation.ANSWERED, t + ring, ring))
        elif cut < 25.0:
            policy.observe(PacingObservation(Observation.RELEASED, t + cut, cut))
        else:
            policy.observe(PacingObservation(Observation.NOT_ANSWERED, t + 25.0, 25.0))
        t += 1.0
    tolerance = 4.0 * math.sqrt(p * (1.0 - p) / n)
    assert policy.answer_rate == pytest.approx(p, abs=tolerance)
    # the test can fail: counting the released calls as unanswered is far off
    assert abs(answered / n - p) > 3 * tolerance
    # the ring times: the released calls' tail weight restores the mean (15 s; standard error
    # of a uniform 5-25 s mean over ~6,000 answers is 0.075 s)
    assert policy._ring.mean == pytest.approx(15.0, abs=0.4)
    assert answered_rings / answered < 14.0, "the answered calls alone are biased short"


def test_tail_weight_goes_past_the_release_age_in_proportion() -> None:
    ring = RingHistogram()
    for x in (5.5, 16.5, 16.5, 20.5):
        ring.add(x)
    ring.add_tail(16.0, 0.6)
    assert ring.total == pytest.approx(4.6)
    assert ring.counts[5] == 1.0, "nothing before the release age"
    assert ring.counts[16] == pytest.approx(2.4)
    assert ring.counts[20] == pytest.approx(1.2)


def _warm(policy: PredictivePacing) -> float:
    """Three hundred calls, a third answered after 10 s, each talking a minute."""
    t = 0.0
    for i in range(300):
        policy.observe(PacingObservation(Observation.DIALED, t))
        if i % 3:
            policy.observe(PacingObservation(Observation.NOT_ANSWERED, t + 25, 25.0))
        else:
            ring = 5.0 + (i % 21)
            policy.observe(PacingObservation(Observation.ANSWERED, t + ring, ring))
            policy.observe(PacingObservation(Observation.CONNECTED, t + ring))
            policy.observe(PacingObservation(Observation.TALK_ENDED, t + ring + 60, 60.0))
        t += 1.0
    return t + 100.0


def _ringing(policy: PredictivePacing, now: float, ages: list[float]) -> None:
    for age in sorted(ages, reverse=True):
        policy.observe(PacingObservation(Observation.DIALED, now - age))


MIXED_AGES = [15.0 + 0.5 * k for k in range(12)] + [2.0 + k for k in range(12)]
"""Twelve calls old enough to release (15-20.5 s) and twelve younger ones (2-13 s)."""


def _team_of_20(now: float, ages: list[float], *, idle: int, lines_free: int = 50) -> PacingView:
    """Twenty operators, ``idle`` of them free and the rest talking, one callee waiting."""
    return PacingView(
        now=now,
        lines_free=lines_free,
        dialing=len(ages),
        waiting=1,
        agents_logged_in=20,
        agents_idle=idle,
        agents_talking=20 - idle,
    )


@pytest.mark.parametrize("after", [15.0, None])
def test_no_release_when_the_operators_cover_the_answers(after: float | None) -> None:
    policy = PredictivePacing(release_after=after)
    now = _warm(policy)
    ages = [16.0, 17.0, 18.0, 3.0, 4.0]
    _ringing(policy, now, ages)
    view = PacingView(
        now=now, lines_free=50, dialing=5, agents_logged_in=20, agents_idle=10, agents_talking=10
    )
    assert policy.calls_to_release(view) == 0


def test_releases_old_calls_when_more_answers_come_than_operators() -> None:
    policy = PredictivePacing()
    now = _warm(policy)
    ages = MIXED_AGES
    _ringing(policy, now, ages)
    view = _team_of_20(now, ages, idle=0)
    k = policy.calls_to_release(view)
    assert 0 < k <= 12, "only the calls that have rung 15 s may go"
    closed = PredictivePacing(release_after=None)
    _warm(closed)
    _ringing(closed, now, ages)
    assert closed.calls_to_release(view) == 0
    # the calls it asked to release no longer count as ringing when it decides to launch
    for age in sorted(a for a in ages if a >= 15.0)[:k]:
        policy.observe(PacingObservation(Observation.RELEASED, now, age))
    after = attrs.evolve(view, dialing=len(ages) - k)
    assert policy.calls_to_launch(after) == 0


def test_a_driver_that_releases_fewer_than_asked_leaves_the_rest_ringing() -> None:
    # the core counts a call's ring from the switch's first progress report, so a call the
    # policy thinks old enough (from DIALED) may not be yet: the ones not released still ring
    asked, twin = PredictivePacing(), PredictivePacing()
    ages = MIXED_AGES
    for policy in (asked, twin):
        now = _warm(policy)
        _ringing(policy, now, ages)
    view = _team_of_20(now, ages, idle=1)
    k = asked.calls_to_release(view)
    assert k >= 2
    # the driver releases one (rung a second less than since its DIALED), not k
    youngest_eligible = min(a for a in ages if a >= 15.0)
    asked.observe(PacingObservation(Observation.RELEASED, now, youngest_eligible - 1.0))
    twin.observe(PacingObservation(Observation.RELEASED, now, youngest_eligible))
    after = attrs.evolve(view, dialing=len(ages) - 1)
    assert asked.calls_to_launch(after) == twin.calls_to_launch(after)
    assert asked.calls_to_release(after) == twin.calls_to_release(after) == k - 1


@given(
    ages=st.lists(st.floats(0.0, 40.0), max_size=40),
    idle=st.integers(0, 5),
    waiting=st.integers(0, 5),
    talking=st.integers(0, 20),
)
@settings(max_examples=80, deadline=None)
def test_never_more_than_the_calls_old_enough(
    ages: list[float], idle: int, waiting: int, talking: int
) -> None:
    policy = PredictivePacing()
    now = _warm(policy)
    _ringing(policy, now, ages)
    view = PacingView(
        now=now,
        lines_free=50,
        dialing=len(ages),
        waiting=waiting,
        agents_logged_in=25,
        agents_idle=idle,
        agents_talking=talking,
    )
    k = policy.calls_to_release(view)
    assert 0 <= k <= sum(1 for a in ages if a >= MIN_RELEASE_AFTER)


def test_a_line_busy_at_once_says_nothing_about_how_long_ringing_calls_may_answer() -> None:
    # In the dialer core NOT_ANSWERED carries how long any unanswered call lasted: a busy line
    # or an unreachable number ends in a second, a ring-out at the ring timeout. Both are a
    # failed trial, and neither shortens the time a call still ringing may answer in.
    busy, rang_out = PredictivePacing(), PredictivePacing()
    ages = MIXED_AGES
    for policy, lasted in ((busy, 1.0), (rang_out, 25.0)):
        now = _warm(policy)
        policy.observe(PacingObservation(Observation.DIALED, now - 30.0))
        policy.observe(PacingObservation(Observation.NOT_ANSWERED, now - 30.0 + lasted, lasted))
        _ringing(policy, now, ages)
    view = _team_of_20(now, ages, idle=3)
    k = rang_out.calls_to_release(view)
    assert k > 0
    assert busy.calls_to_release(view) == k
    after = attrs.evolve(view, dialing=len(ages) - k)
    for age in sorted(a for a in ages if a >= 15.0)[:k]:
        for policy in (busy, rang_out):
            policy.observe(PacingObservation(Observation.RELEASED, now, age))
    assert busy.calls_to_launch(after) == rang_out.calls_to_launch(after)


def test_a_call_asked_for_and_not_released_that_ends_before_the_next_decision_is_forgotten() -> (
    None
):
    # The core may release fewer calls than asked and launch nothing after (its lines are
    # full): the calls asked for stay set aside until the next decision. One of them that is
    # answered (or rings out) meanwhile must be the call forgotten, not a neighbour still
    # ringing; and a release the core chose by its own ring count (not among those asked for)
    # forgets that very call.
    asked, twin = PredictivePacing(), PredictivePacing()
    ages = MIXED_AGES
    for policy in (asked, twin):
        now = _warm(policy)
        _ringing(policy, now, ages)
    view = _team_of_20(now, ages, idle=5, lines_free=0)
    k = asked.calls_to_release(view)
    assert 2 <= k < 12  # the youngest k of the twelve old enough are asked for
    assert twin.calls_to_release(attrs.evolve(view, agents_idle=20, agents_talking=0)) == 0
    oldest = max(ages)  # the core releases another one: by its ring count the youngest
    answered = min(ages[:12])  # one asked for answers before the next decision
    for policy in (asked, twin):
        policy.observe(PacingObservation(Observation.RELEASED, now, oldest))
        policy.observe(PacingObservation(Observation.ANSWERED, now + 0.5, answered + 0.5))
    left = sorted(a for a in ages if a not in (oldest, answered))
    for policy in (asked, twin):
        ringing = sorted(now - t for t in policy._launches + policy._pending)
        assert ringing == pytest.approx(left)
    # a second on, both count the ringing calls afresh: the same calls, the same decision
    later = attrs.evolve(view, now=now + 1.5, dialing=len(left))
    assert asked.calls_to_release(later) == twin.calls_to_release(later)
