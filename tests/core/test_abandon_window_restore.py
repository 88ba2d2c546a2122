"""A resumed campaign's abandon guard gets its rolling window back from the store's journal.

Without it the window starts empty after a restart: no window budget, so the campaign dials
progressively until about 67 new live answers, however much budget the last 24 hours left.
The attempt records the core is handed on resume carry when each call was answered and ended,
so the guard rebuilds the window from them: live answers (answered, not a machine) by
``answered_at``, abandons by ``ended_at``, only those of the last ``abandon_window``.
"""

from __future__ import annotations

import math
from pathlib import Path

import attrs
import pytest

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core.abandon_guard import AbandonGuard, excess_moments
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.pacing import BroadcastPacing
from autoinformer.pacing.base import PacingView
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.script import Script, menu, transfer
from autoinformer.sim.driver import load_from_store
from autoinformer.store import MemoryStore, SqliteStore
from autoinformer.store.base import Store

HOUR, DAY = 3600.0, 86400.0
CAP, RESERVE, Z = 0.03, 2.0, 4.0
IDLE, LINES = 2, 10
RESTART = 1_767_700_800.0  # 2026-01-06 12:00 UTC
TRANSFER = Script.of(menu("Press 1 for an operator.", {"1": transfer("operators")}))
OPERATORS = QueueSettings(name="operators", operators=[Operator("anna", "PJSIP/101")])

# (how many, outcome, machine, hours before the restart the call was answered)
HISTORY = [
    (1000, Outcome.DELIVERED, False, 30.0),  # yesterday: out of the window
    (3, Outcome.ABANDONED, False, 30.0),
    (450, Outcome.DELIVERED, False, 3.0),  # the last 24 hours: 500 live answers
    (40, Outcome.TRANSFERRED, False, 2.0),
    (5, Outcome.HUNG_UP_EARLY, False, 2.0),
    (5, Outcome.ABANDONED, False, 1.0),
    (60, Outcome.DELIVERED, True, 2.0),  # messages left on machines: not live answers
    (30, Outcome.MACHINE, True, 2.0),
    (100, Outcome.NO_ANSWER, False, math.nan),  # never answered
]
WINDOW_ANSWERS, WINDOW_ABANDONS = 500, 5
CAMPAIGN_ANSWERS, ABANDONS = 1503, 8
FINISHED, REQUESTS = 1698, 48


def _campaign(abandon_window: float | None = DAY) -> Campaign:
    return Campaign(
        timezone="UTC",
        name="resumed",
        script=TRANSFER,
        queues=[OPERATORS],
        lines=LINES,
        retry=RetryPolicy.simple(attempts=1),
        window=CallWindow.any_time(),
        abandon_window=abandon_window,
    )


def _journal(store: Store) -> None:
    """The earlier run's contacts and attempts, as the runtime journals them."""
    i = 0
    for count, outcome, machine, hours in HISTORY:
        for _ in range(count):
            i += 1
            cid, number = f"c{i}", f"+7950{i:07d}"
            store.add_contacts("resumed", [Contact(id=cid, phones=(number,))])
            started = RESTART - (hours if not math.isnan(hours) else 5.0) * HOUR - 20.0
            answered = None if math.isnan(hours) else started + 20.0
            record = AttemptRecord(
                attempt_id=f"a{i}",
                campaign="resumed",
                contact_id=cid,
                attempt_no=1,
                number=number,
                caller_id=None,
                started_at=started,
            )
            store.begin_attempt(record)
            store.finish_attempt(
                attrs.evolve(
                    record,
                    answered_at=answered,
                    ended_at=(answered or started) + 60.0,
                    outcome=outcome,
                    machine=machine,
                )
            )
            store.save_progress(
                "resumed", ContactProgress(contact_id=cid, state=ContactState.DONE, attempts=1)
            )


def _resumed(store: Store, campaign: Campaign) -> AbandonGuard:
    _journal(store)
    restored, _ = load_from_store(store, campaign.name)
    core = DialerCore(campaign=campaign, pacing=BroadcastPacing())
    core.handle(RESTART, restored)
    guard = core.pacing
    assert isinstance(guard, AbandonGuard)
    return guard


