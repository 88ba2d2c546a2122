"""The core releases ringing calls when the pacing asks (pacing.base.ReleasingPolicy).

Pure tests feed the core by hand with a scripted pacing; then the virtual-time simulator with
PredictivePacing, and the runtime over the fake Asterisk and the fake FreeSWITCH (the real wire
formats), in virtual time.
"""

from __future__ import annotations

import csv
import io
import math

import anyio
import attrs
import pytest

from autoinformer.backends.ari import AriSwitch
from autoinformer.backends.ari.settings import AriSettings
from autoinformer.backends.base import BackendGap, CallAnswered, CallEnded, CallProgress, Switch
from autoinformer.backends.esl import EslSwitch
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore, call_id_for
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.errors import SettingsError
from autoinformer.outcomes import ContactState, HangupCause, Outcome
from autoinformer.pacing import PredictivePacing
from autoinformer.pacing.base import (
    MIN_RELEASE_AFTER,
    Observation,
    PacingObservation,
    PacingView,
    release_after,
)
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, play, transfer
from autoinformer.sim.driver import DEFAULT_START, simulate
from autoinformer.sim.model import PopulationModel
from autoinformer.stats import write_cdr_csv
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.fake_esl import FakeEslServer
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

anyio_backend = virtual_anyio_backend  # asyncio and trio, each in virtual time

T0 = DEFAULT_START
BROADCAST = Script.of(play("sound:hello"))


@attrs.define(kw_only=True)
class Scripted:
    """A releasing pacing that launches one call per decision and releases what it is told."""

    release_after: float | None = 15.0
    launch: int = 1
    release: int = 0
    asked: list[PacingView] = attrs.field(factory=list)
    seen: list[PacingObservation] = attrs.field(factory=list)

    def calls_to_launch(self, view: PacingView) -> int:
        return min(self.launch, view.lines_free)

    def calls_to_release(self, view: PacingView) -> int:
        self.asked.append(view)
        return self.release

    def observe(self, observation: PacingObservation) -> None:
        self.seen.append(observation)

    def released(self) -> list[float]:
        return [o.seconds for o in self.seen if o.kind is Observation.RELEASED]


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "rel",
        "timezone": "UTC",
        "script": BROADCAST,
        "lines": 4,
        "window": CallWindow.any_time(),
        "retry": RetryPolicy.simple(attempts=2, interval="10m"),
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


def _contacts(n: int, last: str = "3") -> list[Contact]:
    return [Contact(id=f"k{i}", phones=(f"+7950000{i:03d}{last}",)) for i in range(n)]


def _hangups(out: list[c.Command]) -> list[c.Hangup]:
    return [cmd for cmd in out if isinstance(cmd, c.Hangup)]


def _four_calls(pacing: Scripted, **kw: object) -> tuple[DialerCore, list[str]]:
    """Four calls placed one second apart, at T0, T0+1, T0+2, T0+3."""
    core = DialerCore(campaign=_campaign(**kw), pacing=pacing)
    ids = [call_id_for("rel", f"k{i}", 1) for i in range(4)]
    core.handle(T0, e.ContactsAdded(_contacts(4)))
    _ring(core, pacing, T0, ids[0])  # each phone rings as soon as it is called
    for k in (1, 2, 3):
        core.handle(T0 + k, e.Tick())
        _ring(core, pacing, T0 + k, ids[k])
    assert set(core.calls) == set(ids)
    assert [core.calls[i].record.started_at for i in ids] == [T0, T0 + 1, T0 + 2, T0 + 3]
    return core, ids


def _ring(core: DialerCore, pacing: Scripted, now: float, call_id: str) -> None:
    """The switch reports ``call_id`` ringing (no launch rides on that decision)."""
    launch, pacing.launch = pacing.launch, 0
    core.handle(now, CallProgress(call_id))
    pacing.launch = launch


def _one_call(pacing: Scripted) -> tuple[DialerCore, list[str]]:
    core = DialerCore(campaign=_campaign(lines=1), pacing=pacing)
    core.handle(T0, e.ContactsAdded(_contacts(1)))
    ids = [call_id_for("rel", "k0", 1)]
    core.handle(T0, CallProgress(ids[0]))
    return core, ids


