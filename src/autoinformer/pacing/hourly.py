"""The abandon budget of the clock hour, for a cap held in every hour as well as overall.

A campaign's cap (3% of live answers, 47 CFR 64.1200(a)(7), Ofcom) is over the campaign; a
user who must hold it in every hour (``PredictivePacing(abandon_hourly_cap=0.03)``) needs the
hour's budget too. Each hour starts with no answers, so a budget of the answers counted so far
would leave the first minutes of every hour to progressive dialling; instead the hour's budget
counts a share (``trust``) of the answers still expected in it, at the hour's pace so far (in
its first minute, at the last hour's, for a ceiling that must not stall every hour's start).
That share shrinks to nothing as the hour ends, so the last minutes are judged on what was
counted.

What an hour cannot take back (issue #18; it matters most with the release valve shut): the
projection never counts the answers to come faster than the progressive dialling the guard
falls back to would bring them (``remaining(now, floor)``: an hour that spends its budget at a
predictive pace keeps only the fallback's), and the policy keeps in hand the abandons the calls
already in flight are expected to bring (:func:`expected_overflow`). An answer rate that
jumps is seen first in the answers of the latest launches (:class:`RecentAnswerRate`), a
ring-out before any rate over resolved calls. Pure: every count and question carries its
time.
"""

from __future__ import annotations

import collections
import math

import attrs

from autoinformer.pacing._tally import LiveAnswers
from autoinformer.pacing.base import Observation

__all__ = ["HourBudget", "RecentAnswerRate", "expected_overflow"]

_HOUR = 3600.0
_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


@attrs.define(kw_only=True)
class HourBudget:
    """Live answers and abandons of the current clock hour (``at // 3600``).

    Attributes:
        cap: the share of the hour's live answers that may be abandoned.
        trust: the share of the answers still expected this hour that the budget counts.
        settle: seconds of the hour to see before projecting its pace.
        carry: before ``settle``, project at the last hour's pace; else count only the answers
            counted (a cap that must hold: after a sudden drop of the answer rate the last
            hour's pace overstates the new hour's four times over).
    """

    cap: float
    trust: float = 0.5
    settle: float = 60.0
    carry: bool = True
    hour: float = -1.0
    live: LiveAnswers = attrs.field(factory=LiveAnswers)
    last_hour_answers: int = 0

    def count(self, at: float, kind: Observation | None = None) -> None:
        """Count an observation (an answer, an abandon, a machine verdict) in the hour of
        ``at``, when it was answered: a later hour starts a new count; an earlier one is
        closed and no longer matters. ``None`` only moves to the hour of ``at``."""
        hour = at // _HOUR
        if hour > self.hour:
            self.last_hour_answers = self.live.answers if hour == self.hour + 1 else 0
            self.hour = hour
            self.live.reset()
        elif hour < self.hour:
            return
        if kind is not None:
            self.live.note(kind)

    def remaining(self, now: float, floor: float | None = None) -> float:
        """Abandons the hour can still take at ``now`` (negative: over its cap so far).

        ``floor``: answers per second the rest of the hour is sure to bring whatever happens
        (the pace of the progressive dialling the guard falls back to); the projection never
        counts more than that. Without it, an hour that spent its budget at a predictive pace
        and then fell back to progressive got far fewer answers than projected (50 operators
        at p=0.05: four times fewer), and the abandons already made were over the cap.
        """
        if now // _HOUR > self.hour:
            self.count(now)
        elapsed = now - self.hour * _HOUR
        answers = self.live.answers
        # the hour's own pace; in its first seconds the last hour's (none in the first hour)
        if elapsed >= self.settle:
            pace = answers / elapsed
        else:
            pace = self.last_hour_answers / _HOUR if self.carry else 0.0
        pace *= self.trust
        if floor is not None and floor < pace:
            pace = floor
        expected = answers + pace * (_HOUR - elapsed)
        return self.cap * expected - self.live.abandons

    def hour_answers(self, now: float) -> float:
        """The live answers an hour brings: the last full hour's, or this hour's pace so far
        (the answers counted until ``settle`` seconds in), whichever is larger."""
        if now // _HOUR > self.hour:
            self.count(now)
        elapsed = now - self.hour * _HOUR
        pace = self.live.answers * _HOUR / elapsed if elapsed >= self.settle else 0.0
        return max(float(self.last_hour_answers), pace, float(self.live.answers))


def expected_overflow(mean: float, sd: float) -> float:
    """``E[max(0, X)]`` for ``X`` normal with ``mean`` and ``sd``: the abandons expected from
    calls already in flight when the answers they will bring exceed the operators by ``X``.

    The hour's budget keeps this in hand (``PredictivePacing.hourly_in_flight``): once a call is
    launched its answer cannot be taken back (with the release valve shut, not at all), so an
    hour whose budget is spent down to the guard still receives the abandons of the calls
    ringing then. A burst of them (seven in 17 s, 20 operators at p=0.1) ended hours at 3.7%.
    """
    if sd <= 0.0:
        return mean if mean > 0.0 else 0.0
    k = mean / sd
    return mean * 0.5 * math.erfc(-k / _SQRT2) + sd * math.exp(-0.5 * k * k) / _SQRT_2PI


