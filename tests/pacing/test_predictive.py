"""Predictive pacing: the 3% gate on small teams, occupancy, the learning and the guard."""

from __future__ import annotations

import math

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.pacing.estimators import DiscountedMean, DiscountedRate, RingHistogram
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import SCENARIOS, Scenario, simulate


@pytest.mark.parametrize("seed", range(6))
def test_small_team_stays_under_three_percent(seed: int) -> None:
    r = simulate(SCENARIOS["S2"], PredictivePacing(), seed)
    assert r.abandon_rate <= 0.03
    assert r.occupancy > 0.66, "and still beats progressive (63.9%)"


def test_base_scenario_beats_progressive_by_far_within_the_cap() -> None:
    r = simulate(SCENARIOS["S1"], PredictivePacing(), 11)
    assert r.abandon_rate <= 0.03
    assert r.occupancy > 0.83


def test_learns_the_answer_rate_without_being_told() -> None:
    policy = PredictivePacing()
    simulate(attrs.evolve(SCENARIOS["S4"], hours=1.0), policy, 0)
    assert policy.answer_rate == pytest.approx(0.1, abs=0.03)


def test_starts_progressive_until_it_has_data() -> None:
    policy = PredictivePacing()
    view = PacingView(now=0.0, lines_free=100, agents_logged_in=10, agents_idle=10)
    assert policy.calls_to_launch(view) == 10
    busy = PacingView(now=1.0, lines_free=100, dialing=10, agents_logged_in=10, agents_idle=10)
    assert policy.calls_to_launch(busy) == 0


def test_never_more_than_the_free_lines() -> None:
    policy = PredictivePacing()
    view = PacingView(now=0.0, lines_free=3, agents_logged_in=10, agents_idle=10)
    assert policy.calls_to_launch(view) == 3


def _feed(policy: PredictivePacing, now: float, kind: Observation, seconds: float = 0.0) -> None:
    policy.observe(PacingObservation(kind, now, seconds))


def test_falls_back_to_progressive_when_the_abandon_budget_is_spent() -> None:
    policy = PredictivePacing()
    t = 0.0
    for i in range(200):  # 200 answered, talked calls: plenty of data
        _feed(policy, t, Observation.DIALED)
        _feed(policy, t + 10, Observation.ANSWERED, 10.0)
        _feed(policy, t + 10, Observation.CONNECTED)
        _feed(policy, t + 70, Observation.TALK_ENDED, 60.0)
        t += 1.0 + (i % 3)
    view = PacingView(
        now=t + 100, lines_free=100, agents_logged_in=20, agents_idle=2, agents_talking=18
    )
    aggressive = policy.calls_to_launch(view)
    assert aggressive > 2, "with data and budget it dials ahead of the idle operators"
    for _ in range(7):  # 7 abandons out of 200 answers: 3.5%, over the cap
        _feed(policy, t + 100, Observation.ABANDONED, 2.0)
    assert policy.calls_to_launch(view) == 2, "progressive: one call per idle operator"


def test_short_small_team_campaigns_stay_under_the_cap() -> None:
    # one hour of 5 operators is about 100 answers, a budget of 3 abandons: with the release
    # valve shut and without the brake 3 of these 50 runs (seeds 17, 29, 42) ended at 3.1-3.2%
    one_hour = attrs.evolve(SCENARIOS["S2"], hours=1.0)
    _fifty_runs_under_the_cap(one_hour)


@pytest.mark.parametrize("agents", [2, 3])
def test_an_hour_of_a_tiny_office_stays_under_the_cap(agents: int) -> None:
    # a budget of one or two abandons: the bolder small-team margin (#18) starts as cautious
    # as before and settles over the first hundred answers (bold at once, the worst of these
    # runs ended at 3.5% for 3 operators and 3.03% for the 5 of the test above)
    _fifty_runs_under_the_cap(attrs.evolve(SCENARIOS["S2"], agents=agents, hours=1.0))


def _fifty_runs_under_the_cap(one_hour: Scenario) -> None:
    for valve in (15.0, None):
        rates = [
            simulate(one_hour, PredictivePacing(release_after=valve), seed).abandon_rate
            for seed in range(50)
        ]
        assert max(rates) <= 0.03


