"""An answered customer call: machine detection, the script, its playbacks and hooks.

Part of the sans-IO dialer core (:class:`~autoinformer.core.dialer.DialerCore`); split out so
each module keeps one job. The dialer counts the answer (pacing, timers) and hands the call
here; from then on the call's script run decides what plays, which digits matter and when the
call goes to an operator (:mod:`autoinformer.core.operators`) or is hung up, and this module
turns its actions into commands. When machine detection finds a machine it tells the pacing
(``Observation.MACHINE``, once per call) that the answer it heard was not a live one: the
abandon cap counts live answers only. Nothing here reads a clock: ``now`` is passed in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autoinformer.backends.base import MachineDetected, Media, PlaybackFinished
from autoinformer.core import commands as c
from autoinformer.core.calls import Call, Stage
from autoinformer.errors import AutoinformerError
from autoinformer.outcomes import Outcome
from autoinformer.pacing.base import Observation, PacingObservation
from autoinformer.script import machine as m
from autoinformer.script.steps import Play as PlayStep
from autoinformer.script.steps import Say as SayStep

if TYPE_CHECKING:
    from autoinformer.core.dialer import DialerCore

__all__ = [
    "PLAYBACK_SETTLE",
    "TIMERS",
    "answered",
    "callback_done",
    "machine_detected",
    "playback_finished",
    "run_script",
    "start_script",
    "timer_fired",
]

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


def playback_deadline(core: DialerCore, call: Call, step: PlayStep | SayStep) -> float:
    """Seconds one of the script's playbacks may take, derived from the step: a bound on
    the switch's silence, never a limit on a message that is playing."""
    if isinstance(step, PlayStep):
        return PLAYBACK_FILE_SECONDS
    template = core._templates.get(step.template)
    try:
        chars = len(template.render_text(call.slot.contact, core.campaign.lang)) if template else 0
    except AutoinformerError:  # the renderer reports it; the bound only needs a size
        chars = 0
    return 30.0 + SPEECH_SECONDS_PER_CHAR * max(chars, len(step.template))


def answered(
    core: DialerCore, now: float, call: Call, machine: bool | None, out: list[c.Command]
) -> None:
    """The callee picked up (``machine``: what the switch's own detection said, if anything):
    wait for machine detection, or start the script."""
    if machine:
        _machine_found(core, now, call, beep=False, out=out)
    elif machine is None and core.campaign.machine_detection:
        call.stage = Stage.DETECTING
        core.set_timer(now + core.campaign.machine_wait, call, "amd")
    else:
        start_script(core, now, call, message_only=False, out=out)


def machine_detected(
    core: DialerCore, now: float, event: MachineDetected, out: list[c.Command]
) -> None:
    """Answering-machine detection decided, or the machine's beep came."""
    call = core.calls.get(event.call_id)
    if call is None:
        return
    if call.stage is Stage.DETECTING:
        if event.machine:
            _machine_found(core, now, call, beep=event.beep, out=out)
        else:
            start_script(core, now, call, message_only=False, out=out)
    elif call.stage is Stage.BEEP and event.beep:
        start_script(core, now, call, message_only=True, out=out)


def _machine_found(
    core: DialerCore, now: float, call: Call, *, beep: bool, out: list[c.Command]
) -> None:
    """Detection says machine: tell the pacing (once: the cap counts live answers only, and
    the ANSWERED it heard was not one), then hang up or wait for the beep."""
    if not call.machine and call.answered_at is not None:
        since = now - call.answered_at
        core.pacing.observe(PacingObservation(Observation.MACHINE, now, since))
    call.machine = True
    if core.campaign.on_machine == "hangup":
        call.outcome = Outcome.MACHINE
        core.hangup_call(call, out)
    elif beep:
        start_script(core, now, call, message_only=True, out=out)
    else:
        call.stage = Stage.BEEP
        core.set_timer(now + core.campaign.machine_wait, call, "beep")


def start_script(
    core: DialerCore, now: float, call: Call, *, message_only: bool, out: list[c.Command]
) -> None:
    """Start the campaign's script on ``call`` (``message_only``: for a machine, after the
    beep: the message plays, menus do not wait for digits)."""
    call.stage = Stage.SCRIPT
    call.run = m.ScriptRun(
        script=core.campaign.script, call_id=call.call_id, message_only=message_only
    )
    run_script(core, now, call, call.run.start(now), out)