@attrs.define(kw_only=True)
class RecentAnswerRate:
    """The answer rate of the calls launched in the last ``window`` seconds, from what they
    have shown so far (issue #18: the hour of an answer rate that jumps, 0.08 -> 0.35).

    A rate over resolved calls learns of a rise only as the calls launched after it resolve,
    and the unanswered ones resolve last (they ring out), so the estimate lags by a ring-out
    and then by its memory: a batch launched a minute after the rise is dialled at the old
    rate, four times too low, and the hour's budget receives the burst. Each call launched
    ``a`` seconds ago has answered by now with probability ``p F(a)`` (``F``: the ring-time
    distribution of answered calls), so ``answers / sum F(a)`` over the recent launches is an
    unbiased estimate of their answer rate that counts each answer as it comes, a ring-out
    before any rate over resolved calls. A call released after ringing ``r`` seconds is
    censored there: it keeps ``F(r)``.

    Launches are kept per second of launch; the sum is refreshed once per second of ``now``
    (O(window)). Pure: every count carries its time.

    ``level``: the seconds of launches kept past ``window`` for :meth:`level_counts`, the
    rate over the last ``window + level`` seconds (0: none). Past ``window`` a call has rung
    out (``F = 1``), so those launches are summed as they leave the window, in O(1). It is
    the answer rate's level without the discounted estimate's noise: an estimate that
    remembers a few hundred calls, at 50 operators and p=0.05 half a minute of dialling,
    rests on some fifty answers and runs a quarter under the rate one time in twenty
    (issue #18, valve shut: the launches it prices bring bursts of answers).
    """

    window: float = 60.0
    level: float = 0.0
    # second of launch -> [launched, answered, released, sum of F at release]
    _by_second: dict[int, list[float]] = attrs.field(init=False, factory=dict)
    _order: collections.deque[int] = attrs.field(init=False, factory=collections.deque)
    _answers: float = attrs.field(init=False, default=0.0)
    _seen: float = attrs.field(init=False, default=0.0)
    _at: int = attrs.field(init=False, default=-(1 << 62))
    # launches past the window, kept for ``level``: (second, answers, sum of F = 1 or at release)
    _old: collections.deque[tuple[int, float, float]] = attrs.field(
        init=False, factory=collections.deque
    )
    _old_answers: float = attrs.field(init=False, default=0.0)
    _old_seen: float = attrs.field(init=False, default=0.0)

    def launched(self, at: float) -> None:
        """A call launched at ``at``."""
        second = int(at // 1.0)
        cell = self._by_second.get(second)
        if cell is None:
            cell = self._by_second[second] = [0.0, 0.0, 0.0, 0.0]
            self._order.append(second)
        cell[0] += 1.0

    def answered(self, launched_at: float) -> None:
        """A call launched at ``launched_at`` answered (ignored if it is older than the
        window)."""
        cell = self._by_second.get(int(launched_at // 1.0))
        if cell is not None and cell[1] < cell[0]:
            cell[1] += 1.0
            self._answers += 1.0

    def released(self, launched_at: float, seen: float) -> None:
        """A call launched at ``launched_at`` was hung up while ringing, when it had answered
        with probability ``p * seen`` (``seen``: ``F`` at its ring time)."""
        cell = self._by_second.get(int(launched_at // 1.0))
        if cell is not None and cell[2] < cell[0]:
            cell[2] += 1.0
            cell[3] += seen

    def counts(self, now: float, cdf: list[float]) -> tuple[float, float]:
        """``(answers, sum F)`` over the calls launched in the last ``window`` seconds:
        their rate is the first over the second, with about the first's Poisson noise.
        ``cdf[k]``: ``F`` at ``k`` seconds (1 past its end)."""
        second = int(now // 1.0)
        if second != self._at:
            self._refresh(second, cdf)
        return self._answers, self._seen

    def level_counts(self, now: float, cdf: list[float]) -> tuple[float, float]:
        """``(answers, sum F)`` over the calls launched in the last ``window + level``
        seconds (as :meth:`counts`, which it refreshes)."""
        answers, seen = self.counts(now, cdf)
        return answers + self._old_answers, seen + self._old_seen

    def _refresh(self, second: int, cdf: list[float]) -> None:
        oldest = second - int(self.window)
        order, cells = self._order, self._by_second
        old = self._old
        while order and order[0] < oldest:
            s = order.popleft()
            gone = cells.pop(s)
            self._answers -= gone[1]
            if self.level > 0.0:  # rung out: F = 1, or F at its release
                old.append((s, gone[1], gone[0] - gone[2] + gone[3]))
                self._old_answers += gone[1]
                self._old_seen += gone[0] - gone[2] + gone[3]
        last = oldest - int(self.level)
        while old and old[0][0] < last:
            _, answered, seen = old.popleft()
            self._old_answers -= answered
            self._old_seen -= seen
        if not old:  # no rounding drift once empty
            self._old_answers = self._old_seen = 0.0
        size = len(cdf)
        seen = 0.0
        for s in order:
            cell = cells[s]
            age = second - s
            f = 1.0 if age >= size else cdf[age] if age > 0 else 0.0
            seen += (cell[0] - cell[2]) * f + cell[3]
        self._seen = seen
        self._at = second
