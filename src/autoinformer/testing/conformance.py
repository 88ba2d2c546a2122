"""One conformance suite that every :class:`~autoinformer.backends.base.Switch` passes.

Like trio's ``check_two_way_stream``: a backend's test module describes how to get a connected
switch in a :class:`SwitchHarness` and runs every check in :data:`CHECKS`::

    import pytest
    from autoinformer.testing.conformance import CHECKS, sim_harness

    @pytest.mark.anyio
    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
    async def test_conformance(check):
        await check(sim_harness())

The callees behind the switch follow :mod:`autoinformer.testing.parties` (the last digit of
the number decides). Every wait has a deadline in model seconds, turned into real seconds with
the harness's ``speed`` (model seconds per real second) plus ``slack`` real seconds, so a
fake running on a scaled clock finishes each check in well under a second.

What the checks require of a backend (the contract the dialer core relies on):

- one ``CallEnded`` per call, the last event about that call;
- unanswered calls end with a Q.850 cause that
  :func:`~autoinformer.outcomes.outcome_for_unanswered` maps to the party's expected outcome,
  a ring timeout with NO_ANSWER, answered calls with ``answered=True``;
- a callee hanging up gives NORMAL_CLEARING; our hang-up gives the cause we gave, and hanging
  up a call that is gone is not an error;
- digits arrive as ``DigitReceived`` after ``CallAnswered``;
- ``play`` ends with ``PlaybackFinished(completed=True)`` and ``stop_playback`` with
  ``completed=False``; a media the switch cannot play ends with ``completed=False`` and the
  switch's words in ``error`` (or is refused with a BackendError), and the call goes on;
- a bridge gives ``Bridged`` for each leg, and when one leg hangs up the switch ends the other
  (a backend whose switch does not do it by itself hangs the peers up: ARI deletes them);
- a refused originate raises OriginateError and produces no event for that call id.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

import anyio
import attrs

from autoinformer.backends.base import (
    Bridged,
    CallAnswered,
    CallEnded,
    DigitReceived,
    MachineDetected,
    Media,
    PlaybackFinished,
    Switch,
    SwitchEvent,
)
from autoinformer.errors import BackendError, OriginateError, SettingsError
from autoinformer.outcomes import HangupCause, outcome_for_unanswered
from autoinformer.testing.parties import PARTIES

__all__ = [
    "CHECKS",
    "EventRecorder",
    "SwitchHarness",
    "check_digits",
    "check_hangup_cause",
    "check_machine_detection",
    "check_originate_refused",
    "check_outcomes",
    "check_play",
    "check_play_failed",
    "check_transfer",
    "sim_harness",
]

E = TypeVar("E", bound=SwitchEvent)
_BEEP = Media(builtin="beep")


@attrs.frozen(kw_only=True)
class SwitchHarness:
    """How the conformance checks reach one backend.

    Attributes:
        connect: a factory returning an async context manager that yields a connected Switch
            (a fresh one for each check; the fake server behind it may be started inside).
        speed: model seconds per real second (1.0 for a real server, 50-100 for fakes on a
            ScaledClock); deadlines are divided by it.
        slack: real seconds added to every deadline (network, scheduling).
        number_prefix: customer numbers are this prefix plus the party's last digit.
        operator_endpoint: an operator endpoint that answers and talks (15 s).
        media: a playable media; ``media_seconds`` its duration in model seconds, or None
            when the backend cannot promise it (the timing assertion is skipped).
        long_media: a media that plays for a minute or more, for the stop check (a short one
            may finish by itself before ``stop_playback`` reaches a busy switch); None: use
            ``media``.
        missing_media: a media the switch accepts but cannot play (a sound it does not have),
            for the playback-truth check; None skips that check.
        machine_number: a number answered by a machine, or None when answering-machine
            detection is not supported (the check is skipped).
        refused_destination: a destination the switch refuses outright (OriginateError), or
            None to skip that check.
        ring_timeout: the ring timeout used for every call (model seconds; > 2).

    Raises:
        SettingsError: a speed, slack or ring timeout the checks cannot work with.
    """

    connect: Callable[[], AbstractAsyncContextManager[Switch]]
    speed: float = 1.0
    slack: float = 2.0
    number_prefix: str = "+7950000000"
    operator_endpoint: str = "operator/1001"
    media: Media = _BEEP
    media_seconds: float | None = None
    long_media: Media | None = None
    missing_media: Media | None = None
    machine_number: str | None = None
    refused_destination: str | None = None
    ring_timeout: float = 4.0

    def __attrs_post_init__(self) -> None:
        if not (self.speed > 0 and math.isfinite(self.speed)):
            raise SettingsError("speed", f"expected a finite number > 0, got {self.speed!r}")
        if not self.slack >= 0:
            raise SettingsError("slack", f"expected seconds >= 0, got {self.slack!r}")
        longest = max(p.ring_seconds for p in PARTIES.values() if p.answers)
        if not self.ring_timeout > longest + 1:
            raise SettingsError(
                "ring_timeout",
                f"must exceed the parties' ring time ({longest:g} s) by more than 1 s, "
                f"got {self.ring_timeout!r}",
            )

    def number(self, digit: str) -> str:
        """The customer number whose party is ``PARTIES[digit]``."""
        return f"{self.number_prefix}{digit}"

    def deadline(self, model_seconds: float) -> float:
        """Real seconds to wait for something expected within ``model_seconds``."""
        return model_seconds / self.speed + self.slack


_ids = itertools.count(1)


def _new_id(kind: str) -> str:
    return f"conf-{kind}-{next(_ids)}-{uuid.uuid4().hex[:8]}"


class EventRecorder:
    """Reads a switch's events in the background; lets a check wait for one with a deadline."""

    def __init__(self, switch: Switch, harness: SwitchHarness) -> None:
        self.switch = switch
        self.harness = harness
        self.events: list[SwitchEvent] = []
        self._changed = anyio.Event()

    async def _read(self) -> None:
        async for event in self.switch.events():
            self.events.append(event)
            self._changed.set()
            self._changed = anyio.Event()

    def of(self, call_id: str) -> list[SwitchEvent]:
        """Every event so far about ``call_id``."""
        return [e for e in self.events if getattr(e, "call_id", None) == call_id]

    async def wait_for(
        self,
        kind: type[E],
        call_id: str,
        within: float,
        what: str = "",
        where: Callable[[E], bool] = lambda e: True,
    ) -> E:
        """The first event of ``kind`` about ``call_id`` (matching ``where``).

        Raises:
            AssertionError: it did not arrive within ``within`` model seconds (plus slack),
                naming what was expected and listing the events seen for the call.
        """
        try:
            with anyio.fail_after(self.harness.deadline(within)):
                while True:
                    events = self.of(call_id)
                    for event in events:
                        if isinstance(event, kind) and where(event):
                            return event
                    if kind not in (CallEnded, PlaybackFinished) and any(
                        isinstance(e, CallEnded) for e in events
                    ):
                        raise AssertionError(
                            f"{what or kind.__name__}: call {call_id!r} ended without "
                            f"{kind.__name__}; events seen for it: {events!r}"
                        )
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"{what or kind.__name__}: no {kind.__name__} for call {call_id!r} within "
                f"{within:g} model seconds; events seen for it: {self.of(call_id)!r}"
            ) from None

    def assert_ended_last(self, call_id: str) -> None:
        """Exactly one CallEnded for the call, and no event about it after that."""
        events = self.of(call_id)
        ends = [i for i, e in enumerate(events) if isinstance(e, CallEnded)]
        assert len(ends) == 1, f"call {call_id!r}: expected one CallEnded, got {events!r}"
        assert ends[0] == len(events) - 1, (
            f"call {call_id!r}: events after CallEnded: {events[ends[0] + 1 :]!r}"
        )


