"""A play that fails because the callee has just hung up is recorded from the hang-up
(``hung_up_early`` or ``delivered`` by duration), never ``failed``.

The switch answers such a play with "no such channel" (ARI 404, ESL -ERR: ``CallNotFound``),
which the runtime passes on as ``CommandFailed(gone=True)``; the call's ``CallEnded`` comes
just before or just after it. Pure tests feed both orders; one test runs the whole path over
the wire against the fake Asterisk, in virtual time.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from autoinformer.backends.ari import AriSwitch
from autoinformer.backends.ari.settings import AriSettings
from autoinformer.backends.base import CallAnswered, CallEnded, PlaybackFinished
from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore, call_id_for
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.dialer import PLAYBACK_SETTLE, SWITCH_GRACE
from autoinformer.outcomes import HangupCause, Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.runtime import ID_SALT_KEY, Runtime
from autoinformer.script import Script, play, transfer
from autoinformer.sim.driver import DEFAULT_START
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

T0 = DEFAULT_START
GONE = "channel not found"


def _campaign(script: Script | None = None, **kw: Any) -> Campaign:
    settings: dict[str, Any] = {
        "name": "pb",
        "timezone": "UTC",
        "script": script or Script.of(play("sound:greeting"), play("sound:details")),
        "lines": 1,
        "min_delivered_seconds": 10,
        "retry": RetryPolicy.simple(attempts=1),
    }
    settings.update(kw)
    return Campaign(**settings)


def _answered(core: DialerCore) -> tuple[str, list[c.Command]]:
    out = core.handle(T0, e.ContactsAdded([Contact(id="x", phones=("+79500000001",))]))
    call_id = next(cmd.call_id for cmd in out if isinstance(cmd, c.Originate))
    return call_id, core.handle(T0 + 1, CallAnswered(call_id))


def _final(out: list[c.Command]) -> AttemptRecord:
    return next(cmd.record for cmd in out if isinstance(cmd, c.Journal) and not cmd.begin)


def _decided(out: list[c.Command]) -> bool:
    return any(isinstance(cmd, c.Journal | c.Hangup) for cmd in out)


@pytest.mark.parametrize("order", ["failure_first", "end_first"])
def test_a_play_on_a_call_that_is_gone_is_recorded_from_the_hang_up(order: str) -> None:
    core = DialerCore(campaign=_campaign())
    call_id, _ = _answered(core)
    failed = e.CommandFailed(call_id, GONE, gone=True)
    ended = CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True, detail="callee left")
    if order == "failure_first":
        assert not _decided(core.handle(T0 + 3, failed))  # it waits for the CallEnded
        out = core.handle(T0 + 3.05, ended)
    else:
        out = core.handle(T0 + 3, ended)
        assert core.handle(T0 + 3.05, failed) == []  # the late failure changes nothing
    record = _final(out)
    assert record.outcome is Outcome.HUNG_UP_EARLY
    assert record.cause == HangupCause.NORMAL_CLEARING
    assert record.detail == "callee left"
    assert not any(isinstance(cmd, c.Hangup) for cmd in out)


def test_a_callee_gone_after_the_minimum_is_delivered() -> None:
    core = DialerCore(campaign=_campaign())
    call_id, out = _answered(core)
    first = next(cmd for cmd in out if isinstance(cmd, c.Play))
    out = core.handle(T0 + 12, PlaybackFinished(call_id, first.playback_id))
    assert any(isinstance(cmd, c.Play) for cmd in out)  # the second play goes out ...
    assert not _decided(core.handle(T0 + 12, e.CommandFailed(call_id, GONE, gone=True)))
    out = core.handle(T0 + 12.1, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert _final(out).outcome is Outcome.DELIVERED  # ... 11 s after the answer: delivered


def test_a_gone_call_whose_end_never_comes_is_judged_when_the_switch_said_it_was_gone() -> None:
    core = DialerCore(campaign=_campaign())
    call_id, out = _answered(core)
    out = core.handle(T0 + 3, e.CommandFailed(call_id, GONE, gone=True))
    assert [cmd.time for cmd in out if isinstance(cmd, c.WakeAt)] == [T0 + 3 + SWITCH_GRACE]
    assert not _decided(core.handle(T0 + 3 + SWITCH_GRACE - 1, e.Tick()))
    out = core.handle(T0 + 3 + SWITCH_GRACE, e.Tick())
    record = _final(out)
    # 32 s after the answer, but the callee was gone at 2 s: hung up early, not delivered
    assert record.outcome is Outcome.HUNG_UP_EARLY
    assert "never reported" in record.detail
    assert out[-1] == c.Done("finished")


def test_a_play_the_switch_refuses_on_a_live_call_is_still_failed() -> None:
    core = DialerCore(campaign=_campaign())
    call_id, _ = _answered(core)
    out = core.handle(T0 + 1.1, e.CommandFailed(call_id, "bad media", gone=False))
    assert not _decided(out)
    out = core.handle(T0 + 1.1 + PLAYBACK_SETTLE, e.Tick())
    assert c.Hangup(call_id) in out
    out = core.handle(T0 + 2.2, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert (_final(out).outcome, _final(out).detail) == (Outcome.FAILED, "bad media")


def test_a_refusal_racing_the_hang_up_is_recorded_from_the_hang_up() -> None:
    """ARI answers 409 "not in Stasis" to a play sent as the callee's channel leaves Stasis;
    the CallEnded follows at once and decides."""
    core = DialerCore(campaign=_campaign())
    call_id, _ = _answered(core)
    refused = e.CommandFailed(call_id, "HTTP 409: Channel not in Stasis application")
    assert not _decided(core.handle(T0 + 3, refused))
    out = core.handle(T0 + 3.02, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert _final(out).outcome is Outcome.HUNG_UP_EARLY
    assert "409" not in _final(out).detail


def test_a_message_cut_short_by_the_hang_up_is_not_heard_to_its_end() -> None:
    """Switches end a call's playbacks just before they report its end: the script must not
    take the unfinished last message for a message heard to the end (``delivered``)."""
    core = DialerCore(campaign=_campaign(Script.of(play("sound:long"))))
    call_id, out = _answered(core)
    playback = next(cmd.playback_id for cmd in out if isinstance(cmd, c.Play))
    cut = core.handle(T0 + 3, PlaybackFinished(call_id, playback, completed=False))
    assert not _decided(cut)
    out = core.handle(T0 + 3, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert _final(out).outcome is Outcome.HUNG_UP_EARLY


def test_a_media_that_fails_on_a_live_call_is_skipped_after_a_moment() -> None:
    core = DialerCore(campaign=_campaign())
    call_id, out = _answered(core)
    first = next(cmd.playback_id for cmd in out if isinstance(cmd, c.Play))
    out = core.handle(T0 + 1, PlaybackFinished(call_id, first, completed=False))
    assert not any(isinstance(cmd, c.Play) for cmd in out)
    out = core.handle(T0 + 1 + PLAYBACK_SETTLE, e.Tick())
    assert [cmd.media for cmd in out if isinstance(cmd, c.Play)] == [play("sound:details").media()]


def _queued_core() -> tuple[DialerCore, str]:
    queue = QueueSettings(
        name="desk", operators=[Operator("a", "PJSIP/a")], max_wait=30, hold_music="sound:moh"
    )
    core = DialerCore(campaign=_campaign(Script.of(transfer("desk")), queues=[queue]))
    call_id, out = _answered(core)
    assert any(isinstance(cmd, c.Play) for cmd in out)  # the hold music
    return core, call_id


def test_hold_music_that_cannot_play_leaves_the_callee_waiting() -> None:
    core, call_id = _queued_core()
    out = core.handle(T0 + 1.1, e.CommandFailed(call_id, "no such file"))
    assert not _decided(out)
    leg = next(k for k in core.legs)
    out = core.handle(T0 + 3, CallAnswered(leg))
    assert any(isinstance(cmd, c.Bridge) for cmd in out)


def test_hold_music_on_a_callee_who_is_gone_ends_as_abandoned() -> None:
    core, call_id = _queued_core()
    assert not _decided(core.handle(T0 + 1.1, e.CommandFailed(call_id, GONE, gone=True)))
    out = core.handle(T0 + 1.2, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert _final(out).outcome is Outcome.ABANDONED
    assert any(isinstance(cmd, c.Hangup) and cmd.call_id != call_id for cmd in out)  # the leg


# --- over the wire --------------------------------------------------------------------------


# every async test here runs on asyncio and trio, each in virtual time
anyio_backend = virtual_anyio_backend


@pytest.mark.anyio
async def test_ari_404_on_a_play_after_the_callee_hung_up_is_hung_up_early() -> None:
    """The callee hangs up as the play reaches Asterisk: the channel is destroyed and the play
    answered 404 (the reply arrives after the ChannelDestroyed event, as on a busy PBX)."""
    campaign = _campaign(Script.of(play("sound:greeting")))
    store = MemoryStore()
    clock = LoopClock()
    async with FakeAri(time_scale=1.0) as fake:
        fake.fail_next("play", 404)
        fake.delay_reply("play", 0.5)

        async def callee_hangs_up() -> None:
            await fake.wait_until(lambda: ("POST", "play") in fake.requests)
            call_id = call_id_for("pb", "x", 1, store.get_meta("pb", ID_SALT_KEY) or "")
            fake.pbx.destroy(fake.pbx.channel(call_id), 16)

        settings = AriSettings(url=fake.url, username=fake.username, password=fake.password)
        switch = AriSwitch(settings=settings)
        async with switch, anyio.create_task_group() as tg:
            tg.start_soon(callee_hangs_up)
            runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock)
            with anyio.fail_after(600):
                await runtime.run([Contact(id="x", phones=("+79500000001",))])
        assert fake.violations == []
        assert ("POST", "play") in fake.requests
    (record,) = store.attempts("pb")
    assert record.outcome is Outcome.HUNG_UP_EARLY, record
    assert record.cause == HangupCause.NORMAL_CLEARING


@pytest.mark.anyio
async def test_sim_switch_a_callee_leaving_mid_message_is_hung_up_early() -> None:
    """SimSwitch ends the playback, then the call: party 6 leaves 2 s into an 8 s message."""
    campaign = _campaign(Script.of(play("sound:long")))
    store = MemoryStore()
    clock = LoopClock()
    async with SimSwitch(clock=clock, builtin_seconds={"sound:long": 8.0}) as switch:
        runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock)
        with anyio.fail_after(600):
            await runtime.run([Contact(id="x", phones=("+79500000006",))])
    (record,) = store.attempts("pb")
    assert record.outcome is Outcome.HUNG_UP_EARLY, record


# --- playback truth: a message nobody heard is never delivered ------------------------------


def test_a_playback_the_switch_could_not_play_is_failed_not_delivered() -> None:
    """ARI PlaybackFinished state 'failed' / ESL FILE NOT FOUND: the script stops at once, the
    call is hung up and recorded ``failed`` with the switch's words, even 30 s after the
    answer (a duration alone would say ``delivered``)."""
    core = DialerCore(campaign=_campaign())
    call_id, out = _answered(core)
    first = next(cmd for cmd in out if isinstance(cmd, c.Play))
    out = core.handle(T0 + 31, PlaybackFinished(call_id, first.playback_id, False, "no file"))
    assert not any(isinstance(cmd, c.Play) for cmd in out), "the script went on"
    assert not _decided(out)  # a callee hanging up just now would decide instead
    out = core.handle(T0 + 31 + PLAYBACK_SETTLE, e.Tick())
    assert [cmd.call_id for cmd in out if isinstance(cmd, c.Hangup)] == [call_id]
    out = core.handle(T0 + 33, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    record = _final(out)
    assert record.outcome is Outcome.FAILED
    assert record.detail == "playback failed: no file"


def test_a_playback_failed_as_the_callee_hangs_up_is_judged_from_the_hang_up() -> None:
    """Asterisk may fail the playback of a channel that is hanging up: the CallEnded that
    follows within PLAYBACK_SETTLE decides (hung up early 3 s after the answer)."""
    core = DialerCore(campaign=_campaign())
    call_id, out = _answered(core)
    first = next(cmd for cmd in out if isinstance(cmd, c.Play))
    assert not _decided(
        core.handle(T0 + 3, PlaybackFinished(call_id, first.playback_id, False, "x"))
    )
    out = core.handle(T0 + 3.1, CallEnded(call_id, HangupCause.NORMAL_CLEARING, answered=True))
    assert _final(out).outcome is Outcome.HUNG_UP_EARLY
    assert not any(isinstance(cmd, c.Hangup) for cmd in out)


def test_a_playback_whose_end_never_comes_fails_at_a_deadline_from_the_step() -> None:
    """A lost PlaybackFinished does not hold the line for max_call_seconds: a file may play
    PLAYBACK_FILE_SECONDS; a finished playback disarms its deadline."""
    from autoinformer.core.answered import PLAYBACK_FILE_SECONDS

    core = DialerCore(campaign=_campaign())
    call_id, out = _answered(core)
    first = next(cmd for cmd in out if isinstance(cmd, c.Play))
    out = core.handle(T0 + 5, PlaybackFinished(call_id, first.playback_id))
    second = next(cmd for cmd in out if isinstance(cmd, c.Play))
    # the first playback's deadline is void: nothing happens when it would have fired
    assert not _decided(core.handle(T0 + 1 + PLAYBACK_FILE_SECONDS + 0.5, e.Tick()))
    out = core.handle(T0 + 5 + PLAYBACK_FILE_SECONDS, e.Tick())
    assert [cmd.call_id for cmd in out if isinstance(cmd, c.Hangup)] == [call_id], second
    out = core.handle(T0 + 6 + PLAYBACK_FILE_SECONDS, CallEnded(call_id, HangupCause(16), True))
    record = _final(out)
    assert record.outcome is Outcome.FAILED
    assert "never reported its end" in record.detail


def test_a_say_steps_deadline_grows_with_its_text() -> None:
    from autoinformer.core.answered import SPEECH_SECONDS_PER_CHAR
    from autoinformer.script import say

    text = "Your balance is {BALANCE} roubles. " * 10
    core = DialerCore(campaign=_campaign(Script.of(say(text))))
    out = core.handle(
        T0, e.ContactsAdded([Contact(id="x", phones=("+79500000001",), variables={"BALANCE": "5"})])
    )
    call_id = next(cmd.call_id for cmd in out if isinstance(cmd, c.Originate))
    core.handle(T0 + 1, CallAnswered(call_id))
    bound = 30 + SPEECH_SECONDS_PER_CHAR * len(text)
    assert not _decided(core.handle(T0 + bound, e.Tick()))
    out = core.handle(T0 + 1 + bound + 1, e.Tick())
    assert [cmd.call_id for cmd in out if isinstance(cmd, c.Hangup)] == [call_id]


def test_max_call_seconds_defaults_to_ten_minutes() -> None:
    assert _campaign().max_call_seconds == 600.0