def run_script(
    core: DialerCore, now: float, call: Call, actions: list[m.ScriptAction], out: list[c.Command]
) -> None:
    """Turn the script run's actions into commands (and operator transfers, opt-outs)."""
    for action in actions:
        if isinstance(action, m.StartPlayback):
            step = action.step
            media: Media | c.Speech
            if isinstance(step, PlayStep):
                media = step.media()
            else:
                media = c.Speech(step.template, call.slot.contact, core.campaign.lang)
            out.append(c.Play(call.call_id, action.playback_id, media))
            core.set_timer(now + playback_deadline(core, call, step), call, "playback")
        elif isinstance(action, m.StopPlayback):
            out.append(c.StopPlayback(call.call_id, action.playback_id))
        elif isinstance(action, m.WantDigits):
            out.append(c.CollectDigits(call.call_id))
        elif isinstance(action, m.SetTimer):
            core.set_timer(action.at, call, f"menu:{action.token}")
        elif isinstance(action, m.DoTransfer):
            core._desk.transfer(now, core, call, action.queue, out)
        elif isinstance(action, m.DoCallback):
            deadline = now + core.campaign.callback_timeout
            out.append(
                c.RunCallback(call.call_id, action.name, call.slot.contact, action.digits, deadline)
            )
            core.set_timer(deadline, call, "callback")
        elif isinstance(action, m.DoOptOut):
            number = call.record.number
            core._opted_out.add(number)
            call.outcome = Outcome.OPTED_OUT
            out.append(c.AddToDoNotCall(number, call.slot.contact.id))
        elif isinstance(action, m.Finish):
            if call.outcome is None:
                call.outcome = Outcome.MACHINE if call.machine else Outcome.DELIVERED
            if call.machine:
                call.detail = "message left"
            core.hangup_call(call, out)


def playback_finished(
    core: DialerCore, now: float, event: PlaybackFinished, out: list[c.Command]
) -> None:
    """A playback ended: the abandon message (hang up), hold music (loop it), or the script's
    own (go on; one cut short not by us waits :data:`PLAYBACK_SETTLE` first)."""
    call = core.calls.get(event.call_id)
    if call is None:
        return
    if call.stage is Stage.ABANDON_MESSAGE and event.playback_id == call.aux_playback:
        core.hangup_call(call, out)
    elif event.playback_id == call.aux_playback and call.stage in (
        Stage.QUEUED,
        Stage.OPERATOR_RINGING,
    ):
        core._desk.hold_finished(now, call, event.completed, out)
    elif call.stage is Stage.SCRIPT and call.run is not None:
        if call.run.playback_id == event.playback_id:
            _disarm(call, "playback")
        if event.error and call.run.playback_id == event.playback_id:
            # The switch could not play it: nobody heard the message, so it is not delivered.
            # A switch may also fail the playback of a callee who is hanging up (Asterisk):
            # a CallEnded within PLAYBACK_SETTLE decides from the hang-up, as for a refused
            # command; else the "failed" timer records ``failed`` and hangs up.
            call.failure = f"playback failed: {event.error}"
            call.run.stop()
            core.set_timer(now + PLAYBACK_SETTLE, call, "failed")
            return
        if not event.completed and call.run.playback_id == event.playback_id:
            # cut short, not by us: the callee may be leaving (CallEnded follows at once)
            # or the media failed; carry on only if the call is still there shortly
            call.stalled = event.playback_id
            core.set_timer(now + PLAYBACK_SETTLE, call, "settle")
            return
        run_script(core, now, call, call.run.playback_finished(event.playback_id, now), out)


def callback_done(
    core: DialerCore, now: float, call_id: str, result: str, out: list[c.Command]
) -> None:
    """The application's hook answered (or its deadline passed: ``result`` is "timeout")."""
    call = core.calls.get(call_id)
    if call is None or call.run is None or call.callback_result is not None:
        return
    call.callback_result = result
    _disarm(call, "callback")
    run_script(core, now, call, call.run.callback_done(now), out)


def timer_fired(core: DialerCore, now: float, call: Call, kind: str, out: list[c.Command]) -> None:
    """One of the answered call's timers came due (still armed: the core checked its token):
    a menu's timeout, machine detection or the beep not coming, a playback that stalled, a
    hook that did not answer in time."""
    if kind.startswith("menu:"):
        if call.run is not None and call.stage is Stage.SCRIPT:
            run_script(core, now, call, call.run.timer(int(kind[5:]), now), out)
    elif kind == "amd" and call.stage is Stage.DETECTING:
        start_script(core, now, call, message_only=False, out=out)
    elif kind == "beep" and call.stage is Stage.BEEP:
        start_script(core, now, call, message_only=True, out=out)
    elif kind == "settle" and call.stage is Stage.SCRIPT and call.run is not None:
        stalled, call.stalled = call.stalled, None
        if stalled is not None:
            run_script(core, now, call, call.run.playback_finished(stalled, now), out)
    elif kind == "callback":
        callback_done(core, now, call.call_id, "timeout", out)
    elif kind == "playback" and call.stage is Stage.SCRIPT and call.run is not None:
        # the switch never said the playback ended: the message cannot be counted as heard
        call.outcome = Outcome.FAILED
        call.detail = "playback failed: the switch never reported its end"
        call.run.stop()
        core.hangup_call(call, out)


def _disarm(call: Call, kind: str) -> None:
    """Void the armed timer ``kind`` of ``call`` (the core skips a timer whose token is old)."""
    call.tokens[kind] = call.tokens.get(kind, 0) + 1