@contextlib.asynccontextmanager
async def _session(h: SwitchHarness) -> AsyncIterator[EventRecorder]:
    """A connected switch with its events recorded; a lone failure is raised unwrapped."""
    try:
        async with h.connect() as switch, anyio.create_task_group() as tg:
            recorder = EventRecorder(switch, h)
            tg.start_soon(recorder._read)
            try:
                yield recorder
            finally:
                tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        leaves = _leaves(group)
        if len(leaves) == 1 and isinstance(leaves[0], Exception):
            raise leaves[0] from None
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


async def _originate(
    h: SwitchHarness,
    rec: EventRecorder,
    digit: str,
    *,
    detect_machine: bool = False,
    ring_timeout: float | None = None,
) -> str:
    call_id = _new_id(f"p{digit}")
    await rec.switch.originate(
        call_id,
        h.number(digit),
        caller_id="+74950000000",
        ring_timeout=h.ring_timeout if ring_timeout is None else ring_timeout,
        detect_machine=detect_machine,
    )
    return call_id


# --- the checks ----------------------------------------------------------------------------


async def check_outcomes(h: SwitchHarness) -> None:
    """Every test party, called at once, ends as the convention says."""
    longest_ring = max(p.ring_seconds for p in PARTIES.values())
    async with _session(h) as rec:
        calls = {digit: await _originate(h, rec, digit) for digit in sorted(PARTIES)}
        for digit, call_id in calls.items():
            party = PARTIES[digit]
            if party.answers:
                await rec.wait_for(
                    CallAnswered, call_id, longest_ring + 1, f"party {digit} answers"
                )
                await rec.switch.hangup(call_id)
                ended = await rec.wait_for(CallEnded, call_id, 2, f"party {digit} hung up")
                assert ended.answered, f"party {digit}: CallEnded.answered is False: {ended!r}"
                first_answer = next(
                    i for i, e in enumerate(rec.of(call_id)) if isinstance(e, CallAnswered)
                )
                assert first_answer < rec.of(call_id).index(ended), (
                    f"party {digit}: CallAnswered after CallEnded: {rec.of(call_id)!r}"
                )
            else:
                ended = await rec.wait_for(
                    CallEnded, call_id, h.ring_timeout + 1, f"party {digit} fails"
                )
                outcome = outcome_for_unanswered(ended.cause)
                assert outcome is party.expected, (
                    f"party {digit}: cause {ended.cause!r} gives outcome {outcome.value!r}, "
                    f"expected {party.expected.value!r}"
                )
                assert not ended.answered, f"party {digit}: answered=True on {ended!r}"
                answered = [e for e in rec.of(call_id) if isinstance(e, CallAnswered)]
                assert not answered, f"party {digit} never answers, yet: {answered!r}"
        for call_id in calls.values():
            rec.assert_ended_last(call_id)


