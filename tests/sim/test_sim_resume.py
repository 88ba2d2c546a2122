"""A virtual-time run stopped and resumed meets each callee's *next* fate, not the first again.

The model draws attempt k of number N from (seed, N, k); k is the contact's own attempt number
(journaled, the ``AUTOINFORMER_ATTEMPT`` variable), not a count kept in the process's memory, so
a resumed process does not replay the first attempt's fate for every retry.
"""

from __future__ import annotations

from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.policy.retry import RetryPolicy
from autoinformer.script import Script, play
from autoinformer.sim.driver import DEFAULT_START, simulate
from autoinformer.sim.model import PopulationModel
from autoinformer.store.memory import MemoryStore

CAMPAIGN = Campaign(
    name="resume",
    timezone="UTC",
    script=Script.of(play("sound:message")),
    lines=20,
    retry=RetryPolicy.simple(attempts=4, interval="5m"),
)
MODEL = PopulationModel(seed=7, answer_rate=0.3)  # many retries
CONTACTS = [Contact(id=f"c{i}", phones=(f"+7950{i:07d}",)) for i in range(300)]


def _fates(records: object) -> dict[tuple[str, int], str]:
    return {
        (r.contact_id, r.attempt_no): r.outcome.value  # type: ignore[attr-defined]
        for r in records  # type: ignore[attr-defined]
        if r.outcome is not None and r.outcome.value != "unknown"  # type: ignore[attr-defined]
    }


def test_a_resumed_run_draws_each_retry_from_its_attempt_number() -> None:
    whole = _fates(simulate(CAMPAIGN, CONTACTS, model=MODEL).records)

    store = MemoryStore()
    simulate(CAMPAIGN, CONTACTS, model=MODEL, store=store, until=DEFAULT_START + 600)
    resumed = simulate(CAMPAIGN, CONTACTS, model=MODEL, store=store)
    after = _fates(store.attempts(CAMPAIGN.name))

    retries_after_resume = [
        r for r in resumed.records if r.attempt_no > 1 and r.outcome.value != "unknown"
    ]
    assert len(retries_after_resume) > 50, "the resumed run made too few retries: test too weak"
    # A broadcast message's outcome is the callee's fate alone: every attempt both runs made
    # came to the same outcome (a replayed first fate would differ for many of them).
    common = whole.keys() & after.keys()
    assert len(common) > 300
    differ = {k: (whole[k], after[k]) for k in common if whole[k] != after[k]}
    assert not differ
    done = sum(1 for p in store.contacts(CAMPAIGN.name) if p[1].state.value == "done")
    assert done > 0
