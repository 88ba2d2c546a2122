"""Invariants of the core over random campaigns (hypothesis), run in virtual time."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState
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
