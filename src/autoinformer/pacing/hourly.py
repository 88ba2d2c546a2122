"""The abandon budget of the clock hour, for a cap held in every hour as well as overall.

A campaign's cap (3% of live answers, 47 CFR 64.1200(a)(7), Ofcom) is over the campaign; a
user who must hold it in every hour (``PredictivePacing(abandon_hourly_cap=0.03)``) needs the
hour's budget too. Each hour starts with no answers, so a budget of the answers counted so far
would leave the first minutes of every hour to progressive dialling; instead the hour's budget
counts a share (``trust``) of the answers still expected in it, at the hour's pace so far (in
its first minute, at the last hour's, for a ceiling that must not stall every hour's start).
That share shrinks to nothing as the hour ends, so the last minutes are judged on what was
counted. Pure: every count and question carries its time.
"""

from __future__ import annotations

import attrs

from autoinformer.pacing._tally import LiveAnswers
from autoinformer.pacing.base import Observation

__all__ = ["HourBudget"]

_HOUR = 3600.0


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

    def remaining(self, now: float) -> float:
        """Abandons the hour can still take at ``now`` (negative: over its cap so far)."""
        if now // _HOUR > self.hour:
            self.count(now)
        elapsed = now - self.hour * _HOUR
        answers = self.live.answers
        # the hour's own pace; in its first seconds the last hour's (none in the first hour)
        if elapsed >= self.settle:
            pace = answers / elapsed
        else:
            pace = self.last_hour_answers / _HOUR if self.carry else 0.0
        expected = answers + self.trust * pace * (_HOUR - elapsed)
        return self.cap * expected - self.live.abandons

    def hour_answers(self, now: float) -> float:
        """The live answers an hour brings: the last full hour's, or this hour's pace so far
        (the answers counted until ``settle`` seconds in), whichever is larger."""
        if now // _HOUR > self.hour:
            self.count(now)
        elapsed = now - self.hour * _HOUR
        pace = self.live.answers * _HOUR / elapsed if elapsed >= self.settle else 0.0
        return max(float(self.last_hour_answers), pace, float(self.live.answers))
