"""The per-call state machine: script steps + call events -> what to do next.

One :class:`ScriptRun` lives for each answered call. It is pure: the dialer core feeds it the
playback, digit, timer and callback events of its call (with the time) and carries out the
actions it returns. Menus, digit timeouts and type-ahead are decided here, with timers of our
own, so a menu behaves the same on every switch and in virtual time.

Type-ahead: a digit pressed before a menu starts (during the greeting, say) is kept and
answers the next menu at once, as people who know the menu expect.
"""

from __future__ import annotations

from collections import deque

import attrs

from autoinformer.script.steps import (
    Callback,
    Hangup,
    Menu,
    OptOut,
    Play,
    Say,
    Script,
    Step,
    Transfer,
)

__all__ = [
    "DoCallback",
    "DoOptOut",
    "DoTransfer",
    "Finish",
    "ScriptAction",
    "ScriptRun",
    "SetTimer",
    "StartPlayback",
    "StopPlayback",
    "WantDigits",
]


@attrs.frozen
class StartPlayback:
    """Play ``step`` on the call with our ``playback_id``."""

    playback_id: str
    step: Play | Say


@attrs.frozen
class StopPlayback:
    """Stop the playback (the callee pressed a key during a menu prompt)."""

    playback_id: str


@attrs.frozen
class WantDigits:
    """Digits matter from now on (a menu starts)."""


@attrs.frozen
class SetTimer:
    """Call :meth:`ScriptRun.timer` with ``token`` at time ``at`` (earlier timers are void)."""

    at: float
    token: int


@attrs.frozen
class DoTransfer:
    """Connect the call to an operator of ``queue``; the script is over for this call."""

    queue: str


@attrs.frozen
class DoCallback:
    """Run the application's hook; feed its answer to :meth:`ScriptRun.callback_done`."""

    name: str
    digits: str


@attrs.frozen
class DoOptOut:
    """Put the number on the do-not-call list."""


@attrs.frozen
class Finish:
    """The script is over: hang up. ``reason``: ``end`` (ran to the end), ``hangup`` (a hangup
    step) or ``opt_out``."""

    reason: str


ScriptAction = (
    StartPlayback
    | StopPlayback
    | WantDigits
    | SetTimer
    | DoTransfer
    | DoCallback
    | DoOptOut
    | Finish
)

_IDLE, _PLAYING, _PROMPT, _WAITING, _CALLBACK, _TRANSFER, _DONE = range(7)


