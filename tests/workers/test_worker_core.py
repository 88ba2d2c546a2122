"""The core's side of several workers, pure: lines granted, refused attempts, contacts
released, the other workers' abandon totals; and the worker's pure helpers (pairing the
store commands, the caller-ID day)."""

from __future__ import annotations

import datetime as dt

import attrs

from autoinformer.backends.base import CallEnded
from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import AbandonGuard
from autoinformer.core.dialer import DialerCore
from autoinformer.core.shared_guard import SharedAbandonGuard, shared_pacing
from autoinformer.outcomes import ContactState, HangupCause
from autoinformer.pacing.base import BroadcastPacing, PacingView
from autoinformer.policy.callerid import CallerIdPool
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.script import Script, menu, play, transfer
from autoinformer.workers.commands import Begin, Close, Finish, Save, pair

NOW = 1_767_261_600.0  # 2026-01-01 10:00 UTC


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "pure",
        "timezone": "UTC",
        "script": Script.of(play("sound:message")),
        "lines": 10,
        "retry": RetryPolicy.simple(attempts=2, interval="2m"),
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


def _contacts(n: int) -> list[Contact]:
    return [Contact(id=f"c{i}", phones=(f"+7950000{i:04d}",)) for i in range(n)]


def _originates(commands: list[c.Command]) -> list[c.Originate]:
    return [cmd for cmd in commands if isinstance(cmd, c.Originate)]


def test_without_a_grant_the_campaigns_lines_are_the_cap() -> None:
    core = DialerCore(campaign=_campaign())
    out = core.handle(NOW, e.ContactsAdded(_contacts(20)))
    assert len(_originates(out)) == 10
    assert core.lines_granted is None
    assert core.lines_wanted == 10  # its calls


def test_a_grant_caps_the_calls_and_the_want_follows_the_pacing() -> None:
    core = DialerCore(campaign=_campaign())
    assert _originates(core.handle(NOW, e.LinesGranted(0))) == []
    out = core.handle(NOW, e.ContactsAdded(_contacts(20)))
    assert _originates(out) == []
    assert core.lines_wanted == 10  # broadcast wants every line of the campaign
    assert len(_originates(core.handle(NOW, e.LinesGranted(3)))) == 3
    assert len(core.calls) == 3
    assert len(_originates(core.handle(NOW + 1, e.LinesGranted(5)))) == 2
    # a lower grant hangs nothing up, and places nothing until the calls fit under it
    out = core.handle(NOW + 2, e.LinesGranted(1))
    assert _originates(out) == []
    assert not [cmd for cmd in out if isinstance(cmd, c.Hangup)]
    first = next(iter(core.calls))
    out = core.handle(NOW + 3, CallEnded(first, HangupCause.USER_BUSY))
    assert _originates(out) == []  # 4 calls left, grant 1
    assert core.lines_wanted == 10
    # a grant above the campaign's lines is capped by them
    out = core.handle(NOW + 4, e.LinesGranted(50))
    assert len(core.calls) == 10
    assert len(_originates(out)) == 6


def test_a_grant_of_nothing_wanted_when_nobody_is_due() -> None:
    core = DialerCore(campaign=_campaign())
    core.handle(NOW, e.LinesGranted(4))
    core.handle(NOW, e.ContactsAdded(_contacts(2)))
    assert len(core.calls) == 2
    assert core.lines_wanted == 2  # two calls, nobody else to call


def test_a_refused_attempt_for_a_lost_lease_is_not_spent_and_the_contact_leaves() -> None:
    core = DialerCore(campaign=_campaign(lines=1))
    out = core.handle(NOW, e.ContactsAdded(_contacts(2)))
    (orig,) = _originates(out)
    out = core.handle(NOW, e.AttemptRefused(orig.call_id, "lease lost", lease_lost=True))
    assert "c0" not in core.book  # another worker's now
    assert core.calls.keys() != {orig.call_id}
    (nxt,) = _originates(out)  # the line went to the next contact
    assert nxt.variables["AUTOINFORMER_CONTACT"] == "c1"
    assert nxt.variables["AUTOINFORMER_ATTEMPT"] == "1"
    assert not [cmd for cmd in out if isinstance(cmd, c.Journal) and not cmd.begin]


def test_a_capped_caller_id_is_counted_used_and_the_contact_tries_another_number() -> None:
    pool = CallerIdPool(numbers=("+74951110001", "+74951110002"), daily_cap=100)
    core = DialerCore(campaign=_campaign(lines=1, caller_ids=pool))
    (orig,) = _originates(core.handle(NOW, e.ContactsAdded(_contacts(1))))
    assert orig.caller_id == "+74951110001"
    out = core.handle(NOW, e.AttemptRefused(orig.call_id, "capped", caller_id_capped=True))
    (again,) = _originates(out)
    assert again.variables["AUTOINFORMER_ATTEMPT"] == "1"  # the refused one was not spent
    assert again.caller_id == "+74951110002"
    carousel = core.carousel
    assert carousel is not None
    assert not carousel.available("+74951110001", dt.datetime.fromtimestamp(NOW, dt.UTC))
    assert carousel.available("+74951110001", dt.datetime.fromtimestamp(NOW + 86400, dt.UTC))


