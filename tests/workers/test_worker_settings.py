"""``Runtime(worker=...)``: what it accepts, without a database."""

from __future__ import annotations

import pytest

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.errors import SettingsError
from autoinformer.runtime import Runtime
from autoinformer.script import Script, play
from autoinformer.store.memory import MemoryStore

CAMPAIGN = Campaign(name="x", timezone="UTC", script=Script.of(play("sound:message")))


def test_one_process_is_the_default_and_has_no_worker_side() -> None:
    runtime = Runtime(campaign=CAMPAIGN, switch=SimSwitch(), store=MemoryStore())
    assert runtime.worker is None
    assert runtime.worker_mode is None
    assert runtime.lease_ttl == 30.0


def test_a_worker_needs_a_store_that_can_lease() -> None:
    with pytest.raises(SettingsError, match=r"worker: .*MemoryStore cannot"):
        Runtime(campaign=CAMPAIGN, switch=SimSwitch(), store=MemoryStore(), worker="w1")


@pytest.mark.parametrize("name", ["", "  ", "x" * 201])
def test_a_worker_needs_a_name(name: str) -> None:
    with pytest.raises(SettingsError, match="worker: expected a non-empty name"):
        Runtime(campaign=CAMPAIGN, switch=SimSwitch(), store=MemoryStore(), worker=name)


@pytest.mark.parametrize("ttl", [0, -1.0, float("inf"), True])
def test_the_lease_needs_a_length(ttl: float) -> None:
    with pytest.raises(SettingsError, match="lease_ttl: expected seconds > 0"):
        Runtime(campaign=CAMPAIGN, switch=SimSwitch(), store=MemoryStore(), lease_ttl=ttl)
