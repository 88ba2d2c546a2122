"""The contract every telephone switch backend meets.

A backend does I/O and nothing else: it places calls, plays media, bridges, hangs up, and turns
what the switch says into the events below. It makes no decisions. The dialer core decides
(see ``docs/outcomes.md`` and ``../DESIGN.md``); the runtime carries the core's commands out
on a :class:`Switch` and feeds the switch's events back.

Ids are ours: the caller picks ``call_id``, ``playback_id`` and ``bridge_id`` before asking, so
the event that answers a request can never race ahead of the request's reply (ARI
``channelId``/``playbackId``/``bridgeId``, ESL ``origination_uuid``/``event-uuid``).

Digits: every DTMF digit the callee presses arrives as a :class:`DigitReceived` event. Menus,
digit counts and inter-digit timeouts are decided by the core with its own timers, in pure code,
so a menu behaves the same on every switch and in virtual time; :meth:`Switch.collect_digits`
only tells the switch that digits now matter (FreeSWITCH may start DTMF detection, a backend
may flush digits pressed too early).

Failure: a call that fails before it is answered ends with :class:`CallEnded` carrying its Q.850
cause (``answered=False``); :func:`autoinformer.outcomes.outcome_for_unanswered` classifies it
once for all backends. A request the switch refuses outright raises
:class:`~autoinformer.errors.OriginateError` (or another BackendError).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Literal, Self

import attrs

from autoinformer.outcomes import HangupCause

__all__ = [
    "BackendGap",
    "Bridged",
    "CallAnswered",
    "CallEnded",
    "CallProgress",
    "DigitReceived",
    "MachineDetected",
    "Media",
    "Orphan",
    "PlaybackFinished",
    "Switch",
    "SwitchEvent",
]


@attrs.frozen
class Media:
    """Something to play: a local audio file, or a sound the switch already has.

    ``path`` is a file on this machine (a prerecorded greeting or synthesised speech); the
    backend delivers it to the switch as configured (a shared sounds directory, HTTP...).
    ``builtin`` is a name the switch resolves itself (Asterisk ``sound:hello-world``,
    FreeSWITCH ``tone_stream://...``).
    """

    path: Path | None = None
    builtin: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.path is None) == (self.builtin is None):
            raise ValueError("Media needs exactly one of path or builtin")


# --- events -------------------------------------------------------------------------------


@attrs.frozen
class CallProgress:
    """The far end is ringing (SIP 180: ``"ringing"``) or sends early media (SIP 183:
    ``"early_media"``, which may come before the phone rings). Only ``"ringing"`` starts the
    ring the core's release valve counts (:mod:`autoinformer.core.release`)."""

    call_id: str
    state: Literal["ringing", "early_media"] = "ringing"


@attrs.frozen
class CallAnswered:
    """The call was answered. ``machine`` is known here only if detection ran before answer."""

    call_id: str
    machine: bool | None = None


@attrs.frozen
class MachineDetected:
    """Answering-machine detection finished: ``machine`` True for a machine, False for a person.

    ``beep`` is True when the detector heard the beep (the moment to leave a message).
    """

    call_id: str
    machine: bool
    beep: bool = False


@attrs.frozen
class DigitReceived:
    """The callee pressed a DTMF digit (``0``-``9``, ``*``, ``#``, ``A``-``D``)."""

    call_id: str
    digit: str


@attrs.frozen
class PlaybackFinished:
    """A playback ended; ``completed`` is False when it was stopped or the call went away.

    ``error`` is non-empty when the switch could not play the media at all (missing file,
    unsupported format, refused URI: ARI ``PlaybackFinished`` state ``failed`` or the REST
    error; ESL ``PLAYBACK_STOP``/``CHANNEL_EXECUTE_COMPLETE`` with an error response). It holds
    the switch's own words; ``completed`` is then False. The core records such an attempt
    ``failed`` ("playback failed: ..."), never ``delivered``: a message nobody heard was not
    delivered.
    """

    call_id: str
    playback_id: str
    completed: bool = True
    error: str = ""

    def __attrs_post_init__(self) -> None:
        if self.error and self.completed:
            raise ValueError("a playback that failed (error) cannot be completed")


@attrs.frozen
class Bridged:
    """The call joined a bridge (the customer and the operator can talk)."""

    call_id: str
    bridge_id: str


@attrs.frozen
class CallEnded:
    """The call is gone. ``cause`` is the Q.850 cause of the side that ended it.

    ``answered`` says whether the call was ever answered; ``detail`` keeps the switch's own
    words (``dialstatus=BUSY``, ``-ERR USER_BUSY``) for call records and troubleshooting.
    """

    call_id: str
    cause: HangupCause
    answered: bool = False
    detail: str = ""


@attrs.frozen
class BackendGap:
    """The connection to the switch dropped for ``seconds`` and was re-established.

    After the resynchronisation, ``adopted`` calls still exist and carry on; ``lost`` calls
    ended during the gap (a :class:`CallEnded` follows for each, so no result is lost).
    """

    seconds: float
    adopted: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()


@attrs.frozen
class LinesAvailable:
    """The switch can carry at most ``lines`` customer calls now (None: no limit of its own).

    Sent by a switch whose capacity changes while it runs: a :class:`~autoinformer.backends.
    multi.SwitchSet` when one of its members with a ``lines`` share goes away or comes back.
    The core dials within it as within the campaign's own ``lines``, so the calls the
    switches cannot take are not placed (and journaled "not placed") one by one.
    """

    lines: int | None


@attrs.frozen
class Orphan:
    """A call a process left up on the switch (it died without hanging up), found at start.

    ``call_id`` is the id the dead process gave it (its attempt's id); ``channels`` the
    switch's own names for it (ARI channel ids, ESL uuids) that :meth:`Switch.hangup_orphan`
    ends; ``answered`` whether it was answered; ``since`` when the switch created it (POSIX
    seconds, None when the switch does not say).
    """

    call_id: str
    channels: tuple[str, ...]
    answered: bool = False
    since: float | None = None


SwitchEvent = (
    CallProgress
    | CallAnswered
    | MachineDetected
    | DigitReceived
    | PlaybackFinished
    | Bridged
    | CallEnded
    | BackendGap
    | LinesAvailable
)


# --- the contract ---------------------------------------------------------------------------


class Switch(abc.ABC):
    """A telephone switch as the runtime sees it. Use as an async context manager.

    Implementations: :mod:`autoinformer.backends.sim` (simulated), :mod:`.ari` (Asterisk),
    :mod:`.esl` (FreeSWITCH). Every implementation passes the conformance suite in
    :mod:`autoinformer.testing.conformance`.

    ``plays_text`` is True only for a switch that can speak a ``tts:<text>`` builtin itself
    (the simulated one); for every other switch the runtime renders ``say`` steps to audio
    files before the call is placed.
    """

    plays_text: ClassVar[bool] = False

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abc.abstractmethod
    async def connect(self) -> None:
        """Connect and subscribe to events; raise BackendUnavailable if the switch is away."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the connection; calls in progress are left to the switch."""

    @abc.abstractmethod
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
        """Place a call with our own ``call_id``; progress arrives as events.

        Args:
            call_id: our id for the call, used by every event about it.
            destination: for a customer, an E.164 number (``+79508881234``) that the backend
                turns into a dial string with its template; for an operator leg
                (``operator=True``), the operator's endpoint exactly as configured.
            caller_id: the number to present (from the campaign's pool), or None.
            ring_timeout: seconds to ring before giving up (ends with cause NO_ANSWER).
            variables: channel variables to set on the call.
            operator: True for an operator leg of a transfer.
            detect_machine: run answering-machine detection; a MachineDetected event follows.

        Raises:
            OriginateError: the switch refused the request outright.
            BackendUnavailable: the switch cannot be reached.
        """

    @abc.abstractmethod
    async def play(self, call_id: str, media: Media, *, playback_id: str) -> None:
        """Start playing ``media`` on the call; PlaybackFinished(playback_id) follows."""

    @abc.abstractmethod
    async def stop_playback(self, call_id: str, playback_id: str) -> None:
        """Stop a playback early (barge-in on a digit); no error if it already ended."""

    async def collect_digits(self, call_id: str) -> None:  # noqa: B027 - optional hook
        """Digits matter from now on (see the module docstring); default: nothing to do."""

    @abc.abstractmethod
    async def bridge(self, bridge_id: str, call_ids: tuple[str, ...]) -> None:
        """Put answered calls into one mixing bridge; Bridged follows for each call."""

    @abc.abstractmethod
    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        """Hang the call up with ``cause``; CallEnded follows. No error if already gone."""

    @abc.abstractmethod
    def events(self) -> AsyncIterator[SwitchEvent]:
        """The one stream of events from this switch, in the order the switch sent them."""

    @property
    def connected(self) -> bool:
        """True while the switch is reachable and in step with us (default: always).

        A backend that loses its connection keeps reconnecting for as long as it is open;
        meanwhile this is False and :meth:`originate` raises BackendUnavailable at once.
        """
        return True

    async def orphans(self, campaign: str) -> list[Orphan]:
        """Calls of ``campaign`` on the switch that this switch object did not place: those
        a process that died left up (default: none; a simulated switch dies with its
        process). Call it after :meth:`connect`, before the first :meth:`originate`."""
        del campaign
        return []

    async def hangup_orphan(self, orphan: Orphan) -> None:  # noqa: B027 - optional hook
        """Hang up an orphan's channels (no event follows: the call is not ours); no error
        if they are already gone. Default: nothing to do."""
