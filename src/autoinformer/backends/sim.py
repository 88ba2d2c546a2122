"""The simulated switch: the async face of the simulator's callee and operator model.

:class:`SimSwitch` implements :class:`~autoinformer.backends.base.Switch` over a
:class:`~autoinformer.sim.model.CallModel` (default: the last-digit test convention of
:mod:`autoinformer.testing.parties`), with times taken from an :class:`~autoinformer.clock.Clock`:
``ScaledClock(speed=100)`` runs a 20-second call in 0.2 s of real time, on asyncio and trio.

How it runs: there are no background tasks. Every call's future (ringing, answer, digits,
hang-up) is drawn from the model at originate time and put on a heap of timestamped actions.
Commands first apply every action that is due by ``clock.now()``, so the switch's state is
always what it would be at that instant; :meth:`SimSwitch.events` sleeps until the next action
is due (or a command produces an event) and hands events out in time order. Same model seed,
same events.

Behaviour worth knowing (what the core may rely on from every backend):

- Event order per call: ``CallProgress`` (for parties that ring), ``CallAnswered``,
  ``MachineDetected`` (only with ``detect_machine``), ``DigitReceived`` at the model's times,
  ``PlaybackFinished`` after the media's duration, then exactly one ``CallEnded`` and nothing
  after it.
- ``CallEnded`` causes: the callee hangs up: NORMAL_CLEARING, ``answered=True``; we hang up:
  the cause we gave; the network fails the call: the model's cause, ``answered=False``; our
  ring timeout: NO_ANSWER.
- Bridging stops both legs' playbacks (``PlaybackFinished(completed=False)``) and digits; the
  customer's own hang-up timer no longer applies, the operator hangs up after the model's talk
  time. When any member of a bridge ends, the switch hangs the others up (NORMAL_CLEARING),
  like FreeSWITCH's ``uuid_bridge``; the ARI backend does the same by deleting the peers.
- Playback duration: a :class:`~autoinformer.backends.base.Media` path is read with
  :mod:`wave`; a file that is missing or cannot be read fails at once as a real switch reports
  it, ``PlaybackFinished(completed=False, error="... could not play PATH (file not found)")``
  (the core records the attempt ``failed``, never ``delivered``); builtin names last
  ``builtin_seconds`` (default 1 s), except speech the runtime sends without a renderer
  (``tts:<text>``): 14 characters a second, at least 1 s, as the virtual-time driver assumes.
- The attempt number given to the model is the ``AUTOINFORMER_ATTEMPT`` channel variable when
  set, else the count of originates to that destination on this switch.
- Faults: :class:`~autoinformer.sim.faults.Faults` refuses originates (OriginateError) and,
  during its planned outages, connects and originates (BackendUnavailable);
  :meth:`SimSwitch.go_away` makes every command and the event stream raise
  BackendUnavailable; :meth:`SimSwitch.come_back` then reports a ``BackendGap`` listing the
  calls lost meanwhile, each followed by its ``CallEnded``; :meth:`SimSwitch.gap` reports a
  short drop in place.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import math
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Self

import anyio
import attrs

from autoinformer.backends.base import (
    BackendGap,
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    MachineDetected,
    Media,
    PlaybackFinished,
    Switch,
    SwitchEvent,
)
from autoinformer.clock import Clock, ScaledClock, WallClock
from autoinformer.errors import (
    BackendUnavailable,
    CallNotFound,
    OriginateError,
    SettingsError,
    WrongCallState,
)
from autoinformer.outcomes import HangupCause
from autoinformer.sim.faults import Faults
from autoinformer.sim.media import playback_error, wav_seconds
from autoinformer.sim.model import CallModel, PartiesModel

__all__ = ["ATTEMPT_VARIABLE", "SPEECH_CHARS_PER_SECOND", "SimSwitch"]

ATTEMPT_VARIABLE = "AUTOINFORMER_ATTEMPT"
"""Channel variable that tells the model which attempt this is (1-based)."""

SPEECH_CHARS_PER_SECOND = 14.0
"""How fast simulated speech (``tts:<text>`` builtins) is spoken, as the driver assumes."""


@attrs.define(kw_only=True, eq=False)
class _Call:
    call_id: str
    operator: bool
    answered: bool = False
    machine: bool = False
    talk_s: float = 0.0
    bridge_id: str | None = None
    timers: dict[int, str] = attrs.field(factory=dict)  # token -> kind
    playbacks: dict[str, int] = attrs.field(factory=dict)  # playback_id -> token


@attrs.frozen
class _Action:
    call_id: str
    kind: str
    digit: str = ""
    cause: HangupCause = HangupCause.NORMAL_CLEARING
    playback_id: str = ""


class SimSwitch(Switch):
    """A simulated telephone switch driven by a seeded model (see the module docstring).

    Args:
        model: the callees and operators; default :class:`~autoinformer.sim.model.PartiesModel`.
        clock: where time comes from; default the wall clock. Use
            ``ScaledClock(speed=...)`` in tests and demos.
        faults: refused originates and planned outages; default none.
        builtin_seconds: duration of builtin media by name (``{"beep": 0.3}``).
        default_builtin_seconds: duration of any other builtin media.

    Raises:
        SettingsError: a duration is negative or not finite.
    """

    plays_text = True  # ``tts:<text>`` builtins are spoken at SPEECH_CHARS_PER_SECOND

    def __init__(
        self,
        *,
        model: CallModel | None = None,
        clock: Clock | None = None,
        faults: Faults | None = None,
        builtin_seconds: Mapping[str, float] | None = None,
        default_builtin_seconds: float = 1.0,
    ) -> None:
        self.model: CallModel = model if model is not None else PartiesModel()
        self.clock: Clock = clock if clock is not None else WallClock()
        self.faults = faults if faults is not None else Faults()
        self._builtin_seconds = dict(builtin_seconds or {})
        for name, value in (*self._builtin_seconds.items(), ("default", default_builtin_seconds)):
            if not (value >= 0 and math.isfinite(value)):
                raise SettingsError(
                    "builtin_seconds" if name != "default" else "default_builtin_seconds",
                    f"{name}: expected a finite duration >= 0, got {value!r}",
                )
        self._default_builtin = default_builtin_seconds
        self._wav_seconds: dict[Path, float | None] = {}
        self._wav_errors: dict[Path, str] = {}
        self._calls: dict[str, _Call] = {}
        self._bridges: dict[str, set[str]] = {}
        self._heap: list[tuple[float, int, _Action]] = []
        self._live: set[int] = set()
        self._seq = itertools.count()
        self._ready: collections.deque[SwitchEvent] = collections.deque()
        self._attempts: collections.Counter[str] = collections.Counter()
        self._waiter: anyio.Event | None = None
        self._connected = False
        self._away_since: float | None = None
        self._lost: list[tuple[str, bool]] = []

    # --- lifecycle ------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect; raises BackendUnavailable while the switch is away."""
        if self._away_since is not None or self.faults.is_down(self.clock.now()):
            raise BackendUnavailable("the simulated switch is away")
        self._connected = True

    async def close(self) -> None:
        """Stop the event stream; calls in progress stay on the (simulated) switch."""
        self._connected = False
        self._wake()

    @property
    def connected(self) -> bool:
        """False while closed or away (:meth:`go_away`, a planned outage of ``faults``)."""
        return (
            self._connected
            and self._away_since is None
            and not self.faults.is_down(self.clock.now())
        )

    # --- faults ---------------------------------------------------------------------------

    def go_away(self) -> None:
        """The switch disappears: commands and the event stream raise BackendUnavailable.

        Calls in progress are lost; their ``CallEnded`` arrives after :meth:`come_back`.
        """
        self._advance()
        if self._away_since is not None:
            return
        self._away_since = self.clock.now()
        for call_id in list(self._calls):
            call = self._calls[call_id]
            self._lost.append((call_id, call.answered))
            self._forget(call)
        self._bridges.clear()
        self._wake()

    def come_back(self) -> None:
        """The switch is back: a BackendGap lists the lost calls, each then gets CallEnded."""
        if self._away_since is None:
            return
        seconds = max(0.0, self.clock.now() - self._away_since)
        self._away_since = None
        lost, self._lost = self._lost, []
        self._ready.append(BackendGap(seconds=seconds, lost=tuple(c for c, _ in lost)))
        for call_id, answered in lost:
            self._ready.append(
                CallEnded(
                    call_id,
                    HangupCause.NORMAL_TEMPORARY_FAILURE,
                    answered=answered,
                    detail="lost while the switch was away",
                )
            )
        self._wake()

    def gap(self, seconds: float, *, lose: tuple[str, ...] = ()) -> None:
        """Report a short drop of the event connection: calls in ``lose`` ended meanwhile."""
        self._advance()
        lost = tuple(c for c in lose if c in self._calls)
        adopted = tuple(c for c in self._calls if c not in lost)
        self._ready.append(BackendGap(seconds=seconds, adopted=adopted, lost=lost))
        for call_id in lost:
            self._end(
                self._calls[call_id],
                HangupCause.NORMAL_TEMPORARY_FAILURE,
                "lost during a connection gap",
            )
        self._wake()

    @property
    def live_calls(self) -> tuple[str, ...]:
        """Ids of the calls that exist on the switch now."""
        self._advance()
        return tuple(self._calls)

    # --- commands -------------------------------------------------------------------------

    async def originate(
        self,
        call_id: str,
        destination: str,
        *,
        caller_id: str | None,
        ring_timeout: float,
        variables: Mapping[str, str] | None = None,
        operator: bool = False,
        detect_machine: bool = False,
    ) -> None:
        self._check_up()
        if call_id in self._calls:
            raise OriginateError(f"call id {call_id!r} is already in use")
        if not (ring_timeout > 0 and math.isfinite(ring_timeout)):
            raise OriginateError(f"ring_timeout must be a finite number > 0, got {ring_timeout!r}")
        attempt_no = self._attempt_no(destination, variables)
        now = self.clock.now()
        if self.faults.is_down(now):
            raise BackendUnavailable("the simulated switch is in a planned outage")
        if self.faults.refuses(destination, attempt_no):
            raise OriginateError(f"the switch refused to call {destination!r}")
        call = _Call(call_id=call_id, operator=operator)
        self._calls[call_id] = call
        if operator:
            self._plan_operator(call, now, destination, attempt_no, ring_timeout)
        else:
            self._plan_callee(call, now, destination, attempt_no, ring_timeout, detect_machine)
        self._wake()

    async def play(self, call_id: str, media: Media, *, playback_id: str) -> None:
        call = self._answered_call(call_id)
        if playback_id in call.playbacks:
            raise WrongCallState(f"playback {playback_id!r} is already playing on {call_id!r}")
        seconds = self._media_seconds(media)
        if seconds is None:  # as a real switch reports it: failed, in its own words
            assert media.path is not None  # builtins always have a duration
            error = playback_error(media.path, self._wav_errors[media.path])
            self._ready.append(PlaybackFinished(call_id, playback_id, completed=False, error=error))
        else:
            token = self._schedule(
                self.clock.now() + seconds,
                _Action(call_id, "playback", playback_id=playback_id),
                call,
                "playback",
            )
            call.playbacks[playback_id] = token
        self._wake()

    async def stop_playback(self, call_id: str, playback_id: str) -> None:
        self._check_up()
        call = self._calls.get(call_id)
        if call is None or playback_id not in call.playbacks:
            return
        self._stop_playback(call, playback_id)
        self._wake()

    async def collect_digits(self, call_id: str) -> None:
        self._check_up()
        if call_id not in self._calls:
            raise CallNotFound(f"call {call_id!r} does not exist")

    async def bridge(self, bridge_id: str, call_ids: tuple[str, ...]) -> None:
        calls = [self._answered_call(c) for c in call_ids]
        for call in calls:
            if call.bridge_id is not None and call.bridge_id != bridge_id:
                raise WrongCallState(f"call {call.call_id!r} is in bridge {call.bridge_id!r}")
        members = self._bridges.setdefault(bridge_id, set())
        now = self.clock.now()
        for call in calls:
            if call.bridge_id == bridge_id:
                continue
            call.bridge_id = bridge_id
            members.add(call.call_id)
            for playback_id in list(call.playbacks):
                self._stop_playback(call, playback_id)
            self._cancel(call, {"digit", "far_hangup"})
            if call.operator:
                self._schedule(now + call.talk_s, _Action(call.call_id, "far_hangup"), call)
            self._ready.append(Bridged(call.call_id, bridge_id))
        self._wake()

    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        self._check_up()
        call = self._calls.get(call_id)
        if call is None:
            return
        self._end(call, HangupCause(cause), f"hung up by us ({HangupCause(cause).name})")
        self._wake()

    def events(self) -> AsyncIterator[SwitchEvent]:
        """The event stream (one consumer at a time); ends when the switch is closed."""
        return _EventStream(self)

    # --- planning a call from the model ---------------------------------------------------

    def _attempt_no(self, destination: str, variables: Mapping[str, str] | None) -> int:
        self._attempts[destination] += 1
        raw = (variables or {}).get(ATTEMPT_VARIABLE)
        if raw is not None:
            try:
                return max(1, int(raw))
            except ValueError:
                raise OriginateError(
                    f"channel variable {ATTEMPT_VARIABLE}={raw!r} is not an integer"
                ) from None
        return self._attempts[destination]

    def _plan_callee(
        self,
        call: _Call,
        now: float,
        destination: str,
        attempt_no: int,
        ring_timeout: float,
        detect_machine: bool,
    ) -> None:
        fate = self.model.callee(destination, attempt_no)
        cid = call.call_id
        if fate.rings:
            self._schedule(now + fate.progress_s, _Action(cid, "progress"), call)
        if fate.answers and fate.ring_s < ring_timeout:
            answer_at = now + fate.ring_s
            call.machine = fate.machine
            self._schedule(answer_at, _Action(cid, "answer"), call)
            if detect_machine:
                self._schedule(answer_at + fate.amd_s, _Action(cid, "amd"), call)
            for at, digit in fate.digits:
                self._schedule(answer_at + at, _Action(cid, "digit", digit=digit), call)
            if fate.listen_s is not None:
                stays = fate.listen_s
                if fate.digits:  # who presses a digit waits for what it asked for
                    stays = max(stays, fate.digits[-1][0] + fate.patience_s)
                self._schedule(answer_at + stays, _Action(cid, "far_hangup"), call)
        elif fate.fail_cause is not None and fate.ring_s < ring_timeout:
            self._schedule(now + fate.ring_s, _Action(cid, "fail", cause=fate.fail_cause), call)
        else:
            self._schedule(
                now + ring_timeout, _Action(cid, "fail", cause=HangupCause.NO_ANSWER), call
            )

    def _plan_operator(
        self, call: _Call, now: float, endpoint: str, leg_no: int, ring_timeout: float
    ) -> None:
        fate = self.model.operator(endpoint, leg_no)
        cid = call.call_id
        call.talk_s = fate.talk_s
        self._schedule(now + min(0.1, fate.answer_s / 2), _Action(cid, "progress"), call)
        if fate.answer_s >= ring_timeout:
            self._schedule(
                now + ring_timeout, _Action(cid, "fail", cause=HangupCause.NO_ANSWER), call
            )
        elif fate.answers:
            self._schedule(now + fate.answer_s, _Action(cid, "answer"), call)
        else:
            cause = fate.fail_cause or HangupCause.USER_BUSY
            self._schedule(now + fate.answer_s, _Action(cid, "fail", cause=cause), call)

    # --- the heap of timed actions --------------------------------------------------------

    def _schedule(self, at: float, action: _Action, call: _Call, kind: str | None = None) -> int:
        token = next(self._seq)
        heapq.heappush(self._heap, (at, token, action))
        self._live.add(token)
        call.timers[token] = kind or action.kind
        return token

    def _cancel(self, call: _Call, kinds: set[str]) -> None:
        for token, kind in list(call.timers.items()):
            if kind in kinds:
                del call.timers[token]
                self._live.discard(token)

    def _advance(self) -> None:
        """Apply every action due by now, in time order (ties: in the order planned)."""
        if self._away_since is not None:
            return
        now = self.clock.now()
        heap = self._heap
        while heap and (heap[0][1] not in self._live or heap[0][0] <= now):
            _, token, action = heapq.heappop(heap)
            if token not in self._live:
                continue
            self._live.discard(token)
            call = self._calls.get(action.call_id)
            if call is None:
                continue
            call.timers.pop(token, None)
            self._apply(call, action)

    def _apply(self, call: _Call, action: _Action) -> None:
        cid = call.call_id
        if action.kind == "progress":
            self._ready.append(CallProgress(cid))
        elif action.kind == "answer":
            call.answered = True
            self._ready.append(CallAnswered(cid))
        elif action.kind == "amd":
            self._ready.append(MachineDetected(cid, machine=call.machine, beep=call.machine))
        elif action.kind == "digit":
            self._ready.append(DigitReceived(cid, action.digit))
        elif action.kind == "playback":
            del call.playbacks[action.playback_id]
            self._ready.append(PlaybackFinished(cid, action.playback_id, completed=True))
        elif action.kind == "fail":
            reason = "ring timeout" if action.cause is HangupCause.NO_ANSWER else "network"
            self._end(call, action.cause, f"{reason}: {action.cause.name}")
        elif action.kind == "far_hangup":
            who = "operator" if call.operator else "callee"
            self._end(call, HangupCause.NORMAL_CLEARING, f"{who} hung up")

    def _next_due(self) -> float | None:
        while self._heap and self._heap[0][1] not in self._live:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    # --- helpers --------------------------------------------------------------------------

    def _wake(self) -> None:
        if self._waiter is not None:
            self._waiter.set()

    def _check_up(self) -> None:
        if self._away_since is not None:
            raise BackendUnavailable("the simulated switch is away")
        if not self._connected:
            raise BackendUnavailable("the simulated switch is not connected")
        self._advance()

    def _answered_call(self, call_id: str) -> _Call:
        self._check_up()
        call = self._calls.get(call_id)
        if call is None:
            raise CallNotFound(f"call {call_id!r} does not exist")
        if not call.answered:
            raise WrongCallState(f"call {call_id!r} is not answered")
        return call

    def _stop_playback(self, call: _Call, playback_id: str) -> None:
        token = call.playbacks.pop(playback_id)
        call.timers.pop(token, None)
        self._live.discard(token)
        self._ready.append(PlaybackFinished(call.call_id, playback_id, completed=False))

    def _forget(self, call: _Call) -> None:
        for token in call.timers:
            self._live.discard(token)
        call.timers.clear()
        call.playbacks.clear()
        del self._calls[call.call_id]

    def _end(self, call: _Call, cause: HangupCause, detail: str) -> None:
        for playback_id in list(call.playbacks):
            self._stop_playback(call, playback_id)
        self._forget(call)
        self._ready.append(CallEnded(call.call_id, cause, answered=call.answered, detail=detail))
        bridge_id = call.bridge_id
        if bridge_id is None:
            return
        members = self._bridges.get(bridge_id, set())
        members.discard(call.call_id)
        if not members:
            self._bridges.pop(bridge_id, None)
        for peer_id in sorted(members):
            peer = self._calls.get(peer_id)
            if peer is not None:
                self._end(peer, HangupCause.NORMAL_CLEARING, "bridge peer hung up")

    def _media_seconds(self, media: Media) -> float | None:
        if media.builtin is not None:
            if media.builtin in self._builtin_seconds:
                return self._builtin_seconds[media.builtin]
            if media.builtin.startswith("tts:"):  # the runtime's speech without a renderer
                return max(1.0, len(media.builtin[4:]) / SPEECH_CHARS_PER_SECOND)
            return self._default_builtin
        path = media.path
        assert path is not None  # Media guarantees exactly one of path / builtin
        if path not in self._wav_seconds:
            self._wav_seconds[path], self._wav_errors[path] = wav_seconds(path)
        return self._wav_seconds[path]

    async def _next_event(self) -> SwitchEvent:
        while True:
            if not self._connected and self._away_since is None:
                raise StopAsyncIteration
            self._advance()
            if self._ready:
                return self._ready.popleft()
            if self._away_since is not None:
                raise BackendUnavailable("the simulated switch went away")
            wake = self._waiter = anyio.Event()
            due = self._next_due()
            if due is None:
                await wake.wait()
            else:
                await _sleep_or_wake(self.clock, due, wake)
            self._waiter = None


async def _sleep_or_wake(clock: Clock, due: float, wake: anyio.Event) -> None:
    """Return when the clock reaches ``due`` or ``wake`` is set, whichever comes first.

    The clocks of :mod:`autoinformer.clock` map model time to real time linearly, so a timeout
    on the wake event does it; any other clock gets a sleeper task raced against the event.
    """
    if isinstance(clock, ScaledClock | WallClock):
        speed = clock.speed if isinstance(clock, ScaledClock) else 1.0
        with anyio.move_on_after(max(0.0, (due - clock.now()) / speed)):
            await wake.wait()
        return
    async with anyio.create_task_group() as tg:

        async def sleeper() -> None:
            await clock.sleep_until(due)
            tg.cancel_scope.cancel()

        tg.start_soon(sleeper)
        await wake.wait()
        tg.cancel_scope.cancel()


class _EventStream:
    """Async iterator over a SimSwitch's events (a class, not a generator: no finaliser)."""

    def __init__(self, switch: SimSwitch) -> None:
        self._switch = switch

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SwitchEvent:
        return await self._switch._next_event()
