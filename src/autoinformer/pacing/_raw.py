"""A fast path for pacing policies: plain arguments instead of view and observation objects.

The :class:`~autoinformer.pacing.base.PacingPolicy` contract passes a frozen
:class:`~autoinformer.pacing.base.PacingView` and a
:class:`~autoinformer.pacing.base.PacingObservation`.
That is the right face for the dialer core, but an 8-hour shift with 100 operators asks a policy
about 100,000 times, and building two small objects per question is a measurable share of the
simulator's budget. Policies built on :class:`RawPacing` implement :meth:`RawPacing.decide` and
:meth:`RawPacing.note` once; the contract methods delegate to them, and the fast simulator calls
them directly. Both paths run the very same decision code.
"""

from __future__ import annotations

import abc

from autoinformer.pacing.base import Observation, PacingObservation, PacingView

__all__ = ["RawPacing"]


class RawPacing(abc.ABC):
    """Base for policies that expose the allocation-free fast path."""

    __slots__ = ()

    @abc.abstractmethod
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
        """How many calls to launch now (same meaning as ``calls_to_launch``)."""

    @abc.abstractmethod
    def note(self, kind: Observation, now: float, seconds: float) -> None:
        """Learn from one observation (same meaning as ``observe``)."""

    def calls_to_launch(self, view: PacingView) -> int:
        """The contract's face: unpack the view and decide."""
        return self.decide(
            view.now,
            view.lines_free,
            view.dialing,
            view.waiting,
            view.agents_logged_in,
            view.agents_idle,
            view.agents_wrapup,
            view.agents_talking,
        )

    def observe(self, observation: PacingObservation) -> None:
        """The contract's face: unpack the observation and learn."""
        self.note(observation.kind, observation.now, observation.seconds)
