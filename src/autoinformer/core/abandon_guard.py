"""The abandon-rate guard: no pacing policy may push abandoned calls past the campaign's cap.

An *abandoned* call is one a person answered, asked for an operator, and no operator took in
time. US (FCC) and UK (Ofcom) rules cap them at 3% of live answers per campaign; DESIGN.md makes
that a compliance default. :class:`~autoinformer.pacing.PredictivePacing` keeps to its own cap,
but a campaign may run any policy (broadcast, power, a baseline, the user's own), and a
broadcast campaign whose script says "press 1 for an operator" abandoned about 15% of its
answers before this guard existed.

So when the script can transfer, the dialer core wraps whatever policy is in use in an
:class:`AbandonGuard`. The guard counts live answers and abandons and lets the policy launch
more calls than the idle operators can take (progressive pacing, which cannot abandon while its
operators stay) only while the campaign's remaining abandon budget covers the operator requests
those extra calls may bring. When it does not, launches are limited to progressive.

Pure decision code: time and counts come in through the pacing contract.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import attrs

from autoinformer.errors import SettingsError
from autoinformer.pacing.base import (
    BroadcastPacing,
    Observation,
    PacingObservation,
    PacingPolicy,
    PacingView,
)
from autoinformer.pacing.progressive import ProgressivePacing

if TYPE_CHECKING:
    from autoinformer.campaign import Campaign

__all__ = ["AbandonGuard", "default_pacing", "progressive_launches"]


def default_pacing(campaign: Campaign) -> PacingPolicy:
    """The pacing a campaign gets when none is given.

    A script that can transfer to operators gets :class:`ProgressivePacing` (one call per idle
    operator: nobody is kept waiting for an operator who does not exist); a pure broadcast
    gets :class:`BroadcastPacing` (every free line busy). The dialer core, ``simulate()``, the
    runtime and campaign files all come here, so they agree.

    Args:
        campaign: the campaign; its script transfers when ``script.queues()`` is not empty.
    """
    return ProgressivePacing() if campaign.script.queues() else BroadcastPacing()


def progressive_launches(view: PacingView) -> int:
    """How many calls the idle operators can take now (progressive pacing's answer)."""
    return max(0, min(view.lines_free, view.agents_idle - view.dialing - view.waiting))


def _check_cap(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise SettingsError("abandon_cap", f"expected a fraction from 0 to 1, got {value!r}")


@attrs.define(kw_only=True)
class AbandonGuard:
    """Holds a pacing policy to an abandon-rate cap; itself a pacing policy.

    The extra calls a policy wants beyond progressive are allowed while

        ``abandons + exposure + q * extra <= cap * answers - reserve``

    where ``q`` is the learned chance that a launched call asks for an operator (requests over
    finished calls, starting at 1: careful until it knows), and ``exposure`` is the operator
    demand the calls already in flight may bring (the callees waiting, plus ``q`` for every
    call not yet matched with an operator) beyond the idle operators. Only answers already
    seen count in the budget, so the estimate errs on the careful side.

    Attributes:
        inner: the policy being guarded (its observations are passed on unchanged).
        cap: the most abandons allowed, as a fraction of live answers (0..1).
        reserve: abandons kept in hand against bad luck (the estimate is an average).
        answers: answered calls seen.
        abandons: abandoned calls seen.
        requests: answered calls that asked for an operator (connected or abandoned).
        limited: how many times the guard held the policy back (for logs and tests).
    """

    inner: PacingPolicy
    cap: float = attrs.field(default=0.03, validator=_check_cap)
    reserve: float = 1.0
    answers: int = attrs.field(default=0, init=False)
    abandons: int = attrs.field(default=0, init=False)
    requests: int = attrs.field(default=0, init=False)
    limited: int = attrs.field(default=0, init=False)
    _dialed: int = attrs.field(default=0, init=False)
    _ended: int = attrs.field(default=0, init=False)

    @property
    def request_rate(self) -> float:
        """The chance a launched call asks for an operator (1.0 until calls have ended)."""
        return min(1.0, (self.requests + 1) / (self._ended + 1))

    def rate(self) -> float:
        """Abandons so far as a fraction of answers (0.0 before any answer)."""
        return self.abandons / self.answers if self.answers else 0.0

    def allowed_extra(self, view: PacingView) -> int:
        """How many calls beyond progressive the budget covers now."""
        q = self.request_rate
        in_flight = max(0, self._dialed - self._ended)
        unmatched = max(0, in_flight - view.waiting - view.agents_talking)
        exposure = max(0.0, view.waiting + q * unmatched - view.agents_idle)
        budget = self.cap * self.answers - self.reserve - self.abandons - exposure
        if budget <= 0.0:
            return 0
        return math.floor(budget / q + 1e-9)

    def restore(self, *, finished: int, answers: int, requests: int, abandons: int) -> None:
        """Count the attempts a resumed campaign made before (the cap is per campaign).

        Args:
            finished: attempts with a result.
            answers: of those, answered by a person.
            requests: of those, the ones that asked for an operator.
            abandons: of those, abandoned.
        """
        self._dialed += finished
        self._ended += finished
        self.answers += answers
        self.requests += requests
        self.abandons += abandons

    def calls_to_launch(self, view: PacingView) -> int:
        """The inner policy's answer, limited to what the abandon budget allows."""
        wanted = self.inner.calls_to_launch(view)
        safe = progressive_launches(view)
        if wanted <= safe:
            return wanted
        allowed = safe + self.allowed_extra(view)
        if wanted > allowed:
            self.limited += 1
            return allowed
        return wanted

    def observe(self, observation: PacingObservation) -> None:
        """Count what the budget needs and pass the observation on."""
        kind = observation.kind
        if kind is Observation.DIALED:
            self._dialed += 1
        elif kind is Observation.ANSWERED:
            self.answers += 1
        elif kind is Observation.NOT_ANSWERED or kind is Observation.TALK_ENDED:
            self._ended += 1
        elif kind is Observation.CONNECTED:
            self.requests += 1
        elif kind is Observation.ABANDONED:
            self.requests += 1
            self.abandons += 1
        self.inner.observe(observation)
