"""The ARI call tracker: decoded ARI events in, Switch events and follow-up actions out (pure).

This is the whole of the backend's understanding of Asterisk, kept free of I/O and clocks
(``now`` is passed in) so it can be fed a captured event stream in a test. The switch module
registers every call, playback and bridge here *before* sending the request that creates it
(ids are ours), feeds every event in, carries out the returned actions and forwards the
returned :data:`~autoinformer.backends.base.SwitchEvent` values.

Hang-up causes. A call that fails before answer never reaches Stasis; Asterisk reports it with
``Dial`` events (``dialstatus``) and ``ChannelDestroyed{cause}``. The dial status is generic
(Asterisk 22 says NOANSWER for a callee that rejected the call with cause 21, for an
unallocated number with cause 1, and for our own hang-up while it rang with cause 16), so
:func:`resolve_unanswered_cause` lets a specific cause win and uses the status only when the
causes say nothing. With ``Local/`` channels the ``;1`` half (ours) may be destroyed with
cause 0 while the real cause arrives a moment later on the ``;2`` half, so the tracker waits up
to :data:`LOCAL_HALF_WAIT` seconds for the ``;2`` half before deciding. The cause -> outcome
mapping itself is :func:`autoinformer.outcomes.outcome_for_unanswered`, shared by all backends.

Playbacks. ``PlaybackFinished`` with state ``done`` is a completed playback (unless we stopped
it); state ``failed`` (a missing file, a format Asterisk cannot read) gives
``PlaybackFinished(completed=False, error=...)``, as does a refused ``play`` request
(:meth:`CallTracker.playback_refused`). Asterisk 22 also reports ``failed`` for a playback cut
short by a hang-up; that one comes after the channel's ``ChannelHangupRequest`` and is only
``completed=False``.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from autoinformer.backends import base
from autoinformer.backends.ari import events as ari
from autoinformer.outcomes import HangupCause

__all__ = [
    "DIALSTATUS_CAUSES",
    "LOCAL_HALF_WAIT",
    "CallTracker",
    "ContinueToAmd",
    "DestroyBridge",
    "HangupChannel",
    "Output",
    "resolve_unanswered_cause",
]

LOCAL_HALF_WAIT = 1.0
"""Seconds to wait for the ``;2`` half's cause when ours was destroyed with cause 0."""

DIALSTATUS_CAUSES: dict[str, HangupCause] = {
    "BUSY": HangupCause.USER_BUSY,
    "NOANSWER": HangupCause.NO_ANSWER,
    "CONGESTION": HangupCause.NORMAL_CIRCUIT_CONGESTION,
    "CHANUNAVAIL": HangupCause.SUBSCRIBER_ABSENT,
    "CANCEL": HangupCause.NORMAL_CLEARING,
    "INVALIDARGS": HangupCause.INVALID_NUMBER_FORMAT,
}
"""The Q.850 cause each final ``Dial.dialstatus`` stands for (Asterisk app_dial's meanings)."""

_STATUS_DECIDES = frozenset({"BUSY", "CONGESTION", "CHANUNAVAIL", "INVALIDARGS"})
_GENERIC_CAUSES = frozenset({0, int(HangupCause.NORMAL_CLEARING)})


def resolve_unanswered_cause(
    dialstatus: str, own_cause: int | None, other_cause: int | None
) -> HangupCause:
    """The Q.850 cause of a call that ended before answer.

    Args:
        dialstatus: the last non-empty ``Dial.dialstatus`` for our channel ("" if none).
        own_cause: ``ChannelDestroyed.cause`` of our channel (the ``;1`` half).
        other_cause: ``ChannelDestroyed.cause`` of the ``;2`` half of a Local channel.

    Returns:
        The first specific cause of either half (not 0 "unknown", not 16 "normal clearing"):
        Asterisk's NOANSWER also covers a rejection (21) or an unallocated number (1). Then
        what a BUSY, CONGESTION or CHANUNAVAIL status stands for. Then normal clearing if
        either half said so (our own hang-up while it rang, which Asterisk reports as
        NOANSWER with 16; or the ring timeout of a switch that says 16). Then NO_ANSWER for
        NOANSWER, NORMAL_CLEARING for CANCEL; else UNSPECIFIED.
    """
    for cause in (own_cause, other_cause):
        if cause is not None and cause not in _GENERIC_CAUSES:
            return HangupCause.from_code(cause)
    if dialstatus in _STATUS_DECIDES:
        return DIALSTATUS_CAUSES[dialstatus]
    if HangupCause.NORMAL_CLEARING in (own_cause, other_cause):
        return HangupCause.NORMAL_CLEARING
    if dialstatus in DIALSTATUS_CAUSES:
        return DIALSTATUS_CAUSES[dialstatus]
    return HangupCause.UNSPECIFIED


