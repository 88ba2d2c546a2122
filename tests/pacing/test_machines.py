"""Answering machines in the policies: not live answers, and no demand for operators.

``Observation.MACHINE`` follows the ANSWERED of a call that machine detection found to be a
machine. Predictive pacing takes it off the live answers its abandon budget counts, off its
answer rate and its ring times; the baselines that keep a drop rate take it off their answers.
The simulator has no machines, so none of this changes a benchmark figure (tests/pacing/
test_sim.py and the suite hold those).
"""

from __future__ import annotations

import pytest

from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.pacing.baselines import UccxPacing, VicidialMethod, VicidialPacing
from autoinformer.pacing.estimators import DiscountedRate, RingHistogram
from autoinformer.pacing.predictive import PredictivePacing

VIEW = PacingView(now=400.0, lines_free=100, agents_logged_in=10, agents_idle=10)


def _feed(policy: object, now: float, kind: Observation, seconds: float = 0.0) -> None:
    policy.observe(PacingObservation(kind, now, seconds))  # type: ignore[attr-defined]


def _hundred_answers_of_three_hundred(policy: PredictivePacing, abandons: int) -> None:
    for i in range(300):
        _feed(policy, float(i), Observation.DIALED)
        if i % 3 == 0:
            _feed(policy, i + 8.0, Observation.ANSWERED, 8.0)
        else:
            _feed(policy, i + 30.0, Observation.NOT_ANSWERED, 30.0)
    for i in range(abandons):
        _feed(policy, 350.0 + i, Observation.ABANDONED, 2.0)


def test_predictive_budget_counts_live_answers_only() -> None:
    people, machines = PredictivePacing(), PredictivePacing()
    for policy in (people, machines):
        _hundred_answers_of_three_hundred(policy, abandons=2)
    for i in range(60):  # 60 of the 100 answers were machines: 40 live answers
        _feed(machines, 360.0 + i, Observation.MACHINE, 8.0)
    # 2 abandons of 100 answers leave a budget (3% of 100 - 2 = 1 abandon): it predicts
    assert people.calls_to_launch(VIEW) > VIEW.agents_idle
    # of 40 live answers, 2 abandons are 5%: over the cap, it falls back to progressive
    assert machines.calls_to_launch(VIEW) == VIEW.agents_idle
    assert machines.safety > people.safety  # and its controller is more careful


def test_a_machine_answer_is_no_demand_for_operators() -> None:
    # every third call answers; every other answer is a machine, its verdict 3 s after the
    # answer and reported five calls later: to the answer rate, as if it had not answered
    heard, told = PredictivePacing(), PredictivePacing()
    verdicts: dict[int, float] = {}
    for i in range(300):
        for policy in (heard, told):
            _feed(policy, float(i), Observation.DIALED)
        if i % 3:
            for policy in (heard, told):
                _feed(policy, i + 30.0, Observation.NOT_ANSWERED, 30.0)
        elif i % 6:
            for policy in (heard, told):
                _feed(policy, i + 8.0, Observation.ANSWERED, 8.0)
        else:
            _feed(heard, i + 8.0, Observation.ANSWERED, 8.0)
            _feed(told, i + 8.0, Observation.NOT_ANSWERED, 8.0)
            verdicts[i + 5] = i + 8.0
        if i in verdicts:
            _feed(heard, verdicts[i] + 3.0, Observation.MACHINE, 3.0)
    assert heard.answer_rate == pytest.approx(told.answer_rate, rel=1e-9)
    assert heard.answer_rate == pytest.approx(1 / 6, rel=0.1)


def test_discounted_rate_retract_turns_a_success_into_a_failure() -> None:
    rate, plain = DiscountedRate(memory=50.0), DiscountedRate(memory=50.0)
    for i in range(100):
        rate.add(i % 2 == 0)
        plain.add(i % 2 == 0 and i != 90)
    rate.retract(since=9)  # the success nine trials ago was a machine
    assert rate.value == pytest.approx(plain.value, rel=1e-12)
    assert rate.count == plain.count
    empty = DiscountedRate()
    empty.retract(since=0)
    assert empty.successes == 0.0


def test_ring_histogram_remove_undoes_add() -> None:
    hist, other = RingHistogram(), RingHistogram()
    for s in (3.5, 8.2, 8.9, 12.0, 70.0):
        hist.add(s)
    for s in (3.5, 8.9, 12.0):
        other.add(s)
    hist.remove(8.2)
    hist.remove(70.0)  # past the last bin, as add put it
    assert hist.counts == other.counts
    assert (hist.total, hist.mean) == (other.total, pytest.approx(other.mean))
    hist.remove(30.0)  # nothing there: nothing to take back
    assert hist.total == other.total


@pytest.mark.parametrize("method", [VicidialMethod.ADAPT_HARD_LIMIT, VicidialMethod.ADAPT_AVERAGE])
def test_vicidial_drop_percentage_is_over_live_answers(method: VicidialMethod) -> None:
    def level(machines: int) -> float:
        vd = VicidialPacing(method=method, dial_level=2.5)
        for _ in range(100):
            _feed(vd, 0.0, Observation.ANSWERED, 10.0)
        for _ in range(machines):
            _feed(vd, 0.0, Observation.MACHINE, 10.0)
        for _ in range(2):  # 2% of 100 answers, 4% of 50 live ones
            _feed(vd, 0.0, Observation.ABANDONED, 2.0)
        for t in (0.0, 16.0):  # no agent ready: the differential alone lowers no level
            vd.calls_to_launch(
                PacingView(now=t, lines_free=99, agents_logged_in=10, agents_talking=10)
            )
        return vd.level

    assert level(0) == 2.5  # under the 3% drop percentage: the level holds
    assert level(50) < 2.5  # over it: cut (to 1.0, or in proportion)


def test_uccx_window_counts_live_answers() -> None:
    people, machines = UccxPacing(correction_pace=10), UccxPacing(correction_pace=10)
    for i in range(10):
        for policy in (people, machines):
            _feed(policy, float(i), Observation.ANSWERED, 10.0)
        _feed(machines, float(i), Observation.MACHINE, 0.0)  # (the verdict at once)
    assert people.ratio > 1.5  # ten live answers, no abandon: bolder
    assert machines.ratio == 1.5  # no live answer yet: the window is still open


def test_uccx_a_machine_heard_before_the_window_opened_is_not_taken_off_it() -> None:
    def policy() -> UccxPacing:
        p = UccxPacing(correction_pace=3)
        for t in (0.0, 1.0, 2.0):  # the third answer closes the first window
            _feed(p, t, Observation.ANSWERED, 8.0)
        assert p.ratio > 1.5
        return p

    late, current = policy(), policy()
    ratio = late.ratio
    for p in (late, current):
        _feed(p, 2.5, Observation.ANSWERED, 8.0)  # the new window's first answer
    _feed(late, 4.0, Observation.MACHINE, 2.0)  # the answer heard at 2.0: the closed window's
    _feed(current, 4.0, Observation.MACHINE, 1.5)  # the one heard at 2.5: this window's
    for p in (late, current):
        _feed(p, 5.0, Observation.ANSWERED, 8.0)
        _feed(p, 6.0, Observation.ANSWERED, 8.0)
    assert late.ratio > ratio  # three live answers in the window: it closed
    assert current.ratio == ratio  # two live answers (one was a machine): still open
