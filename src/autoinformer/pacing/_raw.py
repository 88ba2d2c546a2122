"""A fast path for pacing policies: plain arguments instead of view and observation objects.

The :class:`~autoinformer.pacing.base.PacingPolicy` contract passes a frozen
:class:`~autoinformer.pacing.base.PacingView` and a
:class:`~autoinformer.pacing.base.PacingObservation`.
That is the right face for the dialer core, but an 8-hour shift with 100 operators asks a policy
about 100,000 times, and building two small objects per question is a measurable share of the
simulator's budget. Policies built on :class:`RawPacing` implement :meth:`RawPacing.decide` and
:meth:`RawPacing.note` once; the contract methods delegate to them, and the fast simulator calls
them directly. Both paths run the very same decision code.

Two helpers the policies share: :func:`clamp` (a launch count within the free lines) and
:class:`PerIdlePacing` (the policies that keep a ratio of calls in flight per idle operator:
progressive, power, UCCX).
"""

from __future__ import annotations

import abc

from autoinformer.pacing.base import Observation, PacingObservation, PacingPolicy, PacingView

__all__ = ["PerIdlePacing", "RawPacing", "as_raw", "clamp", "view_args"]


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

    def decide_release(
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
        """How many eligible ringing calls to hang up now (the fast face of
        :meth:`~autoinformer.pacing.base.ReleasingPolicy.calls_to_release`).

        Optional: a policy that never releases keeps this default, 0. A driver asks it only of
        a policy whose ``release_after`` is set (:func:`~autoinformer.pacing.base.release_after`).
        """
        return 0

    def calls_to_launch(self, view: PacingView) -> int:
        """The contract's face: unpack the view and decide."""
        return self.decide(*view_args(view))

    def observe(self, observation: PacingObservation) -> None:
        """The contract's face: unpack the observation and learn."""
        self.note(observation.kind, observation.now, observation.seconds)

    def calls_to_release(self, view: PacingView) -> int:
        """The release valve's contract face (:meth:`decide_release` on the view): it counts
        only for a policy with a ``release_after`` set
        (:class:`~autoinformer.pacing.base.ReleasingPolicy`)."""
        return self.decide_release(*view_args(view))


def view_args(view: PacingView) -> tuple[float, int, int, int, int, int, int, int]:
    """A view as the fast path's arguments, in the order ``decide`` takes them."""
    return (
        view.now,
        view.lines_free,
        view.dialing,
        view.waiting,
        view.agents_logged_in,
        view.agents_idle,
        view.agents_wrapup,
        view.agents_talking,
    )


def as_raw(policy: PacingPolicy) -> RawPacing:
    """The policy's fast-path face: itself if it has one, else the contract's methods behind
    :class:`RawPacing`'s (a view and an observation object built per call)."""
    return policy if isinstance(policy, RawPacing) else _ContractPacing(policy)


class _ContractPacing(RawPacing):
    """A plain :class:`~autoinformer.pacing.base.PacingPolicy` behind the fast path."""

    __slots__ = ("policy",)

    def __init__(self, policy: PacingPolicy) -> None:
        self.policy = policy

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
        view = PacingView(now, lines_free, dialing, waiting, logged_in, idle, wrapup, talking)
        return self.policy.calls_to_launch(view)

    def note(self, kind: Observation, now: float, seconds: float) -> None:
        self.policy.observe(PacingObservation(kind, now, seconds))

    def calls_to_release(self, view: PacingView) -> int:
        ask = getattr(self.policy, "calls_to_release", None)
        return 0 if ask is None else int(ask(view))

    def decide_release(
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
        view = PacingView(now, lines_free, dialing, waiting, logged_in, idle, wrapup, talking)
        return self.calls_to_release(view)


def clamp(n: int, lines_free: int) -> int:
    """``n`` calls to launch, but never more than the free lines nor fewer than none."""
    if n > lines_free:
        n = lines_free
    return n if n > 0 else 0


class PerIdlePacing(RawPacing):
    """Base for the policies that keep ``ratio`` calls in flight per idle operator.

    The calls already ringing and the answered callees waiting for an operator count against
    the ratio. Subclasses provide ``ratio`` (a field, or a class constant for progressive) and
    may learn in :meth:`note` (UCCX moves its ratio); by default they learn nothing.
    """

    __slots__ = ()
    ratio: float

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
        return clamp(int(self.ratio * idle + 1e-9) - dialing - waiting, lines_free)

    def note(self, kind: Observation, now: float, seconds: float) -> None:
        """A fixed ratio learns nothing."""
