"""A small team's campaign budget keeps in hand the abandons its calls in flight owe (#18).

A team of 2-5 operators has a budget of a few abandons; with only the guard (half an abandon
left) a launch whose burst lands just before the campaign stops ends it over 3%, and an answer
rate that has risen faster than the estimate follows (RISE, S5's swing) makes those bursts.
``small_in_flight`` keeps the in-flight calls' expected abandons (priced at the recent answer
rate, ``small_recent_trials``, if higher) out of the budget the guard and the launch see.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import SCENARIOS, Scenario, simulate


def _unit(**kw: Any) -> PredictivePacing:
    """The policy without the hour ceiling, for constructed states (their clock hours are
    not what the tests are about)."""
    return PredictivePacing(abandon_hour_ceiling=None, **kw)


RISE = Scenario(name="RISE", answer_rate_schedule="0:0.08,2h:0.35", agents=2, hours=4.0)
S5_HOUR = attrs.evolve(SCENARIOS["S5"], agents=3, hours=1.0)


def _warm(policy: PredictivePacing, team: int, rates: list[tuple[int, int]]) -> float:
    """Tell ``policy`` the team, then blocks of (calls, answered of them): each answered call
    rings 8 s, the others ring out at 30 s; returns the time after."""
    policy.calls_to_launch(PacingView(now=0.0, lines_free=10, agents_logged_in=team))
    t = 1.0
    for calls, answered in rates:
        for i in range(calls):
            policy.observe(PacingObservation(Observation.DIALED, t))
            if i < answered:
                policy.observe(PacingObservation(Observation.ANSWERED, t + 8.0, 8.0))
            else:
                policy.observe(PacingObservation(Observation.NOT_ANSWERED, t + 30.0, 30.0))
            t += 31.0
    return t


def _launch(policy: PredictivePacing, now: float, dialing: int) -> int:
    """Launches with 3 operators idle and ``dialing`` fresh calls ringing."""
    for _ in range(dialing):
        policy.observe(PacingObservation(Observation.DIALED, now))
    return policy.decide(now, 20, dialing, 0, 3, 3, 0, 0)


def _pair(blocks: list[tuple[int, int]]) -> tuple[PredictivePacing, PredictivePacing, float]:
    """The policy before #18's in-flight budget and now, told the same calls, without the
    brake (so ``z`` is the same in both and only the budget differs)."""
    old = _unit(small_in_flight=None, brake=0.0)
    new = _unit(brake=0.0)
    _warm(old, 3, blocks)
    return old, new, _warm(new, 3, blocks)


def test_a_launch_is_cut_to_what_the_budget_can_absorb() -> None:
    # 20 answers of 60 calls, no abandon: a budget of 0.6, a tenth of an abandon over the guard
    old, new, now = _pair([(60, 20)])
    assert new._budget(now) == pytest.approx(0.6)
    # 3 operators idle, none ringing: the rule launches 5 at p=1/3; the 5 would owe more than
    # the tenth of an abandon the guard leaves, so progressive's 3
    assert _launch(old, now, 0) == 5
    assert _launch(new, now, 0) == 3


def test_the_guard_counts_the_abandons_the_ringing_calls_owe() -> None:
    old, new, now = _pair([(60, 20)])
    # 4 calls ringing for 3 idle operators: they owe a tenth of an abandon, which takes the
    # budget under the guard: nothing beyond progressive (0); before, one more call
    assert _launch(old, now, 4) == 1
    assert _launch(new, now, 4) == 0
    assert new._budget(now) - new._owed < new.guard


def test_a_budget_that_absorbs_the_owed_abandons_launches_as_before() -> None:
    for ringing in range(6):  # a budget of 0.9: the owed abandons fit, nothing is cut
        old, new, now = _pair([(90, 30)])
        assert _launch(new, now, ringing) == _launch(old, now, ringing) == 5 - ringing


def test_the_recent_answer_rate_prices_the_calls_in_flight_after_a_rise() -> None:
    # 400 calls at p=0.1, then 100 at p=0.5: the answer rate (500 calls) lags, the window not
    steady = _unit(small_recent_trials=None)
    recent = _unit()
    for policy in (steady, recent):
        now = _warm(policy, 3, [(400, 40), (100, 50)])
    assert recent._recent_rate() == pytest.approx(0.5)
    assert recent.answer_rate < 0.3
    _launch(steady, now, 4)
    _launch(recent, now, 4)
    assert recent._owed > steady._owed


@pytest.mark.parametrize(("scenario", "seed", "every"), [(RISE, 8, None), (S5_HOUR, 2, 1.0)])
def test_runs_that_ended_over_the_cap_now_end_under(
    scenario: Scenario, seed: int, every: float | None
) -> None:
    # two of the 9 of 720 moving-answer-rate runs that end over 3% without it (3.03%, 3.39%;
    # benchmarks/pacing/small_teams.py, with #18's fourth session's hour ceiling)
    before = simulate(scenario, PredictivePacing(small_in_flight=None), seed, decide_every=every)
    now = simulate(scenario, PredictivePacing(), seed, decide_every=every)
    assert before.abandon_rate > 0.03
    assert now.abandon_rate <= 0.03


def test_a_team_of_twenty_runs_as_before() -> None:
    shift = attrs.evolve(SCENARIOS["S1"], hours=1.0)
    plain = simulate(shift, PredictivePacing(), 3)
    before = simulate(shift, PredictivePacing(small_in_flight=None, small_guard=2.0), 3)
    assert plain == before


def test_small_guard_holds_a_small_team_to_progressive_below_it() -> None:
    guarded = _unit(small_guard=1.0)
    now = _warm(guarded, 3, [(90, 30)])  # a budget of 0.9: above the guard, below 1
    assert _launch(guarded, now, 2) == 1


@pytest.mark.parametrize("value", [0, -5, 2.5, True])
def test_small_recent_trials_is_checked(value: object) -> None:
    with pytest.raises(SettingsError, match="small_recent_trials"):
        PredictivePacing(small_recent_trials=value)  # type: ignore[arg-type]