@attrs.define(kw_only=True)
class ScriptRun:
    """The script of one call in progress.

    Attributes:
        script: the steps to run.
        call_id: used to make playback ids (``<call_id>-p<n>``).
        message_only: an answering machine is listening: play and say steps only, no menus,
            transfers, callbacks or opt-outs.
        digits: every digit the callee pressed, in order (for the call record).
        reached_end: the script ran to its end (or to a hangup step): the message was heard.
    """

    script: Script
    call_id: str
    message_only: bool = False
    digits: str = ""
    reached_end: bool = False
    _frames: list[tuple[tuple[Step, ...], int]] = attrs.field(factory=list)
    _mode: int = _IDLE
    _playback: str | None = None
    _seq: int = 0
    _menu: Menu | None = None
    _tries: int = 0
    _token: int = 0
    _typeahead: deque[str] = attrs.field(factory=deque)

    @property
    def done(self) -> bool:
        """True once the script handed the call over or finished."""
        return self._mode in (_DONE, _TRANSFER)

    @property
    def playback_id(self) -> str | None:
        """The playback in progress (None: nothing playing)."""
        return self._playback

    def start(self, now: float) -> list[ScriptAction]:
        """Begin with the first step."""
        self._frames = [(self.script.steps, 0)]
        return self._advance(now)

    def playback_finished(self, playback_id: str, now: float) -> list[ScriptAction]:
        """A playback ended (completed or stopped); stale ids are ignored."""
        if playback_id != self._playback:
            return []
        self._playback = None
        if self._mode == _PLAYING:
            return self._advance(now)
        if self._mode == _PROMPT:
            assert self._menu is not None
            self._mode = _WAITING
            self._token += 1
            return [SetTimer(at=now + self._menu.timeout, token=self._token)]
        return []

    def digit(self, digit: str, now: float) -> list[ScriptAction]:
        """The callee pressed ``digit``."""
        if self._mode in (_DONE, _TRANSFER):
            return []
        self.digits += digit
        if self._mode == _PROMPT:
            actions: list[ScriptAction] = []
            if self._playback is not None:
                actions.append(StopPlayback(self._playback))
                self._playback = None
            return actions + self._choose(digit, now)
        if self._mode == _WAITING:
            self._token += 1  # the pending timeout is void
            return self._choose(digit, now)
        if not self.message_only:
            self._typeahead.append(digit)
        return []

    def timer(self, token: int, now: float) -> list[ScriptAction]:
        """A timer set with :class:`SetTimer` fired; stale tokens are ignored."""
        if token != self._token or self._mode != _WAITING:
            return []
        return self._retry_or_leave(now)

    def callback_done(self, now: float) -> list[ScriptAction]:
        """The application's hook answered (or timed out): carry on."""
        if self._mode != _CALLBACK:
            return []
        return self._advance(now)

    def stop(self) -> None:
        """The call ended: nothing more will happen."""
        self._mode = _DONE
        self._playback = None

    # --- internals ------------------------------------------------------------------------

    def _next_step(self) -> Step | None:
        while self._frames:
            steps, index = self._frames[-1]
            if index < len(steps):
                self._frames[-1] = (steps, index + 1)
                return steps[index]
            self._frames.pop()
        return None

    def _play(self, step: Play | Say, mode: int) -> StartPlayback:
        self._seq += 1
        self._playback = f"{self.call_id}-p{self._seq}"
        self._mode = mode
        return StartPlayback(playback_id=self._playback, step=step)

    def _advance(self, now: float) -> list[ScriptAction]:
        while True:
            step = self._next_step()
            if step is None:
                self.reached_end = True
                self._mode = _DONE
                return [Finish("end")]
            if isinstance(step, Play | Say):
                return [self._play(step, _PLAYING)]
            if self.message_only:
                if isinstance(step, Hangup):
                    self.reached_end = True
                    self._mode = _DONE
                    return [Finish("hangup")]
                continue  # a machine cannot press keys or talk to an operator
            if isinstance(step, Menu):
                self._menu, self._tries = step, 0
                if self._typeahead:
                    return self._choose(self._typeahead.popleft(), now)
                return [WantDigits(), self._play(step.prompt, _PROMPT)]
            if isinstance(step, Transfer):
                self._mode = _TRANSFER
                return [DoTransfer(step.queue)]
            if isinstance(step, Callback):
                self._mode = _CALLBACK
                return [DoCallback(name=step.name, digits=self.digits)]
            if isinstance(step, OptOut):
                self._mode = _DONE
                return [DoOptOut(), Finish("opt_out")]
            if isinstance(step, Hangup):
                self.reached_end = True
                self._mode = _DONE
                return [Finish("hangup")]
            raise AssertionError(f"unknown step {step!r}")  # pragma: no cover

    def _choose(self, digit: str, now: float) -> list[ScriptAction]:
        menu = self._menu
        assert menu is not None
        steps = menu.options.get(digit)
        if steps is None:
            return self._retry_or_leave(now)
        self._menu = None
        self._frames.append((steps, 0))
        return self._advance(now)

    def _retry_or_leave(self, now: float) -> list[ScriptAction]:
        menu = self._menu
        assert menu is not None
        self._tries += 1
        if self._tries > menu.retries:
            self._menu = None
            return self._advance(now)
        return [self._play(menu.prompt, _PROMPT)]
