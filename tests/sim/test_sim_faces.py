"""Both faces of the simulator, one model: the virtual-time driver and the runtime on SimSwitch
give every contact the same outcome and digits for the same seed.

The runtime runs in virtual time too (:mod:`autoinformer.testing.virtual_time`): the event
loop's clock jumps to the next timer whenever nothing is ready and no worker thread (a store
call) is running. Real
(scaled) time made the comparison depend on how quickly a busy CI machine schedules the runtime
(a reaction 30 ms late at speed 25 is 0.75 model seconds: past party 7's closest margin).
"""

from __future__ import annotations

import pytest

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, play, transfer
from autoinformer.sim.driver import simulate
from autoinformer.sim.model import PartiesModel
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.parties import PARTIES
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

CAMPAIGN = Campaign(
    timezone="UTC",
    name="faces",
    script=Script.of(
        play("sound:greeting"),
        menu("Press 1 for an operator.", {"1": transfer("operators")}, timeout=4),
    ),
    lines=10,
    min_delivered_seconds=10,
    retry=RetryPolicy.simple(attempts=1),
    queues=[
        QueueSettings(name="operators", operators=(Operator("anna", "PJSIP/101"),), max_wait=10.0)
    ],
)
CONTACTS = [Contact(id=f"p{d}", phones=(f"+7950000000{d}",)) for d in sorted(PARTIES)]


anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


def by_contact(records: list[AttemptRecord]) -> dict[str, tuple[Outcome | None, str]]:
    return {r.contact_id: (r.outcome, r.digits) for r in records}


@pytest.mark.anyio
async def test_driver_and_runtime_on_simswitch_agree() -> None:
    model = PartiesModel(seed=3)
    virtual = simulate(CAMPAIGN, CONTACTS, model=model)
    expected = by_contact(list(virtual.records))
    assert len(expected) == len(CONTACTS)

    # virtual time: the runtime reacts at the instant an event happens, as the driver assumes;
    # the script's closest margin (party 7's digit vs the end of the greeting) is 0.7 s
    clock = LoopClock()
    store = MemoryStore()
    async with SimSwitch(model=model, clock=clock) as switch:
        await Runtime(campaign=CAMPAIGN, switch=switch, store=store, clock=clock).run(CONTACTS)
    real = by_contact(list(store.attempts(CAMPAIGN.name)))

    assert real == expected
    # and the convention's outcomes hold where the script does not change them
    for digit in "123456790":
        assert real[f"p{digit}"][0] is PARTIES[digit].expected, (digit, real[f"p{digit}"])
    assert real["p8"] == (Outcome.TRANSFERRED, "1")
