"""Issue #13, the backends' half: outages, restarts and crashes on the fake switches.

- A switch away for longer than anything configured: both backends keep reconnecting, and
  ``originate`` fails at once with BackendUnavailable meanwhile (never "refused").
- A restart whose first resync fails (ARI ``GET /channels`` 500, ESL ``show channels`` -ERR):
  the resync is retried and the calls the restarted switch no longer has end (BackendGap.lost
  and CallEnded), instead of living on as ghosts.
- Orphans: a process that died (its switch object closed without hanging up) leaves calls up;
  a new switch object lists them (:meth:`Switch.orphans`) and hangs them up; the runtime does
  it at start, before anything is dialled, and records the attempt ``unknown``.
- A silent switch (SIGSTOP: the TCP link stays open, nothing answers): both backends notice
  it (ARI: the WebSocket's ping goes unanswered; ESL: the ``api status`` heartbeat does), stop
  originating at once, and resynchronise when it carries on (the calls adopted) or when it is
  killed and started again (the calls lost), instead of holding the calls forever.
- Short versions of ``benchmarks/drills/switch_outages.py`` (N calls, every fault).

In virtual time: the outages last their full model length and take no real time.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import anyio
import httpx
import pytest
from httpx_ws import aconnect_ws

from autoinformer.backends import base
from autoinformer.backends.ari import AriSettings, AriSwitch
from autoinformer.backends.esl import EslSwitch
from autoinformer.backends.orphans import ORPHAN_DETAIL
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.errors import BackendUnavailable
from autoinformer.outcomes import Outcome
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
anyio_backend = virtual_anyio_backend  # both event loops, each in virtual time

E = TypeVar("E", bound=base.SwitchEvent)
WAIT = 60.0
"""Model seconds to wait for an event: only a guard against a hang."""
HOLD = "+79500000001"  # the callee answers and stays (parties: last digit 1)
MARKS = {"AUTOINFORMER_CAMPAIGN": "drill"}


def fake_ari() -> FakeAri:
    return FakeAri(reference_dir=bundled_reference_dir(), time_scale=1.0)


def ari_switch(fake: FakeAri, **settings: Any) -> AriSwitch:
    settings.setdefault("endpoint", "PJSIP/{digits}@trunk")
    return AriSwitch(
        settings=AriSettings(
            url=fake.url, username=fake.username, password=fake.password, **settings
        )
    )


def esl_switch(server: FakeEslServer, **settings: Any) -> EslSwitch:
    return EslSwitch(
        port=server.port,
        password=server.password,
        dial="sofia/gateway/gw1/{digits}",
        command_timeout=3.0,
        **settings,
    )


async def next_of(
    events: AsyncIterator[base.SwitchEvent], kind: type[E], call_id: str | None = None
) -> E:
    with anyio.fail_after(WAIT):
        async for event in events:
            if isinstance(event, kind) and call_id in (None, getattr(event, "call_id", None)):
                return event
    raise AssertionError("event stream ended")


async def answered(switch: base.Switch, call_id: str, variables: dict[str, str] = MARKS) -> None:
    await switch.originate(call_id, HOLD, caller_id=None, ring_timeout=10, variables=variables)
    await next_of(switch.events(), base.CallAnswered, call_id)


# --- item 1: a long outage -------------------------------------------------------------------


async def test_ari_keeps_reconnecting_through_a_long_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "autoinformer.backends.ari")
    async with fake_ari() as fake, ari_switch(fake, reconnect_max=5.0) as switch:
        await answered(switch, "c1")
        await fake.stop()
        await anyio.sleep(300.0)  # virtual: Asterisk is away five minutes
        assert not switch.connected
        errors = [r for r in caplog.records if "away for" in r.getMessage()]
        assert 4 <= len(errors) <= 5  # after 60 s, then every 60 s
        assert all(r.levelno == logging.ERROR for r in errors)
        with anyio.fail_after(0.001), pytest.raises(BackendUnavailable, match="not connected"):
            await switch.originate("c2", HOLD, caller_id=None, ring_timeout=10)
        fake.start()
        gap = await next_of(switch.events(), base.BackendGap)
        assert gap.lost == ("c1",)
        assert gap.adopted == ()
        ended = await next_of(switch.events(), base.CallEnded, "c1")
        assert ended.answered
        assert switch.connected
        await answered(switch, "c3")  # and calls go on
        assert fake.violations == []


# --- item 3: a failed resync -----------------------------------------------------------------


async def test_ari_failed_resync_after_a_restart_is_retried_and_ends_the_lost_calls() -> None:
    # The ghost calls: Asterisk restarted, the first GET /channels after the
    # reconnect answered 500, and every call was kept alive for max_call_seconds.
    async with fake_ari() as fake, ari_switch(fake) as switch:
        for call_id in ("a", "b"):
            await answered(switch, call_id)
        fake.fail_next("list", 500)
        await fake.stop()
        fake.start()
        gap = await next_of(switch.events(), base.BackendGap)
        assert sorted(gap.lost) == ["a", "b"]
        assert gap.adopted == ()
        for call_id in ("a", "b"):
            ended = await next_of(switch.events(), base.CallEnded, call_id)
            assert "lost during an event gap" in ended.detail
        assert fake.requests.count(("GET", "list")) >= 2  # the failed one, then the retry
        assert switch.gaps == 1
        assert fake.violations == []


async def test_ari_failed_resync_keeps_the_calls_that_are_still_there() -> None:
    async with fake_ari() as fake, ari_switch(fake) as switch:
        await answered(switch, "c1")
        fake.fail_next("list", 500, times=2)
        await fake.drop_websocket()  # the link only: the call is still up
        gap = await next_of(switch.events(), base.BackendGap)
        assert gap.adopted == ("c1",)
        assert gap.lost == ()
        await switch.hangup("c1")
        ended = await next_of(switch.events(), base.CallEnded, "c1")
        assert ended.answered


async def test_esl_failed_resync_after_a_restart_is_retried_and_ends_the_lost_calls() -> None:
    async with FakeEslServer(speed=1.0) as server, esl_switch(server) as switch:
        for call_id in ("a", "b"):
            await answered(switch, call_id)
        server.refuse = "^show channels"  # the first channel list after the restart: -ERR
        await server.stop()
        server.start()
        with anyio.fail_after(WAIT):
            await server.wait_until(lambda: any("show channels" in c for c in server.commands))
        server.refuse = None
        gap = await next_of(switch.events(), base.BackendGap)
        assert sorted(gap.lost) == ["a", "b"]
        for call_id in ("a", "b"):
            ended = await next_of(switch.events(), base.CallEnded, call_id)
            assert ended.answered
        assert sum("show channels" in c for c in server.commands) >= 2
        assert switch.connected


async def test_esl_resync_asks_about_calls_missing_from_the_lagging_channel_list() -> None:
    # A real FreeSWITCH's ``show channels`` reads a database that lags its channels by about
    # a second: a call answered just before the drop can be missing from it.
    async with FakeEslServer(speed=1.0) as server, esl_switch(server) as switch:
        await answered(switch, "fresh")
        await answered(switch, "gone")
        server.unlisted = {server.channel_for("fresh").uuid}
        server.accepting = False
        await server.drop_connections()
        server.hang_up(server.channel_for("gone").uuid)  # unheard: the link is down
        server.accepting = True
        gap = await next_of(switch.events(), base.BackendGap)
        assert gap.adopted == ("fresh",)
        assert gap.lost == ("gone",)
        assert any(c.startswith("bgapi uuid_exists") for c in server.commands)
        await switch.hangup("fresh")
        ended = await next_of(switch.events(), base.CallEnded, "fresh")
        assert ended.answered


# --- a silent (hung) switch ------------------------------------------------------------------

NOTICED = 25.0
"""Model seconds within which a hung switch is noticed: ARI's ping (10 s) plus its timeout
(10 s); ESL's heartbeat (``heartbeat_interval`` 10 s) plus ``command_timeout`` (3 s here)."""


