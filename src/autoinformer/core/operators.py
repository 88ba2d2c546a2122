"""The operator desk: hands answered calls to operators (the core's transfer logic).

Part of the sans-IO core. A ``transfer`` step puts the call in its queue (hold music plays,
looped, while it waits); the queue's distribution strategy (:meth:`OperatorQueue.to_ring`)
chooses whom to ring: its first choice, or every idle operator at once for a ring-all queue.
Each operator is rung on an operator leg of its own. The first leg to answer is bridged with
the callee and the other legs are hung up at once (their operators are idle again, with no
wrap-up and no call counted); when the bridge holds the call is ``transferred`` and the call
counts for that operator.

A leg that fails before the bridge (the switch refuses it, busy, no answer within the queue's
``ring_timeout``, the operator hangs up before the bridge holds) is app_queue's "member
skipped for this caller": the operator is idle again for other callers but is not rung again
for this call, which goes back to the queue for the next operator the strategy picks, while
the callee keeps waiting. Only when the queue's ``max_wait`` runs out is the call
``abandoned`` (the callee hears the campaign's ``abandon_message`` if there is one). A bridge
the switch fails to make after an operator answered is ``agent_error``.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from autoinformer.backends.base import Media
from autoinformer.campaign import QueueSettings
from autoinformer.core import commands as c
from autoinformer.core.calls import Call, Stage
from autoinformer.outcomes import Outcome
from autoinformer.pacing.base import Observation, PacingObservation
from autoinformer.queues.base import Operator, OperatorQueue, OperatorState
from autoinformer.script.steps import Play as PlayStep

if TYPE_CHECKING:
    from autoinformer.core.dialer import DialerCore

__all__ = ["LEG_GRACE", "DeskView", "OperatorDesk", "OperatorLeg"]

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
    _deadlines: list[tuple[float, str]] = attrs.field(factory=list)
    _forget: list[tuple[float, str]] = attrs.field(factory=list)
    _unserved: int = 0

    @classmethod
    def from_settings(cls, settings: Mapping[str, QueueSettings]) -> OperatorDesk:
        """Fresh queues (every operator idle) from the campaign's settings."""
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
        return cls(settings=settings, queues=queues, waiting={n: deque() for n in settings})

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

    def transfer(
        self, now: float, core: DialerCore, call: Call, queue: str, out: list[c.Command]
    ) -> None:
        """The script asked for an operator: queue the call and ring whom the strategy says."""
        settings = self.settings[queue]
        call.stage, call.queue, call.wait_started = Stage.QUEUED, queue, now
        core.set_timer(now + settings.max_wait, call, "queue")
        self._hold(now, call, out)
        self.waiting[queue].append(call.call_id)
        self.serve(now, core, out)

    def _hold(self, now: float, call: Call, out: list[c.Command]) -> None:
        """Start (or restart) the queue's hold music for a waiting callee."""
        assert call.queue is not None
        music = self.settings[call.queue].hold_music
        if not music or call.aux_playback is not None:
            return
        call.tokens["hold"] = n = call.tokens.get("hold", 0) + 1
        call.aux_playback = f"{call.call_id}-hold" if n == 1 else f"{call.call_id}-hold{n}"
        call.hold_started = now
        out.append(c.Play(call.call_id, call.aux_playback, PlayStep(music).media()))

    def hold_finished(self, now: float, call: Call, completed: bool, out: list[c.Command]) -> None:
        """The hold music ended while the callee still waits: play it again (it loops)."""
        call.aux_playback = None
        if completed and now - call.hold_started >= _HOLD_LOOP_MIN:
            self._hold(now, call, out)

    def serve(self, now: float, core: DialerCore, out: list[c.Command]) -> None:
        """Ring operators for the calls waiting, first come first served.

        Each call no operator rings gets the strategy's choice among the idle operators it has
        not tried yet; a call whose candidates all failed it waits (autofill: it does not hold
        up the calls behind it).
        """
        self._expire(now, core, out)
        unserved = 0
        for name, waiting in self.waiting.items():
            if not waiting:
                continue
            queue = self.queues[name]
            anyone = bool(queue.idle(now))
            keep: deque[str] = deque()
            for call_id in waiting:
                call = core.calls.get(call_id)
                if call is None or call.queue != name or call.stage not in _IN_QUEUE:
                    continue
                keep.append(call_id)
                if anyone and call.stage is Stage.QUEUED:
                    ring = queue.to_ring(now, exclude=call.tried)
                    for operator in ring:
                        self._ring(now, core, call, name, operator, out)
                    if ring:
                        anyone = bool(queue.idle(now))
                unserved += call.stage is Stage.QUEUED
            self.waiting[name] = keep
        self._unserved = unserved

    def _ring(
        self,
        now: float,
        core: DialerCore,
        call: Call,
        queue: str,
        operator: Operator,
        out: list[c.Command],
    ) -> None:
        settings = self.settings[queue]
        call.legs += 1
        leg_id = f"{call.call_id}-op{call.legs}"
        deadline = now + settings.ring_timeout + LEG_GRACE
        self.legs[leg_id] = OperatorLeg(
            leg_id=leg_id, call_id=call.call_id, queue=queue, operator=operator, deadline=deadline
        )
        heapq.heappush(self._deadlines, (deadline, leg_id))
        core.legs[leg_id] = call.call_id
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

    def leg_answered(
        self, now: float, core: DialerCore, leg_id: str, call_id: str, out: list[c.Command]
    ) -> None:
        """An operator picked up: the first to answer is bridged with the callee; the other
        legs ringing for the call are hung up at once. A leg answering too late is dropped."""
        leg = self.legs.get(leg_id)
        if leg is None:
            out.append(c.Hangup(leg_id))
            return
        leg.answered = True
        leg.deadline = math.inf  # the ring deadline no longer applies
        if leg.released:
            return  # we hung it up already; its end is on the way
        call = core.calls.get(call_id)
        if call is None or call.stage is not Stage.OPERATOR_RINGING or leg_id not in call.ringing:
            self._drop(now, leg, out)
            return
        call.ringing.remove(leg_id)
        if call.aux_playback is not None:
            out.append(c.StopPlayback(call.call_id, call.aux_playback))
            call.aux_playback = None
        call.stage, call.op_leg, call.operator = Stage.BRIDGING, leg_id, leg.operator
        out.append(c.Bridge(f"{call.call_id}-br", (call.call_id, leg_id)))
        for other in call.ringing:  # ring-all: the others lost
            self._drop(now, self.legs[other], out)
        call.ringing.clear()

    def bridged(self, now: float, core: DialerCore, call: Call, out: list[c.Command]) -> None:
        """The bridge holds: the call is ``transferred`` and counts for the operator.

        The pacing hears CONNECTED now and TALK_ENDED when the operator's leg ends (the
        operator goes to wrap-up then: :meth:`_talk_over`), not when the callee's call does."""
        if call.stage is not Stage.BRIDGING or call.operator is None or call.op_leg is None:
            return
        call.stage, call.outcome = Stage.BRIDGED, Outcome.TRANSFERRED
        call.operator_id = call.operator.id
        leg = self.legs.get(call.op_leg)
        if leg is None:  # never: a leg leaves ``legs`` only as it ends, which undoes op_leg
            return
        leg.bridged, leg.connected_at, call.connected_at = True, now, now
        self.queues[leg.queue].talking(leg.operator.id, now)
        core.pacing.observe(PacingObservation(Observation.CONNECTED, now, now - call.wait_started))

    def _talk_over(self, now: float, core: DialerCore, leg: OperatorLeg) -> None:
        """A bridged leg ended: its operator's talk is over (wrap-up now); the pacing hears
        TALK_ENDED with the talk's length, once per CONNECTED."""
        self.queues[leg.queue].call_ended(leg.operator.id, now, talked=True)
        talk = now - leg.connected_at
        core.pacing.observe(PacingObservation(Observation.TALK_ENDED, now, talk))

    def leg_ended(
        self,
        now: float,
        core: DialerCore,
        leg_id: str,
        out: list[c.Command],
        why: str,
    ) -> None:
        """An operator leg ended (or the switch refused it; ``why`` says how): free the
        operator (wrap-up after a talk); before the bridge, skip the operator for this call
        and ring the next one."""
        core.legs.pop(leg_id, None)
        leg = self.legs.pop(leg_id, None)
        if leg is None:
            return
        if leg.bridged:
            self._talk_over(now, core, leg)
        elif not leg.released:
            self._free(now, leg)
        if leg.released:
            return
        call = core.calls.get(leg.call_id)
        if call is None:
            return
        if call.op_leg == leg_id:
            if call.stage is Stage.BRIDGED:
                core.hangup_call(call, out)  # the operator ended the talk
            elif call.stage is Stage.BRIDGING:  # hung up before the bridge held
                call.op_leg, call.operator = None, None
                self._skip(now, core, call, leg, "hung up before the bridge", out)
        elif leg_id in call.ringing:
            call.ringing.remove(leg_id)
            self._skip(now, core, call, leg, why, out)

    def _skip(
        self,
        now: float,
        core: DialerCore,
        call: Call,
        leg: OperatorLeg,
        why: str,
        out: list[c.Command],
    ) -> None:
        """The operator failed this caller: not rung again for it; back to the queue."""
        call.tried[leg.operator.id] = why
        if call.stage in (Stage.OPERATOR_RINGING, Stage.BRIDGING) and not call.ringing:
            call.stage = Stage.QUEUED
            assert call.queue is not None
            if now >= call.wait_started + self.settings[call.queue].max_wait:
                self.wait_expired(now, core, call, out)  # max_wait passed while bridging
            else:
                self._hold(now, call, out)

    def bridge_failed(
        self, now: float, core: DialerCore, call: Call, detail: str, out: list[c.Command]
    ) -> None:
        """The switch could not bridge the callee with the operator who answered:
        ``agent_error``; both legs are hung up."""
        call.outcome = Outcome.AGENT_ERROR
        call.detail = detail
        if call.operator is not None:
            call.operator_id = call.operator.id
        if call.op_leg is not None and call.op_leg in self.legs:
            self._drop(now, self.legs[call.op_leg], out)
        core.hangup_call(call, out)

    def _free(self, now: float, leg: OperatorLeg) -> None:
        """The operator of a leg that never talked is idle again (no wrap-up, no call)."""
        queue = self.queues[leg.queue]
        if queue.status(leg.operator.id).state is OperatorState.RINGING:
            queue.call_ended(leg.operator.id, now, talked=False)

    def _drop(self, now: float, leg: OperatorLeg, out: list[c.Command]) -> None:
        """Hang a leg up that has not talked and free its operator at once."""
        if leg.released:
            return
        leg.released = True
        self._free(now, leg)
        leg.deadline = now + _FORGET_AFTER
        heapq.heappush(self._forget, (leg.deadline, leg.leg_id))  # no wake-up needed for it
        out.append(c.Hangup(leg.leg_id))

    def _expire(self, now: float, core: DialerCore, out: list[c.Command]) -> None:
        """Legs past their deadline: a ringing one is given up on (no answer), a leg we hung
        up whose end never came is forgotten."""
        forget = self._forget
        while forget and forget[0][0] <= now:
            at, leg_id = heapq.heappop(forget)
            leg = self.legs.get(leg_id)
            if leg is not None and leg.deadline == at and leg.released:
                self.legs.pop(leg_id, None)
                core.legs.pop(leg_id, None)
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            at, leg_id = heapq.heappop(heap)
            leg = self.legs.get(leg_id)
            if leg is None or leg.deadline != at or leg.released:
                continue
            if leg.bridged:  # we hung it up, its end never came: the talk is over all the same
                self.legs.pop(leg_id, None)
                core.legs.pop(leg_id, None)
                self._talk_over(now, core, leg)
            elif not leg.answered:
                self._drop(now, leg, out)
                call = core.calls.get(leg.call_id)
                if call is not None and leg_id in call.ringing:
                    call.ringing.remove(leg_id)
                    self._skip(now, core, call, leg, "no answer (the switch never said)", out)

    # --- the customer's side ---------------------------------------------------------------

    def wait_expired(self, now: float, core: DialerCore, call: Call, out: list[c.Command]) -> None:
        """``max_wait`` passed without an operator connected: the call is abandoned."""
        if call.stage not in (Stage.QUEUED, Stage.OPERATOR_RINGING):
            return
        self._drop_ringing(now, call, out)
        call.outcome = Outcome.ABANDONED
        if call.tried and not call.detail:
            tried = ", ".join(f"{op} ({why})" for op, why in call.tried.items())
            call.detail = f"no operator connected; tried {tried}"
        core.pacing.observe(PacingObservation(Observation.ABANDONED, now, now - call.wait_started))
        self._give_up(core, call, out)

    def customer_gone(self, now: float, core: DialerCore, call: Call, out: list[c.Command]) -> None:
        """The customer's call ended: release its operator legs."""
        if call.stage in _IN_QUEUE:
            core.pacing.observe(
                PacingObservation(Observation.ABANDONED, now, now - call.wait_started)
            )
        self._drop_ringing(now, call, out)
        if call.op_leg is not None and call.op_leg in self.legs:
            leg = self.legs[call.op_leg]
            if leg.bridged:  # the switch ends it too; wrap-up follows (by a deadline at worst)
                out.append(c.Hangup(leg.leg_id))
                leg.deadline = now + _FORGET_AFTER
                heapq.heappush(self._deadlines, (leg.deadline, leg.leg_id))
            else:
                self._drop(now, leg, out)

    def _drop_ringing(self, now: float, call: Call, out: list[c.Command]) -> None:
        for leg_id in call.ringing:
            leg = self.legs.get(leg_id)
            if leg is not None:
                self._drop(now, leg, out)
        call.ringing.clear()

    def _give_up(self, core: DialerCore, call: Call, out: list[c.Command]) -> None:
        if call.aux_playback is not None:
            out.append(c.StopPlayback(call.call_id, call.aux_playback))
            call.aux_playback = None
        message = core.campaign.abandon_message
        if message:
            call.stage = Stage.ABANDON_MESSAGE
            call.aux_playback = f"{call.call_id}-sorry"
            media: Media = PlayStep(message).media()
            out.append(c.Play(call.call_id, call.aux_playback, media))
        else:
            core.hangup_call(call, out)
