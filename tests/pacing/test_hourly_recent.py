"""The hourly cap at the core's cadence (issue #18): never under progressive, and the hour of a
rising answer rate.

Asked every second, the hourly cap's valve hung up the calls progressive dialling made while
the hour's budget held the launch to progressive (2 operators: under progressive); and the
first batch after an hour's progressive start was dialled at the old answer rate.
:class:`RecentAnswerRate` counts the answers of the latest launches as they come.
"""

from __future__ import annotations

import random

import attrs
import pytest

from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.pacing.hourly import RecentAnswerRate
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.pacing.progressive import ProgressivePacing
from autoinformer.sim.pacing import Scenario, simulate

_CDF = [min(1.0, max(0.0, (k - 5) / 20.0)) for k in range(26)]  # answers ring 5-25 s


def test_recent_rate_counts_each_answer_against_its_calls_age() -> None:
    recent = RecentAnswerRate(window=60.0)
    rng = random.Random(3)
    answers = []
    for i in range(600):  # ten minutes, one call a second, p = 0.35, ring uniform 5-25 s
        recent.launched(float(i))
        if rng.random() < 0.35:
            answers.append((i + rng.uniform(5.0, 25.0), float(i)))
    answers.sort()
    now = 600.0
    for t, launched in answers:
        if t <= now:
            recent.answered(launched)
    got, seen = recent.counts(now, _CDF)
    # the 60 calls of the last minute: 35 seen in full, 25 by their age's share of F
    assert seen == pytest.approx(35 + sum(_CDF[a] for a in range(1, 26)), abs=1e-9)
    assert 0.15 < got / seen < 0.55, "an unbiased estimate of 0.35 from ~45 calls' worth"


def test_recent_rate_forgets_old_launches_and_keeps_a_release_at_its_ring_time() -> None:
    recent = RecentAnswerRate(window=60.0)
    recent.launched(0.0)
    recent.answered(0.0)
    recent.launched(100.0)
    recent.released(100.0, 0.5)  # hung up after ringing 15 s: half the answers come by then
    got, seen = recent.counts(130.0, _CDF)
    assert got == 0.0, "the call of t=0 is out of the window"
    assert seen == pytest.approx(0.5), "the released call counts F at its release, not now"
    recent.answered(5.0)  # a call never seen (older than the window): ignored
    assert recent.counts(130.0, _CDF) == (0.0, pytest.approx(0.5))


def _warm(policy: PredictivePacing, p_every: int) -> float:
    """Twenty minutes of calls, one answer in ``p_every``, 10 s rings; returns the time after."""
    t = 0.0
    while t < 1200.0:
        for k in range(p_every):
            policy.observe(PacingObservation(Observation.DIALED, t))
            if k == 0:
                policy.observe(PacingObservation(Observation.ANSWERED, t + 10.0, 10.0))
                policy.observe(PacingObservation(Observation.CONNECTED, t + 10.0))
                policy.observe(PacingObservation(Observation.TALK_ENDED, t + 130.0, 120.0))
            else:
                policy.observe(PacingObservation(Observation.NOT_ANSWERED, t + 25.0, 25.0))
        t += 3.0
    return t + 150.0


def test_a_batch_after_a_rise_is_priced_at_what_the_latest_launches_show() -> None:
    """p = 0.1 for twenty minutes, then eight calls launched 20 s ago all answer: the rate
    over resolved calls has barely moved, the latest launches say the rate has jumped. The
    hour's launch cut prices the batch at that and dials fewer."""
    out = {}
    for window in (None, 60.0):
        policy = PredictivePacing(
            abandon_hourly_cap=0.03,
            abandon_hour_ceiling=None,
            release_after=None,
            hourly_recent_window=window,
            hourly_fast_memory=None,
            max_abandon_rate=0.2,
        )
        end = _warm(policy, 10)
        for i in range(8):  # eight launches, each answered 10 s later
            policy.observe(PacingObservation(Observation.DIALED, end + i))
            policy.observe(PacingObservation(Observation.ANSWERED, end + i + 10.0, 10.0))
            policy.observe(PacingObservation(Observation.CONNECTED, end + i + 10.0))
        view = PacingView(
            now=end + 20.0, lines_free=500, agents_logged_in=20, agents_idle=10, agents_talking=10
        )
        out[window] = policy.calls_to_launch(view)
    assert out[None] > 40, "at p = 0.1 the rule fills ten operators with dozens of calls"
    assert 10 <= out[60.0] < out[None] // 2, "cut, never under progressive (10 idle)"


def test_the_hourly_caps_valve_never_releases_a_call_an_idle_operator_covers() -> None:
    policy = PredictivePacing(abandon_hourly_cap=0.03, abandon_hour_ceiling=None)
    end = _warm(policy, 3)
    for _ in range(30):  # the hour's budget gone: the margin at its brake's height
        policy.observe(PacingObservation(Observation.ABANDONED, end - 100.0, 2.0))
    for i in range(6):  # six calls rung 16-21 s
        policy.observe(PacingObservation(Observation.DIALED, end - 21.0 + i))
    busy = dict(now=end, lines_free=100, dialing=6, agents_logged_in=20, agents_talking=14)
    assert policy.calls_to_release(PacingView(**busy, agents_idle=6)) == 0
    assert policy.calls_to_release(PacingView(**busy, agents_idle=4)) <= 2


@pytest.mark.parametrize("agents", [2, 3])
def test_small_teams_hourly_cap_is_never_under_progressive_at_the_cores_cadence(
    agents: int,
) -> None:
    s = Scenario(name="small", agents=agents, hours=4.0)
    for seed in range(3):
        capped = simulate(s, PredictivePacing(abandon_hourly_cap=0.03), seed)
        progressive = simulate(s, ProgressivePacing(), seed)
        assert capped.occupancy >= progressive.occupancy - 1e-9
        assert capped.worst_hour_abandon_rate <= 0.03


def test_the_hour_of_a_rise_holds_the_cap_with_the_valve_shut() -> None:
    """RISE (0.08 -> 0.35 at 2 h), valve shut, asked every second: without the latest
    launches' rate the hour of the step ends at 3.5% on this seed (14 abandons of 401: the
    first batch after the hour's progressive minute dialled at 0.08)."""
    s = Scenario(name="RISE", answer_rate_schedule="0:0.08,2h:0.35", hours=3.0)
    capped = PredictivePacing(abandon_hourly_cap=0.03, release_after=None)
    blind = attrs.evolve(  # (and without the shut valve's wrap-up and in-flight margin)
        capped, hourly_recent_window=None, hourly_after_wrapup=False, hourly_shut_in_flight=0.0
    )
    before = simulate(s, blind, 8)
    after = simulate(s, attrs.evolve(capped), 8)
    assert before.worst_hour_abandon_rate > 0.03
    assert after.worst_hour_abandon_rate <= 0.03
    assert after.occupancy > before.occupancy - 0.01, "no dearer (progressive: 43%)"