@pytest.mark.parametrize("then", ["resume", "kill"])
async def test_ari_notices_a_silent_asterisk(then: str) -> None:
    async with fake_ari() as fake, ari_switch(fake, reconnect_max=5.0) as switch:
        await answered(switch, "c1")
        fake.hang()
        await anyio.sleep(NOTICED)  # virtual: the link is open, nothing answers
        assert not switch.connected
        with anyio.fail_after(0.001), pytest.raises(BackendUnavailable, match="not connected"):
            await switch.originate("c2", HOLD, caller_id=None, ring_timeout=10)
        await anyio.sleep(60.0)
        if then == "resume":
            fake.resume()
        else:
            await fake.stop()
            fake.start()
        gap = await next_of(switch.events(), base.BackendGap)
        assert gap.seconds >= 60.0
        if then == "resume":
            assert (gap.adopted, gap.lost) == (("c1",), ())
            await switch.hangup("c1")
        else:
            assert (gap.adopted, gap.lost) == ((), ("c1",))
        ended = await next_of(switch.events(), base.CallEnded, "c1")
        assert ended.answered
        assert switch.connected
        await answered(switch, "c3")
        assert not switch.replaced  # our own upgrades served late did not end the stream
        assert fake.violations == []


@pytest.mark.parametrize("then", ["resume", "kill"])
async def test_esl_notices_a_silent_freeswitch(then: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "autoinformer.backends.esl")
    async with FakeEslServer(speed=1.0) as server, esl_switch(server) as switch:
        await answered(switch, "c1")
        server.hang()
        await anyio.sleep(NOTICED)
        assert not switch.connected
        assert any("FreeSWITCH is hung" in r.getMessage() for r in caplog.records)
        with anyio.fail_after(0.001), pytest.raises(BackendUnavailable):
            await switch.originate("c2", HOLD, caller_id=None, ring_timeout=10)
        await anyio.sleep(60.0)
        if then == "resume":
            server.resume()
        else:
            await server.stop()
            server.start()
        gap = await next_of(switch.events(), base.BackendGap)
        assert gap.seconds >= 60.0
        if then == "resume":
            assert (gap.adopted, gap.lost) == (("c1",), ())
            await switch.hangup("c1")
        else:
            assert (gap.adopted, gap.lost) == ((), ("c1",))
        ended = await next_of(switch.events(), base.CallEnded, "c1")
        assert ended.answered
        assert switch.connected
        await answered(switch, "c3")


