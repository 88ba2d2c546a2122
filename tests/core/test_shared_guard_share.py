"""A worker's abandon guard spends its share of the campaign's budget (its lines over the
campaign's), so several workers together never spend more than the one budget."""

from __future__ import annotations

import pytest

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.core import events as e
from autoinformer.core.dialer import DialerCore
from autoinformer.core.shared_guard import SharedAbandonGuard, shared_pacing
from autoinformer.pacing.base import BroadcastPacing
from autoinformer.queues.base import Operator
from autoinformer.script import Script, menu, play, transfer

NOW = 1_767_261_600.0  # 2026-01-01 10:00 UTC


def _guard() -> SharedAbandonGuard:
    guard = SharedAbandonGuard(inner=BroadcastPacing(), cap=0.03, reserve=0.0)
    guard.others = e.CampaignTotals(
        answers=1000, abandons=10, window_answers=1000, window_abandons=10
    )
    return guard


def test_the_budget_is_the_share_of_the_campaigns() -> None:
    guard = _guard()
    whole = guard.budget(NOW)
    assert whole == pytest.approx(0.03 * 1000 - 10)
    shares = [0.25, 0.25, 0.5]
    parts = []
    for share in shares:
        guard.share = share
        parts.append(guard.budget(NOW))
    assert sum(parts) == pytest.approx(whole)  # the workers' parts add up to the one budget


def test_an_overspent_budget_is_not_shared_out() -> None:
    guard = _guard()
    guard.others = e.CampaignTotals(answers=100, abandons=9, window_answers=100, window_abandons=9)
    guard.share = 0.25
    assert guard.budget(NOW) == pytest.approx(0.03 * 100 - 9)  # the whole debt, not a quarter


def test_the_core_sets_the_share_from_its_grant() -> None:
    campaign = Campaign(
        name="share",
        timezone="UTC",
        script=Script.of(play("sound:message"), menu("sound:press-1", {"1": transfer("sales")})),
        queues=[QueueSettings(name="sales", operators=[Operator("op1", "PJSIP/op1")])],
        lines=40,
    )
    guard = shared_pacing(campaign, None)
    assert isinstance(guard, SharedAbandonGuard)
    core = DialerCore(campaign=campaign, pacing=guard)
    assert guard.share == 1.0
    core.handle(NOW, e.LinesGranted(10))
    assert guard.share == 0.25
    core.handle(NOW, e.LinesGranted(80))  # more than the campaign's: all of it
    assert guard.share == 1.0
