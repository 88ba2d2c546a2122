"""A whole campaign (the seed 000 flow: a greeting, a menu, an operator on 1) through the
runtime on AriSwitch and the fake ARI server: every test party ends as the convention says.

Virtual time (:mod:`autoinformer.testing.virtual_time`): the fake's callees and the runtime's
clock run on the event loop's clock, which jumps to the next timer only when no byte is on the
wire and no worker thread runs. The tightest margins of the convention are 2 model seconds
(p0 stays 12 s for a 10 s minimum; p6 leaves 2 s after answer, before its greeting ends); on a
scaled real-time clock a loaded 2-core machine blurred them (a late answer made p0
hung_up_early; a late play reached p6 after it had gone), in virtual time they hold exactly.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from autoinformer.backends.ari import AriSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, play, transfer
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.ari_spec import bundled_reference_dir
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.parties import PARTIES
from autoinformer.testing.speech import tone_renderer
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

REFERENCE = bundled_reference_dir()
DEADLINE = 600.0  # virtual seconds: a hang fails at once, a slow machine never does

CAMPAIGN = Campaign(
    timezone="UTC",
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


anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


@pytest.mark.anyio
async def test_campaign_on_the_fake_asterisk(tmp_path: Path) -> None:
    endpoint = "Local/{digits}@phones"  # the harder case: causes split over two halves
    clock = LoopClock()
    store = MemoryStore()
    async with FakeAri(reference_dir=REFERENCE, time_scale=1.0) as fake:
        # The campaign file's keys, the password from the environment variable they name.
        switch = AriSwitch(
            url=fake.url,
            username=fake.username,
            password_env="FAKE_ARI_PASSWORD",
            endpoint=endpoint,
            environ={"FAKE_ARI_PASSWORD": fake.password},
            sounds_dir=tmp_path / "sounds",
        )
        renderer = tone_renderer(tmp_path / "speech")
        runtime = Runtime(
            campaign=CAMPAIGN, switch=switch, store=store, clock=clock, renderer=renderer
        )
        async with switch:
            with anyio.fail_after(DEADLINE):
                summary = await runtime.run(CONTACTS)
        assert fake.violations == []
        assert fake.pbx.channels == {}
    records = {r.contact_id: r for r in store.attempts(CAMPAIGN.name)}
    assert summary["attempts"] == len(CONTACTS)
    for digit, party in PARTIES.items():
        record = records[f"p{digit}"]
        assert record.outcome is party.expected, (digit, record)
        assert record.digits == party.expected_digits, (digit, record)
    assert records["p8"].outcome is Outcome.TRANSFERRED
