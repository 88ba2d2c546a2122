"""The hourly abandon cap (``PredictivePacing(abandon_hourly_cap=...)``) and the counts the
policies share (:class:`~autoinformer.pacing._tally.LiveAnswers`)."""

from __future__ import annotations

import attrs
import pytest

from autoinformer.errors import SettingsError
from autoinformer.pacing._tally import LiveAnswers
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.pacing.hourly import HourBudget
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.pacing import SCENARIOS, simulate

A, N, AB, M = (
    Observation.ANSWERED,
    Observation.NOT_ANSWERED,
    Observation.ABANDONED,
    Observation.MACHINE,
)


def test_live_answers_take_machines_back_and_never_go_below_zero() -> None:
    live = LiveAnswers()
    for kind in (M, A, A, N, AB, M, M, M, Observation.CONNECTED):
        live.note(kind)
    assert (live.answers, live.abandons, live.resolved) == (0, 1, 3)
    every = LiveAnswers(machines=False)
    for kind in (A, A, M):
        every.note(kind)
    assert every.answers == 2, "a formula over every answer keeps the machines"
    every.reset()
    assert (every.answers, every.abandons, every.resolved) == (0, 0, 0)


def test_an_hours_budget_counts_its_own_hour_and_projects_its_pace() -> None:
    hour = HourBudget(cap=0.03, trust=0.5, settle=60.0)
    for i in range(100):  # 100 answers in the first 20 minutes of hour 1
        hour.count(3600.0 + 12.0 * i, A)
    hour.count(3600.0 + 1200.0, AB)
    hour.count(3599.0, AB)  # answered in hour 0: closed, not this hour's
    # counted: 100 answers; expected in the other 40 minutes at that pace, half trusted: 100
    assert hour.remaining(3600.0 + 1200.0) == pytest.approx(0.03 * 200 - 1)
    assert hour.remaining(2 * 3600.0 - 1e-9) == pytest.approx(0.03 * 100 - 1, abs=1e-6)
    hour.count(3600.0 + 1300.0, M)  # a machine takes its answer back
    assert hour.live.answers == 99
    # a new hour starts with nothing counted, and the last hour's pace for its first minute
    assert hour.remaining(2 * 3600.0) == pytest.approx(0.03 * 0.5 * 99)
    assert hour.last_hour_answers == 99
    assert hour.remaining(2 * 3600.0 + 60.0) == 0.0, "then its own (none yet)"


def _warm(policy: PredictivePacing, hours: float) -> float:
    """Answered, talked calls for ``hours``: 100 an hour, from t=0; returns the time after."""
    t = 0.0
    while t < hours * 3600.0:
        policy.observe(PacingObservation(Observation.DIALED, t))
        policy.observe(PacingObservation(A, t + 10.0, 10.0))
        policy.observe(PacingObservation(Observation.CONNECTED, t + 10.0))
        policy.observe(PacingObservation(Observation.TALK_ENDED, t + 70.0, 60.0))
        t += 36.0
    return t + 100.0


def test_the_hour_budget_guards_when_the_campaign_budget_would_not() -> None:
    plain = PredictivePacing(abandon_hour_ceiling=None)
    hourly = PredictivePacing(abandon_hourly_cap=0.03, abandon_hour_ceiling=None)
    for policy in (plain, hourly):
        end = _warm(policy, 3.0)
        for _ in range(3):  # three abandons late in hour 2: 3 of ~300 over three hours
            policy.observe(PacingObservation(AB, end, 2.0))
    view = PacingView(
        now=end, lines_free=100, agents_logged_in=20, agents_idle=2, agents_talking=18
    )
    assert plain.calls_to_launch(view) > 2, "the campaign's budget (9 - 3) lets it predict"
    assert hourly.calls_to_launch(view) == 2, "hour 3 has spent its budget: progressive"


def test_by_default_no_hour_goes_past_the_ceiling() -> None:
    ceiling, none = PredictivePacing(), PredictivePacing(abandon_hour_ceiling=None)
    assert ceiling.abandon_hour_ceiling == 0.05
    for policy in (ceiling, none):
        end = _warm(policy, 2.75)  # 100 answers an hour until 2 h 45 m
        for _ in range(5):  # 5 abandons of ~275 answers: within the campaign's 3%
            policy.observe(PacingObservation(AB, end, 2.0))
    view = PacingView(
        now=end, lines_free=100, agents_logged_in=20, agents_idle=2, agents_talking=18
    )
    # but hour 2 has ~75 answers (~90 by its end at its pace, half of those to come trusted)
    assert none.calls_to_launch(view) > 2
    assert ceiling.calls_to_launch(view) == 2, "progressive while the hour is over 5%"


@pytest.mark.parametrize("field", ["abandon_hourly_cap", "abandon_hour_ceiling"])
@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, True, "3%"])
def test_a_bad_hourly_share_is_refused(field: str, bad: object) -> None:
    with pytest.raises(SettingsError, match=field):
        PredictivePacing(**{field: bad})  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(3))
def test_the_hourly_cap_lowers_the_worst_hour(seed: int) -> None:
    s = attrs.evolve(SCENARIOS["S1"], hours=4.0)
    plain = simulate(s, PredictivePacing(), seed)
    hourly = simulate(s, PredictivePacing(abandon_hourly_cap=0.03), seed)
    assert hourly.worst_hour_abandon_rate <= plain.worst_hour_abandon_rate
    assert hourly.abandon_rate < plain.abandon_rate
    assert hourly.occupancy > 0.8, "and it still predicts (progressive is 64%)"


def test_a_campaign_file_sets_the_hourly_cap_and_names_a_bad_one() -> None:
    import tomllib
    from pathlib import Path

    from autoinformer.campaign_file import parse_campaign

    example = Path(__file__).parents[2] / "examples" / "campaign" / "campaign.toml"
    data = tomllib.loads(example.read_text())
    data["campaign"]["pacing"] = {"kind": "predictive", "abandon_hourly_cap": 0.03}
    policy = parse_campaign(data, base=example.parent).pacing()
    assert isinstance(policy, PredictivePacing)
    assert policy.abandon_hourly_cap == 0.03
    data["campaign"]["pacing"] = {"kind": "predictive", "abandon_hourly_cap": 3}
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=example.parent)
    assert info.value.field == "campaign.pacing.abandon_hourly_cap"
    assert "between 0 and 1" in info.value.message