async def _late_upgrade(fake: FakeAri) -> None:
    """What Asterisk does with one of our abandoned upgrades when it carries on: a WebSocket
    for our application (ApplicationReplaced to the live one) whose client is long gone."""
    async with (
        httpx.AsyncClient(auth=(fake.username, fake.password)) as http,
        aconnect_ws(f"{fake.url}/ari/events", http, params={"app": "autoinformer"}),
    ):
        pass


@pytest.mark.parametrize("after", [5.0, 40.0])
async def test_ari_takeover_just_after_a_hang_is_our_own_late_upgrade(after: float) -> None:
    async with fake_ari() as fake, ari_switch(fake, reconnect_max=5.0) as switch:
        fake.hang()
        await anyio.sleep(NOTICED + 15.0)  # noticed; a reconnect's upgrade timed out
        assert not switch.connected
        await fake.stop()  # the stalled upgrades die with it: the late one is ours to send
        fake.start()
        await next_of(switch.events(), base.BackendGap)
        await answered(switch, "c1")
        await anyio.sleep(after)
        await _late_upgrade(fake)
        if after <= 30.0:  # within the window: reconnect, the call adopted
            gap = await next_of(switch.events(), base.BackendGap)
            assert gap.adopted == ("c1",)
            assert not switch.replaced
            await switch.hangup("c1")
            assert (await next_of(switch.events(), base.CallEnded, "c1")).answered
        else:  # long after: another dialer took the name over; no fight
            with anyio.fail_after(WAIT):
                async for _ in switch.events():
                    pass
            assert switch.replaced


async def test_esl_heartbeat_is_quiet_while_freeswitch_answers() -> None:
    async with FakeEslServer(speed=1.0) as server, esl_switch(server) as switch:
        await answered(switch, "c1")
        await anyio.sleep(100.0)
        assert switch.connected
        assert server.connections == 1  # never reconnected
        assert 9 <= server.commands.count("api status") <= 10


# --- item 4: orphans -------------------------------------------------------------------------


async def test_ari_orphans_of_a_dead_process_are_found_and_hung_up() -> None:
    async with fake_ari() as fake:
        async with ari_switch(fake) as dead:
            await answered(dead, "ours")
            await answered(dead, "other-campaign", {"AUTOINFORMER_CAMPAIGN": "other"})
            await dead.originate(
                "ringing", "+79500000003", caller_id=None, ring_timeout=60, variables=MARKS
            )
        # The process died: its connection closed, nothing was hung up.
        assert {"ours", "other-campaign", "ringing"} <= set(fake.pbx.channels)
        async with ari_switch(fake) as switch:
            await answered(switch, "mine-now")
            orphans = {o.call_id: o for o in await switch.orphans("drill")}
            assert set(orphans) == {"ours", "ringing"}  # not another campaign, not our own
            assert orphans["ours"].answered
            assert not orphans["ringing"].answered
            assert orphans["ours"].since is not None
            for orphan in orphans.values():
                await switch.hangup_orphan(orphan)
            with anyio.fail_after(WAIT):
                await fake.wait_until(lambda: not {"ours", "ringing"} & set(fake.pbx.channels))
            assert await switch.orphans("drill") == []
            assert "mine-now" in fake.pbx.channels
            assert "other-campaign" in fake.pbx.channels
        assert fake.violations == []


