"""A whole campaign (the seed 000 flow: a greeting, a menu, an operator on 1) through the
runtime on AriSwitch and the fake ARI server: every test party ends as the convention says."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoinformer.backends.ari import AriSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.clock import ScaledClock
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, play, transfer
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.parties import PARTIES

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "ari"
SPEED = 5.0
"""Model seconds per real second. The fake's callees and the runtime's clock both run on real
time here, so every real millisecond the loop is late costs SPEED model milliseconds. The
tightest margins of the convention are 2 model seconds (p0 stays 12 s for a 10 s minimum; p6
leaves 2 s after answer, before its greeting ends): 400 ms of real lateness at this speed. At
10 it failed on a 2-core machine kept busy by other processes (a late answer made p0
hung_up_early; a late play reached p6 after it had gone)."""

CAMPAIGN = Campaign(
    name="seed000-ari",
    script=Script.of(
        play("sound:greeting"),
        menu("Press 1 for an operator.", {"1": transfer("operators")}, timeout=4),
    ),
    lines=10,
    min_delivered_seconds=10,
    retry=RetryPolicy.simple(attempts=1),
    queues=[
        QueueSettings(
            name="operators",
            operators=(Operator("anna", "PJSIP/operator-101"),),
            max_wait=10.0,
        )
    ],
)
CONTACTS = [Contact(id=f"p{d}", phones=(f"+7950000000{d}",)) for d in sorted(PARTIES)]


@pytest.mark.anyio
async def test_campaign_on_the_fake_asterisk() -> None:
    endpoint = "Local/{digits}@phones"  # the harder case: causes split over two halves
    clock = ScaledClock(speed=SPEED)
    store = MemoryStore()
    async with FakeAri(reference_dir=REFERENCE, time_scale=1 / SPEED) as fake:
        # The campaign file's keys, the password from the environment variable they name.
        switch = AriSwitch(
            url=fake.url,
            username=fake.username,
            password_env="FAKE_ARI_PASSWORD",
            endpoint=endpoint,
            environ={"FAKE_ARI_PASSWORD": fake.password},
        )
        async with switch:
            summary = await Runtime(campaign=CAMPAIGN, switch=switch, store=store, clock=clock).run(
                CONTACTS
            )
        assert fake.violations == []
        assert fake.pbx.channels == {}
    records = {r.contact_id: r for r in store.attempts(CAMPAIGN.name)}
    assert summary["attempts"] == len(CONTACTS)
    for digit, party in PARTIES.items():
        record = records[f"p{digit}"]
        assert record.outcome is party.expected, (digit, record)
        assert record.digits == party.expected_digits, (digit, record)
    assert records["p8"].outcome is Outcome.TRANSFERRED