async def check_hangup_cause(h: SwitchHarness) -> None:
    """Callee hang-up, our hang-up (with our cause), ring timeout; hang-up is idempotent."""
    async with _session(h) as rec:
        short = await _originate(h, rec, "6")  # hangs up 2 s after answer
        ours = await _originate(h, rec, "1")
        ringing = await _originate(h, rec, "3")  # rings until our timeout

        ended = await rec.wait_for(CallEnded, short, 1 + 2 + 1, "party 6 hangs up by itself")
        assert ended.cause is HangupCause.NORMAL_CLEARING, f"callee hang-up: {ended!r}"
        assert ended.answered, f"callee hang-up after answer: answered=False in {ended!r}"

        await rec.wait_for(CallAnswered, ours, 2, "party 1 answers")
        await rec.switch.hangup(ours, HangupCause.USER_BUSY)
        ended = await rec.wait_for(CallEnded, ours, 2, "our hang-up")
        assert ended.cause is HangupCause.USER_BUSY, f"our cause USER_BUSY, got {ended!r}"
        assert ended.answered, f"answered call hung up by us: {ended!r}"
        await rec.switch.hangup(ours)  # already gone: no error
        await rec.switch.hangup(short)

        ended = await rec.wait_for(CallEnded, ringing, h.ring_timeout + 1, "ring timeout")
        assert ended.cause is HangupCause.NO_ANSWER, f"ring timeout gives NO_ANSWER: {ended!r}"
        assert not ended.answered, f"ring timeout: answered=True in {ended!r}"

        # A long ring timeout: on a busy machine our hang-up may come late in model time,
        # and it must still find the call ringing.
        cancelled = await _originate(h, rec, "3", ring_timeout=max(60.0, h.ring_timeout))
        await rec.switch.hangup(cancelled)  # we give up while it rings
        ended = await rec.wait_for(CallEnded, cancelled, 2, "hang-up while ringing")
        assert ended.cause is HangupCause.NORMAL_CLEARING, f"cancel while ringing: {ended!r}"
        assert not ended.answered, f"cancel while ringing: answered=True in {ended!r}"
        for call_id in (short, ours, ringing, cancelled):
            rec.assert_ended_last(call_id)


