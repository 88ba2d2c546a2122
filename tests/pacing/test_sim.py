"""The fast pacing simulator: exactness against the progressive formula, common random numbers,
metrics and settings."""

from __future__ import annotations

import attrs
import pytest

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import BroadcastPacing, PacingObservation, PacingView
from autoinformer.pacing.progressive import PowerPacing, ProgressivePacing
from autoinformer.sim.pacing import SCENARIOS, Scenario, TalkOracle, simulate


def progressive_formula(s: Scenario) -> float:
    busy = s.talk_mean + s.wrapup
    idle = (s.ring_min + s.ring_max) / 2 + (1 / s.answer_rate - 1) * s.no_answer_timeout
    return busy / (busy + idle)


def test_progressive_matches_the_exact_formula_and_never_abandons() -> None:
    s = SCENARIOS["S1"]
    assert progressive_formula(s) == pytest.approx(0.639, abs=0.0005)
    occupancies = []
    for seed in range(3):
        r = simulate(s, ProgressivePacing(), seed)
        assert r.abandoned == 0
        occupancies.append(r.occupancy)
    assert sum(occupancies) / 3 == pytest.approx(progressive_formula(s), abs=0.012)


def test_common_random_numbers_same_people_for_every_policy() -> None:
    s = attrs.evolve(SCENARIOS["S1"], contacts=600)
    a = simulate(s, ProgressivePacing(), seed=5)
    b = simulate(s, PowerPacing(ratio=2.5), seed=5)
    c = simulate(s, ProgressivePacing(), seed=6)
    assert a.dials == b.dials == 600
    assert a.answers == b.answers, "the same 600 people answer whoever dials them"
    assert (c.answers, c.busy_seconds) != (a.answers, a.busy_seconds), "other seed, other people"
    assert a.finished_after_s is not None
    assert b.finished_after_s is not None
    assert b.finished_after_s < a.finished_after_s, "dialling harder finishes the list sooner"


def test_metrics_are_consistent() -> None:
    r = simulate(SCENARIOS["S2"], PowerPacing(ratio=3.0), 1)
    assert 0.0 < r.occupancy <= 1.0
    assert r.connects + r.abandoned <= r.answers <= r.dials
    assert sum(r.hourly_answers) <= r.answers
    assert sum(r.hourly_abandoned) <= r.abandoned
    assert len(r.hourly_answers) == 8
    assert r.worst_hour_abandon_rate >= r.abandon_rate - 1e-9 or r.abandoned == 0
    assert r.connects_per_agent_hour == pytest.approx(r.connects / 40)
    assert r.abandoned > 0, "a fixed ratio of 3 for 5 operators does abandon calls"
    d = r.as_dict()
    assert {"occupancy", "abandon_rate", "dials", "answers", "abandoned"} <= d.keys()


def test_drifting_answer_rate_changes_answers_over_the_day() -> None:
    s = SCENARIOS["S5"]
    assert s.answer_probability(0.0) == pytest.approx(0.34)
    assert s.answer_probability(s.shift_seconds / 2) == pytest.approx(0.10)
    r = simulate(s, ProgressivePacing(), 0)
    # progressive answers per hour follow the answer rate: more at the ends than mid-shift
    assert r.hourly_answers[0] > r.hourly_answers[3]
    assert r.hourly_answers[7] > r.hourly_answers[4]


def test_plain_protocol_policies_run_through_the_adapter() -> None:
    seen: list[PacingObservation] = []

    @attrs.define
    class Plain:
        def calls_to_launch(self, view: PacingView) -> int:
            assert isinstance(view, PacingView)
            return max(0, view.agents_idle - view.dialing - view.waiting)

        def observe(self, observation: PacingObservation) -> None:
            seen.append(observation)

    s = attrs.evolve(SCENARIOS["S2"], hours=1.0)
    plain = simulate(s, Plain(), 3)
    fast = simulate(s, ProgressivePacing(), 3)
    assert (plain.dials, plain.answers, plain.busy_seconds) == (
        fast.dials,
        fast.answers,
        fast.busy_seconds,
    )
    assert len([o for o in seen if o.kind.value == "dialed"]) == plain.dials