def test_released_contacts_are_forgotten_unless_in_a_call() -> None:
    core = DialerCore(campaign=_campaign(lines=1))
    out = core.handle(NOW, e.ContactsAdded(_contacts(3)))
    (orig,) = _originates(out)
    open_before = core.book.loaded_open
    core.handle(NOW, e.ContactsReleased(("c0", "c1")))
    assert "c0" in core.book  # in a call: kept, its result will be journaled
    assert "c1" not in core.book
    assert core.book.loaded_open == open_before - 1
    out = core.handle(NOW + 1, CallEnded(orig.call_id, HangupCause.USER_BUSY))
    (nxt,) = _originates(out)
    assert nxt.variables["AUTOINFORMER_CONTACT"] == "c2"


def _transfer_campaign() -> Campaign:
    return _campaign(
        script=Script.of(menu("Press 1.", {"1": transfer("ops")})),
        queues=[QueueSettings(name="ops", operators=[Operator("anna", "PJSIP/1")])],
    )


def test_a_worker_guard_spends_the_campaigns_budget() -> None:
    campaign = _transfer_campaign()
    guard = shared_pacing(campaign, BroadcastPacing())
    assert isinstance(guard, SharedAbandonGuard)
    assert (guard.cap, guard.window_seconds) == (campaign.abandon_cap, campaign.abandon_window)
    alone = AbandonGuard(inner=BroadcastPacing(), cap=0.03)
    view = PacingView(now=NOW, lines_free=10, dialing=0, agents_logged_in=1, agents_idle=1)
    assert guard.calls_to_launch(view) == alone.calls_to_launch(view) == 1  # no budget: safe
    # the other workers' live answers are the campaign's budget too
    core = DialerCore(campaign=campaign, pacing=guard)
    core.handle(NOW, e.CampaignTotals(answers=2000, abandons=0, window_answers=2000))
    assert guard.others.answers == 2000
    assert guard.budget(NOW) == 0.03 * 2000 - guard.reserve
    assert guard.calls_to_launch(view) > 1
    # and their abandons spend it
    core.handle(NOW, e.CampaignTotals(2000, 58, 2000, 58))
    assert guard.budget(NOW) <= 0
    assert guard.calls_to_launch(view) == 1
    assert guard.rate() == 58 / 2000
    # a restored contact's history is in the totals already: not counted twice
    guard.restore(finished=10, answers=10, requests=5, abandons=5)
    assert (guard.answers, guard.abandons) == (0, 0)


def test_shared_pacing_keeps_a_given_guards_settings_and_leaves_broadcasts_alone() -> None:
    campaign = _transfer_campaign()
    mine = AbandonGuard(inner=BroadcastPacing(), cap=0.01, reserve=5.0, z=2.0)
    shared = shared_pacing(campaign, mine)
    assert isinstance(shared, SharedAbandonGuard)
    assert (shared.cap, shared.reserve, shared.z) == (0.01, 5.0, 2.0)
    assert shared.inner is mine.inner
    plain = BroadcastPacing()
    assert shared_pacing(_campaign(), plain) is plain


def _record(cid: str, no: int = 1, **kw: object) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=f"{cid}-{no}",
        campaign="pure",
        contact_id=cid,
        attempt_no=no,
        number="+79500000001",
        caller_id=None,
        started_at=NOW,
        **kw,  # type: ignore[arg-type]
    )


def test_pair_puts_each_journal_with_the_progress_after_it() -> None:
    begun = _record("a")
    ended = attrs.evolve(begun, outcome=None, ended_at=NOW + 5)
    in_call = ContactProgress("a", ContactState.IN_CALL, 1)
    done = ContactProgress("a", ContactState.DONE, 1)
    other = ContactProgress("b", ContactState.SKIPPED, 0, reason="no phone number")
    origin = c.Originate(call_id="a-1", number="+79500000001", caller_id=None, ring_timeout=30)
    commands: list[c.Command] = [
        c.Journal(begun, begin=True),
        c.SaveProgress(in_call),
        origin,
        c.Journal(ended, begin=False),
        c.Notify(ended),
        c.SaveProgress(other),
        c.SaveProgress(done),
    ]
    assert pair(commands) == [
        Begin(begun, in_call),
        origin,
        Close(ended, done),
        c.Notify(ended),
        Save(other),
    ]
    # two results for one contact (a restore): the first alone, the last with the progress
    first, second = _record("a", 1), _record("a", 2)
    out = pair(
        [c.Journal(first, begin=False), c.Journal(second, begin=False), c.SaveProgress(done)]
    )
    assert out == [Finish(first), Close(second, done)]


def test_caller_id_rule_counts_the_pools_day_in_its_zone() -> None:
    from autoinformer.workers.mode import caller_id_rule

    assert caller_id_rule(CallerIdPool(numbers=("+74951110001",)), NOW) is None
    pool = CallerIdPool(
        numbers=("+74951110001",), daily_cap=3, cooldown="2m", cap_timezone="Europe/Moscow"
    )
    rule = caller_id_rule(pool, NOW)  # 10:00 UTC = 13:00 in Moscow (UTC+3)
    assert rule is not None
    assert rule.daily_cap == 3
    assert rule.cooldown == 120.0
    assert rule.day_start == NOW - 13 * 3600
    assert rule.day_end == rule.day_start + 86400
