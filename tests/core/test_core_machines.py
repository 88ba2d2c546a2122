"""Answering machines are not live answers: the abandon cap's denominator leaves them out.

The core reports ``Observation.MACHINE`` once for a call that machine detection finds to be a
machine (after its ANSWERED), never for a person; the abandon guard takes it off the live
answers (47 CFR 64.1200(a)(7): abandons over live answers), so many machines cannot let the
true abandon rate pass the cap.
"""

from __future__ import annotations

import collections

import attrs
import pytest

from autoinformer.backends.base import CallAnswered, CallEnded, MachineDetected
from autoinformer.campaign import Campaign
from autoinformer.cli.demo import demo_campaign, demo_contacts
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.outcomes import HangupCause, Outcome
from autoinformer.pacing import BroadcastPacing
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.policy.retry import RetryPolicy
from autoinformer.script import Script, say
from autoinformer.sim.driver import DEFAULT_START, simulate
from autoinformer.sim.model import PopulationModel

_LIVE = (Outcome.DELIVERED, Outcome.HUNG_UP_EARLY, Outcome.TRANSFERRED, Outcome.ABANDONED)


@attrs.define(kw_only=True)
class Recorder:
    """Broadcast pacing that keeps every observation it hears."""

    seen: list[PacingObservation] = attrs.field(factory=list)

    def calls_to_launch(self, view: PacingView) -> int:
        return max(0, view.lines_free)

    def observe(self, observation: PacingObservation) -> None:
        self.seen.append(observation)

    def kinds(self) -> list[Observation]:
        return [o.kind for o in self.seen]


@attrs.define(kw_only=True)
class MachineBlindGuard(AbandonGuard):
    """The guard as it was: it never hears MACHINE, so machines count as live answers."""

    def observe(self, observation: PacingObservation) -> None:
        if observation.kind is not Observation.MACHINE:
            super().observe(observation)


def _feed(guard: AbandonGuard, kind: Observation, n: int) -> None:
    for _ in range(n):
        guard.observe(PacingObservation(kind, 0.0))


def test_guard_counts_abandons_over_live_answers_and_acts_on_it() -> None:
    guard = AbandonGuard(inner=BroadcastPacing(), cap=0.15, reserve=0.0)
    _feed(guard, Observation.DIALED, 20)
    _feed(guard, Observation.ANSWERED, 10)
    _feed(guard, Observation.NOT_ANSWERED, 10)
    _feed(guard, Observation.ENDED, 10)
    _feed(guard, Observation.ABANDONED, 1)
    view = PacingView(now=0.0, lines_free=10, agents_idle=2)
    assert guard.rate() == pytest.approx(0.1)  # 1 of 10 answers: under 15%
    assert guard.calls_to_launch(view) > 2  # the budget covers more than the idle operators
    limited = guard.limited  # (z keeps the spread in hand: the 10 lines may be held back)
    _feed(guard, Observation.MACHINE, 5)  # half the answers were machines
    assert (guard.answers, guard.machines) == (5, 5)
    assert guard.rate() == pytest.approx(0.2)  # 1 of 5 live answers: over the cap
    assert guard.calls_to_launch(view) == 2  # progressive: one call per idle operator
    assert guard.limited == limited + 1


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "machines",
        "timezone": "UTC",
        "script": Script.of(say("Your debt is {BALANCE} RUB.")),
        "lines": 1,
        "retry": RetryPolicy.simple(attempts=1),
        "machine_detection": True,
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


def _start(core: DialerCore) -> str:
    contact = Contact(id="a", phones=("+79500000001",), variables={"BALANCE": "-5.00"})
    out = core.handle(DEFAULT_START, e.ContactsAdded([contact]))
    return next(cmd.call_id for cmd in out if isinstance(cmd, c.Originate))