async def check_play(h: SwitchHarness) -> None:
    """A playback finishes after its duration; a stopped one finishes with completed=False."""
    async with _session(h) as rec:
        call_id = await _originate(h, rec, "1")
        await rec.wait_for(CallAnswered, call_id, 2, "party 1 answers")
        started = anyio.current_time()
        await rec.switch.play(call_id, h.media, playback_id="pb-full")
        limit = (h.media_seconds or 10.0) + 1
        done = await rec.wait_for(
            PlaybackFinished, call_id, limit, "playback ends", lambda e: e.playback_id == "pb-full"
        )
        assert done.completed, f"a playback left alone completes: {done!r}"
        if h.media_seconds is not None:
            elapsed = (anyio.current_time() - started) * h.speed
            assert elapsed >= 0.5 * h.media_seconds, (
                f"playback of {h.media_seconds:g} s finished after {elapsed:.3f} model seconds"
            )

        long_media = h.long_media if h.long_media is not None else h.media
        await rec.switch.play(call_id, long_media, playback_id="pb-stop")
        await rec.switch.stop_playback(call_id, "pb-stop")
        stopped = await rec.wait_for(
            PlaybackFinished, call_id, 2, "stopped playback", lambda e: e.playback_id == "pb-stop"
        )
        assert not stopped.completed, f"a stopped playback has completed=False: {stopped!r}"
        await rec.switch.stop_playback(call_id, "pb-stop")  # already stopped: no error
        await rec.switch.hangup(call_id)
        await rec.wait_for(CallEnded, call_id, 2, "hang-up after playback")
        rec.assert_ended_last(call_id)


async def check_play_failed(h: SwitchHarness) -> None:
    """A media the switch cannot play ends as a failed playback with the switch's words
    (``completed=False``, ``error`` set), never as a completed one; the call goes on."""
    if h.missing_media is None:
        return
    async with _session(h) as rec:
        call_id = await _originate(h, rec, "1")
        await rec.wait_for(CallAnswered, call_id, 2, "party 1 answers")
        try:
            await rec.switch.play(call_id, h.missing_media, playback_id="pb-missing")
        except BackendError:
            pass  # refused outright: also never a delivered message
        else:
            failed = await rec.wait_for(
                PlaybackFinished,
                call_id,
                2,
                "a playback that cannot play",
                lambda e: e.playback_id == "pb-missing",
            )
            assert not failed.completed, f"a media that cannot play completed: {failed!r}"
            assert failed.error, f"a failed playback without the switch's words: {failed!r}"
        await rec.switch.play(call_id, h.media, playback_id="pb-after")
        after = await rec.wait_for(
            PlaybackFinished,
            call_id,
            (h.media_seconds or 10.0) + 1,
            "the call goes on",
            lambda e: e.playback_id == "pb-after",
        )
        assert after.completed, f"a playback after a failed one: {after!r}"
        await rec.switch.hangup(call_id)
        await rec.wait_for(CallEnded, call_id, 2, "hang-up after playback")
        rec.assert_ended_last(call_id)


async def check_digits(h: SwitchHarness) -> None:
    """Parties 7 and 8 press their digits after answer; each arrives as DigitReceived."""
    async with _session(h) as rec:
        calls = {d: await _originate(h, rec, d) for d in ("7", "8")}
        for digit, call_id in calls.items():
            party = PARTIES[digit]
            await rec.wait_for(CallAnswered, call_id, party.ring_seconds + 1, f"party {digit}")
            await rec.switch.collect_digits(call_id)
            last_at = max(at for at, _ in party.digits)
            pressed = await rec.wait_for(
                DigitReceived, call_id, last_at + 1, f"party {digit} presses a digit"
            )
            got = "".join(e.digit for e in rec.of(call_id) if isinstance(e, DigitReceived))
            assert got == party.expected_digits, (
                f"party {digit}: digits {got!r}, expected {party.expected_digits!r} ({pressed!r})"
            )
            events = rec.of(call_id)
            answer_at = next(i for i, e in enumerate(events) if isinstance(e, CallAnswered))
            assert answer_at < events.index(pressed), f"digit before answer: {events!r}"
            await rec.switch.hangup(call_id)
            await rec.wait_for(CallEnded, call_id, 2, f"party {digit} hung up")
            rec.assert_ended_last(call_id)