def test_broadcast_fills_the_line_limit() -> None:
    s = attrs.evolve(SCENARIOS["S1"], hours=0.5, lines=10)
    r = simulate(s, BroadcastPacing(), 0)
    # ten lines kept busy: a line cycle is 0.7 x 25 s unanswered or 0.3 x (15 s ring + 120 s talk)
    cycle = 0.7 * 25 + 0.3 * (15 + 120)
    assert 0.85 * 10 * 1800 / cycle < r.dials < 1.15 * 10 * 1800 / cycle


def test_talk_oracle_runs_as_a_reference() -> None:
    r = simulate(attrs.evolve(SCENARIOS["S1"], hours=2.0), TalkOracle(), 0)
    assert r.occupancy > 0.75


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"agents": 0}, "agents"),
        ({"answer_rate": 0.0}, "answer_rate"),
        ({"answer_rate": 0.2, "answer_rate_drift": 0.3}, "answer_rate_drift"),
        ({"ring_min": 10.0, "ring_max": 5.0}, "ring_max"),
        ({"talk_mean": 0.0}, "talk_mean"),
        ({"hours": -1.0}, "hours"),
        ({"contacts": -5}, "contacts"),
        ({"ring_max": 26.0}, "ring_max"),
        ({"ring_min": 1.0, "ring_max": 60.0, "no_answer_timeout": 59.0}, "ring_max"),
        ({"answer_rate_schedule": "0:0.3,1h:0", "hours": 2.0}, "answer_rate_schedule"),
        ({"answer_rate_schedule": "0:0.3", "answer_rate_drift": 0.1}, "answer_rate_schedule"),
        ({"answer_rate_schedule": [(0, 0.3), (0, 0.2)]}, "answer_rate_schedule"),
        ({"answer_rate_schedule": [(0, 0.3, 9)]}, "answer_rate_schedule"),
    ],
)
def test_bad_scenarios_name_the_field(changes: dict[str, float], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        Scenario(**changes)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_ring_longer_than_the_timeout_is_refused_with_both_numbers() -> None:
    with pytest.raises(SettingsError, match=r"longest ring \(60 s\).*no-answer timeout \(25 s\)"):
        Scenario(ring_min=1.0, ring_max=60.0)
    assert Scenario(ring_min=1.0, ring_max=60.0, no_answer_timeout=60.0).ring_max == 60.0


def test_an_answer_rate_schedule_steps_at_its_starts() -> None:
    s = Scenario(answer_rate_schedule="0:0.35, 2h:0.08, 150m:0.2", hours=4.0)
    assert s.answer_rate_schedule == ((0.0, 0.35), (7200.0, 0.08), (9000.0, 0.2))
    assert s.answer_probability(0.0) == 0.35
    assert s.answer_probability(7199.9) == 0.35
    assert s.answer_probability(7200.0) == 0.08
    assert s.answer_probability(9000.0) == 0.2
    assert s.answer_probability(4 * 3600.0) == 0.2
    pairs = Scenario(answer_rate_schedule=[(0, 0.35), (7200, 0.08)])
    assert pairs.answer_rate_schedule == s.answer_rate_schedule[:2]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0:0.35,2h", "step 2 '2h': expected START:RATE"),
        ("0:0.35,2h:x", "step 2 '2h:x': the rate 'x' is not a number"),
        ("30m:0.35", "the first step must start at 0"),
        ("0:0.35,2h:0.1,1h:0.2", "step 3: starts must increase"),
        ("0:1.2", "step 1: the answer rate must be in (0, 1]"),
        ("0:0.3,later:0.1", "step 2 start"),
    ],
)
def test_a_bad_schedule_names_the_step(text: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        Scenario(answer_rate_schedule=text)
    assert info.value.field.startswith("answer_rate_schedule")
    assert words in str(info.value)


def test_a_step_down_in_the_answer_rate_is_what_the_people_do() -> None:
    # common random numbers: the same people, but after the step far fewer answer
    stepped = Scenario(answer_rate_schedule="0:0.35,1h:0.08", hours=2.0)
    r = simulate(stepped, ProgressivePacing(), 4)
    first, second = r.hourly_answers
    assert second < 0.5 * first
