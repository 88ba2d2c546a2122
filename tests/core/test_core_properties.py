"""Invariants of the core over random campaigns (hypothesis), run in virtual time."""

from __future__ import annotations

import itertools

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.script import Script, menu, play, transfer
from autoinformer.sim.driver import simulate

FINAL = {ContactState.DONE, ContactState.EXHAUSTED, ContactState.SKIPPED}


@settings(max_examples=30, deadline=None)
@given(
    digits=st.lists(st.sampled_from("0123456789"), min_size=1, max_size=25),
    lines=st.integers(min_value=1, max_value=6),
    attempts=st.integers(min_value=1, max_value=4),
    operators=st.integers(min_value=1, max_value=3),
    max_wait=st.sampled_from([0.5, 3.0, 30.0]),
)
def test_campaign_invariants(
    digits: list[str], lines: int, attempts: int, operators: int, max_wait: float
) -> None:
    campaign = Campaign(
        timezone="UTC",
        name="prop",
        script=Script.of(play("sound:hello"), menu("Press 1.", {"1": transfer("ops")})),
        lines=lines,
        retry=RetryPolicy.simple(attempts=attempts, interval="5m"),
        queues=[
            QueueSettings(
                name="ops",
                operators=[Operator(f"op{i}", f"PJSIP/{100 + i}") for i in range(operators)],
                max_wait=max_wait,
            )
        ],
    )
    contacts = [Contact(id=f"c{i}", phones=(f"+7950{i:06d}{d}",)) for i, d in enumerate(digits)]
    result = simulate(campaign, contacts)
    records = result.records
    # every contact is finished, with a final state
    assert {p.state for p in result.progress.values()} <= FINAL
    assert set(result.progress) == {c.id for c in contacts}
    # attempts: numbered 1..n without holes, never above the budget, results for all
    for contact in contacts:
        numbers = [r.attempt_no for r in records if r.contact_id == contact.id]
        assert numbers == list(range(1, len(numbers) + 1))
        assert len(numbers) <= attempts
        assert result.progress[contact.id].attempts == len(numbers)
    assert all(r.outcome is not None and r.ended_at is not None for r in records)
    assert sum(result.outcomes().values()) == len(records)
    # the line limit is a hard cap at every moment
    edges = sorted(
        itertools.chain(
            ((r.started_at, 1) for r in records), ((r.ended_at or 0.0, -1) for r in records)
        ),
        key=lambda edge: (edge[0], edge[1]),
    )
    level = 0
    for _, step in edges:
        level += step
        assert level <= lines
    # reached contacts are done, and only those
    for contact in contacts:
        reached = any(
            r.contact_id == contact.id and r.outcome.value in ("delivered", "transferred")
            for r in records
            if r.outcome is not None
        )
        assert reached == (result.progress[contact.id].state is ContactState.DONE)


@attrs.define(kw_only=True)
class _ScriptedRelease:
    """Broadcast launches; releases what the drawn script says at each ask."""

    release_after: float
    answers: list[int]
    asks: int = 0
    released: list[float] = attrs.field(factory=list)

    def calls_to_launch(self, view: PacingView) -> int:
        return view.lines_free

    def calls_to_release(self, view: PacingView) -> int:
        self.asks += 1
        return self.answers[self.asks % len(self.answers)]

    def observe(self, observation: PacingObservation) -> None:
        if observation.kind is Observation.RELEASED:
            self.released.append(observation.seconds)


@settings(max_examples=30, deadline=None)
@given(
    digits=st.lists(st.sampled_from("0123456789"), min_size=1, max_size=20),
    lines=st.integers(min_value=1, max_value=6),
    attempts=st.integers(min_value=1, max_value=3),
    after=st.floats(min_value=15.0, max_value=35.0),
    answers=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=8),
)
def test_releases_only_old_ringing_calls_and_every_release_is_recorded(
    digits: list[str], lines: int, attempts: int, after: float, answers: list[int]
) -> None:
    campaign = Campaign(
        timezone="UTC",
        name="rel",
        script=Script.of(play("sound:hello")),
        lines=lines,
        retry=RetryPolicy(attempts=attempts, default_delay=300.0, ring_timeout=30),
    )
    contacts = [Contact(id=f"c{i}", phones=(f"+7950{i:06d}{d}",)) for i, d in enumerate(digits)]
    pacing = _ScriptedRelease(release_after=after, answers=answers)
    result = simulate(campaign, contacts, pacing=pacing)
    assert {p.state for p in result.progress.values()} <= FINAL
    released = [r for r in result.records if "released by the dialer" in r.detail]
    assert len(released) == len(pacing.released)  # each release reported once, recorded once
    for record in released:
        assert record.outcome is Outcome.NO_ANSWER
        assert record.cause == 16
        assert record.answered_at is None
        assert record.ended_at is not None
        assert record.ended_at - record.started_at >= after
    assert all(seconds >= after for seconds in pacing.released)
    # a call that answered was never released; one that rang past the timeout cannot have been
    assert not any(r.answered_at is not None for r in released)
    assert all(r.ended_at is not None and r.ended_at - r.started_at < 30 + 1 for r in released)
    # party 3 rings until the timeout: asked once a second while it is eligible, the policy's
    # script comes round to a non-zero answer before the timeout
    if "3" in digits and any(answers) and after <= 30 - len(answers) - 1:
        assert released
