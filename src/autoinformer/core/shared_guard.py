"""The abandon guard of one worker among several: the campaign's budget, not its own.

The 3% cap is per campaign. Four workers each holding their own share to 3% hold the campaign
to 3% only on average, and each starts with no answers and so no budget; worse, a worker that
abandoned little lends nothing to one that abandoned much. So a worker's guard adds the other
workers' live answers and abandons, as the database counts them
(:class:`~autoinformer.core.events.CampaignTotals`, fed by the runtime every few seconds), to
its own: every worker spends the one campaign budget.

Why a subclass and not a change to :class:`~autoinformer.core.abandon_guard.AbandonGuard`:
the one-process guard stays bit for bit what it was, and the rule lives in one small place.
What the others did comes only from the totals: a worker's restored contacts bring their own
earlier attempts, which the totals count already, so :meth:`SharedAbandonGuard.restore` takes
nothing from them (counting both would count twice). The totals lag by their refresh
interval; abandons the others caused since are unseen for that long, which ``reserve`` and
``z`` cover (a refresh every few seconds brings at most a few).

**Each worker spends its share of the budget, not all of it.** Four workers that each see the
whole remaining budget each launch as if theirs were the only calls in flight, and together
overspend it up to four times between two refreshes (3.03% over a 3% cap with four workers in
``benchmarks/drills/workers_kill9.py --operators 20 --workers 4``). So a worker's budget is
the campaign's times its :attr:`SharedAbandonGuard.share`: the lines it holds over the
campaign's (the core sets it from each :class:`~autoinformer.core.events.LinesGranted`), so
the shares add up to at most one and the budget follows the lines, as the work does.

Pure decision code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from autoinformer.core.abandon_guard import AbandonGuard, default_pacing
from autoinformer.core.events import CampaignTotals
from autoinformer.pacing.base import PacingPolicy

if TYPE_CHECKING:
    from autoinformer.campaign import Campaign

__all__ = ["SharedAbandonGuard", "shared_pacing"]


@attrs.define(kw_only=True)
class SharedAbandonGuard(AbandonGuard):
    """An :class:`AbandonGuard` whose budget counts the other workers' answers and abandons.

    Attributes:
        others: the other workers' counts, as last reported (zero until the first report).
        share: the part of the campaign's budget this worker may spend (its lines over the
            campaign's; 1.0 until it is told).
    """

    others: CampaignTotals = attrs.field(factory=lambda: CampaignTotals(0, 0), init=False)
    share: float = attrs.field(default=1.0, init=False)

    def budget(self, now: float) -> float:
        """This worker's part (:attr:`share`) of the campaign's budget: ``cap * answers -
        reserve - abandons`` over this worker's counts plus the others', and the same over the
        rolling window; the smaller. A budget overspent stays whole (no share of a debt)."""
        whole = self._campaign_budget(now)
        return whole * self.share if whole > 0 else whole

    def _campaign_budget(self, now: float) -> float:
        self._expire(now)
        o = self.others
        budget = self.cap * (self.answers + o.answers) - self.reserve - (self.abandons + o.abandons)
        if self.window_seconds is not None:
            answers = self.window_answers + o.window_answers
            window = self.cap * answers - self.reserve - (self.window_abandons + o.window_abandons)
            budget = min(budget, window)
        return budget

    def rate(self) -> float:
        """The campaign's abandons as a fraction of its live answers (0.0 before any)."""
        answers = self.answers + self.others.answers
        return (self.abandons + self.others.abandons) / answers if answers else 0.0

    def restore(
        self,
        *,
        finished: int,
        answers: int,
        requests: int,
        abandons: int,
        now: float | None = None,
        answered_at: Iterable[float] = (),
        abandoned_at: Iterable[float] = (),
    ) -> None:
        """Nothing: earlier attempts reach this guard through :attr:`others` (the database's
        totals count every attempt this worker did not observe itself)."""


def shared_pacing(campaign: Campaign, pacing: PacingPolicy | None) -> PacingPolicy:
    """The pacing of a worker: ``pacing`` (default: the campaign's) under a
    :class:`SharedAbandonGuard` when the script can transfer and the campaign has a cap,
    keeping the settings of an :class:`AbandonGuard` given; else ``pacing`` as it is."""
    inner = pacing if pacing is not None else default_pacing(campaign)
    if not (campaign.script.queues() and campaign.abandon_cap < 1.0):
        return inner
    if isinstance(inner, SharedAbandonGuard):
        return inner
    if isinstance(inner, AbandonGuard):
        return SharedAbandonGuard(
            inner=inner.inner,
            cap=inner.cap,
            reserve=inner.reserve,
            z=inner.z,
            window_seconds=inner.window_seconds,
        )
    return SharedAbandonGuard(
        inner=inner, cap=campaign.abandon_cap, window_seconds=campaign.abandon_window
    )
