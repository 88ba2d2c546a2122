"""The anyio runtime on asyncio and trio: SimSwitch in virtual time, a real store.

Virtual time (:mod:`autoinformer.testing.virtual_time`): the loop's clock jumps to the next
timer only when no worker thread (a store call) runs, so the runtime reacts at the model
instant an event happens however busy the machine is, and boundary parties (0 stays 12 s for
a 10 s minimum, 6 hangs up after 2 s) hold exactly.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.script import Script, callback, menu, play, say, transfer
from autoinformer.store.memory import MemoryStore
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.parties import PARTIES
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

DEADLINE = 3600.0  # virtual seconds: a hang fails at once, a slow machine never does


anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


SCRIPT = Script.of(
    play("sound:greeting"),
    say("Your debt is {BALANCE} RUB."),
    menu("Press 1 for an operator.", {"1": transfer("operators"), "2": callback("note")}),
)


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "rt",
        "timezone": "UTC",
        "script": SCRIPT,
        "lines": 10,
        "queues": [
            QueueSettings(
                name="operators",
                operators=[Operator("anna", "PJSIP/101")],
                ring_timeout=60.0,
                max_wait=120.0,
            )
        ],
        "retry": RetryPolicy.simple(attempts=1),
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


def _contact(cid: str, number: str) -> Contact:
    return Contact(id=cid, phones=(number,), variables={"BALANCE": "-10"})


PARTY_CONTACTS = [_contact(f"p{d}", f"+7950000000{d}") for d in sorted(PARTIES)]


@pytest.mark.anyio
async def test_runs_a_campaign_with_results_stream_callbacks_and_hooks(tmp_path: Path) -> None:
    clock = LoopClock()
    store = SqliteStore(tmp_path / "rt.sqlite", durability="normal")
    streamed: list[AttemptRecord] = []
    called: list[AttemptRecord] = []
    hooked: list[str] = []

    async def note(contact: Contact, digits: str) -> str:
        await anyio.lowlevel.checkpoint()
        hooked.append(contact.id)
        return f"noted {digits}"

    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(
            campaign=_campaign(), switch=switch, store=store, clock=clock, hooks={"note": note}
        )
        runtime.on_result(called.append)
        results = runtime.results()

        async def consume() -> None:
            async with results:
                async for record in results:
                    streamed.append(record)

        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                summary = await runtime.run(PARTY_CONTACTS)

    by_contact = {r.contact_id: r for r in store.attempts("rt")}
    for digit in PARTIES:
        assert by_contact[f"p{digit}"].outcome is PARTIES[digit].expected, digit
    assert by_contact["p7"].callback_result == "noted 2"
    assert hooked == ["p7"]
    assert by_contact["p8"].operator == "anna"
    assert [r.attempt_id for r in streamed] == [r.attempt_id for r in called]
    assert len(called) == len(PARTY_CONTACTS) == summary["attempts"]
    assert sum(summary["outcomes"].values()) == summary["attempts"]
    assert summary["unfinished"] == 0
    store.close()


@pytest.mark.anyio
async def test_start_paused_places_no_call_before_resume() -> None:
    clock = LoopClock()
    store = MemoryStore()
    resumed_at: list[float] = []
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(
            campaign=_campaign(), switch=switch, store=store, clock=clock, start_paused=True
        )
        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    await runtime.run([_contact("a", "+79500000001")])

                tg.start_soon(run)
                await clock.sleep_until(clock.now() + 20.0)  # model time passes, paused
                assert list(store.attempts("rt")) == []
                resumed_at.append(clock.now())
                runtime.resume()
    (record,) = store.attempts("rt")
    assert record.started_at >= resumed_at[0]
    assert record.outcome is Outcome.DELIVERED


@pytest.mark.anyio
async def test_add_and_cancel_contacts_on_a_running_campaign_then_stop() -> None:
    clock = LoopClock()
    store = MemoryStore()
    campaign = _campaign(retry=RetryPolicy.simple(attempts=5, interval="10m"))
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(
            campaign=campaign, switch=switch, store=store, clock=clock, keep_open=True
        )

        def on_result(record: AttemptRecord) -> None:
            if record.contact_id == "debtor":  # seed 001: the debt was paid meanwhile
                runtime.cancel("debtor", "debt paid")
                runtime.add_contacts([_contact("new", "+79500000001")])
            elif record.contact_id == "new":
                runtime.stop()

        runtime.on_result(on_result)
        with anyio.fail_after(DEADLINE):
            summary = await runtime.run([_contact("debtor", "+79500000002")])  # busy
    progress = {contact.id: p for contact, p in store.contacts("rt")}
    assert progress["debtor"].state is ContactState.CANCELLED
    assert progress["debtor"].reason == "debt paid"
    assert len(list(store.attempts("rt", "debtor"))) == 1
    assert progress["new"].state is ContactState.DONE
    assert summary["contacts"] == {"cancelled": 1, "done": 1}


@pytest.mark.anyio
async def test_stop_with_hangup_records_the_calls_in_progress() -> None:
    clock = LoopClock()
    store = MemoryStore()
    contacts = [_contact(f"c{i}", f"+7950000{i:03d}3") for i in range(5)]  # ring, no answer
    # A broadcast script: with a transfer, pacing would keep one call per operator in flight.
    broadcast = _campaign(script=Script.of(say("Your debt is {BALANCE} RUB.")), queues=[])
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(campaign=broadcast, switch=switch, store=store, clock=clock)
        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tg:

                async def run() -> None:
                    await runtime.run(contacts)

                tg.start_soon(run)
                await clock.sleep_until(clock.now() + 5.0)
                runtime.stop(hangup=True)
    records = list(store.attempts("rt"))
    assert len(records) == 5
    assert all(r.outcome is Outcome.NO_ANSWER for r in records)
    assert all((r.ended_at or 0) - r.started_at < 15 for r in records)  # cut short
    assert store.unfinished_attempts("rt") == []


@pytest.mark.anyio
async def test_sms_rules_go_to_the_sender_before_run_returns() -> None:
    from autoinformer.campaign import SmsRules
    from autoinformer.sms import LogSmsSender

    clock = LoopClock()
    sender = LogSmsSender(clock=clock)
    campaign = _campaign(
        sms=SmsRules(on_hangup="Thanks for listening.", on_missed="We missed you.")
    )
    async with SimSwitch(clock=clock) as switch:
        runtime = Runtime(
            campaign=campaign, switch=switch, store=MemoryStore(), clock=clock, sms=sender
        )
        with anyio.fail_after(DEADLINE):
            await runtime.run([_contact("d", "+79500000001"), _contact("b", "+79500000002")])
    sent = sorted((m.to, m.text) for m in sender.sent)
    assert sent == [("+79500000001", "Thanks for listening."), ("+79500000002", "We missed you.")]


@pytest.mark.anyio
async def test_a_finished_store_returns_at_once_and_calls_nobody_again(tmp_path: Path) -> None:
    """Resuming a campaign whose store is already finished must not wait for an event."""
    clock = LoopClock()
    path = tmp_path / "done.sqlite"
    contacts = [_contact("p1", "+79990000001")]
    for _ in range(2):
        store = SqliteStore(path, durability="normal")
        async with SimSwitch(clock=clock) as switch:
            runtime = Runtime(campaign=_campaign(), switch=switch, store=store, clock=clock)
            with anyio.fail_after(DEADLINE):
                summary = await runtime.run(contacts)
        attempts = list(store.attempts("rt"))
        store.close()
        assert len(attempts) == 1
        assert summary["attempts"] == 1


@pytest.mark.anyio
async def test_call_ids_are_unique_per_store_and_stable_within_one(tmp_path: Path) -> None:
    """Two stores running a campaign of the same name never reuse each other's call ids (a
    call of the first may still exist on the switch: Asterisk answers 409); one store resumed
    keeps its own salt, so ids stay stable for reconciliation."""
    clock = LoopClock()
    contacts = [_contact("p1", "+79990000001")]
    ids: list[str] = []
    salts: list[str | None] = []
    for path in (tmp_path / "a.sqlite", tmp_path / "b.sqlite", tmp_path / "a.sqlite"):
        store = SqliteStore(path, durability="normal")
        async with SimSwitch(clock=clock) as switch:
            runtime = Runtime(campaign=_campaign(), switch=switch, store=store, clock=clock)
            with anyio.fail_after(DEADLINE):
                await runtime.run(contacts)
        ids.append(next(iter(store.attempts("rt"))).attempt_id)
        salts.append(store.get_meta("rt", "call_id_salt"))
        store.close()
    assert ids[0] != ids[1], "a second store reused the first store's call id"
    assert ids[0] == ids[2], "a resumed store changed its ids"
    assert salts[0] == salts[2]
    assert all(salts), salts


@pytest.mark.anyio
async def test_a_lost_switch_connection_is_reported_in_the_summary() -> None:
    """A BackendGap is not silent: the run's summary lists it (seconds, calls carried on and
    lost) and Runtime.gaps keeps it; the calls lost in it still get their results."""
    clock = LoopClock()
    store = MemoryStore()
    contacts = [_contact(f"g{i}", f"+7999000000{i}") for i in (1, 0)]
    campaign = _campaign(script=Script.of(play("sound:long")), queues=[])
    async with SimSwitch(clock=clock, builtin_seconds={"sound:long": 8.0}) as switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock)

        async def drop_when_both_are_up() -> None:
            # virtual time: both answer 1 s after the originate and play for 8 s
            await anyio.sleep(5.0)
            assert len(switch.live_calls) == 2
            switch.gap(4.0, lose=(switch.live_calls[0],))

        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(drop_when_both_are_up)
                summary = await runtime.run(contacts)
    assert summary["switch_gaps"] == [{"seconds": 4.0, "adopted": 1, "lost": 1}]
    assert len(runtime.gaps) == 1
    assert summary["attempts"] == 2
    assert summary["unfinished"] == 0
