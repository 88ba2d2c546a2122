"""An answered customer call: machine detection, the script, its playbacks and hooks.

A part of the sans-IO dialer core: :class:`ScriptRunner`. The dialer counts the answer (pacing,
timers) and hands the call here; from then on the call's script run decides what plays, which
digits matter and when the call goes to an operator or is hung up, and the runner turns its actions
into commands and returns them, with the core's effects (:mod:`.effects`: arm a timer, tell the
pacing, hand the call to the operator desk) in the same list. When machine detection finds a
machine it tells the pacing (``Observation.MACHINE``, once per call) that the answer it heard was
not a live one: the abandon cap counts live answers only. Nothing here reads a clock: ``now`` is
passed in.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from autoinformer.backends.base import MachineDetected, Media, PlaybackFinished
from autoinformer.campaign import Campaign
from autoinformer.core import commands as c
from autoinformer.core.calls import Call, Stage
from autoinformer.core.effects import Arm, Observe, Results, Transfer, hang_up
from autoinformer.core.timers import disarm
from autoinformer.errors import AutoinformerError
from autoinformer.outcomes import Outcome
from autoinformer.pacing.base import Observation, PacingObservation
from autoinformer.script import machine as m
from autoinformer.script.steps import Play as PlayStep
from autoinformer.script.steps import Say as SayStep
from autoinformer.speech import Template

__all__ = ["PLAYBACK_SETTLE", "TIMERS", "ScriptRunner"]

TIMERS = frozenset({"amd", "beep", "settle", "callback", "playback"})
"""The call timers this module handles (with the script's own ``menu:<token>`` timers)."""

PLAYBACK_SETTLE = 1.0
"""Seconds the core waits, after one of the script's playbacks ended unfinished (we did not
stop it) or a command on an answered call failed, before it goes on (or records ``failed``):
a switch ends the playbacks of a call whose callee hangs up, and refuses commands for it, just
before it reports the hang-up; the hang-up must decide the outcome then."""


PLAYBACK_FILE_SECONDS = 300.0
"""The longest a recorded file (a ``play`` step) may play before the core gives up on the
switch ever reporting its end (a lost event must not hold a line for ``max_call_seconds``)."""

SPEECH_SECONDS_PER_CHAR = 0.25
"""A ``say`` step's deadline: 30 s plus this much per character of its text (engines speak
12-16 characters a second; this allows four times slower)."""


@attrs.define
class ScriptRunner:
    """Runs the campaign's script on answered calls (the state is each call's own)."""

    campaign: Campaign
    templates: Mapping[str, Template]

    def playback_deadline(self, call: Call, step: PlayStep | SayStep) -> float:
        """Seconds one of the script's playbacks may take, derived from the step: a bound on
        the switch's silence, never a limit on a message that is playing."""
        if isinstance(step, PlayStep):
            return PLAYBACK_FILE_SECONDS
        template = self.templates.get(step.template)
        try:
            text = template.render_text(call.slot.contact, self.campaign.lang) if template else ""
            chars = len(text)
        except AutoinformerError:  # the renderer reports it; the bound only needs a size
            chars = 0
        return 30.0 + SPEECH_SECONDS_PER_CHAR * max(chars, len(step.template))

    def answered(self, now: float, call: Call, machine: bool | None) -> Results:
        """The callee picked up (``machine``: what the switch's own detection said, if
        anything): wait for machine detection, or start the script."""
        out: Results = []
        if machine:
            self._machine_found(now, call, beep=False, out=out)
        elif machine is None and self.campaign.machine_detection:
            call.stage = Stage.DETECTING
            out.append(Arm(now + self.campaign.machine_wait, call, "amd"))
        else:
            self._start(now, call, message_only=False, out=out)
        return out

    def machine_detected(self, now: float, call: Call, event: MachineDetected) -> Results:
        """Answering-machine detection decided, or the machine's beep came."""
        out: Results = []
        if call.stage is Stage.DETECTING:
            if event.machine:
                self._machine_found(now, call, beep=event.beep, out=out)
            else:
                self._start(now, call, message_only=False, out=out)
        elif call.stage is Stage.BEEP and event.beep:
            self._start(now, call, message_only=True, out=out)
        return out

    def _machine_found(self, now: float, call: Call, *, beep: bool, out: Results) -> None:
        """Detection says machine: tell the pacing (once: the cap counts live answers only,
        and the ANSWERED it heard was not one), then hang up or wait for the beep."""
        if not call.machine and call.answered_at is not None:
            since = now - call.answered_at
            out.append(Observe(PacingObservation(Observation.MACHINE, now, since)))
        call.machine = True
        if self.campaign.on_machine == "hangup":
            call.outcome = Outcome.MACHINE
            out += hang_up(call, now)
        elif beep:
            self._start(now, call, message_only=True, out=out)
        else:
            call.stage = Stage.BEEP
            out.append(Arm(now + self.campaign.machine_wait, call, "beep"))

    def _start(self, now: float, call: Call, *, message_only: bool, out: Results) -> None:
        """Start the campaign's script on ``call`` (``message_only``: for a machine, after the
        beep: the message plays, menus do not wait for digits)."""
        call.stage = Stage.SCRIPT
        call.run = m.ScriptRun(
            script=self.campaign.script, call_id=call.call_id, message_only=message_only
        )
        self._run(now, call, call.run.start(now), out)

    def _run(self, now: float, call: Call, actions: list[m.ScriptAction], out: Results) -> None:
        """Turn the script run's actions into commands (and operator transfers, opt-outs)."""
        for action in actions:
            if isinstance(action, m.StartPlayback):
                step = action.step
                media: Media | c.Speech
                if isinstance(step, PlayStep):
                    media = step.media()
                else:
                    media = c.Speech(step.template, call.slot.contact, self.campaign.lang)
                out.append(c.Play(call.call_id, action.playback_id, media))
                out.append(Arm(now + self.playback_deadline(call, step), call, "playback"))
            elif isinstance(action, m.StopPlayback):
                out.append(c.StopPlayback(call.call_id, action.playback_id))
            elif isinstance(action, m.WantDigits):
                out.append(c.CollectDigits(call.call_id))
            elif isinstance(action, m.SetTimer):
                out.append(Arm(action.at, call, f"menu:{action.token}"))
            elif isinstance(action, m.DoTransfer):
                out.append(Transfer(call, action.queue))
            elif isinstance(action, m.DoCallback):
                deadline = now + self.campaign.callback_timeout
                contact = call.slot.contact
                out.append(
                    c.RunCallback(call.call_id, action.name, contact, action.digits, deadline)
                )
                out.append(Arm(deadline, call, "callback"))
            elif isinstance(action, m.DoOptOut):
                call.outcome = Outcome.OPTED_OUT
                out.append(c.AddToDoNotCall(call.record.number, call.slot.contact.id))
            elif isinstance(action, m.Finish):
                if call.outcome is None:
                    call.outcome = Outcome.MACHINE if call.machine else Outcome.DELIVERED
                if call.machine:
                    call.detail = "message left"
                out += hang_up(call, now)

    def digit(self, now: float, call: Call, digit: str) -> Results:
        """The callee pressed a key (heard only while the script runs)."""
        out: Results = []
        if call.run is not None and call.stage is Stage.SCRIPT:
            self._run(now, call, call.run.digit(digit, now), out)
        return out

    def playback_finished(self, now: float, call: Call, event: PlaybackFinished) -> Results:
        """One of the script's playbacks ended: go on (one cut short not by us waits
        :data:`PLAYBACK_SETTLE` first; one the switch could not play fails the call)."""
        out: Results = []
        if call.stage is not Stage.SCRIPT or call.run is None:
            return out
        if call.run.playback_id == event.playback_id:
            disarm(call, "playback")
        if event.error and call.run.playback_id == event.playback_id:
            # The switch could not play it: nobody heard the message, so it is not delivered.
            # A switch may also fail the playback of a callee who is hanging up (Asterisk):
            # a CallEnded within PLAYBACK_SETTLE decides from the hang-up, as for a refused
            # command; else the "failed" timer records ``failed`` and hangs up.
            call.failure = f"playback failed: {event.error}"
            call.run.stop()
            out.append(Arm(now + PLAYBACK_SETTLE, call, "failed"))
            return out
        if not event.completed and call.run.playback_id == event.playback_id:
            # cut short, not by us: the callee may be leaving (CallEnded follows at once)
            # or the media failed; carry on only if the call is still there shortly
            call.stalled = event.playback_id
            out.append(Arm(now + PLAYBACK_SETTLE, call, "settle"))
            return out
        self._run(now, call, call.run.playback_finished(event.playback_id, now), out)
        return out

    def callback_done(self, now: float, call: Call, result: str) -> Results:
        """The application's hook answered (or its deadline passed: ``result`` is
        "timeout")."""
        out: Results = []
        if call.run is None or call.callback_result is not None:
            return out
        call.callback_result = result
        disarm(call, "callback")
        self._run(now, call, call.run.callback_done(now), out)
        return out

    def timer_fired(self, now: float, call: Call, kind: str) -> Results:
        """One of the answered call's timers came due (still armed): a menu's timeout,
        machine detection or the beep not coming, a playback that stalled, a hook that did
        not answer in time."""
        out: Results = []
        if kind.startswith("menu:"):
            if call.run is not None and call.stage is Stage.SCRIPT:
                self._run(now, call, call.run.timer(int(kind[5:]), now), out)
        elif kind == "amd" and call.stage is Stage.DETECTING:
            self._start(now, call, message_only=False, out=out)
        elif kind == "beep" and call.stage is Stage.BEEP:
            self._start(now, call, message_only=True, out=out)
        elif kind == "settle" and call.stage is Stage.SCRIPT and call.run is not None:
            stalled, call.stalled = call.stalled, None
            if stalled is not None:
                self._run(now, call, call.run.playback_finished(stalled, now), out)
        elif kind == "callback":
            out += self.callback_done(now, call, "timeout")
        elif kind == "playback" and call.stage is Stage.SCRIPT and call.run is not None:
            # the switch never said the playback ended: the message cannot be counted as heard
            call.outcome = Outcome.FAILED
            call.detail = "playback failed: the switch never reported its end"
            call.run.stop()
            out += hang_up(call, now)
        return out
