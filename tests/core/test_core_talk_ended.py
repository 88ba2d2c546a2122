"""Each answered call ends once for pacing: TALK_ENDED if an operator talked with it, else ENDED.

TALK_ENDED used to come at the end of every answered call, message-only ones too, so a
predictive policy run by the core learnt the mean of operators' talks *and* of callees who
only listened (too short: over-dialling), and took an operator out of "talking" for a call no
operator had. Now TALK_ENDED carries only an operator's talk (from CONNECTED to the operator's
end, when wrap-up starts) and ENDED every other answered call's end; the abandon guard counts
both as ends.
"""

from __future__ import annotations

import math
import statistics

import attrs
import pytest

from autoinformer.backends.base import Bridged, CallAnswered, CallEnded
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.cli.demo import demo_contacts
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.core.operators import OperatorDesk
from autoinformer.outcomes import HangupCause, Outcome
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator, OperatorState
from autoinformer.script import Script, menu, say, transfer
from autoinformer.sim.driver import DEFAULT_START, Simulation
from autoinformer.sim.model import PopulationModel

T0 = DEFAULT_START
Ob = Observation
_ENDS = (Ob.NOT_ANSWERED, Ob.RELEASED, Ob.TALK_ENDED, Ob.ENDED)


@attrs.define(kw_only=True)
class Recorder:
    """Progressive pacing (one call per idle operator, or every free line without operators)
    that keeps every observation it hears."""

    seen: list[PacingObservation] = attrs.field(factory=list)

    def calls_to_launch(self, view: PacingView) -> int:
        if not view.agents_logged_in:
            return max(0, view.lines_free)
        return max(0, min(view.lines_free, view.agents_idle - view.dialing - view.waiting))

    def observe(self, observation: PacingObservation) -> None:
        self.seen.append(observation)

    def kinds(self) -> list[Observation]:
        return [o.kind for o in self.seen]

    def of(self, kind: Observation) -> PacingObservation:
        (only,) = [o for o in self.seen if o.kind is kind]
        return only


def _queue(n: int, *, max_wait: float = 30.0, wrapup: float = 0.0) -> QueueSettings:
    ops = tuple(Operator(f"op{i}", f"PJSIP/{100 + i}") for i in range(n))
    return QueueSettings(name="desk", operators=ops, max_wait=max_wait, wrapup=wrapup)


def _campaign(script: Script, *, queues: list[QueueSettings] | None = None) -> Campaign:
    return Campaign(
        timezone="UTC",
        name="ends",
        script=script,
        lines=1,
        queues=queues or [],
        retry=RetryPolicy.simple(attempts=1),
        abandon_cap=1.0,  # the Recorder hears everything itself (the guard has its own test)
    )


def _answered(core: DialerCore) -> tuple[str, list[c.Command]]:
    out = core.handle(T0, e.ContactsAdded([Contact(id="x", phones=("+79500000001",))]))
    call_id = next(cmd.call_id for cmd in out if isinstance(cmd, c.Originate))
    return call_id, core.handle(T0 + 2, CallAnswered(call_id))


def _leg(out: list[c.Command]) -> str:
    return next(cmd.call_id for cmd in out if isinstance(cmd, c.Originate) and cmd.operator)


def test_a_message_only_call_ends_with_ended_not_a_talk() -> None:
    pacing = Recorder()
    core = DialerCore(campaign=_campaign(Script.of(say("Your debt is due."))), pacing=pacing)
    call_id, _ = _answered(core)
    core.handle(T0 + 17, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert pacing.kinds() == [Ob.DIALED, Ob.ANSWERED, Ob.ENDED]
    assert pacing.of(Ob.ENDED).seconds == pytest.approx(15.0)  # since the answer


@pytest.mark.parametrize("first", ["operator", "callee"])
def test_a_transferred_call_reports_the_operators_talk_once_when_the_operator_is_done(
    first: str,
) -> None:
    pacing = Recorder()
    campaign = _campaign(Script.of(transfer("desk")), queues=[_queue(1, wrapup=10.0)])
    core = DialerCore(campaign=campaign, pacing=pacing)
    call_id, out = _answered(core)
    leg = _leg(out)
    core.handle(T0 + 4, CallAnswered(leg))
    core.handle(T0 + 4.5, Bridged(call_id, f"{call_id}-br"))
    assert pacing.kinds() == [Ob.DIALED, Ob.ANSWERED, Ob.CONNECTED]
    gone = CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True)
    done = CallEnded(leg, HangupCause.NORMAL_CLEARING, answered=True)
    if first == "operator":
        core.handle(T0 + 64.5, done)  # the operator ends the talk: wrap-up starts now
        assert pacing.kinds()[-1] is Ob.TALK_ENDED
        core.handle(T0 + 64.7, gone)
    else:
        core.handle(T0 + 64.5, gone)  # the callee leaves; the operator is still on the line
        assert pacing.kinds()[-1] is Ob.CONNECTED
        core.handle(T0 + 64.7, done)
    assert pacing.kinds() == [Ob.DIALED, Ob.ANSWERED, Ob.CONNECTED, Ob.TALK_ENDED]
    talk = pacing.of(Ob.TALK_ENDED)
    assert talk.now - talk.seconds == pytest.approx(T0 + 4.5)  # from the bridge, not the answer
    assert core.view(talk.now).agents_wrapup == 1  # the operator's wrap-up began with it


