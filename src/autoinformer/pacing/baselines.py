"""The field's pacing policies, emulated from their documented formulas (benchmark baselines).

These exist so the benchmark compares the predictive policy with what call centres run today;
docs/pacing.md states each formula and where our emulation has to choose.

- :class:`VicidialPacing`: VICIdial's ``RATIO`` dial method and its adaptive methods
  ``ADAPT_HARD_LIMIT``, ``ADAPT_TAPERED`` and ``ADAPT_AVERAGE`` (AST_VDauto_dial.pl places
  ``dial_level * active agents - calls in progress`` calls; AST_VDadapt.pl moves the dial level
  every 15 s from the agents-waiting differential and applies the drop-rate rules).
- :class:`AnswerRatePowerPacing`: a power dialer with ``1 / answer rate`` lines per idle
  operator (Issabel's dialer).
- :class:`UccxPacing`: a lines-per-operator ratio corrected from the abandon rate every
  ``correction_pace`` calls by ``gain`` (Cisco UCCX's predictiveCorrectionPace /
  predictiveGain).

The drop (abandon) rates the adaptive ones keep are over live answers, as the rules state them:
an answer reported as a machine (``Observation.MACHINE``) is taken off. The power dialer's
answer rate is its documented formula's (every answer, machines too) and is left so.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

import attrs

from autoinformer.errors import SettingsError
from autoinformer.pacing._raw import PerIdlePacing, RawPacing, clamp
from autoinformer.pacing._tally import LiveAnswers
from autoinformer.pacing.base import Observation

__all__ = ["AnswerRatePowerPacing", "UccxPacing", "VicidialMethod", "VicidialPacing"]

_ANSWERED = Observation.ANSWERED
_ABANDONED = Observation.ABANDONED
_MACHINE = Observation.MACHINE


class VicidialMethod(enum.StrEnum):
    """VICIdial's dial methods that the emulation covers."""

    RATIO = "RATIO"
    ADAPT_HARD_LIMIT = "ADAPT_HARD_LIMIT"
    ADAPT_TAPERED = "ADAPT_TAPERED"
    ADAPT_AVERAGE = "ADAPT_AVERAGE"


