"""A campaign over an Asterisk and a FreeSWITCH at once (:class:`SwitchSet`, #17), over the
wire-level fakes on 127.0.0.1, on asyncio and trio in virtual time: one of them is killed
mid-run and never comes back; the other carries the campaign to its end, and the calls the
dead one had are written off as lost and retried."""

from __future__ import annotations

import wave
from pathlib import Path

import anyio
import pytest

from autoinformer.backends.ari import AriSettings, AriSwitch
from autoinformer.backends.esl import EslSwitch
from autoinformer.backends.multi import Member, SwitchSet
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core.dialer import is_not_placed
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.runtime import Runtime
from autoinformer.script import Script, play
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.ari_spec import bundled_reference_dir
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.fake_esl import FakeEslServer
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

pytestmark = pytest.mark.anyio
anyio_backend = virtual_anyio_backend

DEADLINE = 3 * 3600.0  # virtual seconds: only a guard against a hang


def _message(directory: Path) -> Path:
    """Eight seconds of silence: a real WAV file both switches play."""
    path = directory / "message.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000 * 8)
    return path


@pytest.mark.parametrize("killed", ["esl", "ari"])
async def test_one_of_an_asterisk_and_a_freeswitch_killed_mid_run(
    tmp_path: Path, killed: str
) -> None:
    message = _message(tmp_path)
    campaign = Campaign(
        timezone="UTC",
        name="pair",
        script=Script.of(play(str(message))),
        lines=6,
        retry=RetryPolicy.simple(attempts=3, interval="1m"),
    )
    # parties 1 (answers: hears the message), 3 (no answer), 2 (busy), 0 (answers, 12 s)
    contacts = [
        Contact(id=f"p{i:02d}", phones=(f"+795000{i:04d}{(1, 3, 2, 0)[i % 4]}",)) for i in range(60)
    ]
    clock = LoopClock()
    store = MemoryStore()
    async with (
        FakeAri(reference_dir=bundled_reference_dir(), time_scale=1.0) as fake,
        FakeEslServer(speed=1.0) as server,
    ):
        ari = AriSwitch(
            settings=AriSettings(
                url=fake.url,
                username=fake.username,
                password=fake.password,
                endpoint="PJSIP/{digits}@trunk",
                sounds_dir=tmp_path / "sounds",
            )
        )
        esl = EslSwitch(
            port=server.port,
            password=server.password,
            dial="sofia/gateway/gw1/{digits}",
            command_timeout=3.0,
        )
        switches = SwitchSet(
            [Member(ari, name="ari", lines=6), Member(esl, name="esl", lines=6)],
            clock=clock,
            lost_after=30.0,
        )
        killed_at: list[float] = []
        had: list[int] = []

        def busy() -> bool:  # two calls answered on the victim (a person on the line)
            if killed == "esl":
                return sum(c.answered_at > 0 for c in server.channels.values()) >= 2
            return sum(c.answered for c in fake.pbx.channels.values()) >= 2

        async def kill() -> None:
            if killed == "esl":
                await server.wait_until(busy, within=DEADLINE)
            else:
                with anyio.fail_after(DEADLINE):
                    await fake.wait_until(busy)
            had.append(len(server.channels if killed == "esl" else fake.pbx.channels))
            killed_at.append(clock.now())
            await (server.stop() if killed == "esl" else fake.stop())

        async with switches:
            runtime = Runtime(campaign=campaign, switch=switches, store=store, clock=clock)
            async with anyio.create_task_group() as tg:
                tg.start_soon(kill)
                with anyio.fail_after(DEADLINE):
                    summary = await runtime.run(contacts)
            status = {s.name: s for s in switches.status()}
        assert fake.violations == []
    assert killed_at, "the kill never happened"
    assert had[0] >= 2
    attempts = list(store.attempts("pair"))
    assert all(r.outcome is not None for r in attempts)
    final = {c.id: p.state for c, p in store.contacts("pair")}
    assert set(final.values()) <= {ContactState.DONE, ContactState.EXHAUSTED}, final
    assert len(final) == len(contacts)
    # the survivor placed calls after the kill; the dead one none
    dead, alive = status[killed], status["esl" if killed == "ari" else "ari"]
    assert not dead.up
    assert alive.up
    assert dead.written_off >= 1, status
    # the calls the set wrote off, as its gaps listed them (the details are the core's words)
    by_id = {r.attempt_id: r for r in attempts}
    lost = [by_id[call_id] for gap in runtime.gaps for call_id in gap.lost]
    assert len(lost) == dead.written_off
    assert any(r.answered_at is not None for r in lost), "no answered call lost: too weak"
    for record in lost:  # an answered call ended when the switch went away, as a fault
        if record.answered_at is not None:
            assert record.ended_at is not None
            assert record.ended_at <= killed_at[0] + 1.0, record
    for record in lost:
        if record.attempt_no < 3 and record.outcome is not Outcome.DELIVERED:
            assert any(
                r.contact_id == record.contact_id and r.attempt_no > record.attempt_no
                for r in attempts
            ), f"{record.attempt_id} was not retried"
    assert not [r for r in attempts if is_not_placed(r)]  # the survivor had room: no pause
    delivered = [r for r in attempts if r.outcome is Outcome.DELIVERED]
    assert len(delivered) >= len(contacts) // 2  # parties 1 and 0 heard the message
    assert summary["switch_gaps"], "the write-off is reported as a gap"
