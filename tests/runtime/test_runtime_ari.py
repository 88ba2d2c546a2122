"""The runtime end to end over the wire: AriSwitch against the fake ARI server on 127.0.0.1,
with speech rendered to real WAV files (a tone engine, so no network and no espeak needed).

Virtual time (:mod:`autoinformer.testing.virtual_time`): the loop's clock jumps to the next
timer only when no byte is on the wire and no worker thread (a render, a store call) runs, so
the runtime reacts at the model instant an event happens however busy the machine is. On a
scaled real-time clock a reaction 40 ms late was a different call.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from autoinformer.backends.ari import AriSwitch
from autoinformer.backends.ari.settings import AriSettings
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, play, say, transfer
from autoinformer.speech.cache import FragmentCache
from autoinformer.speech.engines.tone import ToneEngine
from autoinformer.speech.renderer import EngineRenderer
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.parties import PARTIES
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

DEADLINE = 600.0  # virtual seconds: a hang fails at once, a slow machine never does


anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


@pytest.mark.anyio
async def test_campaign_over_ari_with_rendered_speech(tmp_path: Path) -> None:
    campaign = Campaign(
        timezone="UTC",
        name="ari",
        script=Script.of(
            play("sound:hello-world"),
            say("Your debt is {BALANCE} RUB."),
            menu("Press 1 for an operator.", {"1": transfer("operators")}),
        ),
        lines=5,
        queues=[
            QueueSettings(
                name="operators",
                operators=[Operator("anna", "PJSIP/operator-101")],
                ring_timeout=60.0,
                max_wait=90.0,
            )
        ],
        retry=RetryPolicy.simple(attempts=1),
    )
    # every party, 6 (hangs up 2 s after answer) and 0 (stays 12 s) included: in virtual
    # time their boundaries hold exactly
    digits = sorted(PARTIES)
    contacts = [
        Contact(id=f"p{d}", phones=(f"+7950000000{d}",), variables={"BALANCE": "-42"})
        for d in digits
    ]
    engine = ToneEngine()
    renderer = EngineRenderer(engine=engine, cache=FragmentCache(directory=tmp_path / "cache"))
    clock = LoopClock()
    store = MemoryStore()
    async with FakeAri(time_scale=1.0) as fake:
        settings = AriSettings(
            url=fake.url,
            username=fake.username,
            password=fake.password,
            endpoint="Local/{digits}@phones",
            sounds_dir=tmp_path / "sounds",
        )
        async with AriSwitch(settings=settings) as switch:
            runtime = Runtime(
                campaign=campaign, switch=switch, store=store, clock=clock, renderer=renderer
            )
            with anyio.fail_after(DEADLINE):
                summary = await runtime.run(contacts)
        assert fake.violations == []
    outcomes = {r.contact_id: r.outcome for r in store.attempts("ari")}
    details = {r.contact_id: (r.outcome, r.detail, r.cause) for r in store.attempts("ari")}
    assert outcomes == {f"p{d}": PARTIES[d].expected for d in digits}, details
    assert outcomes["p8"] is Outcome.TRANSFERRED
    assert summary["attempts"] == len(digits)
    assert engine.calls, "speech was rendered by the engine"
    assert any((tmp_path / "sounds").rglob("*.wav")), "rendered audio was handed to the switch"