async def test_esl_orphans_of_a_dead_process_are_found_and_hung_up() -> None:
    async with FakeEslServer(speed=1.0) as server:
        async with esl_switch(server) as dead:
            await answered(dead, "ours")
            await answered(dead, "other-campaign", {"AUTOINFORMER_CAMPAIGN": "other"})
        assert len(server.channels) == 2
        async with esl_switch(server) as switch:
            await answered(switch, "mine-now")
            orphans = await switch.orphans("drill")
            assert [o.call_id for o in orphans] == ["ours"]
            assert orphans[0].answered
            assert orphans[0].channels == (server.channel_for("ours").uuid,)
            await switch.hangup_orphan(orphans[0])
            with anyio.fail_after(WAIT):
                await server.wait_until(
                    lambda: not any(c.call_id == "ours" for c in server.channels.values())
                )
            assert await switch.orphans("drill") == []
            assert {c.call_id for c in server.channels.values()} == {"mine-now", "other-campaign"}


ORPHAN_CAMPAIGN = Campaign(
    timezone="UTC",
    name="orphans",
    script=Script.of(play("sound:long")),
    lines=1,
    retry=RetryPolicy.simple(attempts=2, interval="1m"),
)


async def test_runtime_hangs_up_a_dead_process_s_call_before_it_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "autoinformer.backends.orphans")
    store = MemoryStore()
    contact = Contact(id="c1", phones=(HOLD,))
    async with FakeAri(
        reference_dir=bundled_reference_dir(), time_scale=1.0, builtin_seconds={"long": 600.0}
    ) as fake:
        # Process one: answers, starts a ten-minute message, and dies (kill -9: nothing is
        # hung up, the store keeps the attempt unfinished).
        async with ari_switch(fake, endpoint="Local/{digits}@phones") as first:
            runtime = Runtime(
                campaign=ORPHAN_CAMPAIGN, switch=first, store=store, clock=LoopClock()
            )
            async with anyio.create_task_group() as tg:
                tg.start_soon(runtime.run, [contact])
                with anyio.fail_after(WAIT):
                    await fake.wait_until(lambda: bool(fake.pbx.playbacks))
                tg.cancel_scope.cancel()
        (orphan_id,) = [i for i in fake.pbx.channels if not i.endswith("-2")]
        assert [r.outcome for r in store.attempts("orphans")] == [None]
        originates = fake.requests.count(("POST", "originate"))
        # Process two, on the same store.
        async with ari_switch(fake, endpoint="Local/{digits}@phones") as second:
            runtime = Runtime(
                campaign=ORPHAN_CAMPAIGN, switch=second, store=store, clock=LoopClock()
            )
            results = runtime.results()
            async with anyio.create_task_group() as tg:
                tg.start_soon(runtime.run)
                with anyio.fail_after(WAIT):
                    first_result = await results.receive()
                    # Hung up before anything else was dialled.
                    assert orphan_id not in fake.pbx.channels
                    assert fake.requests.count(("POST", "originate")) == originates
                with anyio.fail_after(600):  # the retry, a minute later
                    await fake.wait_until(
                        lambda: fake.requests.count(("POST", "originate")) > originates
                    )
                tg.cancel_scope.cancel()
    assert first_result.attempt_id == orphan_id
    assert first_result.outcome is Outcome.UNKNOWN
    assert first_result.detail.startswith(ORPHAN_DETAIL)
    assert "answered on the switch" in first_result.detail
    (stored,) = [r for r in store.attempts("orphans") if r.attempt_id == orphan_id]
    assert stored == first_result
    assert "hanging up" in caplog.text


# --- the drill, short ------------------------------------------------------------------------

DRILL = Path(__file__).resolve().parents[2] / "benchmarks" / "drills" / "switch_outages.py"


def _drill_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("switch_outages", DRILL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target", ["fake-ari", "fake-esl"])
async def test_the_switch_outage_drill_short(target: str) -> None:
    # Every fault of benchmarks/drills/switch_outages.py, 12 calls (the script: 260).
    drill = _drill_module()
    rows = await drill.run_fake(target, list(drill.FAULTS), 12, 300.0, 60.0, False)
    faults = [row["fault"] for row in rows]
    assert faults == [f for f in drill.FAULTS if drill.applies(target, f)]
    for row in rows:
        assert (row["unresolved"], row["ghosts"], row["channels_left"]) == (0, 0, 0), row
        assert row["completion"] == 1.0
        assert not row.get("ended_twice")
        assert not row.get("away_placed"), row
    by = {row["fault"]: row for row in rows}
    assert by["drop"]["adopted"] == 12
    assert by["hang"]["adopted"] == 12
    assert by["hang"]["noticed_s"] is not None
    assert by["hang"]["noticed_s"] <= 20.5
    for fault in ("restart", "outage", "hang-kill"):
        assert by[fault]["lost"] == 12, by[fault]
    assert by["outage"]["gap_seconds"] >= 300.0
    assert by["outage"]["away_attempts"] >= 50
    assert by["outage"]["away_fast"] == by["outage"]["away_attempts"]
    assert by["orphans"]["orphans_left_after_10s"] == 0