def test_a_fast_drift_stays_under_the_cap_with_the_release_valve() -> None:
    # S5 in one hour: the answer rate swings 0.34 -> 0.10 -> 0.34 faster than its estimate
    # follows. With the valve shut 6 of these 50 runs end over 3%; the valve sees the surplus
    # answers coming while the calls still ring.
    fast = attrs.evolve(SCENARIOS["S5"], hours=1.0)
    results = [simulate(fast, PredictivePacing(), seed) for seed in range(50)]
    assert max(r.abandon_rate for r in results) <= 0.03
    assert sum(r.released for r in results) > 0


def _answered(policy: PredictivePacing, answers: int) -> float:
    t = 0.0
    for _ in range(answers):
        _feed(policy, t, Observation.DIALED)
        _feed(policy, t + 10, Observation.ANSWERED, 10.0)
        t += 1.0
    return t


def test_the_brake_tightens_as_the_abandon_budget_runs_out() -> None:
    braked, plain = PredictivePacing(), PredictivePacing(brake=0.0)
    for policy in (braked, plain):
        _answered(policy, 400)  # budget: 12 abandons
    steps = []
    for policy in (braked, plain):
        before = policy.safety
        rises = []
        for _ in range(11):
            _feed(policy, 500.0, Observation.ABANDONED, 2.0)
            rises.append(policy.safety - before)
            before = policy.safety
        steps.append(rises)
    braked_rises, plain_rises = steps
    assert braked_rises[:8] == pytest.approx(plain_rises[:8]), "a full budget: no brake"
    # from 9 abandons on, fewer than 3 remain: each one adds the brake's 0.4 on top
    assert braked_rises[-1] == pytest.approx(plain_rises[-1] + 0.4)


def test_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="max_abandon_rate"):
        PredictivePacing(max_abandon_rate=0.0)
    with pytest.raises(SettingsError, match=r"pacing\.brake"):
        PredictivePacing(brake=-1.0)
    with pytest.raises(SettingsError, match=r"pacing\.memory"):
        PredictivePacing(memory=1)


def test_estimators() -> None:
    rate = DiscountedRate(memory=50)
    for _ in range(300):
        rate.add(True)
    for _ in range(300):
        rate.add(False)
    assert rate.value < 0.01, "forgets the old answers"
    mean = DiscountedMean(memory=1000)
    for x in (10.0, 20.0, 30.0):
        mean.add(x)
    assert mean.mean == pytest.approx(20.0, rel=0.01)
    ring = RingHistogram()
    for x in (5.5, 15.5, 25.5):
        ring.add(x)
    surv = ring.survival_table()
    assert surv[0] == 1.0
    assert surv[6] == pytest.approx(2 / 3)
    assert surv[26] == 0.0


def test_copes_with_a_driver_that_reports_talk_ends_without_connects() -> None:
    policy = PredictivePacing()
    for i in range(50):  # message-only answered calls: talk ended, never connected
        _feed(policy, float(i), Observation.DIALED)
        _feed(policy, i + 10.0, Observation.ANSWERED, 10.0)
        _feed(policy, i + 40.0, Observation.TALK_ENDED, 30.0)
    view = PacingView(now=100.0, lines_free=50, agents_logged_in=4, agents_idle=4)
    n = policy.calls_to_launch(view)
    assert 4 <= n <= 50


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(list(Observation)),
            st.floats(0.0, 300.0),
            st.integers(0, 30),
            st.integers(0, 40),
            st.integers(0, 5),
            st.integers(0, 30),
        ),
        max_size=80,
    )
)
@settings(max_examples=60, deadline=None)
def test_never_below_progressive_nor_above_the_lines(
    steps: list[tuple[Observation, float, int, int, int, int]],
) -> None:
    policy = PredictivePacing(warmup=3)
    now = 0.0
    for kind, seconds, idle, dialing, waiting, lines in steps:
        now += 1.0
        policy.observe(PacingObservation(kind, now, seconds))
        view = PacingView(
            now=now,
            lines_free=lines,
            dialing=dialing,
            waiting=waiting,
            agents_logged_in=30,
            agents_idle=idle,
            agents_talking=30 - idle,
        )
        n = policy.calls_to_launch(view)
        assert 0 <= n <= lines
        assert n >= min(lines, idle - dialing - waiting)


def _history(policy: PredictivePacing) -> float:
    t = 0.0
    for i in range(300):  # one in three answers and talks for a minute
        _feed(policy, t, Observation.DIALED)
        if i % 3:
            _feed(policy, t + 25, Observation.NOT_ANSWERED, 25.0)
        else:
            _feed(policy, t + 10, Observation.ANSWERED, 10.0)
            _feed(policy, t + 10, Observation.CONNECTED)
            _feed(policy, t + 70, Observation.TALK_ENDED, 60.0)
        t += 1.0
    return t + 100