def _level(field: str) -> Callable[[object, attrs.Attribute[float], float], None]:
    def check(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
        if not 1.0 <= value <= 10.0:
            raise SettingsError(field, f"must be between 1.0 and 10.0, got {value}")

    return check


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class VicidialPacing(RawPacing):
    """VICIdial's RATIO and ADAPT_* dial methods.

    Attributes:
        method: the dial method.
        dial_level: ``auto_dial_level``: lines per active agent (RATIO) or the starting level.
        max_level: ``adaptive_maximum_level`` (3.0 in the issue's comparison).
        dropped_percentage: ``adaptive_dropped_percentage``, percent of answered calls.
        intensity: ``adaptive_intensity`` (-40 .. 40): speeds up or slows down the adaptation.
        dl_diff_target: ``adaptive_dl_diff_target``: agents-waiting differential to aim at.
        interval: seconds between adaptations (AST_VDadapt.pl: 15).
        latest_time: ``adaptive_latest_server_time`` as seconds from the shift start (TAPERED).
        available_only: ``available_only_ratio_tally``: count only ready agents.
    """

    method: VicidialMethod = VicidialMethod.RATIO
    dial_level: float = attrs.field(default=1.0, validator=_level("dial_level"))
    max_level: float = attrs.field(default=3.0, validator=_level("max_level"))
    dropped_percentage: float = 3.0
    intensity: int = 0
    dl_diff_target: float = 0.0
    interval: float = 15.0
    latest_time: float = 8 * 3600.0
    available_only: bool = False

    _level_now: float = attrs.field(init=False, default=0.0)
    _start: float | None = attrs.field(init=False, default=None)
    _next_adapt: float = attrs.field(init=False, default=0.0)
    _diff_sum: float = attrs.field(init=False, default=0.0)
    _agents_sum: float = attrs.field(init=False, default=0.0)
    _samples: int = attrs.field(init=False, default=0)
    _live: LiveAnswers = attrs.field(init=False, factory=LiveAnswers)  # the drop rate's

    def __attrs_post_init__(self) -> None:
        if not 0 < self.dropped_percentage < 100:
            raise SettingsError("dropped_percentage", "must be a percentage between 0 and 100")
        if not -40 <= self.intensity <= 40:
            raise SettingsError("intensity", "must be between -40 and 40")
        self._level_now = self.dial_level

    @property
    def level(self) -> float:
        """The dial level in force now."""
        return self._level_now

    def note(self, kind: Observation, now: float, seconds: float) -> None:
        self._live.note(kind)  # the drop rate is over live answers

    def decide(
        self,
        now: float,
        lines_free: int,
        dialing: int,
        waiting: int,
        logged_in: int,
        idle: int,
        wrapup: int,
        talking: int,
    ) -> int:
        if self.method is not VicidialMethod.RATIO:
            self._adapt(now, idle, waiting, idle + wrapup + talking)
        agents = idle if self.available_only else idle + wrapup + talking
        existing = dialing + waiting + (0 if self.available_only else talking)
        return clamp(int(self._level_now * agents + 0.5) - existing, lines_free)

    def _adapt(self, now: float, ready: int, waiting: int, agents: int) -> None:
        if self._start is None:
            self._start = now
            self._next_adapt = now + self.interval
        self._diff_sum += ready - waiting
        self._agents_sum += agents
        self._samples += 1
        if now < self._next_adapt:
            return
        self._next_adapt = now + self.interval
        diff = self._diff_sum / self._samples - self.dl_diff_target
        agents_avg = self._agents_sum / self._samples
        self._diff_sum = self._agents_sum = 0.0
        self._samples = 0
        level = self._level_now
        if agents_avg > 0:
            level += (diff / agents_avg) * (1.0 + self.intensity / 20.0)
        live = self._live
        drop_pct = 100.0 * live.abandons / live.answers if live.answers else 0.0
        limit = self.dropped_percentage
        if self.method is VicidialMethod.ADAPT_HARD_LIMIT:
            if drop_pct >= limit:
                level = 1.0
        elif self.method is VicidialMethod.ADAPT_TAPERED:
            left = max(0.0, 1.0 - (now - self._start) / self.latest_time)
            allowed = limit * (1.0 + left)
            if drop_pct > allowed:
                level = min(level, self._level_now * allowed / drop_pct)
        elif drop_pct > limit:  # ADAPT_AVERAGE
            level = min(level, self._level_now * limit / drop_pct)
        self._level_now = min(self.max_level, max(1.0, level))


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class AnswerRatePowerPacing(RawPacing):
    """A power dialer with ``1 / answer rate`` lines per idle operator (as Issabel's).

    The answer rate is the running ratio of answers to resolved calls (``prior`` until
    ``min_calls`` were seen).
    """

    prior: float = 0.3
    min_calls: int = 20
    # every answer, machines too: the documented formula's rate
    _calls: LiveAnswers = attrs.field(init=False, factory=lambda: LiveAnswers(machines=False))

    def note(self, kind: Observation, now: float, seconds: float) -> None:
        self._calls.note(kind)

    def decide(
        self,
        now: float,
        lines_free: int,
        dialing: int,
        waiting: int,
        logged_in: int,
        idle: int,
        wrapup: int,
        talking: int,
    ) -> int:
        calls = self._calls
        if calls.resolved >= self.min_calls and calls.answers:
            rate = calls.answers / calls.resolved
        else:
            rate = self.prior
        return clamp(int(idle / rate + 0.5) - dialing - waiting, lines_free)


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class UccxPacing(PerIdlePacing):
    """Lines per idle operator corrected from the abandon rate (Cisco UCCX predictive).

    Every ``correction_pace`` live answers the ratio moves by
    ``gain * (target - abandon rate of the window) / target`` (relative), within
    ``[1, max_ratio]``. A machine verdict (``Observation.MACHINE``, seconds after its answer)
    takes its answer off the window only if that answer was counted in the current window:
    one heard before the window opened belongs to a window already closed.
    """

    ratio: float = 1.5
    max_ratio: float = 5.0
    target: float = 0.03
    correction_pace: int = 50
    gain: float = 0.5
    _window: LiveAnswers = attrs.field(init=False, factory=LiveAnswers)
    _window_first: float = attrs.field(init=False, default=math.inf)  # its first answer's time

    def note(self, kind: Observation, now: float, seconds: float) -> None:
        window = self._window
        if kind is _ANSWERED:
            if self._window_first == math.inf:
                self._window_first = now
            window.note(kind)
            if window.answers >= self.correction_pace:
                rate = window.abandons / window.answers
                step = self.gain * (self.target - rate) / self.target
                step = max(-0.5, min(0.5, step))
                self.ratio = min(self.max_ratio, max(1.0, self.ratio * (1.0 + step * 0.2)))
                window.reset()
                self._window_first = math.inf
        elif kind is _ABANDONED:
            window.note(kind)
        elif kind is _MACHINE and now - seconds >= self._window_first - 1e-6:
            window.note(kind)  # not a live answer, and one heard in this window (1e-6: the
            # rounding of now - seconds)