@attrs.frozen
class ContinueToAmd:
    """Send the answered call to the answering-machine detection context."""

    call_id: str


@attrs.frozen
class HangupChannel:
    """Hang up a channel: a bridge peer left alone, or an orphan found after a gap."""

    channel_id: str
    cause: HangupCause = HangupCause.NORMAL_CLEARING


@attrs.frozen
class DestroyBridge:
    """The last member of one of our bridges ended: remove the bridge from Asterisk."""

    bridge_id: str


Output = base.SwitchEvent | ContinueToAmd | HangupChannel | DestroyBridge


@attrs.define(kw_only=True)
class _Call:
    call_id: str
    other_id: str | None
    detect_machine: bool
    operator: bool
    answered: bool = False
    progress: set[str] = attrs.field(factory=set)
    dialstatus: str = ""
    own_cause: int | None = None
    other_cause: int | None = None
    playbacks: set[str] = attrs.field(factory=set)
    bridge_id: str | None = None
    in_amd: bool = False
    ending: bool = False


@attrs.define(kw_only=True)
class CallTracker:
    """Everything the backend knows about its calls; see the module docstring.

    Args:
        app: our Stasis application name (to recognise orphaned channels after a gap).
        hangup_bridge_peers: when a bridged call ends, ask to hang up the rest of its bridge.
    """

    app: str
    hangup_bridge_peers: bool = True
    _calls: dict[str, _Call] = attrs.field(init=False, factory=dict)
    _channels: dict[str, str] = attrs.field(init=False, factory=dict)
    _playbacks: dict[str, str] = attrs.field(init=False, factory=dict)
    _stopped: set[str] = attrs.field(init=False, factory=set)
    _bridges: dict[str, set[str]] = attrs.field(init=False, factory=dict)
    _waiting: dict[str, float] = attrs.field(init=False, factory=dict)

    # --- registration (before the request goes out) -----------------------------------------

    def expect_call(
        self,
        call_id: str,
        *,
        other_id: str | None = None,
        detect_machine: bool = False,
        operator: bool = False,
    ) -> None:
        """Register a call about to be originated (channel id ``call_id``)."""
        self._calls[call_id] = _Call(
            call_id=call_id, other_id=other_id, detect_machine=detect_machine, operator=operator
        )
        self._channels[call_id] = call_id
        if other_id is not None:
            self._channels[other_id] = call_id

    def forget_call(self, call_id: str) -> None:
        """Drop a call whose originate request failed (no event will come for it)."""
        call = self._calls.pop(call_id, None)
        self._waiting.pop(call_id, None)
        if call is None:
            return
        self._channels.pop(call_id, None)
        if call.other_id is not None:
            self._channels.pop(call.other_id, None)

    def abandon_call(self, call_id: str, detail: str) -> list[Output]:
        """Give up a call whose originate got no clear answer (no reply, connection lost).

        The call may exist on Asterisk (the caller hangs it up); its events are ignored from
        now on. Events can overtake the reply, so some may already be out: then a
        :class:`~autoinformer.backends.base.CallEnded` (NORMAL_TEMPORARY_FAILURE, ``detail``)
        closes the call, keeping the promise that every reported call ends. A call nothing
        was said about just disappears, like a refused one.

        Returns:
            The outputs that close the call (empty when nothing was reported).
        """
        call = self._calls.get(call_id)
        if call is None:  # unknown, or it already ended on its own (CallEnded is out)
            return []
        if not (call.answered or call.progress or call.playbacks):
            self.forget_call(call_id)
            return []
        call.own_cause = HangupCause.NORMAL_TEMPORARY_FAILURE
        out: list[Output] = []
        self._end(call, out, detail=detail)
        return out

    def expect_playback(self, call_id: str, playback_id: str) -> None:
        """Register a playback about to be started on ``call_id``."""
        call = self._calls.get(call_id)
        if call is not None:
            call.playbacks.add(playback_id)
        self._playbacks[playback_id] = call_id

    def forget_playback(self, playback_id: str) -> None:
        """Drop a playback whose request failed."""
        call_id = self._playbacks.pop(playback_id, None)
        call = self._calls.get(call_id) if call_id is not None else None
        if call is not None:
            call.playbacks.discard(playback_id)

    def ending(self, call_id: str) -> None:
        """We asked to hang the call up: a playback that fails from now on was cut short."""
        call = self._calls.get(call_id)
        if call is not None:
            call.ending = True

    def playback_refused(self, playback_id: str, error: str) -> list[Output]:
        """Asterisk refused the ``play`` request: the playback finishes failed with ``error``.

        Returns:
            ``PlaybackFinished(completed=False, error=...)``, or nothing when the playback is
            no longer known (its call already ended and closed it).
        """
        out: list[Output] = []
        self._playback_finished(playback_id, False, out, error or "refused by Asterisk")
        return out

    def stopping_playback(self, playback_id: str) -> None:
        """We asked to stop this playback: its PlaybackFinished reports completed=False."""
        if playback_id in self._playbacks:
            self._stopped.add(playback_id)

    def expect_bridge(self, bridge_id: str, call_ids: Iterable[str]) -> None:
        """Register a bridge about to be created for ``call_ids``."""
        members = self._bridges.setdefault(bridge_id, set())
        for call_id in call_ids:
            members.add(call_id)
            call = self._calls.get(call_id)
            if call is not None:
                call.bridge_id = bridge_id

    def forget_bridge(self, bridge_id: str) -> None:
        """Drop a bridge whose creation failed: its calls are no longer each other's peers."""
        for call_id in self._bridges.pop(bridge_id, set()):
            call = self._calls.get(call_id)
            if call is not None and call.bridge_id == bridge_id:
                call.bridge_id = None

    def in_amd(self, call_id: str) -> bool:
        """True while the call is out of Stasis for machine detection (nothing can play)."""
        call = self._calls.get(call_id)
        return call is not None and call.in_amd

    def amd_not_started(self, call_id: str) -> None:
        """The request to send the call to the AMD context failed: it never left Stasis."""
        call = self._calls.get(call_id)
        if call is not None:
            call.in_amd = False

    def has_call(self, call_id: str) -> bool:
        """True while the call is known and has not ended."""
        return call_id in self._calls

    def is_answered(self, call_id: str) -> bool:
        """True once the call reached Stasis (was answered)."""
        call = self._calls.get(call_id)
        return call is not None and call.answered

    def active_calls(self) -> tuple[str, ...]:
        """The calls that have not ended, in registration order."""
        return tuple(self._calls)

    # --- events in, outputs out -------------------------------------------------------------

    def feed(self, event: ari.AriEvent, now: float) -> list[Output]:
        """Outputs for one decoded ARI event received at ``now``."""
        out: list[Output] = []
        if isinstance(event, ari.StasisStart):
            self._stasis_start(event, out)
        elif isinstance(event, ari.Dial):
            call = self._own(event.peer.id)
            if call is not None and event.dialstatus:
                call.dialstatus = event.dialstatus
                if event.dialstatus == "RINGING":
                    self._progress(call, "ringing", out)
                elif event.dialstatus == "PROGRESS":
                    self._progress(call, "early_media", out)
        elif isinstance(event, ari.ChannelStateChange):
            call = self._own(event.channel.id)
            if call is not None and event.channel.state == "Ringing":
                self._progress(call, "ringing", out)
        elif isinstance(event, ari.ChannelDtmfReceived):
            call = self._own(event.channel.id)
            if call is not None and call.answered:
                out.append(base.DigitReceived(call.call_id, event.digit))
        elif isinstance(event, ari.ChannelHangupRequest):
            call = self._own(event.channel.id)
            if call is not None:
                call.ending = True
        elif isinstance(event, ari.PlaybackFinished):
            error = ""
            call_id = self._playbacks.get(event.playback_id)
            call = self._calls.get(call_id) if call_id is not None else None
            # Asterisk 22 also says "failed" for a playback cut short by a hang-up (after
            # the channel's ChannelHangupRequest): that one just did not complete.
            if event.state == "failed" and not (call is not None and call.ending):
                error = f"Asterisk could not play {event.media_uri or 'the media'} (failed)"
            self._playback_finished(event.playback_id, event.state == "done", out, error)
        elif isinstance(event, ari.ChannelEnteredBridge):
            call = self._own(event.channel.id)
            if call is not None and event.bridge_id in self._bridges:
                call.bridge_id = event.bridge_id
                self._bridges[event.bridge_id].add(call.call_id)
                out.append(base.Bridged(call.call_id, event.bridge_id))
        elif isinstance(event, ari.BridgeDestroyed):
            self._bridges.pop(event.bridge_id, None)
        elif isinstance(event, ari.ChannelDestroyed):
            self._destroyed(event, now, out)
        return out

    def due(self, now: float) -> list[Output]:
        """Outputs whose wait ran out by ``now`` (a Local ``;2`` half that never reported)."""
        out: list[Output] = []
        for call_id, due in list(self._waiting.items()):
            call = self._calls.get(call_id)
            if call is not None and due <= now:
                self._end(call, out)
        return out

    def next_deadline(self) -> float | None:
        """When :meth:`due` next has something to do (None: nothing is waiting)."""
        return min(self._waiting.values()) if self._waiting else None

    def reconcile(self, channels: Iterable[ari.ChannelRef], *, gap_seconds: float) -> list[Output]:
        """After a reconnect: compare our records with ``GET /channels``.

        Calls still on the switch are adopted (and reported answered if they reached Stasis
        during the gap); calls that vanished are lost and end with the cause their last known
        state gives: a final ``Dial`` status or a cause seen before the gap (a BUSY whose
        ChannelDestroyed was lost, a Local ``;1`` half waiting for its ``;2``) decides as
        usual; an answered call ends with NORMAL_CLEARING (a ``;2`` half's cause if one
        was seen); a call that was only ringing ends with NORMAL_TEMPORARY_FAILURE, since it
        may have failed, timed out, or been answered and dropped by Asterisk for want of a
        Stasis application: nothing tells which, and a temporary failure is worth a retry.
        Channels in our Stasis application that we do not know are orphans of an earlier
        run and are hung up. The :class:`~autoinformer.backends.base.BackendGap` comes first,
        then the rest.
        """
        present = {channel.id: channel for channel in channels}
        adopted: list[str] = []
        lost: list[_Call] = []
        follow: list[Output] = []
        for call in list(self._calls.values()):
            channel = present.get(call.call_id)
            if channel is None:
                lost.append(call)
                continue
            adopted.append(call.call_id)
            if not call.answered and channel.state == "Up" and self._in_our_app(channel):
                call.answered = True
                follow.append(base.CallAnswered(call.call_id))
                if call.detect_machine:
                    call.in_amd = True
                    follow.append(ContinueToAmd(call.call_id))
        for channel in present.values():
            if channel.id not in self._channels and self._in_our_app(channel):
                follow.append(HangupChannel(channel.id))
        ends: list[Output] = []
        for call in lost:
            knew_the_end = (
                call.own_cause is not None
                or call.other_cause is not None
                or call.dialstatus in DIALSTATUS_CAUSES
            )
            if not call.answered and not knew_the_end:
                call.own_cause = HangupCause.NORMAL_TEMPORARY_FAILURE
            self._end(call, ends, detail="lost during an event gap")
        gap = base.BackendGap(
            seconds=gap_seconds,
            adopted=tuple(adopted),
            lost=tuple(call.call_id for call in lost),
        )
        return [gap, *follow, *ends]

    # --- internals --------------------------------------------------------------------------

    def _in_our_app(self, channel: ari.ChannelRef) -> bool:
        return channel.app_data == self.app or channel.app_data.startswith(f"{self.app},")

    def _own(self, channel_id: str) -> _Call | None:
        """The call whose own (``;1``) channel this is; None for other halves and strangers."""
        return self._calls.get(channel_id)

    def _progress(self, call: _Call, state: str, out: list[Output]) -> None:
        if call.answered or state in call.progress:
            return
        call.progress.add(state)
        out.append(
            base.CallProgress(call.call_id, "ringing" if state == "ringing" else "early_media")
        )

    def _stasis_start(self, event: ari.StasisStart, out: list[Output]) -> None:
        call = self._own(event.channel.id)
        if call is None:
            return
        if event.args and event.args[0] == "amd":
            call.in_amd = False
            self._amd_verdict(call, event.args[1:], out)
            return
        if call.answered:
            return
        call.answered = True
        out.append(base.CallAnswered(call.call_id))
        if call.detect_machine:
            call.in_amd = True
            out.append(ContinueToAmd(call.call_id))

    @staticmethod
    def _amd_verdict(call: _Call, args: tuple[str, ...], out: list[Output]) -> None:
        """``Stasis(app,amd,${AMDSTATUS},${AMDCAUSE}[,${WAITSTATUS}])`` from the AMD context.

        Asterisk's AMD() listens for speech and silence, not for tones: it never hears the
        beep. The optional third argument is the WaitForSilence() status of the documented
        dialplan variant; ``SILENCE`` after a machine's greeting is the moment to leave the
        message, reported as ``beep=True``. NOTSURE counts as a person; HANGUP (the callee
        left during detection) reports nothing, its CallEnded follows.
        """
        status = args[0].upper() if args else ""
        if status not in ("MACHINE", "HUMAN", "NOTSURE"):
            return
        machine = status == "MACHINE"
        beep = machine and len(args) > 2 and args[2].upper() == "SILENCE"
        out.append(base.MachineDetected(call.call_id, machine=machine, beep=beep))

    def _playback_finished(
        self, playback_id: str, done: bool, out: list[Output], error: str = ""
    ) -> None:
        call_id = self._playbacks.pop(playback_id, None)
        if call_id is None:
            return
        stopped = playback_id in self._stopped
        self._stopped.discard(playback_id)
        call = self._calls.get(call_id)
        if call is not None:
            call.playbacks.discard(playback_id)
        completed = done and not stopped and not error
        out.append(base.PlaybackFinished(call_id, playback_id, completed=completed, error=error))

    def _destroyed(self, event: ari.ChannelDestroyed, now: float, out: list[Output]) -> None:
        call_id = self._channels.get(event.channel.id)
        call = self._calls.get(call_id) if call_id is not None else None
        if call is None:
            return
        if event.channel.id != call.call_id:
            call.other_cause = event.cause
            if call.own_cause is not None:
                self._end(call, out)
            return
        call.own_cause = event.cause
        waiting_for_other = (
            not call.answered
            and event.cause == 0
            and call.other_id is not None
            and call.other_cause is None
        )
        if waiting_for_other:
            self._waiting[call.call_id] = now + LOCAL_HALF_WAIT
            return
        self._end(call, out)

    def _end(self, call: _Call, out: list[Output], *, detail: str = "") -> None:
        if call.answered:
            cause = HangupCause.from_code(call.own_cause)
            if cause == HangupCause.UNSPECIFIED:
                cause = HangupCause.from_code(call.other_cause)
            if cause == HangupCause.UNSPECIFIED:
                cause = HangupCause.NORMAL_CLEARING
        else:
            cause = resolve_unanswered_cause(call.dialstatus, call.own_cause, call.other_cause)
        words = [f"dialstatus={call.dialstatus}"] if call.dialstatus else []
        words.append(f"cause={'unknown' if call.own_cause is None else call.own_cause}")
        if call.other_cause is not None:
            words.append(f"other_cause={call.other_cause}")
        if detail:
            words.append(detail)
        for playback_id in sorted(call.playbacks):
            self._playbacks.pop(playback_id, None)
            self._stopped.discard(playback_id)
            out.append(base.PlaybackFinished(call.call_id, playback_id, completed=False))
        self.forget_call(call.call_id)
        out.append(
            base.CallEnded(call.call_id, cause, answered=call.answered, detail=" ".join(words))
        )
        if call.bridge_id is not None:
            members = self._bridges.get(call.bridge_id, set())
            members.discard(call.call_id)
            live = sorted(peer for peer in members if peer in self._calls)
            if self.hangup_bridge_peers:
                out.extend(HangupChannel(peer) for peer in live)
            if not live and self._bridges.pop(call.bridge_id, None) is not None:
                out.append(DestroyBridge(call.bridge_id))