def test_forgets_calls_that_ended_without_an_observation() -> None:
    ghosts, clean = PredictivePacing(), PredictivePacing()
    t = _history(ghosts)
    _history(clean)
    for _ in range(40):  # originates the driver never reported back on
        _feed(ghosts, t - 20, Observation.DIALED)
    for policy in (ghosts, clean):
        for k in range(5):
            _feed(policy, t - 12 + k, Observation.DIALED)  # rung 8-12 s: most are past it
    view = PacingView(
        now=t,
        lines_free=100,
        agents_logged_in=20,
        agents_idle=6,
        agents_talking=14,
        dialing=5,
    )
    assert ghosts.calls_to_launch(view) == clean.calls_to_launch(view) > 1  # > progressive


def test_predicts_before_any_talk_has_ended_counting_talkers_as_busy() -> None:
    policy = PredictivePacing()
    for i in range(60):  # half answer, and every answered callee is still talking
        _feed(policy, float(i), Observation.DIALED)
        if i % 2:
            _feed(policy, i + 25.0, Observation.NOT_ANSWERED, 25.0)
        else:
            _feed(policy, i + 10.0, Observation.ANSWERED, 10.0)
            _feed(policy, i + 10.0, Observation.CONNECTED)

    def launch(talking: int) -> int:
        view = PacingView(
            now=100.0,
            lines_free=500,
            agents_logged_in=220,
            agents_idle=20,
            agents_talking=talking,
        )
        return policy.calls_to_launch(view)

    assert launch(10) > 20, "dials ahead of the idle operators with no talk ended yet"
    # no talk time is known yet: a talking operator is not counted on to free up, however many
    assert launch(10) == launch(200)
    for _ in range(10):
        _feed(policy, 101.0, Observation.TALK_ENDED, 60.0)
    assert launch(200) > launch(10), "once talks end, talking operators add to the supply"


def test_waits_for_enough_answers_even_without_the_guard() -> None:
    policy = PredictivePacing(guard=-1e9)  # as in the benchmark's fixed-z sweeps
    t = 0.0
    for i in range(150):  # 150 resolved calls but only 14 answers
        _feed(policy, t, Observation.DIALED)
        if i % 10 or i >= 140:
            _feed(policy, t + 25, Observation.NOT_ANSWERED, 25.0)
        else:
            _feed(policy, t + 10, Observation.ANSWERED, 10.0)
        t += 1.0
    view = PacingView(now=t + 30, lines_free=500, agents_logged_in=20, agents_idle=10)
    assert policy.calls_to_launch(view) == 10, "too few answers to trust the rate: progressive"
    _feed(policy, t + 30, Observation.DIALED)
    _feed(policy, t + 40, Observation.ANSWERED, 10.0)
    later = attrs.evolve(view, now=t + 41)
    assert policy.calls_to_launch(later) > 10


def _join(policy: PredictivePacing, operators: int) -> None:
    view = PacingView(now=0.0, lines_free=0, agents_logged_in=operators)
    policy.calls_to_launch(view)  # the policy learns the team's size from the view


def test_a_large_teams_prior_starts_cautious_and_settles_as_answers_come() -> None:
    settling, steady = PredictivePacing(), PredictivePacing(z_team_slope_settled=0.4)
    for policy in (settling, steady):
        _join(policy, 100)
    assert settling.safety == pytest.approx(steady.safety), "the same cautious start"
    for policy in (settling, steady):
        _answered(policy, 3000)  # no abandons: the same integral term for both
    # the prior's slope has relaxed from 0.4 towards 0.1 per ln(100 / 20), by 1 - e^-3
    relaxed = (0.4 - 0.1) * math.log(5.0) * (1.0 - math.exp(-3.0))
    assert steady.safety - settling.safety == pytest.approx(relaxed, rel=1e-6)
    small, small_steady = PredictivePacing(), PredictivePacing(z_team_slope_settled=0.4)
    for policy in (small, small_steady):
        _join(policy, 20)
        _answered(policy, 3000)
    assert small.safety == small_steady.safety, "20 operators or fewer: nothing to settle"


def test_settle_answers_is_validated() -> None:
    with pytest.raises(SettingsError, match="settle_answers"):
        PredictivePacing(settle_answers=0.0)
