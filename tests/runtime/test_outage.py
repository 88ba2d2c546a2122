"""The runtime when the switch is away (#13), on asyncio and trio in virtual time.

- a switch that cannot be reached pauses dialling: no attempt is spent on it, one probe at a
  time reaches it, and the campaign ends as it would have without the outage;
- a call lost in an outage is not counted as talk time;
- a run that cannot go on (the event stream fails for good) hangs its calls up via the
  switch, records them, and raises one clear error, not an ExceptionGroup.
"""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import anyio
import pytest

from autoinformer.backends.base import SwitchEvent
from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core.dialer import is_not_placed
from autoinformer.errors import BackendUnavailable
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.runtime import Runtime
from autoinformer.script import Script, play, say
from autoinformer.sim.faults import Faults
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import START, LoopClock

DEADLINE = 7200.0  # virtual seconds

anyio_backend = virtual_anyio_backend


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "outage",
        "timezone": "UTC",
        "script": Script.of(play("sound:message")),
        "lines": 5,
        "retry": RetryPolicy.simple(attempts=2, interval="1m"),
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


# parties 1 (delivered), 2 (no answer), 3 (busy), 0 (delivered): a mix with retries
CONTACTS = [Contact(id=f"c{i:02d}", phones=(f"+79500000{i:02d}{i % 4}",)) for i in range(40)]


class CountingSwitch(SimSwitch):
    """SimSwitch that counts the originates reaching it while it is in a planned outage."""

    refused_while_down = 0

    async def originate(
        self,
        call_id: str,
        destination: str,
        *,
        caller_id: str | None = None,
        ring_timeout: float = 30.0,
        variables: Mapping[str, str] | None = None,
        operator: bool = False,
        detect_machine: bool = False,
    ) -> None:
        if self.faults.is_down(self.clock.now()):
            self.refused_while_down += 1
        await super().originate(
            call_id,
            destination,
            caller_id=caller_id,
            ring_timeout=ring_timeout,
            variables=variables,
            operator=operator,
            detect_machine=detect_machine,
        )


class SilenceRenderer:
    """Renders every message as one second of silence (a real WAV file the switch plays)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "silence.wav"
        with wave.open(str(self.path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(b"\0\0" * 8000)

    async def render(self, template: object, contact: Contact, lang: str) -> Path:
        await anyio.sleep(0.05)  # synthesis takes a moment: originates go out one by one
        return self.path


async def _run(
    faults: Faults | None, renderer: SilenceRenderer | None = None
) -> tuple[MemoryStore, CountingSwitch]:
    clock = LoopClock()
    store = MemoryStore()
    switch = CountingSwitch(clock=clock, faults=faults, builtin_seconds={"sound:message": 15.0})
    campaign = _campaign()
    if renderer is not None:
        campaign = _campaign(
            script=Script.of(play("sound:message"), say("Hello, this is a reminder."))
        )
    async with switch:
        runtime = Runtime(
            campaign=campaign, switch=switch, store=store, clock=clock, renderer=renderer
        )
        with anyio.fail_after(DEADLINE):
            await runtime.run(CONTACTS)
    return store, switch


@pytest.mark.anyio
async def test_an_unreachable_switch_spends_no_attempt_and_is_probed_one_call_at_a_time() -> None:
    outage = (START + 20.0, START + 320.0)  # five minutes, early in the campaign
    store, switch = await _run(Faults(outages=(outage,)))
    reference, _ = await _run(None)

    attempts = list(store.attempts("outage"))
    not_placed = [r for r in attempts if is_not_placed(r)]
    assert not_placed, "the outage hit no originate: test too weak"
    # one probe at a time: a handful of originates reached the switch in 300 s (1, 2, 4... 30 s
    # apart plus the first batch's one), never a batch per wake-up
    assert switch.refused_while_down <= 16
    assert all(outage[0] <= r.started_at < outage[1] for r in not_placed)
    # nobody's budget went on the outage: every contact ends as it does without one
    final = {
        cid: (p.state, p.reason) for cid, p in [(c.id, p) for c, p in store.contacts("outage")]
    }
    expected = {c.id: (p.state, p.reason) for c, p in reference.contacts("outage")}
    assert {k: v[0] for k, v in final.items()} == {k: v[0] for k, v in expected.items()}
    placed = [r for r in attempts if not is_not_placed(r)]
    assert len(placed) == len(list(reference.attempts("outage")))
    assert all(r.outcome is not None for r in attempts)
    # the first call after the outage goes out within the probe interval of its end
    after = min(r.started_at for r in placed if r.started_at >= outage[1])
    assert after - outage[1] <= 31.0


@pytest.mark.anyio
async def test_with_speech_rendered_before_each_call_only_the_probe_reaches_a_down_switch(
    tmp_path: Path,
) -> None:
    """Originates placed from their own tasks (after rendering) that were already under way
    when the switch proved unreachable are not sent: only the core's probe is."""
    outage = (START + 20.0, START + 320.0)
    store, switch = await _run(Faults(outages=(outage,)), SilenceRenderer(tmp_path))
    reference, _ = await _run(None, SilenceRenderer(tmp_path))
    assert any(is_not_placed(r) for r in store.attempts("outage"))
    assert switch.refused_while_down <= 16
    states = {c.id: p.state for c, p in store.contacts("outage")}
    assert states == {c.id: p.state for c, p in reference.contacts("outage")}


