"""The counts every learning policy keeps from its observations: live answers and abandons.

The abandon cap is a share of *live* answers (47 CFR 64.1200(a)(7), Ofcom): an answer that
machine detection later reports (``Observation.MACHINE``) is taken back. VICIdial's drop rate,
UCCX's correction window, Issabel's answer rate, the predictive policy's budget and its hourly
budget all count the same way; one tally keeps them from drifting apart.
"""

from __future__ import annotations

import attrs

from autoinformer.pacing.base import Observation

__all__ = ["LiveAnswers"]

_ANSWERED = Observation.ANSWERED
_NOT_ANSWERED = Observation.NOT_ANSWERED
_ABANDONED = Observation.ABANDONED
_MACHINE = Observation.MACHINE


@attrs.define(kw_only=True, slots=True)
class LiveAnswers:
    """Answers, abandons and resolved calls counted from observations.

    Attributes:
        machines: a MACHINE verdict takes one answer back (never below zero); False for a
            formula defined over every answer (Issabel's answer rate).
        answers: answers (live ones when ``machines``).
        abandons: abandoned calls.
        resolved: calls that ended ringing: answered or not answered (a release is neither).
    """

    machines: bool = True
    answers: int = 0
    abandons: int = 0
    resolved: int = 0

    def note(self, kind: Observation) -> None:
        """Count one observation (the kinds that are no answer, abandon or ring-out are
        ignored)."""
        if kind is _ANSWERED:
            self.answers += 1
            self.resolved += 1
        elif kind is _NOT_ANSWERED:
            self.resolved += 1
        elif kind is _ABANDONED:
            self.abandons += 1
        elif kind is _MACHINE and self.machines and self.answers > 0:
            self.answers -= 1

    def reset(self) -> None:
        """Start counting afresh (a new window, a new hour)."""
        self.answers = self.abandons = self.resolved = 0