def test_releases_the_youngest_eligible_ringing_calls_never_an_answered_or_a_younger_one() -> None:
    pacing = Scripted()
    core, ids = _four_calls(pacing)
    core.handle(T0 + 10, CallAnswered(ids[1]))  # the second call is answered: never released
    assert pacing.asked == []  # nothing has rung 15 s yet: the policy is not even asked
    pacing.release = 5  # asks for more than there are eligible calls
    out = core.handle(T0 + 17, e.Tick())
    # rung: 17 s (k0), answered (k1), 15 s (k2), 14 s (k3, too young): k2 first, then k0
    assert [h.call_id for h in _hangups(out)] == [ids[2], ids[0]]
    assert all(h.cause is HangupCause.NORMAL_CLEARING for h in _hangups(out))
    assert pacing.released() == [15.0, 17.0]
    assert pacing.asked[-1].dialing == 3  # asked before the releases: k0, k2, k3 ringing
    # the released calls no longer count as dialling for the launch decision that follows
    assert core.view(T0 + 17).dialing == 1


def test_the_ring_counts_from_the_switchs_progress_and_an_unreported_ring_is_never_released() -> (
    None
):
    # call set-up takes time on a real network: 15 s after the originate the phone of a call
    # whose ringing started 2 s late has rung 13 s, and may not be cut yet
    pacing = Scripted(release=2, launch=2)
    core = DialerCore(campaign=_campaign(lines=2), pacing=pacing)
    core.handle(T0, e.ContactsAdded(_contacts(2)))
    late, silent = call_id_for("rel", "k0", 1), call_id_for("rel", "k1", 1)
    assert set(core.calls) == {late, silent}
    _ring(core, pacing, T0 + 2, late)
    _ring(core, pacing, T0 + 3, late)  # a second progress (early media) changes nothing
    assert core._next_wake(T0 + 15.5) == T0 + 17  # it wakes when the late phone has rung 15 s
    assert _hangups(core.handle(T0 + 16.9, e.Tick())) == []
    out = core.handle(T0 + 17, e.Tick())
    assert [h.call_id for h in _hangups(out)] == [late]
    # the pacing's clock for a call runs from its launch (as ANSWERED's ring time does)
    assert pacing.released() == [17.0]
    assert "after 15.0 s of ringing" in core.calls[late].detail
    # the other call's switch never reported ringing: never released, however long it waits
    assert _hangups(core.handle(T0 + 24, e.Tick())) == []


def test_early_media_does_not_start_the_ring_and_a_call_with_early_media_only_is_kept() -> None:
    # SIP 183 may come before the phone rings (a carrier's announcement or its own ringback):
    # the ring the 15 s floor is judged by starts at the first "ringing" (180) only
    pacing = Scripted(release=2, launch=2)
    core = DialerCore(campaign=_campaign(lines=2), pacing=pacing)
    core.handle(T0, e.ContactsAdded(_contacts(2)))
    late, media_only = call_id_for("rel", "k0", 1), call_id_for("rel", "k1", 1)
    pacing.launch = 0
    core.handle(T0 + 1, CallProgress(late, "early_media"))
    core.handle(T0 + 1, CallProgress(media_only, "early_media"))
    core.handle(T0 + 6, CallProgress(late, "ringing"))  # the phone rings 5 s later
    core.handle(T0 + 7, CallProgress(late, "early_media"))  # and more early media: no matter
    assert core._next_wake(T0 + 15.5) == T0 + 21  # 15 s after the ringing, not early media
    assert _hangups(core.handle(T0 + 16, e.Tick())) == []  # 15 s of early media: too soon
    assert _hangups(core.handle(T0 + 20.9, e.Tick())) == []
    out = core.handle(T0 + 21, e.Tick())
    assert [h.call_id for h in _hangups(out)] == [late]
    assert "after 15.0 s of ringing" in core.calls[late].detail
    # early media and never a 180: never released, however long it lasts
    assert _hangups(core.handle(T0 + 38, e.Tick())) == []
    assert core.calls[media_only].released is None


def test_releases_only_as_many_as_asked_youngest_first() -> None:
    pacing = Scripted()
    core, ids = _four_calls(pacing)
    pacing.release = 1
    out = core.handle(T0 + 18.5, e.Tick())  # rung 18.5, 17.5, 16.5, 15.5 s: all eligible
    assert [h.call_id for h in _hangups(out)] == [ids[3]]
    assert pacing.released() == [15.5]
    pacing.release = 0
    assert _hangups(core.handle(T0 + 19, e.Tick())) == []