@pytest.mark.anyio
async def test_a_call_lost_in_an_outage_is_not_counted_as_talk() -> None:
    """Answered at 1 s, the switch drops at 5 s and is back at 125 s (a BackendGap listing the
    call as lost): not ``delivered`` with 124 s of talk."""
    clock = LoopClock()
    store = MemoryStore()
    campaign = _campaign(lines=1, retry=RetryPolicy.simple(attempts=1))
    contacts = [Contact(id="g", phones=("+79990000001",))]  # party 1: answers after 1 s
    async with SimSwitch(clock=clock, builtin_seconds={"sound:message": 300.0}) as switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock)

        async def outage() -> None:
            await anyio.sleep(125.0)
            (call,) = switch.live_calls
            switch.gap(120.0, lose=(call,))

        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(outage)
                await runtime.run(contacts)
    (record,) = list(store.attempts("outage"))
    assert record.answered_at is not None
    assert record.ended_at is not None
    assert record.ended_at - START == pytest.approx(5.0, abs=0.01)
    assert record.talk_seconds == pytest.approx(4.0, abs=0.01)
    assert record.outcome is Outcome.FAILED


class DyingSwitch(SimSwitch):
    """SimSwitch whose event stream fails for good at ``dies_at`` (model time), while the
    switch itself still takes requests (hang-ups): the connection for events is gone."""

    dies_at = START + 30.0

    def events(self) -> AsyncIterator[SwitchEvent]:
        return self._dying()

    async def _dying(self) -> AsyncIterator[SwitchEvent]:
        stream = super().events()
        while True:
            with anyio.move_on_after(max(0.0, self.dies_at - self.clock.now())):
                yield await stream.__anext__()
                continue
            raise BackendUnavailable("the event connection is gone for good")


@pytest.mark.anyio
async def test_a_failed_run_hangs_up_its_calls_records_them_and_raises_one_error() -> None:
    clock = LoopClock()
    store = MemoryStore()
    campaign = _campaign(retry=RetryPolicy.simple(attempts=3, interval="1m"))
    switch = DyingSwitch(clock=clock, builtin_seconds={"sound:message": 300.0})
    async with switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock)
        with anyio.fail_after(DEADLINE), pytest.raises(BackendUnavailable) as raised:
            await runtime.run(CONTACTS[:8])
        assert not isinstance(raised.value, BaseExceptionGroup)
        assert "gone for good" in str(raised.value)
        assert switch.live_calls == (), "calls left up on the switch"
    attempts = list(store.attempts("outage"))
    assert len(attempts) >= 5
    assert all(r.outcome is not None for r in attempts), "attempts left unfinished"
    cut = [r for r in attempts if "the run stopped" in r.detail]
    assert len(cut) >= 3  # the calls that were up when the stream failed
    for r in cut:  # judged at the moment of the failure: 29 s heard is delivered (min 10 s)
        assert r.outcome is (Outcome.FAILED if r.answered_at is None else Outcome.DELIVERED)
        assert r.ended_at is not None
        assert r.ended_at - START == pytest.approx(30.0, abs=0.5)
    states = {p.state for _, p in store.contacts("outage")}
    assert ContactState.IN_CALL not in states