async def check_transfer(h: SwitchHarness) -> None:
    """Customer and operator leg bridged: both Bridged; the operator hangs up -> both end.

    The customer (party 1) never hangs up by itself, so only the switch ending the bridge
    peer can end it.
    """
    async with _session(h) as rec:
        customer = await _originate(h, rec, "1")
        await rec.wait_for(CallAnswered, customer, 2, "customer answers")
        agent = _new_id("op")
        await rec.switch.originate(
            agent, h.operator_endpoint, caller_id=None, ring_timeout=10.0, operator=True
        )
        await rec.wait_for(CallAnswered, agent, 10, "operator answers")
        bridge_id = _new_id("br")
        await rec.switch.bridge(bridge_id, (customer, agent))
        for call_id in (customer, agent):
            bridged = await rec.wait_for(Bridged, call_id, 2, "leg joins the bridge")
            assert bridged.bridge_id == bridge_id, f"wrong bridge id: {bridged!r}"
        await rec.switch.hangup(agent)
        ended = await rec.wait_for(CallEnded, agent, 2, "operator leg hung up")
        assert ended.answered, f"operator leg was answered: {ended!r}"
        ended = await rec.wait_for(
            CallEnded, customer, 3, "customer leg ends when its bridge peer hangs up"
        )
        assert ended.answered, f"customer leg was answered: {ended!r}"
        for call_id in (customer, agent):
            rec.assert_ended_last(call_id)


async def check_machine_detection(h: SwitchHarness) -> None:
    """With detect_machine, a person is reported human and a machine is reported machine."""
    if h.machine_number is None:
        return
    machine_number = h.machine_number
    async with _session(h) as rec:
        human = await _originate(h, rec, "1", detect_machine=True)
        machine = _new_id("amd")
        await rec.switch.originate(
            machine,
            machine_number,
            caller_id=None,
            ring_timeout=h.ring_timeout,
            detect_machine=True,
        )
        for call_id, expected in ((human, False), (machine, True)):
            verdict = await _amd_verdict(rec, call_id)
            assert verdict is expected, (
                f"{'machine' if expected else 'person'} reported machine={verdict}: "
                f"{rec.of(call_id)!r}"
            )
            await rec.switch.hangup(call_id)
            await rec.wait_for(CallEnded, call_id, 2)
            rec.assert_ended_last(call_id)


async def _amd_verdict(rec: EventRecorder, call_id: str) -> bool:
    answered = await rec.wait_for(CallAnswered, call_id, 3, "answer with detection")
    if answered.machine is not None:
        return answered.machine
    detected = await rec.wait_for(MachineDetected, call_id, 6, "machine detection result")
    return detected.machine


async def check_originate_refused(h: SwitchHarness) -> None:
    """A refused originate raises OriginateError and no event ever names its call id."""
    if h.refused_destination is None:
        return
    async with _session(h) as rec:
        refused = _new_id("refused")
        raised = False
        try:
            await rec.switch.originate(
                refused, h.refused_destination, caller_id=None, ring_timeout=h.ring_timeout
            )
        except OriginateError:
            raised = True
        assert raised, f"originate to {h.refused_destination!r} did not raise OriginateError"
        # A later call's end proves the switch went on; nothing arrived for the refused one.
        busy = await _originate(h, rec, "2")
        await rec.wait_for(CallEnded, busy, 2, "busy party after a refused originate")
        assert rec.of(refused) == [], f"events for a refused call: {rec.of(refused)!r}"


CHECKS: Sequence[Callable[[SwitchHarness], Awaitable[None]]] = (
    check_outcomes,
    check_hangup_cause,
    check_play,
    check_play_failed,
    check_digits,
    check_transfer,
    check_machine_detection,
    check_originate_refused,
)
"""Every check; a backend's test module runs each of them against its harness."""


def sim_harness(speed: float = 100.0, *, virtual: bool = False) -> SwitchHarness:
    """The harness for :class:`~autoinformer.backends.sim.SimSwitch` on a scaled clock.

    Args:
        speed: model seconds per real second of the switch's :class:`ScaledClock`.
        virtual: run on the event loop's clock instead (a
            :class:`~autoinformer.testing.virtual_time.LoopClock`, so ``speed`` is 1): for a
            test in virtual time, where every deadline is exact and load cannot fail a check.
    """
    from autoinformer.backends.sim import SimSwitch
    from autoinformer.clock import Clock, ScaledClock
    from autoinformer.sim.faults import Faults
    from autoinformer.testing.virtual_time import LoopClock

    if virtual:
        speed = 1.0

    def connect() -> AbstractAsyncContextManager[Switch]:
        clock: Clock = LoopClock() if virtual else ScaledClock(speed=speed)
        return SimSwitch(
            clock=clock,
            faults=Faults(refuse_pattern=r"^refused:"),
            builtin_seconds={"beep": 0.5, "hold-music": 600.0},
        )

    return SwitchHarness(
        connect=connect,
        speed=speed,
        media=Media(builtin="beep"),
        media_seconds=0.5,
        long_media=Media(builtin="hold-music"),
        machine_number="+15550100001",
        refused_destination="refused:+79500000001",
    )
