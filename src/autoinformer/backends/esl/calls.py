"""The table of our calls: FreeSWITCH events in, SwitchEvents and actions out (pure, no I/O).

This is the part of the backend that decides what an event means: which call it is about
(``Unique-ID`` is our ``origination_uuid``), whether it is news (one CallProgress per state,
one CallAnswered, one CallEnded), how a call ended (CHANNEL_HANGUP_COMPLETE's ``Hangup-Cause``
or the BACKGROUND_JOB's ``-ERR CAUSE``, whichever comes first; causes through
:meth:`HangupCause.from_name`, one mapping for every backend) and what the switch must be told
next (hang up a bridge peer, break a playback, start machine detection). Those instructions
come out as :data:`Action` values; :class:`~.switch.EslSwitch` carries them out as tasks, so
this code never awaits and runs safely inside the socket reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from autoinformer.backends.base import (
    BackendGap,
    Bridged,
    CallAnswered,
    CallEnded,
    CallProgress,
    DigitReceived,
    MachineDetected,
    PlaybackFinished,
    SwitchEvent,
)
from autoinformer.backends.esl.parser import EslEvent
from autoinformer.outcomes import HangupCause

__all__ = ["Action", "Call", "CallTable", "Execute", "Kill", "Playback", "StopAvmdLater"]

_PLAYED = "FILE PLAYED"
"""``playback``'s Application-Response when it played to the end or was broken (uuid_break);
otherwise ``FILE NOT FOUND`` (cannot open: missing file, unknown format, ``tts:...`` with no TTS)
or ``PLAYBACK ERROR`` (the channel went away, or the media could not be played)."""


@attrs.frozen
class Kill:
    """Hang the channel up with ``cause`` (``uuid_kill``)."""

    uuid: str
    cause: HangupCause


@attrs.frozen
class Execute:
    """Run an application on the call (``sendmsg`` execute); ``app`` ``uuid_break`` breaks."""

    call_id: str
    app: str
    arg: str = ""


@attrs.frozen
class StopAvmdLater:
    """Start the avmd deadline: no beep by then means a person."""

    call_id: str


Action = Kill | Execute | StopAvmdLater


@attrs.define(eq=False)
class Playback:
    """A playback we asked for, by its ``event-uuid``."""

    playback_id: str
    started: bool = False
    stopped: bool = False


@attrs.define(eq=False)
class Call:
    """What we know about one call."""

    call_id: str
    uuid: str
    job: str
    detect_machine: bool = False
    created: bool = False
    answered: bool = False
    parked: bool = False
    announced: bool = False
    progress: str | None = None
    ended: bool = False
    kill_cause: HangupCause | None = None
    bridge_id: str | None = None
    bridged: bool = False
    machine_done: bool = False
    dtmf_started: bool = False
    confirmed: bool = False
    held: list[SwitchEvent] = attrs.field(factory=list)
    playbacks: dict[str, Playback] = attrs.field(factory=dict)


@attrs.define(kw_only=True, eq=False)
class CallTable:
    """Our calls and bridges, and the event routing.

    Attributes:
        emit: where SwitchEvents go (the switch's bounded stream).
        act: where Actions go (the switch runs them as tasks).
        detector: ``amd``, ``avmd`` or None (what the server has).
        amd_args: arguments for the ``amd`` application.
    """

    emit: Callable[[SwitchEvent], None]
    act: Callable[[Action], None]
    detector: str | None = None
    amd_args: str = ""
    calls: dict[str, Call] = attrs.field(init=False, factory=dict)
    _by_uuid: dict[str, Call] = attrs.field(init=False, factory=dict)
    _jobs: dict[str, Call] = attrs.field(init=False, factory=dict)
    _bridges: dict[str, tuple[str, ...]] = attrs.field(init=False, factory=dict)

    def add(self, call: Call) -> None:
        """Register a call before its originate goes out (no event can outrun it)."""
        self.calls[call.call_id] = call
        self._by_uuid[call.uuid] = call
        self._jobs[call.job] = call

    def confirm(self, call: Call) -> None:
        """The switch accepted the originate: release the events held until now.

        Events about a call are held until its ``bgapi originate`` is accepted, so a call
        whose originate raised never shows up in the event stream.
        """
        call.confirmed = True
        held, call.held = call.held, []
        for event in held:
            self.emit(event)

    def _out(self, call: Call, event: SwitchEvent) -> None:
        if call.confirmed:
            self.emit(event)
        else:
            call.held.append(event)

    def forget(self, call: Call) -> None:
        """Drop a call that never reached the switch (its originate failed)."""
        self.calls.pop(call.call_id, None)
        self._by_uuid.pop(call.uuid, None)
        self._jobs.pop(call.job, None)

    def live(self, call_id: str) -> Call | None:
        """The call if it is still up (as far as we know)."""
        call = self.calls.get(call_id)
        return None if call is None or call.ended else call

    def add_bridge(self, bridge_id: str, calls: tuple[Call, ...]) -> None:
        """Register a bridge before ``uuid_bridge`` goes out."""
        self._bridges[bridge_id] = tuple(c.call_id for c in calls)
        for call in calls:
            call.bridge_id = bridge_id

    def drop_bridge(self, bridge_id: str) -> None:
        """Forget a bridge the switch refused."""
        for call_id in self._bridges.pop(bridge_id, ()):
            call = self.calls.get(call_id)
            if call is not None:
                call.bridge_id = None

    def request_hangup(self, call: Call, cause: HangupCause) -> bool:
        """Note our hang-up; True if ``uuid_kill`` can go now (else it waits for the channel)."""
        call.kill_cause = cause
        return call.created

    def end(self, call: Call, cause: HangupCause, detail: str) -> None:
        """End a call once: unfinished playbacks, its bridge peer, then CallEnded (last)."""
        if call.ended:
            return
        if call.answered and not call.announced:  # it ended between answer and park
            call.announced = True
            self._out(call, CallAnswered(call.call_id))
        call.ended = True
        for playback in call.playbacks.values():
            self._out(call, PlaybackFinished(call.call_id, playback.playback_id, completed=False))
        call.playbacks.clear()
        self.forget(call)
        if call.bridge_id is not None:
            for peer_id in self._bridges.pop(call.bridge_id, ()):
                peer = self.calls.get(peer_id)
                if peer is not None and peer is not call:
                    peer.bridge_id = None
                    if peer.kill_cause is None:
                        peer.kill_cause = HangupCause.NORMAL_CLEARING
                        self.act(Kill(peer.uuid, HangupCause.NORMAL_CLEARING))
        self._out(call, CallEnded(call.call_id, cause, answered=call.answered, detail=detail))

    def machine_timeout(self, call_id: str) -> bool:
        """The avmd deadline passed: a person, unless a beep came first. True if it decided."""
        call = self.live(call_id)
        if call is None or call.machine_done:
            return False
        call.machine_done = True
        self._out(call, MachineDetected(call.call_id, machine=False))
        return True

    def resync(
        self, rows: list[Mapping[str, Any]], orphans: set[str], gap_seconds: float
    ) -> list[str]:
        """After a reconnect, from ``show channels``: adopt, end the lost, name orphans to kill.

        Emits BackendGap, then CallAnswered for calls answered during the gap, then CallEnded
        for each lost call; repeats our hang-up of adopted calls we had asked to end. Returns
        the orphan channels (``orphans`` that are still up).
        """
        live = {str(row.get("uuid")): row for row in rows}
        adopted = [c for c in self.calls.values() if c.uuid in live]
        lost = [c for c in self.calls.values() if c.uuid not in live]
        self.emit(
            BackendGap(
                seconds=gap_seconds,
                adopted=tuple(c.call_id for c in adopted),
                lost=tuple(c.call_id for c in lost),
            )
        )
        for call in adopted:
            state = str(live[call.uuid].get("callstate", "")).upper()
            call.created = True
            if not call.announced and state == "ACTIVE":
                call.answered = call.parked = call.announced = True
                self.emit(CallAnswered(call.call_id))
            if call.kill_cause is not None:  # our hang-up may have been lost with the connection
                self.act(Kill(call.uuid, call.kill_cause))
        for call in lost:
            self.end(call, HangupCause.UNSPECIFIED, "ended while the connection was down")
        return [uuid for uuid in orphans if uuid in live]

    def end_all(self, cause: HangupCause, detail: str) -> None:
        """End every call (the switch is gone for good)."""
        for call in list(self.calls.values()):
            self.end(call, cause, detail)

    # --- routing -------------------------------------------------------------------------------

    def on_event(self, event: EslEvent) -> None:
        """Route one FreeSWITCH event (not about our calls: ignored)."""
        name = event.name
        if name == "BACKGROUND_JOB":
            self._on_job(event)
            return
        call = self._by_uuid.get(event.get("Unique-ID") or "")
        if call is None and name == "CHANNEL_BRIDGE":
            call = self._by_uuid.get(event.get("Other-Leg-Unique-ID") or "")
        if call is None:
            return
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, call, event)

    def _on_job(self, event: EslEvent) -> None:
        call = self._jobs.pop(event.get("Job-UUID") or "", None)
        if call is None or call.ended:
            return
        result = event.body.strip()
        if result.startswith("-ERR"):
            words = result[4:].split()
            cause = HangupCause.from_name(words[0]) if words else HangupCause.UNSPECIFIED
            self.end(call, call.kill_cause or cause, result)

    def _on_create(self, call: Call, event: EslEvent) -> None:
        call.created = True
        if call.kill_cause is not None:
            self.act(Kill(call.uuid, call.kill_cause))

    def _on_progress(self, call: Call, event: EslEvent) -> None:
        state: Literal["ringing", "early_media"] = (
            "early_media" if event.name == "CHANNEL_PROGRESS_MEDIA" else "ringing"
        )
        if not call.answered and call.progress != state:
            call.progress = state
            self._out(call, CallProgress(call.call_id, state))

    def _on_answer(self, call: Call, event: EslEvent) -> None:
        call.created = True
        call.answered = True
        self._announce(call)

    def _announce(self, call: Call) -> None:
        """CallAnswered once the call is answered *and* parked (ready for our commands).

        On a real FreeSWITCH CHANNEL_ANSWER comes while the originate is still finishing; an
        application sent then (``playback`` at once on the answer) runs before ``park`` and
        ends at once with ``PLAYBACK ERROR``, nothing played. The park's CHANNEL_EXECUTE says
        the channel now runs our commands, so the answer is announced then.
        """
        if call.announced or not (call.answered and call.parked) or call.ended:
            return
        call.announced = True
        self._out(call, CallAnswered(call.call_id))
        if call.detect_machine and call.kill_cause is None:
            if self.detector == "amd":
                self.act(Execute(call.call_id, "amd", self.amd_args))
            elif self.detector == "avmd":
                self.act(Execute(call.call_id, "avmd_start"))
                self.act(StopAvmdLater(call.call_id))

    def _on_dtmf(self, call: Call, event: EslEvent) -> None:
        digit = event.get("DTMF-Digit") or ""
        if digit:
            self._out(call, DigitReceived(call.call_id, digit))

    def _on_execute(self, call: Call, event: EslEvent) -> None:
        if event.get("Application") == "park" and not call.parked:
            call.parked = True
            self._announce(call)
            return
        playback = call.playbacks.get(event.get("Application-UUID") or "")
        if playback is not None:
            playback.started = True
            if playback.stopped:
                self.act(Execute(call.call_id, "uuid_break"))

    def _on_execute_complete(self, call: Call, event: EslEvent) -> None:
        playback = call.playbacks.pop(event.get("Application-UUID") or "", None)
        if playback is not None:
            self._out(call, _finished(call, playback, event))
        elif event.get("Application") == "amd" and not call.machine_done:
            call.machine_done = True
            result = (event.get("variable_amd_result") or "").upper()
            self._out(call, MachineDetected(call.call_id, machine=result == "MACHINE"))

    def _on_custom(self, call: Call, event: EslEvent) -> None:
        if event.subclass == "avmd::beep" and not call.machine_done:
            call.machine_done = True
            self._out(call, MachineDetected(call.call_id, machine=True, beep=True))

    def _on_bridge(self, call: Call, event: EslEvent) -> None:
        if call.bridge_id is None:
            return
        for call_id in self._bridges.get(call.bridge_id, ()):
            leg = self.calls.get(call_id)
            if leg is not None and not leg.bridged:
                leg.bridged = True
                self._out(leg, Bridged(leg.call_id, call.bridge_id))

    def _on_hangup_complete(self, call: Call, event: EslEvent) -> None:
        name = event.get("Hangup-Cause") or ""
        answered_at = event.get("Caller-Channel-Answered-Time") or "0"
        call.answered = call.answered or answered_at not in ("", "0")
        cause = HangupCause.from_name(name) if name else HangupCause.UNSPECIFIED
        self.end(call, cause, f"Hangup-Cause: {name or '?'}")


def _finished(call: Call, playback: Playback, event: EslEvent) -> PlaybackFinished:
    """What a playback's CHANNEL_EXECUTE_COMPLETE means (checked on FreeSWITCH 1.11.1).

    ``FILE PLAYED``: played to the end, or broken by our ``uuid_break`` (then not completed).
    Anything else while the channel is up (``FILE NOT FOUND``, ``PLAYBACK ERROR``): the switch
    could not play it, an error in its own words. ``PLAYBACK ERROR`` on a channel that is
    hanging up (``Answer-State: hangup``) is the call going away: not completed, no error.
    """
    response = (event.get("Application-Response") or "").strip()
    if playback.stopped:
        return PlaybackFinished(call.call_id, playback.playback_id, completed=False)
    if response.upper() == _PLAYED:
        return PlaybackFinished(call.call_id, playback.playback_id)
    if event.get("Answer-State") == "hangup" or call.kill_cause is not None:
        return PlaybackFinished(call.call_id, playback.playback_id, completed=False)
    media = event.get("Application-Data") or ""
    error = f"{response or 'no Application-Response'}" + (f" ({media})" if media else "")
    return PlaybackFinished(call.call_id, playback.playback_id, completed=False, error=error)


_HANDLERS: dict[str, Callable[[CallTable, Call, EslEvent], None]] = {
    "CHANNEL_CREATE": CallTable._on_create,
    "CHANNEL_PROGRESS": CallTable._on_progress,
    "CHANNEL_PROGRESS_MEDIA": CallTable._on_progress,
    "CHANNEL_ANSWER": CallTable._on_answer,
    "DTMF": CallTable._on_dtmf,
    "CHANNEL_EXECUTE": CallTable._on_execute,
    "CHANNEL_EXECUTE_COMPLETE": CallTable._on_execute_complete,
    "CUSTOM": CallTable._on_custom,
    "CHANNEL_BRIDGE": CallTable._on_bridge,
    "CHANNEL_HANGUP_COMPLETE": CallTable._on_hangup_complete,
}