def test_released_attempt_is_no_answer_with_its_detail_and_is_retried() -> None:
    pacing = Scripted(release=1)
    core, ids = _one_call(pacing)
    out = core.handle(T0 + 16, e.Tick())
    assert [h.call_id for h in _hangups(out)] == [ids[0]]
    # the switch confirms with its own cause (FreeSWITCH: ORIGINATOR_CANCEL): we record ours
    out = core.handle(T0 + 16.2, CallEnded(ids[0], HangupCause.NO_ANSWER))
    (journal,) = [cmd for cmd in out if isinstance(cmd, c.Journal)]
    record = journal.record
    assert record.outcome is Outcome.NO_ANSWER
    assert record.cause == 16
    assert record.answered_at is None
    assert "released by the dialer after 16.0 s" in record.detail
    assert record.ended_at == T0 + 16.2
    saved = [cmd.progress for cmd in out if isinstance(cmd, c.SaveProgress)]
    assert saved[-1].state is ContactState.SCHEDULED  # retried, as any no_answer
    assert core.book.slots["k0"].next_at == pytest.approx(T0 + 16.2 + 600)
    # the pacing heard of it once, when released: no NOT_ANSWERED at the switch's end
    kinds = [o.kind for o in pacing.seen]
    assert kinds.count(Observation.RELEASED) == 1
    assert Observation.NOT_ANSWERED not in kinds


def test_an_answer_racing_the_release_loses_and_an_earlier_answer_is_never_released() -> None:
    pacing = Scripted(release=1)
    core, ids = _one_call(pacing)
    assert _hangups(core.handle(T0 + 15, e.Tick()))
    # the switch had answered as our hang-up went out: the answer is ignored
    out = core.handle(T0 + 15.1, CallAnswered(ids[0]))
    assert not [cmd for cmd in out if isinstance(cmd, c.Play)]
    assert Observation.ANSWERED not in [o.kind for o in pacing.seen]
    out = core.handle(T0 + 15.2, CallEnded(ids[0], HangupCause.NORMAL_CLEARING, answered=True))
    (journal,) = [cmd for cmd in out if isinstance(cmd, c.Journal)]
    assert journal.record.outcome is Outcome.NO_ANSWER
    assert "released by the dialer" in journal.record.detail

    # answered before the decision: the policy's ask finds no eligible call
    pacing = Scripted(release=1)
    core, ids = _one_call(pacing)
    core.handle(T0 + 14.9, CallAnswered(ids[0]))
    out = core.handle(T0 + 30, e.Tick())
    assert _hangups(out) == []
    assert pacing.asked == []


def test_the_core_wakes_when_the_first_ringing_call_becomes_eligible_then_polls() -> None:
    pacing = Scripted()
    core, _ = _four_calls(pacing)
    out = core.handle(T0 + 3.5, e.Tick())
    wakes = [cmd.time for cmd in out if isinstance(cmd, c.WakeAt)]
    assert wakes == [] or wakes[-1] == T0 + MIN_RELEASE_AFTER
    assert core._next_wake(T0 + 3.5) == T0 + 15  # the first call is eligible at T0 + 15
    out = core.handle(T0 + 15, e.Tick())
    assert len(pacing.asked) == 1  # asked as soon as one was eligible
    assert [cmd.time for cmd in out if isinstance(cmd, c.WakeAt)] == [T0 + 16]  # poll


def test_a_policy_that_never_releases_is_never_asked() -> None:
    pacing = Scripted(release_after=None, release=3)
    core, _ = _four_calls(pacing)
    assert core.release_after is None
    assert _hangups(core.handle(T0 + 25, e.Tick())) == []
    assert pacing.asked == []


def test_a_release_threshold_under_fifteen_seconds_is_refused() -> None:
    with pytest.raises(SettingsError) as info:
        DialerCore(campaign=_campaign(), pacing=Scripted(release_after=10.0))
    assert info.value.field == "pacing.release_after"
    # a policy of the user's own with a threshold that is no number: named, not a TypeError
    with pytest.raises(SettingsError) as info:
        DialerCore(campaign=_campaign(), pacing=Scripted(release_after="20"))  # type: ignore[arg-type]
    assert info.value.field == "pacing.release_after"


