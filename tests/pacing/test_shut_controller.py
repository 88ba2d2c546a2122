"""The shut valve's controller: its margin raised while the answer rate is low (#18)."""

from __future__ import annotations

import math

import pytest

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import Observation
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import Scenario, simulate


def _fed(answered_every: int, **kw: object) -> PredictivePacing:
    """A policy shown 401 calls, one in ``answered_every`` answered (the last one too), no
    abandon."""
    policy = PredictivePacing(**kw)  # type: ignore[arg-type]
    policy.decide(0.0, 100, 0, 0, 20, 20, 0, 0)  # the team: 20 operators
    for i in range(400):
        t = 10.0 * i
        policy.note(Observation.DIALED, t, 0.0)
        if i % answered_every == 0:
            policy.note(Observation.ANSWERED, t + 8.0, 8.0)
        else:
            policy.note(Observation.NOT_ANSWERED, t + 30.0, 30.0)
    policy.note(Observation.DIALED, 4000.0, 0.0)  # z is set at an answer: end on one
    policy.note(Observation.ANSWERED, 4008.0, 8.0)
    return policy


def test_shut_valve_margin_rises_by_the_log_of_the_answer_rate_shortfall() -> None:
    plain = _fed(10, release_after=None, shut_z_offset=0.0)
    raised = _fed(10, release_after=None, shut_z_offset=0.3)
    p = raised.answer_rate
    assert 0.05 < p < 0.15
    assert raised.safety - plain.safety == pytest.approx(0.3 * math.log(0.25 / p))


def test_shut_valve_margin_untouched_above_the_answer_rate_it_acts_under() -> None:
    plain = _fed(2, release_after=None, shut_z_offset=0.0)
    raised = _fed(2, release_after=None, shut_z_offset=0.3)
    assert raised.answer_rate > 0.25
    assert raised.safety == plain.safety


def test_valve_open_margin_untouched_at_a_low_answer_rate() -> None:
    plain = _fed(10, shut_z_offset=0.0)
    raised = _fed(10, shut_z_offset=2.0)
    assert raised.safety == plain.safety


def test_valve_open_shift_identical_whatever_the_shut_offset() -> None:
    scenario = Scenario(name="low answer rate, 1 h", agents=10, answer_rate=0.1, hours=1.0)
    a = simulate(scenario, PredictivePacing(shut_z_offset=0.0), 3)
    b = simulate(scenario, PredictivePacing(shut_z_offset=2.0), 3)
    assert (a.occupancy, a.answers, a.abandoned) == (b.occupancy, b.answers, b.abandoned)


def test_shut_valve_shift_more_careful_at_a_low_answer_rate() -> None:
    scenario = Scenario(name="low answer rate, 1 h", agents=10, answer_rate=0.1, hours=1.0)
    plain = simulate(scenario, PredictivePacing(release_after=None, shut_z_offset=0.0), 3)
    raised = simulate(scenario, PredictivePacing(release_after=None, shut_z_offset=2.0), 3)
    assert raised.dials < plain.dials


def test_shut_answer_rate_must_be_a_share() -> None:
    with pytest.raises(SettingsError):
        PredictivePacing(release_after=None, shut_answer_rate=1.5)


def test_hourly_cap_margin_untouched_with_the_valve_shut() -> None:
    plain = _fed(10, release_after=None, abandon_hourly_cap=0.03, shut_z_offset=0.0)
    raised = _fed(10, release_after=None, abandon_hourly_cap=0.03, shut_z_offset=2.0)
    assert raised.safety == plain.safety
