"""The operator desk: hands answered calls to operators (the core's transfer logic).

A part of the sans-IO core: :class:`OperatorDesk` owns the queues, the calls waiting in them and
the operator legs; it is given the calls in progress to look up and returns the commands (originate
a leg, bridge, hang up, hold music) with the core's effects (:mod:`.effects`: arm the waiting
call's timer, tell the pacing) in the same list. A ``transfer`` step puts the call in its queue
(hold music plays, looped, while it waits); the queue's distribution strategy
(:meth:`OperatorQueue.to_ring`) chooses whom to ring: its first choice, or every idle operator at
once for a ring-all queue. Each operator is rung on an operator leg of its own. The first leg to
answer is bridged with the callee and the other legs are hung up at once (their operators are idle
again, with no wrap-up and no call counted); when the bridge holds the call is ``transferred`` and
the call counts for that operator.

A leg that fails before the bridge (the switch refuses it, busy, no answer within the queue's
``ring_timeout``, the operator hangs up before the bridge holds) is app_queue's "member skipped for
this caller": the operator is idle again for other callers but is not rung again for this call,
which goes back to the queue for the next operator the strategy picks, while the callee keeps
waiting. Only when the queue's ``max_wait`` runs out is the call ``abandoned`` (the callee hears
the campaign's ``abandon_message`` if there is one). A bridge the switch fails to make after an
operator answered is ``agent_error``.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Mapping

import attrs

from autoinformer.backends.base import Media, PlaybackFinished
from autoinformer.campaign import QueueSettings
from autoinformer.core import commands as c
from autoinformer.core.calls import Call, Stage
from autoinformer.core.effects import Arm, Observe, Results, hang_up
from autoinformer.outcomes import Outcome
from autoinformer.pacing.base import Observation, PacingObservation
from autoinformer.queues.base import Operator, OperatorQueue, OperatorState
from autoinformer.script.steps import Play as PlayStep

__all__ = ["LEG_GRACE", "DeskView", "OperatorDesk", "OperatorLeg", "OperatorSnapshot"]

LEG_GRACE = 5.0
"""Seconds past a queue's ``ring_timeout`` the core waits for the switch to end an operator leg
that did not answer before it hangs the leg up itself and moves on to the next operator (the
callee is waiting, so this is much shorter than the customer calls' grace)."""

_FORGET_AFTER = 30.0
"""Seconds a leg we hung up is remembered for its late events (then it is forgotten)."""

_HOLD_LOOP_MIN = 1.0
"""Hold music that ended sooner than this is not restarted (a broken file must not spin)."""

_IN_QUEUE = (Stage.QUEUED, Stage.OPERATOR_RINGING, Stage.BRIDGING)


@attrs.frozen
class DeskView:
    """Operator counts for the pacing view."""

    waiting: int = 0
    logged_in: int = 0
    idle: int = 0
    wrapup: int = 0
    talking: int = 0


@attrs.frozen
class OperatorSnapshot:
    """One operator of one queue as the desk holds it at one moment: a copy, so a reader
    (a dashboard, a report) can keep it or pass it to another thread without reaching into
    the desk or changing anything in it.

    Attributes:
        id: the operator's id.
        queue: the queue it is a member of (one operator may be in several: one snapshot each).
        state: its state as of the core's last event, or as of the ``now`` asked for (a
            wrap-up that ran out by then is ``idle``).
        calls: calls it took in this run (bridged to a callee).
        call_id: the customer's call it is rung for or talks to (None: no call now).
    """

    id: str
    queue: str
    state: OperatorState
    calls: int
    call_id: str | None = None


@attrs.define(kw_only=True)
class OperatorLeg:
    """One operator leg: the call placed to an operator's endpoint for a waiting callee.

    Attributes:
        leg_id: our call id for the leg (``<call_id>-op<n>``).
        call_id: the customer's call it is for.
        queue: the queue the operator was rung from.
        operator: who is rung.
        deadline: when the core stops waiting for the switch: the ring timeout plus
            :data:`LEG_GRACE` for a ringing leg; for a leg already hung up, when it is
            forgotten.
        answered: the operator picked up.
        bridged: the bridge with the callee holds (the operator talks: wrap-up follows).
        connected_at: when it did (the talk the pacing hears of when the leg ends).
        released: we hung the leg up ourselves and already freed its operator.
    """

    leg_id: str
    call_id: str
    queue: str
    operator: Operator
    deadline: float
    answered: bool = False
    bridged: bool = False
    connected_at: float = 0.0
    released: bool = False


@attrs.define(kw_only=True)
class OperatorDesk:
    """The campaign's operator queues, the calls waiting in them and the operator legs."""

    settings: Mapping[str, QueueSettings]
    queues: dict[str, OperatorQueue]
    waiting: dict[str, deque[str]]
    legs: dict[str, OperatorLeg] = attrs.field(factory=dict)
    abandon_message: str | None = None
    _deadlines: list[tuple[float, str]] = attrs.field(factory=list)
    _forget: list[tuple[float, str]] = attrs.field(factory=list)
    _unserved: int = 0

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, QueueSettings], abandon_message: str | None = None
    ) -> OperatorDesk:
        """Fresh queues (every operator idle) from the campaign's settings (``abandon_message``:
        what a callee no operator took hears before the hang-up, if anything)."""
        queues = {
            name: OperatorQueue.of(
                name,
                list(s.operators),
                strategy=s.strategy(),
                max_wait=s.max_wait,
                wrapup=s.wrapup,
                hold_music=s.hold_music,
            )
            for name, s in settings.items()
        }
        waiting = {n: deque[str]() for n in settings}
        return cls(
            settings=settings, queues=queues, waiting=waiting, abandon_message=abandon_message
        )

    def leg_call(self, leg_id: str) -> str | None:
        """The customer's call an operator leg is for (None: ``leg_id`` is no leg of ours)."""
        leg = self.legs.get(leg_id)
        return leg.call_id if leg is not None else None

    def snapshot(self, now: float | None = None) -> tuple[OperatorSnapshot, ...]:
        """Every operator of every queue, queue by queue in member order (see
        :class:`OperatorSnapshot`). With ``now``, a wrap-up that ran out by then reads
        ``idle`` (the desk itself moves it on at its next event); nothing is changed."""
        on_call = {
            (leg.queue, leg.operator.id): leg.call_id
            for leg in list(self.legs.values())
            if not leg.released
        }
        return tuple(
            OperatorSnapshot(
                id=m.operator.id,
                queue=name,
                state=(
                    OperatorState.IDLE
                    if now is not None and m.state is OperatorState.WRAPUP and m.wrapup_until <= now
                    else m.state
                ),
                calls=m.calls,
                call_id=on_call.get((name, m.operator.id)),
            )
            for name, queue in self.queues.items()
            for m in queue.members
        )

    def view(self, now: float) -> DeskView:
        """Counts for pacing (all zero without queues); ``waiting``: calls no operator rings
        (as of the last :meth:`serve`, which the core runs after every event)."""
        if not self.queues:
            return DeskView()
        counts = dict.fromkeys(OperatorState, 0)
        for queue in self.queues.values():
            queue.idle(now)  # refreshes wrap-ups that ended
            for member in queue.members:
                counts[member.state] += 1
        return DeskView(
            waiting=self._unserved,
            logged_in=sum(v for k, v in counts.items() if k is not OperatorState.LOGGED_OUT),
            idle=counts[OperatorState.IDLE],
            wrapup=counts[OperatorState.WRAPUP],
            talking=counts[OperatorState.TALKING] + counts[OperatorState.RINGING],
        )

    # --- a call enters the queue ---------------------------------------------------------

    def transfer(self, now: float, calls: Mapping[str, Call], call: Call, queue: str) -> Results:
        """The script asked for an operator: queue the call and ring whom the strategy says."""
        settings = self.settings[queue]
        call.stage, call.queue, call.wait_started = Stage.QUEUED, queue, now
        out: Results = [Arm(now + settings.max_wait, call, "queue")]
        self._hold(now, call, out)
        self.waiting[queue].append(call.call_id)
        return out + self.serve(now, calls)

    def _hold(self, now: float, call: Call, out: Results) -> None:
        """Start (or restart) the queue's hold music for a waiting callee."""
        assert call.queue is not None
        music = self.settings[call.queue].hold_music
        if not music or call.aux_playback is not None:
            return
        call.tokens["hold"] = n = call.tokens.get("hold", 0) + 1
        call.aux_playback = f"{call.call_id}-hold" if n == 1 else f"{call.call_id}-hold{n}"
        call.hold_started = now
        out.append(c.Play(call.call_id, call.aux_playback, PlayStep(music).media()))

    def playback_finished(self, now: float, call: Call, event: PlaybackFinished) -> Results:
        """The desk's own playback on a waiting callee ended: the abandon message (hang up) or
        the hold music while the callee still waits (play it again: it loops)."""
        out: Results = []
        if call.stage is Stage.ABANDON_MESSAGE:
            return hang_up(call, now)
        call.aux_playback = None
        if event.completed and now - call.hold_started >= _HOLD_LOOP_MIN:
            self._hold(now, call, out)
        return out

    def serve(self, now: float, calls: Mapping[str, Call]) -> Results:
        """Ring operators for the calls waiting, first come first served.

        Each call no operator rings gets the strategy's choice among the idle operators it has
        not tried yet; a call whose candidates all failed it waits (autofill: it does not hold
        up the calls behind it).
        """
        out: Results = []
        self._expire(now, calls, out)
        unserved = 0
        for name, waiting in self.waiting.items():
            if not waiting:
                continue
            queue = self.queues[name]
            anyone = bool(queue.idle(now))
            keep: deque[str] = deque()
            for call_id in waiting:
                call = calls.get(call_id)
                if call is None or call.queue != name or call.stage not in _IN_QUEUE:
                    continue
                keep.append(call_id)
                if anyone and call.stage is Stage.QUEUED:
                    ring = queue.to_ring(now, exclude=call.tried)
                    for operator in ring:
                        self._ring(now, call, name, operator, out)
                    if ring:
                        anyone = bool(queue.idle(now))
                unserved += call.stage is Stage.QUEUED
            self.waiting[name] = keep
        self._unserved = unserved
        return out

    def _ring(self, now: float, call: Call, queue: str, operator: Operator, out: Results) -> None:
        settings = self.settings[queue]
        call.legs += 1
        leg_id = f"{call.call_id}-op{call.legs}"
        deadline = now + settings.ring_timeout + LEG_GRACE
        self.legs[leg_id] = OperatorLeg(
            leg_id=leg_id, call_id=call.call_id, queue=queue, operator=operator, deadline=deadline
        )
        heapq.heappush(self._deadlines, (deadline, leg_id))
        call.ringing.append(leg_id)
        call.stage = Stage.OPERATOR_RINGING
        self.queues[queue].ringing(operator.id, now)
        out.append(
            c.Originate(
                call_id=leg_id,
                number=operator.endpoint,
                caller_id=call.record.number,
                ring_timeout=settings.ring_timeout,
                operator=True,
            )
        )

    def next_time(self) -> float | None:
        """The next time the desk has something to do: a wrap-up ends in a queue with calls
        waiting, or an operator leg's deadline (None: nothing to wait for)."""
        best: float | None = None
        for name, waiting in self.waiting.items():
            if not waiting:
                continue
            for member in self.queues[name].members:
                if member.state is OperatorState.WRAPUP and (
                    best is None or member.wrapup_until < best
                ):
                    best = member.wrapup_until
        heap = self._deadlines
        while heap:
            at, leg_id = heap[0]
            leg = self.legs.get(leg_id)
            if leg is not None and leg.deadline == at and not leg.released:
                best = at if best is None else min(best, at)
                break
            heapq.heappop(heap)
        return best

    # --- the legs' events ----------------------------------------------------------------

    def leg_answered(self, now: float, calls: Mapping[str, Call], leg_id: str) -> Results:
        """An operator picked up: the first to answer is bridged with the callee; the other
        legs ringing for the call are hung up at once. A leg answering too late is dropped."""
        out: Results = []
        leg = self.legs.get(leg_id)
        if leg is None:
            return [c.Hangup(leg_id)]
        leg.answered = True
        leg.deadline = math.inf  # the ring deadline no longer applies
        if leg.released:
            return out  # we hung it up already; its end is on the way
        call = calls.get(leg.call_id)
        if call is None or call.stage is not Stage.OPERATOR_RINGING or leg_id not in call.ringing:
            self._drop(now, leg, out)
            return out
        call.ringing.remove(leg_id)
        if call.aux_playback is not None:
            out.append(c.StopPlayback(call.call_id, call.aux_playback))
            call.aux_playback = None
        call.stage, call.op_leg, call.operator = Stage.BRIDGING, leg_id, leg.operator
        out.append(c.Bridge(f"{call.call_id}-br", (call.call_id, leg_id)))
        for other in call.ringing:  # ring-all: the others lost
            self._drop(now, self.legs[other], out)
        call.ringing.clear()
        return out

    def bridged(self, now: float, call: Call) -> Results:
        """The bridge holds: the call is ``transferred`` and counts for the operator.

        The pacing hears CONNECTED now and TALK_ENDED when the operator's leg ends (the
        operator goes to wrap-up then: :meth:`_talk_over`), not when the callee's call does."""
        if call.stage is not Stage.BRIDGING or call.operator is None or call.op_leg is None:
            return []
        call.stage, call.outcome = Stage.BRIDGED, Outcome.TRANSFERRED
        call.operator_id = call.operator.id
        leg = self.legs.get(call.op_leg)
        if leg is None:  # never: a leg leaves ``legs`` only as it ends, which undoes op_leg
            return []
        leg.bridged, leg.connected_at, call.connected_at = True, now, now
        self.queues[leg.queue].talking(leg.operator.id, now)
        waited = now - call.wait_started
        return [Observe(PacingObservation(Observation.CONNECTED, now, waited))]

    def _talk_over(self, now: float, leg: OperatorLeg, out: Results) -> None:
        """A bridged leg ended: its operator's talk is over (wrap-up now); the pacing hears
        TALK_ENDED with the talk's length, once per CONNECTED."""
        self.queues[leg.queue].call_ended(leg.operator.id, now, talked=True)
        talk = now - leg.connected_at
        out.append(Observe(PacingObservation(Observation.TALK_ENDED, now, talk)))

    def leg_ended(self, now: float, calls: Mapping[str, Call], leg_id: str, why: str) -> Results:
        """An operator leg ended (or the switch refused it; ``why`` says how): free the
        operator (wrap-up after a talk); before the bridge, skip the operator for this call
        and ring the next one."""
        out: Results = []
        leg = self.legs.pop(leg_id, None)
        if leg is None:
            return out
        if leg.bridged:
            self._talk_over(now, leg, out)
        elif not leg.released:
            self._free(now, leg)
        if leg.released:
            return out
        call = calls.get(leg.call_id)
        if call is None:
            return out
        if call.op_leg == leg_id:
            if call.stage is Stage.BRIDGED:
                out += hang_up(call, now)  # the operator ended the talk
            elif call.stage is Stage.BRIDGING:  # hung up before the bridge held
                call.op_leg, call.operator = None, None
                self._skip(now, call, leg, "hung up before the bridge", out)
        elif leg_id in call.ringing:
            call.ringing.remove(leg_id)
            self._skip(now, call, leg, why, out)
        return out

    def _skip(self, now: float, call: Call, leg: OperatorLeg, why: str, out: Results) -> None:
        """The operator failed this caller: not rung again for it; back to the queue."""
        call.tried[leg.operator.id] = why
        if call.stage in (Stage.OPERATOR_RINGING, Stage.BRIDGING) and not call.ringing:
            call.stage = Stage.QUEUED
            assert call.queue is not None
            if now >= call.wait_started + self.settings[call.queue].max_wait:
                out += self.wait_expired(now, call)  # max_wait passed while bridging
            else:
                self._hold(now, call, out)

    def bridge_failed(self, now: float, call: Call, detail: str) -> Results:
        """The switch could not bridge the callee with the operator who answered:
        ``agent_error``; both legs are hung up."""
        call.outcome = Outcome.AGENT_ERROR
        call.detail = detail
        if call.operator is not None:
            call.operator_id = call.operator.id
        out: Results = []
        if call.op_leg is not None and call.op_leg in self.legs:
            self._drop(now, self.legs[call.op_leg], out)
        return out + hang_up(call, now)

    def _free(self, now: float, leg: OperatorLeg) -> None:
        """The operator of a leg that never talked is idle again (no wrap-up, no call)."""
        queue = self.queues[leg.queue]
        if queue.status(leg.operator.id).state is OperatorState.RINGING:
            queue.call_ended(leg.operator.id, now, talked=False)

    def _drop(self, now: float, leg: OperatorLeg, out: Results) -> None:
        """Hang a leg up that has not talked and free its operator at once."""
        if leg.released:
            return
        leg.released = True
        self._free(now, leg)
        leg.deadline = now + _FORGET_AFTER
        heapq.heappush(self._forget, (leg.deadline, leg.leg_id))  # no wake-up needed for it
        out.append(c.Hangup(leg.leg_id))

    def _expire(self, now: float, calls: Mapping[str, Call], out: Results) -> None:
        """Legs past their deadline: a ringing one is given up on (no answer), a leg we hung
        up whose end never came is forgotten."""
        forget = self._forget
        while forget and forget[0][0] <= now:
            at, leg_id = heapq.heappop(forget)
            leg = self.legs.get(leg_id)
            if leg is not None and leg.deadline == at and leg.released:
                self.legs.pop(leg_id, None)
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            at, leg_id = heapq.heappop(heap)
            leg = self.legs.get(leg_id)
            if leg is None or leg.deadline != at or leg.released:
                continue
            if leg.bridged:  # we hung it up, its end never came: the talk is over all the same
                self.legs.pop(leg_id, None)
                self._talk_over(now, leg, out)
            elif not leg.answered:
                self._drop(now, leg, out)
                call = calls.get(leg.call_id)
                if call is not None and leg_id in call.ringing:
                    call.ringing.remove(leg_id)
                    self._skip(now, call, leg, "no answer (the switch never said)", out)

    # --- the customer's side ---------------------------------------------------------------

    def wait_expired(self, now: float, call: Call) -> Results:
        """``max_wait`` passed without an operator connected: the call is abandoned."""
        out: Results = []
        if call.stage not in (Stage.QUEUED, Stage.OPERATOR_RINGING):
            return out
        self._drop_ringing(now, call, out)
        call.outcome = Outcome.ABANDONED
        if call.tried and not call.detail:
            tried = ", ".join(f"{op} ({why})" for op, why in call.tried.items())
            call.detail = f"no operator connected; tried {tried}"
        waited = now - call.wait_started
        out.append(Observe(PacingObservation(Observation.ABANDONED, now, waited)))
        self._give_up(now, call, out)
        return out

    def customer_gone(self, now: float, call: Call) -> Results:
        """The customer's call ended: release its operator legs."""
        out: Results = []
        if call.stage in _IN_QUEUE:
            waited = now - call.wait_started
            out.append(Observe(PacingObservation(Observation.ABANDONED, now, waited)))
        self._drop_ringing(now, call, out)
        if call.op_leg is not None and call.op_leg in self.legs:
            leg = self.legs[call.op_leg]
            if leg.bridged:  # the switch ends it too; wrap-up follows (by a deadline at worst)
                out.append(c.Hangup(leg.leg_id))
                leg.deadline = now + _FORGET_AFTER
                heapq.heappush(self._deadlines, (leg.deadline, leg.leg_id))
            else:
                self._drop(now, leg, out)
        return out

    def _drop_ringing(self, now: float, call: Call, out: Results) -> None:
        for leg_id in call.ringing:
            leg = self.legs.get(leg_id)
            if leg is not None:
                self._drop(now, leg, out)
        call.ringing.clear()

    def _give_up(self, now: float, call: Call, out: Results) -> None:
        if call.aux_playback is not None:
            out.append(c.StopPlayback(call.call_id, call.aux_playback))
            call.aux_playback = None
        message = self.abandon_message
        if message:
            call.stage = Stage.ABANDON_MESSAGE
            call.aux_playback = f"{call.call_id}-sorry"
            media: Media = PlayStep(message).media()
            out.append(c.Play(call.call_id, call.aux_playback, media))
        else:
            out += hang_up(call, now)
