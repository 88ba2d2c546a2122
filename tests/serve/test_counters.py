"""The live counters agree with the statistics module on the same records."""

from __future__ import annotations

import random

from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.serve._counters import LiveCounters
from autoinformer.stats import CampaignStats


def records(n: int, seed: int) -> list[AttemptRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        outcome = rng.choice([*Outcome, None])
        started = 1_767_261_600.0 + rng.uniform(0, 8 * 3600)
        answered = outcome is not None and outcome.answered
        out.append(
            AttemptRecord(
                attempt_id=f"a{i}",
                campaign="c",
                contact_id=f"c{i % 50}",
                attempt_no=1 + i // 50,
                number="+74951234567",
                caller_id=None,
                started_at=started,
                answered_at=started + 5 if answered else None,
                ended_at=None if outcome is None else started + 30,
                outcome=outcome,
                machine=outcome is Outcome.MACHINE or (answered and rng.random() < 0.1),
            )
        )
    return out


def test_live_counters_match_campaign_stats() -> None:
    for seed in range(5):
        batch = records(400, seed)
        live = LiveCounters(timezone="Europe/Moscow").add_all(batch)
        stats = CampaignStats.from_records(batch, timezone="Europe/Moscow")
        assert live.attempts == stats.attempts
        assert live.outcomes == {o.value: n for o, n in stats.by_outcome.items()}
        assert live.answered == stats.answered
        assert live.machines == stats.machines
        expected = None if stats.abandon_rate is None else round(stats.abandon_rate, 4)
        assert live.abandon_rate == expected
        per_hour = {h: sum(c.values()) for h, c in stats.by_hour.items()}
        assert {h["hour"]: h["attempts"] for h in live.calls_per_hour()} == per_hour


def test_nothing_answered_has_no_abandon_rate() -> None:
    live = LiveCounters()
    assert live.abandon_rate is None
    assert live.calls_per_hour() == []
