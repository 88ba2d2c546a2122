"""The default's hour ceiling (``abandon_hour_ceiling``) counts the calls in flight (#18).

A guard on the abandons an hour has made so far let hours end past the ceiling: the calls
already ringing when its budget ran out abandoned after it. ``ceiling_in_flight`` keeps their
expected abandons in hand.
"""

from __future__ import annotations

import attrs
import pytest

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import SCENARIOS, simulate

A, N, AB, D = (
    Observation.ANSWERED,
    Observation.NOT_ANSWERED,
    Observation.ABANDONED,
    Observation.DIALED,
)


def _warm(policy: PredictivePacing, hours: float) -> float:
    """Two calls every 36 s from t=0, one answered (ring 10 s, talk 60 s), one rung out
    (30 s): 100 answers an hour at p=0.5; returns the time after."""
    t = 0.0
    while t < hours * 3600.0:
        policy.observe(PacingObservation(D, t))
        policy.observe(PacingObservation(D, t))
        policy.observe(PacingObservation(A, t + 10.0, 10.0))
        policy.observe(PacingObservation(Observation.CONNECTED, t + 10.0))
        policy.observe(PacingObservation(N, t + 30.0, 30.0))
        policy.observe(PacingObservation(Observation.TALK_ENDED, t + 70.0, 60.0))
        t += 36.0
    return t + 100.0


def _near_the_ceiling(
    policy: PredictivePacing, hours: float, abandons: int, ringing: int
) -> PacingView:
    """``abandons`` in hour 2 at ``hours`` (20 operators, 10 idle), then ``ringing`` calls
    launched just now."""
    end = _warm(policy, hours)
    for _ in range(abandons):
        policy.observe(PacingObservation(AB, end, 2.0))
    for _ in range(ringing):
        policy.observe(PacingObservation(D, end))
    return PacingView(
        now=end,
        lines_free=100,
        dialing=ringing,
        agents_logged_in=20,
        agents_idle=10,
        agents_talking=10,
    )


def test_the_ceiling_keeps_in_hand_what_the_calls_ringing_will_abandon() -> None:
    blind = PredictivePacing(ceiling_in_flight=None)
    seeing = PredictivePacing()
    assert seeing.ceiling_in_flight == 2.5, "the default"
    # 2 h 45 m: 2 abandons of ~75 answers (~90 by the hour's end, 0.9 of those still to come
    # counted: ``ceiling_trust``): 2.7 abandons to spare
    views = [_near_the_ceiling(p, 2.75, 2, 20) for p in (blind, seeing)]
    assert seeing._ceiling is not None
    assert seeing._ceiling.remaining(views[1].now) == pytest.approx(2.71, abs=0.01)
    # but 20 calls ringing at p=0.5 bring ~10 answers for the ~12 operators free in time
    args = (20, 0, 10, 0, 10)
    assert seeing._ceiling_owed(views[1].now, *args) > 2.0
    assert not seeing._under_ceiling(views[1].now, *args), "progressive"
    assert blind._under_ceiling(views[0].now, *args), "blind to them: it predicts"


def test_a_launch_is_cut_to_what_the_hour_can_absorb() -> None:
    # half the answers still to come counted (``ceiling_trust``), for a budget between none
    # and the launch's own
    blind = PredictivePacing(ceiling_in_flight=None, ceiling_trust=0.5)
    seeing = PredictivePacing(ceiling_trust=0.5)
    none = PredictivePacing(abandon_hour_ceiling=None)
    # 2 h 45 m: 3 abandons of ~75 answers (~88 by the hour's end): 1.3 to spare
    launched = [p.calls_to_launch(_near_the_ceiling(p, 2.75, 3, 0)) for p in (blind, seeing, none)]
    assert launched[0] == launched[2] == 14, "the launch rule's own launch"
    assert 10 < launched[1] < 14, "cut, but still above progressive (10 idle)"


@pytest.mark.parametrize("seed", [3, 4])  # seeds whose first minute priced them (it changed)
def test_a_large_team_never_meets_the_ceiling_and_is_unchanged(seed: int) -> None:
    s = attrs.evolve(SCENARIOS["S3"], hours=1.0)
    blind = simulate(s, PredictivePacing(ceiling_in_flight=None), seed)
    seeing = simulate(s, PredictivePacing(), seed)
    assert seeing.as_dict() == blind.as_dict()


def test_the_campaigns_first_minute_is_not_held_back_for_its_calls_in_flight() -> None:
    policy = PredictivePacing()
    for _ in range(40):
        policy.observe(PacingObservation(D, 0.0))
    for i in range(20):  # 20 answers (the warm-up) in the first 20 s, 20 rung out at 30 s
        policy.observe(PacingObservation(A, 10.0 + 0.5 * i, 10.0 + 0.5 * i))
        policy.observe(PacingObservation(Observation.CONNECTED, 10.0 + 0.5 * i))
    for _ in range(20):
        policy.observe(PacingObservation(N, 30.0, 30.0))
    for _ in range(60):  # 100 operators: the launch rule's first big launch is ringing
        policy.observe(PacingObservation(D, 31.0))
    args = (60, 0, 10, 0, 90)
    assert policy._ceiling is not None
    left = policy._ceiling.remaining(40.0)
    assert left == pytest.approx(1.0), "5% of the 20 answers counted: one abandon"
    assert left - policy._ceiling_owed(40.0, *args) < policy.guard, "priced, they would bar it"
    assert policy._under_ceiling(40.0, *args), "but the hour has no pace yet: not priced"


def test_the_ceiling_counts_most_of_the_answers_the_hour_is_still_expected_to_bring() -> None:
    # 2 h 45 m: ~75 answers so far, at a pace that brings ~25 more by the hour's end
    half = PredictivePacing(ceiling_trust=0.5)
    most = PredictivePacing()
    assert most.ceiling_trust == 0.9, "the default"
    views = [_near_the_ceiling(p, 2.75, 2, 0) for p in (half, most)]
    budgets = [p._ceiling for p in (half, most)]
    left = [b.remaining(v.now) for b, v in zip(budgets, views, strict=True) if b is not None]
    # 5% of (answers + trust * still to come) - 2: the difference is 5% of 0.4 of the rest
    still_to_come = (left[1] - left[0]) / (0.05 * 0.4)
    assert 20.0 < still_to_come < 30.0


def test_a_negative_ceiling_trust_is_refused() -> None:
    with pytest.raises(SettingsError, match="ceiling_trust"):
        PredictivePacing(ceiling_trust=-0.1)


def test_with_the_valve_shut_the_ceiling_counts_half_the_answers_still_to_come() -> None:
    # nothing takes a burst back with the valve shut: the ceiling keeps its earlier caution
    half = PredictivePacing(ceiling_trust=0.5)
    at_half = _near_the_ceiling(half, 2.75, 2, 0)
    shut = PredictivePacing(release_after=None)
    shut_view = _near_the_ceiling(shut, 2.75, 2, 0)
    assert half._ceiling is not None
    assert shut._ceiling is not None
    assert shut._ceiling.remaining(shut_view.now) == pytest.approx(
        half._ceiling.remaining(at_half.now)
    )
    assert shut._ceiling.remaining(shut_view.now) < 2.5, "0.9 of the rest would leave 2.7"