# --- the abandon guard forwards the release -------------------------------------------------

MENU = Script.of(menu("Press 1 for an operator.", {"1": transfer("desk")}))


def test_the_abandon_guard_keeps_the_release_of_the_policy_it_wraps() -> None:
    desk = QueueSettings(name="desk", operators=(Operator("a", "PJSIP/a"),), max_wait=20)
    pacing = Scripted(release=1, launch=4)
    core = DialerCore(campaign=_campaign(script=MENU, queues=[desk]), pacing=pacing)
    guard = core.pacing
    assert isinstance(guard, AbandonGuard)
    assert release_after(guard) == 15.0
    assert guard.release_after == pacing.release_after
    assert AbandonGuard(inner=PredictivePacing(release_after=None)).release_after is None
    core.handle(T0, e.ContactsAdded(_contacts(4)))
    launched = list(core.calls)
    assert len(launched) == 1  # the guard holds launches to the one idle operator
    _ring(core, pacing, T0, launched[0])
    out = core.handle(T0 + 16, e.Tick())
    assert [h.call_id for h in _hangups(out)] == launched
    assert pacing.released() == [16.0]
    assert guard.calls_to_release(core.view(T0 + 16)) == 1  # the inner's answer, unchanged


# --- the simulator with PredictivePacing ----------------------------------------------------


def test_predictive_pacing_in_the_simulator_releases_only_old_unanswered_calls() -> None:
    desk = QueueSettings(
        name="desk", operators=tuple(Operator(f"op{i}", f"PJSIP/{i}") for i in range(4))
    )
    campaign = _campaign(
        script=MENU,
        queues=[desk],
        lines=40,
        abandon_cap=1.0,  # unguarded: the predictive policy keeps its own cap
        retry=RetryPolicy(attempts=2, ring_timeout=40),
    )
    model = PopulationModel(seed=3, answer_rate=0.5, ring_median_s=14.0, digit_rates={"1": 0.9})
    contacts = [Contact(id=f"c{i}", phones=(f"+7950{i:07d}",)) for i in range(600)]
    pacing = PredictivePacing()
    result = simulate(campaign, contacts, model=model, pacing=pacing, until=T0 + 3 * 3600)
    released = [r for r in result.records if "released by the dialer" in r.detail]
    assert released, "with 40 lines and 4 operators the valve should open"
    for record in released:
        assert record.outcome is Outcome.NO_ANSWER
        assert record.answered_at is None
        assert record.cause == 16
        assert record.ended_at is not None
        assert record.ended_at - record.started_at >= MIN_RELEASE_AFTER
    # every released contact went on by the retry policy (a second attempt, or exhausted)
    by_contact: dict[str, list[AttemptRecord]] = {}
    for record in result.records:
        by_contact.setdefault(record.contact_id, []).append(record)
    first_released = [r for r in released if r.attempt_no == 1]
    assert any(len(by_contact[r.contact_id]) == 2 for r in first_released)


# --- end to end over the wire -----------------------------------------------------------------


async def _run_over(switch: Switch, clock: LoopClock, pacing: Scripted) -> list[AttemptRecord]:
    store = MemoryStore()
    campaign = _campaign(lines=1, retry=RetryPolicy(attempts=1, ring_timeout=40))
    runtime = Runtime(campaign=campaign, switch=switch, store=store, clock=clock, pacing=pacing)
    with anyio.fail_after(600):
        await runtime.run([Contact(id="x", phones=("+79500000003",))])  # rings until timeout
    return list(store.attempts("rel"))


def _check_released(records: list[AttemptRecord], pacing: Scripted) -> AttemptRecord:
    (record,) = records
    assert record.outcome is Outcome.NO_ANSWER, record
    assert record.cause == 16
    assert "released by the dialer" in record.detail
    assert record.ended_at is not None
    rang = record.ended_at - record.started_at
    assert MIN_RELEASE_AFTER <= rang < 40 - 5  # released, long before the ring timeout
    (seconds,) = pacing.released()
    assert seconds >= MIN_RELEASE_AFTER
    # the call detail record says so too
    buffer = io.StringIO(newline="")
    write_cdr_csv(records, buffer)
    (row,) = csv.DictReader(io.StringIO(buffer.getvalue()))
    assert row["outcome"] == "no_answer"
    assert row["detail"].startswith("released by the dialer after ")
    return record