def test_an_abandoned_call_ends_with_ended_after_its_abandoned() -> None:
    pacing = Recorder()
    campaign = _campaign(Script.of(transfer("desk")), queues=[_queue(1, max_wait=20.0)])
    core = DialerCore(campaign=campaign, pacing=pacing)
    call_id, out = _answered(core)
    core.handle(T0 + 20, CallEnded(_leg(out), HangupCause.USER_BUSY))  # the operator is busy
    core.handle(T0 + 22.5, e.Tick())  # max_wait ran out: abandoned
    out = core.handle(T0 + 23, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert next(cmd.record for cmd in out if isinstance(cmd, c.Journal)).outcome is (
        Outcome.ABANDONED
    )
    assert pacing.kinds() == [Ob.DIALED, Ob.ANSWERED, Ob.ABANDONED, Ob.ENDED]
    assert pacing.of(Ob.ENDED).seconds == pytest.approx(21.0)


def _press_one(operators: int) -> Campaign:
    return Campaign(
        timezone="UTC",
        name="press 1",
        script=Script.of(
            say("Your debt is {BALANCE} RUB."),
            menu("Press 1 to talk to an operator.", {"1": transfer("desk")}, timeout=5),
        ),
        lines=3 * operators,
        queues=[_queue(operators, max_wait=20.0, wrapup=10.0)],
        retry=RetryPolicy.simple(attempts=1),
    )


def _run(pacing: object, *, operators: int, contacts: int, seed: int) -> Simulation:
    model = PopulationModel(seed=seed, digit_rates={"1": 0.25}, talk_median_s=90.0)
    sim = Simulation(campaign=_press_one(operators), model=model, pacing=pacing)  # type: ignore[arg-type]
    sim.at(T0, e.ContactsAdded(demo_contacts(contacts, seed)))
    sim.run()
    return sim


def test_every_launched_call_ends_once_for_pacing_and_the_guard_counts_every_end() -> None:
    pacing = Recorder()
    sim = _run(pacing, operators=3, contacts=400, seed=3)
    guard = sim.core.pacing
    assert isinstance(guard, AbandonGuard)  # the script transfers: the core guards the policy
    kinds = pacing.kinds()
    ends = sum(kinds.count(k) for k in _ENDS)
    assert kinds.count(Ob.DIALED) == ends == guard._ended  # each call ended once, all counted
    assert kinds.count(Ob.ANSWERED) == kinds.count(Ob.TALK_ENDED) + kinds.count(Ob.ENDED)
    assert kinds.count(Ob.CONNECTED) == kinds.count(Ob.TALK_ENDED) > 0
    assert kinds.count(Ob.ENDED) > 2 * kinds.count(Ob.TALK_ENDED)  # most callees only listened
    assert guard._dialed - guard._ended == 0  # nothing left in flight at the end


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class Watched(PredictivePacing):
    """PredictivePacing that compares, at each decision, the operators it believes talking
    with the desk's operators in a talk."""

    desk: list[OperatorDesk] = attrs.field(factory=list)
    decisions: int = 0
    wrong: int = 0

    def decide(
        self,
        now: float,
        lines_free: int,
        dialing: int,
        waiting: int,
        logged_in: int,
        idle: int,
        wrapup: int,
        talking: int,
    ) -> int:
        members = [m for q in self.desk[0].queues.values() for m in q.members]
        self.decisions += 1
        self.wrong += self._talking != sum(m.state is OperatorState.TALKING for m in members)
        return super().decide(now, lines_free, dialing, waiting, logged_in, idle, wrapup, talking)


def test_predictive_run_by_the_core_learns_the_operators_talk_not_the_mix() -> None:
    """Operators talk a log-normal time (median 90 s, sigma 0.7: mean 115 s, sd 88 s); three
    callees in four only listen to a message of some seconds. The policy's discounted mean
    (memory 400) of n talks has the variance of an average of ``n_eff`` of them,
    ``n_eff = (sum w)^2 / sum w^2`` with weights ``k^i``, ``k = 1 - 1/400``: it must land within
    four of its standard errors of the model's mean, which the old mix of every answered call's
    length (what TALK_ENDED used to carry) misses by far. Its count of operators talking is the
    desk's at every decision, and the wrap-ups it times (from each TALK_ENDED until the desk's
    wrap-up count drops, seen at the next decision: at most the core's 1 s poll later while
    contacts are due) come out at the queue's 10 s."""
    policy = Watched()
    model = PopulationModel(seed=5, digit_rates={"1": 0.25}, talk_median_s=90.0)
    sim = Simulation(campaign=_press_one(8), model=model, pacing=policy)
    policy.desk.append(sim.core._desk)
    sim.at(T0, e.ContactsAdded(demo_contacts(3000, 5)))
    sim.run()
    assert policy.decisions > 1000
    assert policy.wrong == 0
    assert 10.0 <= policy._wrap.mean <= 10.0 + 1.0
    sigma = model.talk_sigma
    mean = model.talk_median_s * math.exp(sigma * sigma / 2)
    sd = mean * math.sqrt(math.expm1(sigma * sigma))
    talks = [r for r in sim.result().records if r.outcome is Outcome.TRANSFERRED]
    n = len(talks)
    assert n >= 300
    k = 1.0 - 1.0 / 400.0
    n_eff = ((1 - k**n) / (1 - k)) ** 2 / ((1 - k ** (2 * n)) / (1 - k * k))
    tolerance = 4.0 * sd / math.sqrt(n_eff)
    assert policy.talk_mean == pytest.approx(mean, abs=tolerance)
    answered = [r for r in sim.result().records if r.answered_at is not None]
    mix = statistics.fmean(r.ended_at - r.answered_at for r in answered)  # type: ignore[operator]
    assert abs(mix - mean) > 2 * tolerance  # the test tells the two apart
