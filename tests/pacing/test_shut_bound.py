"""The shut valve's bound (``benchmarks/pacing/shut_bound.py``): its oracles know what they
claim to know, so the table's steps measure information and nothing else."""

from __future__ import annotations

import bisect
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from autoinformer.pacing.base import Observation
from autoinformer.sim.pacing import SCENARIOS, simulate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "pacing"))
import shut_bound

SHORT_S2 = attrs.evolve(SCENARIOS["S2"], hours=1.0)
SHORT_S5 = attrs.evolve(SCENARIOS["S5"], hours=1.0)


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class _Counting(shut_bound.ToldFates):
    """The fates oracle, counting the answers it foresaw and those it did not."""

    foreseen: list[int] = attrs.field(factory=lambda: [0, 0])

    def note(self, kind: Observation, now: float, seconds: float) -> None:
        if kind is Observation.ANSWERED:
            answers = self._answers_at
            i = bisect.bisect_left(answers, now - 1e-9)
            hit = i < len(answers) and abs(answers[i] - now) < 1e-6
            self.foreseen[0 if hit else 1] += 1
        super().note(kind, now, seconds)


@pytest.mark.parametrize("scenario", [SHORT_S2, SHORT_S5], ids=["S2", "S5 drifting"])
def test_the_fates_oracle_foresees_every_answer_the_simulator_delivers(scenario: Any) -> None:
    policy = _Counting(release_after=None, scenario=scenario, seed=4, **shut_bound.FIXED)
    result = simulate(scenario, policy, 4)
    assert result.answers > 100
    assert policy.foreseen == [result.answers, 0]


def test_the_fates_oracle_replays_the_seed_it_is_given_not_another() -> None:
    policy = _Counting(release_after=None, scenario=SHORT_S2, seed=5, **shut_bound.FIXED)
    simulate(SHORT_S2, policy, 4)
    assert policy.foreseen[1] > policy.foreseen[0]


def test_the_told_policy_learns_nothing_it_was_told() -> None:
    told = shut_bound.make("shut, true parameters", "S5", 0, 2.0)
    assert isinstance(told, shut_bound.Told)
    told.decide(7200.0, 100, 0, 0, 20, 20, 0, 0)
    assert told.answer_rate == pytest.approx(SCENARIOS["S5"].answer_probability(7200.0))
    for _ in range(50):  # short talks and rings seen: the told values stay
        told.note(Observation.ANSWERED, 7300.0, 1.0)
        told.note(Observation.TALK_ENDED, 7300.0, 3.0)
    assert told._mean_talk(7300.0) == 120.0
    assert told._ring.mean == 15.0


def test_the_crossing_is_read_where_the_pooled_rate_meets_the_cap() -> None:
    points = [
        {"z": 1.0, "abandon_pooled": 0.05, "occupancy": 0.9, "released_per_agent_hour": 0.0,
         "forgone_per_agent_hour": 0.0},
        {"z": 2.0, "abandon_pooled": 0.01, "occupancy": 0.8, "released_per_agent_hour": 0.0,
         "forgone_per_agent_hour": 0.0},
    ]  # fmt: skip
    at = shut_bound.crossing(points)
    assert at is not None
    assert at["z"] == pytest.approx(1.5)
    assert at["occupancy"] == pytest.approx(0.85)
    assert shut_bound.crossing(points[:1]) is None