@pytest.mark.anyio
async def test_release_over_the_fake_asterisk_deletes_the_ringing_channel() -> None:
    pacing = Scripted(release=1)
    clock = LoopClock()
    async with FakeAri(time_scale=1.0) as fake:
        settings = AriSettings(url=fake.url, username=fake.username, password=fake.password)
        async with AriSwitch(settings=settings) as switch:
            records = await _run_over(switch, clock, pacing)
        assert fake.violations == []
        deletes = [r for r in fake.requests if r[0] == "DELETE"]
        assert len(deletes) == 1, fake.requests
    _check_released(records, pacing)


@pytest.mark.anyio
async def test_release_over_the_fake_freeswitch_kills_the_ringing_channel() -> None:
    pacing = Scripted(release=1)
    clock = LoopClock()
    async with FakeEslServer(speed=1.0) as server:
        async with EslSwitch(
            port=server.port, password=server.password, dial="sofia/gateway/gw1/{digits}"
        ) as switch:
            records = await _run_over(switch, clock, pacing)
        kills = [cmd for cmd in server.commands if "uuid_kill" in cmd]
        assert len(kills) == 1, server.commands
    _check_released(records, pacing)


@pytest.mark.anyio
@pytest.mark.parametrize("early_media", [5.0, math.inf])
async def test_early_media_over_the_fake_freeswitch_delays_or_prevents_the_release(
    early_media: float,
) -> None:
    # CHANNEL_PROGRESS_MEDIA (183) is not the phone ringing: the release waits for
    # CHANNEL_PROGRESS (180), and a call that only ever sends early media rings out
    pacing = Scripted(release=1)
    clock = LoopClock()
    async with FakeEslServer(speed=1.0, early_media=early_media) as server:
        async with EslSwitch(
            port=server.port, password=server.password, dial="sofia/gateway/gw1/{digits}"
        ) as switch:
            records = await _run_over(switch, clock, pacing)
        kills = [cmd for cmd in server.commands if "uuid_kill" in cmd]
    if early_media == math.inf:
        (record,) = records
        assert kills == []
        assert pacing.released() == []
        assert record.outcome is Outcome.NO_ANSWER
        assert "released" not in record.detail
        assert record.ended_at is not None
        assert record.ended_at - record.started_at >= 40 - 1  # rang out at the ring timeout
    else:
        assert len(kills) == 1, server.commands
        record = _check_released(records, pacing)
        assert record.ended_at is not None
        # 5 s of early media, then 15 s of ringing at least
        assert record.ended_at - record.started_at >= early_media + MIN_RELEASE_AFTER


def test_released_detail_names_the_threshold() -> None:
    from autoinformer.core.release import released_detail

    text = released_detail(17.25, 15.0)
    assert (
        text == "released by the dialer after 17.2 s of ringing (the pacing's release_after: 15 s)"
    )


def test_a_call_ringing_across_a_backend_gap_is_never_released() -> None:
    # After a reconnect the switch reports the gap first, then the answers it hid (ARI's
    # reconcile, ESL's resync: BackendGap, then CallAnswered for each call answered meanwhile).
    # The core must not release a call the gap may have hidden the answer of.
    pacing = Scripted(release=4)
    core, ids = _four_calls(pacing)
    out = core.handle(T0 + 20, BackendGap(seconds=8.0, adopted=tuple(ids)))
    assert _hangups(out) == []
    out = core.handle(T0 + 20, CallAnswered(ids[0]))  # answered during the gap
    assert _hangups(out) == []
    assert core.calls[ids[0]].answered_at == T0 + 20
    # the others may still be ringing, or answered unseen on a lost leg: never released
    assert _hangups(core.handle(T0 + 25, e.Tick())) == []
    assert pacing.released() == []
    assert core._next_wake(T0 + 25) != T0 + 26  # nothing to poll for
    # a call placed after the gap is released as usual
    core.handle(T0 + 26, CallEnded(ids[1], HangupCause.NO_ANSWER))
    core.handle(T0 + 26, e.ContactsAdded([Contact(id="k9", phones=("+79500009993",))]))
    (fresh,) = set(core.calls) - set(ids)
    _ring(core, pacing, T0 + 26, fresh)
    out = core.handle(T0 + 41, e.Tick())
    assert [h.call_id for h in _hangups(out)] == [fresh]