@pytest.mark.parametrize("on_machine", ["hangup", "leave_message"])
def test_core_reports_a_machine_once_after_its_answer(on_machine: str) -> None:
    pacing = Recorder()
    core = DialerCore(campaign=_campaign(on_machine=on_machine), pacing=pacing)
    call_id = _start(core)
    t = DEFAULT_START
    core.handle(t + 6.0, CallAnswered(call_id))
    assert Observation.MACHINE not in pacing.kinds()  # detection has not decided yet
    core.handle(t + 8.0, MachineDetected(call_id, machine=True))
    core.handle(t + 9.0, MachineDetected(call_id, machine=True, beep=True))  # the beep
    core.handle(t + 9.5, MachineDetected(call_id, machine=True))  # a repeated verdict
    core.handle(t + 30.0, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    kinds = pacing.kinds()
    assert kinds.count(Observation.MACHINE) == 1
    assert kinds.index(Observation.ANSWERED) < kinds.index(Observation.MACHINE)
    machine = next(o for o in pacing.seen if o.kind is Observation.MACHINE)
    assert (machine.now, machine.seconds) == (t + 8.0, pytest.approx(2.0))  # since the answer


def test_core_reports_a_machine_the_switch_found_at_the_answer() -> None:
    pacing = Recorder()
    core = DialerCore(campaign=_campaign(), pacing=pacing)
    call_id = _start(core)
    core.handle(DEFAULT_START + 4.0, CallAnswered(call_id, machine=True))
    core.handle(DEFAULT_START + 5.0, MachineDetected(call_id, machine=True))
    assert pacing.kinds().count(Observation.MACHINE) == 1
    assert pacing.kinds()[-1] is Observation.MACHINE


@pytest.mark.parametrize("verdict", ["person", "no verdict"])
def test_core_never_reports_a_person_as_a_machine(verdict: str) -> None:
    pacing = Recorder()
    core = DialerCore(campaign=_campaign(), pacing=pacing)
    call_id = _start(core)
    core.handle(DEFAULT_START + 6.0, CallAnswered(call_id))
    if verdict == "person":
        core.handle(DEFAULT_START + 8.0, MachineDetected(call_id, machine=False))
    core.handle(DEFAULT_START + 12.0, e.Tick())  # the detection wait (5 s) has passed
    core.handle(DEFAULT_START + 40.0, CallEnded(call_id, HangupCause.NORMAL_CLEARING, True))
    kinds = pacing.kinds()
    assert Observation.ANSWERED in kinds
    assert Observation.ENDED in kinds  # the message-only call ended, no operator talked
    assert Observation.TALK_ENDED not in kinds
    assert Observation.MACHINE not in kinds


def test_virtual_time_simulator_reports_each_machine_once_after_its_answer() -> None:
    pacing = Recorder()
    contacts = demo_contacts(150, 4)
    campaign = _campaign(lines=5)
    model = PopulationModel(seed=4, machine_rate=0.5)
    result = simulate(campaign, contacts, model=model, pacing=pacing)
    machines = [r for r in result.records if r.machine]
    people = [r for r in result.records if r.answered_at is not None and not r.machine]
    assert len(machines) > 20
    assert len(people) > 20
    reported = [o for o in pacing.seen if o.kind is Observation.MACHINE]
    answers = sorted(r.answered_at for r in machines if r.answered_at is not None)
    assert sorted(o.now - o.seconds for o in reported) == pytest.approx(answers)
    assert all(o.seconds > 0.0 for o in reported)  # the model's detection takes seconds
    assert pacing.kinds().count(Observation.ANSWERED) == len(machines) + len(people)


@pytest.mark.parametrize("seed", [1, 2])
def test_many_machines_no_longer_let_the_live_abandon_rate_pass_the_cap(seed: int) -> None:
    campaign = attrs.evolve(demo_campaign(), machine_detection=True)
    contacts = demo_contacts(400, seed)

    def run(guard: AbandonGuard) -> tuple[int, int]:
        model = PopulationModel(
            seed=seed, machine_rate=0.6, digit_rates={"1": 0.5}, talk_median_s=60.0
        )
        result = simulate(campaign, contacts, model=model, pacing=guard)
        outcomes = collections.Counter(r.outcome for r in result.records)
        live = sum(outcomes[o] for o in _LIVE)
        assert outcomes[Outcome.MACHINE] > live  # most answers are machines
        return live, outcomes[Outcome.ABANDONED]

    guard = AbandonGuard(inner=BroadcastPacing())
    live, abandoned = run(guard)
    assert guard.answers == live  # its denominator is the live answers, exactly
    assert abandoned <= 0.03 * live
    # counting the machines as live answers, the same guard lets the true rate pass the cap
    live, abandoned = run(MachineBlindGuard(inner=BroadcastPacing()))
    assert abandoned > 0.03 * live