def _view(now: float) -> PacingView:
    """Two idle operators, ten free lines, nothing in flight: the safe count is 2."""
    return PacingView(now=now, lines_free=LINES, agents_idle=IDLE)


def _largest(budget: float, q: float) -> int:
    """The guard's rule from ``_view``: the most launches (up to the free lines) whose excess
    ``mean + z * sd`` fits ``budget``; the safe count needs none."""
    if budget <= 0.0:
        return IDLE
    fits = [n for n in range(IDLE, LINES + 1) if _fits(n, q, budget)]
    return max([IDLE, *fits])


def _fits(n: int, q: float, budget: float) -> bool:
    mean, var = excess_moments(0, 0, 1.0, n, q, IDLE)
    return mean + Z * math.sqrt(var) <= budget


@pytest.mark.parametrize("make", [MemoryStore, "sqlite"])
def test_a_resumed_campaign_gets_the_last_24_hours_back(make: object, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db") if make == "sqlite" else MemoryStore()
    guard = _resumed(store, _campaign())
    assert (guard.answers, guard.abandons, guard.requests) == (CAMPAIGN_ANSWERS, ABANDONS, REQUESTS)
    guard.calls_to_launch(_view(RESTART))
    # yesterday's answers and abandons, and the machines, are not in the window
    assert (guard.window_answers, guard.window_abandons) == (WINDOW_ANSWERS, WINDOW_ABANDONS)
    window_budget = CAP * WINDOW_ANSWERS - RESERVE - WINDOW_ABANDONS  # 8 abandons
    assert window_budget < CAP * CAMPAIGN_ANSWERS - RESERVE - ABANDONS
    assert guard.budget(RESTART) == pytest.approx(window_budget)
    # so the resumed campaign launches beyond the idle operators at once, as before the stop
    q = (REQUESTS + 1) / (FINISHED + 1)
    assert guard.calls_to_launch(_view(RESTART)) == _largest(window_budget, q) > IDLE


def test_the_rebuilt_window_empties_as_its_answers_age() -> None:
    guard = _resumed(MemoryStore(), _campaign())
    # 21.5 hours on, the answers of 3 hours before the restart have left (24.5 h old); those
    # of 2 and 1 hours before (50 live, 5 of them abandoned) are still in: 0.03 * 50 < 2 + 5
    later = RESTART + 21.5 * HOUR
    guard.calls_to_launch(_view(later))
    assert (guard.window_answers, guard.window_abandons) == (50, WINDOW_ABANDONS)
    assert guard.calls_to_launch(_view(later)) == IDLE
    guard.calls_to_launch(_view(RESTART + DAY))
    assert (guard.window_answers, guard.window_abandons) == (0, 0)


def test_a_shorter_window_keeps_fewer_and_none_keeps_the_campaign_budget() -> None:
    short = _resumed(MemoryStore(), _campaign(abandon_window=2.5 * HOUR))
    short.calls_to_launch(_view(RESTART))
    assert (short.window_answers, short.window_abandons) == (50, WINDOW_ABANDONS)
    off = _resumed(MemoryStore(), _campaign(abandon_window=None))
    assert off.budget(RESTART) == pytest.approx(CAP * CAMPAIGN_ANSWERS - RESERVE - ABANDONS)


def test_restore_puts_the_times_in_order_and_leaves_out_those_before_the_window() -> None:
    guard = AbandonGuard(inner=BroadcastPacing())
    guard.restore(
        finished=4,
        answers=4,
        requests=1,
        abandons=1,
        now=DAY + 10.0,
        answered_at=[DAY + 5.0, 5.0, 20.0, 10.0],  # 5 and 10 are 24 h or more before `now`
        abandoned_at=[20.0],
    )
    assert (guard.window_answers, guard.window_abandons) == (2, 1)
    guard.calls_to_launch(_view(DAY + 20.0))  # the answer and abandon at 20 leave, in order
    assert (guard.window_answers, guard.window_abandons) == (1, 0)
    assert (guard.answers, guard.abandons) == (4, 1)
