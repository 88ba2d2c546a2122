"""The operator desk: hands answered calls to operators (the core's transfer logic).

Part of the sans-IO core. A ``transfer`` step puts the call in its queue; the queue's
distribution strategy (:meth:`OperatorQueue.pick`) chooses an idle operator, whose endpoint is
rung on an operator leg; when it answers, both legs are bridged (``transferred``). If no
operator connects within the queue's ``max_wait`` the call is ``abandoned`` (the callee hears
the campaign's ``abandon_message`` if there is one); an operator leg that fails before the
bridge is ``agent_error``.
"""

from __future__ import annotations

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
from autoinformer.queues.base import OperatorQueue, OperatorState
from autoinformer.script.steps import Play as PlayStep

if TYPE_CHECKING:
    from autoinformer.core.dialer import DialerCore

__all__ = ["DeskView", "OperatorDesk"]


@attrs.frozen
class DeskView:
    """Operator counts for the pacing view."""

    waiting: int = 0
    logged_in: int = 0
    idle: int = 0
    wrapup: int = 0
    talking: int = 0


@attrs.define(kw_only=True)
class OperatorDesk:
    """The campaign's operator queues and the calls waiting in them."""

    settings: Mapping[str, QueueSettings]
    queues: dict[str, OperatorQueue]
    waiting: dict[str, deque[str]]

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
        """Counts for pacing (all zero without queues)."""
        if not self.queues:
            return DeskView()
        counts = dict.fromkeys(OperatorState, 0)
        waiting = 0
        for name, queue in self.queues.items():
            queue.idle(now)  # refreshes wrap-ups that ended
            for member in queue.members:
                counts[member.state] += 1
            waiting += len(self.waiting[name])
        return DeskView(
            waiting=waiting,
            logged_in=sum(v for k, v in counts.items() if k is not OperatorState.LOGGED_OUT),
            idle=counts[OperatorState.IDLE],
            wrapup=counts[OperatorState.WRAPUP],
            talking=counts[OperatorState.TALKING] + counts[OperatorState.RINGING],
        )

    def transfer(
        self, now: float, core: DialerCore, call: Call, queue: str, out: list[c.Command]
    ) -> None:
        """The script asked for an operator: queue the call and ring one if someone is idle."""
        settings = self.settings[queue]
        call.stage, call.queue, call.wait_started = Stage.QUEUED, queue, now
        core.set_timer(now + settings.max_wait, call, "queue")
        if settings.hold_music:
            call.aux_playback = f"{call.call_id}-hold"
            media = PlayStep(settings.hold_music).media()
            out.append(c.Play(call.call_id, call.aux_playback, media))
        self.waiting[queue].append(call.call_id)
        self.serve(now, core, out)

    def serve(self, now: float, core: DialerCore, out: list[c.Command]) -> None:
        """Ring idle operators for the calls waiting, first come first served."""
        for name, waiting in self.waiting.items():
            queue = self.queues[name]
            while waiting:
                call = core.calls.get(waiting[0])
                if call is None or call.stage is not Stage.QUEUED:
                    waiting.popleft()
                    continue
                operator = queue.pick(now)
                if operator is None:
                    break
                waiting.popleft()
                call.legs += 1
                leg = f"{call.call_id}-op{call.legs}"
                call.op_leg, call.operator, call.stage = leg, operator, Stage.OPERATOR_RINGING
                core.legs[leg] = call.call_id
                queue.ringing(operator.id, now)
                out.append(
                    c.Originate(
                        call_id=leg,
                        number=operator.endpoint,
                        caller_id=call.record.number,
                        ring_timeout=self.settings[name].ring_timeout,
                        operator=True,
                    )
                )

    def next_time(self) -> float | None:
        """When a wrap-up ends in a queue with calls waiting (None: nothing to wait for)."""
        best: float | None = None
        for name, waiting in self.waiting.items():
            if not waiting:
                continue
            for member in self.queues[name].members:
                if member.state is OperatorState.WRAPUP and (
                    best is None or member.wrapup_until < best
                ):
                    best = member.wrapup_until
        return best

    def leg_answered(
        self, now: float, core: DialerCore, leg: str, call_id: str, out: list[c.Command]
    ) -> None:
        """An operator picked up: bridge them with the callee (or drop the leg if too late)."""
        call = core.calls.get(call_id)
        if call is None or call.op_leg != leg or call.stage is not Stage.OPERATOR_RINGING:
            out.append(c.Hangup(leg))
            return
        assert call.queue is not None
        assert call.operator is not None
        if call.aux_playback is not None:
            out.append(c.StopPlayback(call.call_id, call.aux_playback))
            call.aux_playback = None
        call.stage = Stage.BRIDGING
        self.queues[call.queue].talking(call.operator.id, now)
        out.append(c.Bridge(f"{call.call_id}-br", (call.call_id, leg)))

    def bridged(self, now: float, core: DialerCore, call: Call, out: list[c.Command]) -> None:
        """The bridge holds: the call is ``transferred``."""
        if call.stage is not Stage.BRIDGING or call.operator is None:
            return
        call.stage, call.outcome = Stage.BRIDGED, Outcome.TRANSFERRED
        call.operator_id = call.operator.id
        core.pacing.observe(PacingObservation(Observation.CONNECTED, now, now - call.wait_started))

    def leg_ended(
        self,
        now: float,
        core: DialerCore,
        leg: str,
        call_id: str,
        answered: bool,
        out: list[c.Command],
    ) -> None:
        """An operator leg ended: free the operator; before the bridge it is an agent error."""
        core.legs.pop(leg, None)
        call = core.calls.get(call_id)
        if call is None or call.op_leg != leg:
            return
        operator, queue = call.operator, call.queue
        if operator is not None and queue is not None:
            talked = call.stage is Stage.BRIDGED
            self.queues[queue].call_ended(operator.id, now, talked=talked)
        call.op_leg = None
        if call.stage in (Stage.OPERATOR_RINGING, Stage.BRIDGING):
            call.outcome = Outcome.AGENT_ERROR
            if operator is not None:
                call.operator_id = operator.id
            self._give_up(core, call, out)
        elif call.stage is Stage.BRIDGED:
            core.hangup_call(call, out)

    def wait_expired(self, now: float, core: DialerCore, call: Call, out: list[c.Command]) -> None:
        """``max_wait`` passed without an operator connected: the call is abandoned."""
        if call.stage not in (Stage.QUEUED, Stage.OPERATOR_RINGING):
            return
        if call.op_leg is not None and call.op_leg in core.legs:
            out.append(c.Hangup(call.op_leg))
        call.outcome = Outcome.ABANDONED
        core.pacing.observe(PacingObservation(Observation.ABANDONED, now, now - call.wait_started))
        self._give_up(core, call, out)

    def customer_gone(self, now: float, core: DialerCore, call: Call, out: list[c.Command]) -> None:
        """The customer's call ended: release its operator leg."""
        if call.stage in (Stage.QUEUED, Stage.OPERATOR_RINGING):
            core.pacing.observe(
                PacingObservation(Observation.ABANDONED, now, now - call.wait_started)
            )
        if call.op_leg is not None and call.op_leg in core.legs:
            out.append(c.Hangup(call.op_leg))

    def _give_up(self, core: DialerCore, call: Call, out: list[c.Command]) -> None:
        if call.aux_playback is not None:
            out.append(c.StopPlayback(call.call_id, call.aux_playback))
        message = core.campaign.abandon_message
        if message:
            call.stage = Stage.ABANDON_MESSAGE
            call.aux_playback = f"{call.call_id}-sorry"
            media: Media = PlayStep(message).media()
            out.append(c.Play(call.call_id, call.aux_playback, media))
        else:
            core.hangup_call(call, out)
