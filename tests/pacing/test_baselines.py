"""The field's policies, emulated: their documented rules hold."""

from __future__ import annotations

import pytest

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.pacing.baselines import (
    AnswerRatePowerPacing,
    UccxPacing,
    VicidialMethod,
    VicidialPacing,
)
from autoinformer.pacing.progressive import PowerPacing, ProgressivePacing
from autoinformer.sim.pacing import SCENARIOS, simulate


def test_vicidial_ratio_counts_active_agents_minus_calls_in_progress() -> None:
    vd = VicidialPacing(dial_level=2.0)
    view = PacingView(
        now=0, lines_free=99, dialing=5, agents_logged_in=10, agents_idle=2, agents_talking=8
    )
    assert vd.calls_to_launch(view) == 2 * 10 - 5 - 8
    only = VicidialPacing(dial_level=2.0, available_only=True)
    assert only.calls_to_launch(view) == 0  # 2 x 2 ready agents - 5 ringing
    fewer = PacingView(
        now=0, lines_free=99, dialing=1, agents_logged_in=10, agents_idle=2, agents_talking=8
    )
    assert only.calls_to_launch(fewer) == 2 * 2 - 1


def test_vicidial_adaptive_levels_stay_between_one_and_max() -> None:
    for method in (VicidialMethod.ADAPT_HARD_LIMIT, VicidialMethod.ADAPT_AVERAGE):
        vd = VicidialPacing(method=method, max_level=3.0)
        levels = []
        # always 5 of 10 agents ready: the level climbs, 15 s at a time
        for t in range(0, 600, 5):
            vd.calls_to_launch(
                PacingView(
                    now=float(t),
                    lines_free=999,
                    agents_logged_in=10,
                    agents_idle=5,
                    agents_talking=5,
                )
            )
            levels.append(vd.level)
        assert levels[-1] == 3.0
        assert min(levels) >= 1.0
        assert levels == sorted(levels)


def test_vicidial_hard_limit_drops_to_one_over_the_drop_percentage() -> None:
    vd = VicidialPacing(method=VicidialMethod.ADAPT_HARD_LIMIT, dial_level=2.5)
    for _ in range(100):
        vd.observe(PacingObservation(Observation.ANSWERED, 0.0, 10.0))
    for _ in range(4):
        vd.observe(PacingObservation(Observation.ABANDONED, 0.0, 2.0))
    for t in (0.0, 16.0):
        vd.calls_to_launch(
            PacingView(now=t, lines_free=99, agents_logged_in=10, agents_idle=5, agents_talking=5)
        )
    assert vd.level == 1.0


def test_uccx_ratio_falls_after_abandons_and_rises_without() -> None:
    calm, hit = UccxPacing(correction_pace=10), UccxPacing(correction_pace=10)
    for i in range(10):
        calm.observe(PacingObservation(Observation.ANSWERED, float(i), 10.0))
        hit.observe(PacingObservation(Observation.ABANDONED, float(i), 2.0))
        hit.observe(PacingObservation(Observation.ANSWERED, float(i), 10.0))
    assert calm.ratio > 1.5 > hit.ratio


def test_issabel_power_dials_one_over_the_answer_rate_per_idle_operator() -> None:
    p = AnswerRatePowerPacing()
    for i in range(40):
        kind = Observation.ANSWERED if i % 4 == 0 else Observation.NOT_ANSWERED
        p.observe(PacingObservation(kind, float(i), 10.0))
    view = PacingView(now=50, lines_free=99, agents_logged_in=5, agents_idle=2)
    assert p.calls_to_launch(view) == 8  # 2 idle / 0.25


def test_ratio_settings_validated() -> None:
    with pytest.raises(SettingsError, match=r"pacing\.ratio"):
        PowerPacing(ratio=0.5)
    with pytest.raises(SettingsError, match="dial_level"):
        VicidialPacing(dial_level=0.5)


def test_power_dials_more_than_progressive_and_abandons() -> None:
    s = SCENARIOS["S2"]
    prog = simulate(s, ProgressivePacing(), 0)
    power = simulate(s, PowerPacing(ratio=3.0), 0)
    assert power.occupancy > prog.occupancy + 0.1
    assert power.abandon_rate > 0.03 > prog.abandon_rate
