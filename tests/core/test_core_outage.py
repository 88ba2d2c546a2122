"""The core when the switch is away (#13): no attempt spent on a switch that cannot be reached,
one probe at a time until it is back, and an outage never counted as talk time."""

from __future__ import annotations

from autoinformer.backends.base import BackendGap, CallAnswered, CallEnded, CallProgress
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.dialer import MAX_PROBE_INTERVAL, NOT_PLACED, is_not_placed
from autoinformer.outcomes import ContactState, HangupCause, Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.records import ContactProgress
from autoinformer.script import Script, play

T0 = 1_767_261_600.0  # a Thursday, 10:00 UTC


def _core(lines: int = 5, attempts: int = 2) -> DialerCore:
    campaign = Campaign(
        name="outage",
        timezone="UTC",
        script=Script.of(play("sound:long")),
        lines=lines,
        retry=RetryPolicy.simple(attempts=attempts, interval="1m"),
    )
    return DialerCore(campaign=campaign)


def _contacts(n: int) -> list[Contact]:
    return [Contact(id=f"c{i}", phones=(f"+7950000{i:04d}",)) for i in range(n)]


def _originates(out: list[c.Command]) -> list[c.Originate]:
    return [cmd for cmd in out if isinstance(cmd, c.Originate)]


def _finished(out: list[c.Command]) -> list[c.Journal]:
    return [cmd for cmd in out if isinstance(cmd, c.Journal) and not cmd.begin]


class _Driver:
    """Feeds the core and remembers the last wake-up it asked for (as a driver does)."""

    def __init__(self, core: DialerCore) -> None:
        self.core = core
        self.wake: float | None = None

    def __call__(self, now: float, event: e.Event) -> list[c.Command]:
        out = self.core.handle(now, event)
        for cmd in out:
            if isinstance(cmd, c.WakeAt):
                self.wake = cmd.time
        return out


def _unreachable(call_id: str) -> e.CommandFailed:
    return e.CommandFailed(call_id, "connection refused", originate=True, unreachable=True)


def test_an_unreachable_switch_costs_no_attempt_and_is_probed_one_call_at_a_time() -> None:
    core = _core(lines=5, attempts=2)
    feed = _Driver(core)
    batch = _originates(feed(T0, e.ContactsAdded(_contacts(20))))
    assert len(batch) == 5
    # every originate of the batch is refused: the switch cannot be reached
    refused: list[c.Command] = []
    for cmd in batch:
        refused += feed(T0, _unreachable(cmd.call_id))
    assert core.switch_down
    records = [j.record for j in _finished(refused)]
    assert len(records) == 5
    assert all(is_not_placed(r) and r.outcome is Outcome.FAILED for r in records)
    assert all(r.detail.startswith(NOT_PLACED) for r in records)
    assert not _originates(refused), "dialled again while the switch is known to be down"
    # the contacts are pending again, first in line, with no attempt spent
    for cmd in batch:
        contact = cmd.variables["AUTOINFORMER_CONTACT"]
        slot = core.book.slots[contact]
        assert slot.state is ContactState.PENDING
        assert core.unplaced(contact) == 1
        assert slot.history == []

    # a one-hour outage: probes, each a single originate, back-off 1, 2, 4... capped
    now, last, probes, gaps = T0, T0, [], []
    while now < T0 + 3600:
        wake = feed.wake
        assert wake is not None
        assert wake > now
        sent = _originates(feed(wake, e.Tick()))
        assert len(sent) <= 1, "a batch went out to a switch that is down"
        if sent:
            probes.append(sent[0].variables["AUTOINFORMER_CONTACT"])
            gaps.append(wake - last)
            last = wake
            assert not _originates(feed(wake, _unreachable(sent[0].call_id)))
        now = wake
    assert probes[0] == batch[0].variables["AUTOINFORMER_CONTACT"], "the refused go first"
    assert gaps[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert max(gaps) == MAX_PROBE_INTERVAL
    assert 100 < len(probes) < 130  # one a 30 s once the back-off is capped
    # nobody's budget went: every contact still pending, none exhausted
    assert core.counts()["exhausted"] == 0
    assert core.counts()["pending"] == 20

    # the switch is back: the next probe goes out and the switch reports on it
    wake = feed.wake
    assert wake is not None
    probe = _originates(feed(wake, e.Tick()))
    assert len(probe) == 1
    assert core.switch_down  # until the switch says something about the probe
    assert _originates(feed(wake + 0.1, e.Tick())) == []
    out = feed(wake + 0.2, CallProgress(probe[0].call_id))
    assert not core.switch_down
    # and dialling goes on at the pacing's rate again: every free line
    assert len(_originates(out)) == 4


def test_a_backend_gap_ends_the_pause_at_once() -> None:
    core = _core(lines=3)
    batch = _originates(core.handle(T0, e.ContactsAdded(_contacts(6))))
    for cmd in batch:
        core.handle(T0, _unreachable(cmd.call_id))
    assert core.switch_down
    out = core.handle(T0 + 0.5, BackendGap(seconds=10.0))
    assert not core.switch_down
    assert len(_originates(out)) == 3


def test_not_placed_attempts_stay_out_of_the_budget_after_a_restart() -> None:
    core = _core(lines=1, attempts=1)
    first = _originates(core.handle(T0, e.ContactsAdded(_contacts(1))))[0]
    out = core.handle(T0, _unreachable(first.call_id))
    unplaced = _finished(out)[0].record
    progress = [cmd.progress for cmd in out if isinstance(cmd, c.SaveProgress)][-1]
    assert progress.state is ContactState.PENDING
    assert progress.attempts == 1

    # the process restarts: the journal has the not-placed attempt
    restarted = _core(lines=1, attempts=1)
    entry = e.RestoredContact(_contacts(1)[0], progress, [unplaced])
    out = restarted.handle(T0 + 60, e.ContactsRestored([entry]))
    again = _originates(out)
    assert len(again) == 1, "the contact was not called after the restart"
    assert again[0].variables["AUTOINFORMER_ATTEMPT"] == "2", "an attempt number was reused"
    assert again[0].call_id != first.call_id
    # the one real attempt ends busy: a one-attempt budget is now used, not before
    out = restarted.handle(T0 + 62, CallEnded(again[0].call_id, HangupCause.USER_BUSY))
    assert restarted.book.slots["c0"].state is ContactState.EXHAUSTED
    assert "1 of 1" in restarted.book.slots["c0"].reason


def test_a_refused_originate_still_counts_and_dialling_probes_one_at_a_time() -> None:
    """OriginateError (the switch is up and refuses): a ``failed`` attempt as before, but the
    back-off holds a batch, not a refusal: after the pause one call goes out, not every line."""
    core = _core(lines=5, attempts=3)
    feed = _Driver(core)
    batch = _originates(feed(T0, e.ContactsAdded(_contacts(20))))
    for cmd in batch:
        out = feed(T0, e.CommandFailed(cmd.call_id, "503", originate=True))
        assert _finished(out)[0].record.outcome is Outcome.FAILED
        assert not is_not_placed(_finished(out)[0].record)
    assert not core.switch_down
    wake = feed.wake
    assert wake is not None
    probe = _originates(feed(wake, e.Tick()))
    assert len(probe) == 1
    assert _originates(feed(wake + 1, e.Tick())) == []
    assert len(_originates(feed(wake + 2, CallProgress(probe[0].call_id)))) == 4


def test_a_call_lost_in_an_outage_ends_at_the_outage_start_not_after_it() -> None:
    """Answered at 1 s, the switch dies at 5 s and is back at 125 s: not 124 s of talk."""
    core = _core(lines=2, attempts=2)
    short, carried = _originates(core.handle(T0, e.ContactsAdded(_contacts(2))))
    core.handle(T0 + 1, CallAnswered(short.call_id))
    core.handle(T0 + 1, CallAnswered(carried.call_id))
    core.handle(
        T0 + 125, BackendGap(seconds=120.0, adopted=(carried.call_id,), lost=(short.call_id,))
    )
    out = core.handle(
        T0 + 125,
        CallEnded(short.call_id, HangupCause.NORMAL_TEMPORARY_FAILURE, answered=True),
    )
    record = _finished(out)[0].record
    assert record.ended_at == T0 + 5
    assert record.talk_seconds == 4
    assert record.outcome is Outcome.FAILED, "4 s cut by the switch: not delivered"
    assert "outage" in record.detail
    assert core.book.slots[record.contact_id].state is ContactState.SCHEDULED  # retried


def test_a_call_delivered_before_the_outage_stays_delivered_with_its_real_length() -> None:
    core = _core(lines=1)
    call = _originates(core.handle(T0, e.ContactsAdded(_contacts(1))))[0]
    core.handle(T0 + 1, CallAnswered(call.call_id))
    core.handle(T0 + 300, BackendGap(seconds=250.0, lost=(call.call_id,)))
    out = core.handle(
        T0 + 300, CallEnded(call.call_id, HangupCause.NORMAL_TEMPORARY_FAILURE, answered=True)
    )
    record = _finished(out)[0].record
    assert record.outcome is Outcome.DELIVERED
    assert record.ended_at == T0 + 50
    assert record.talk_seconds == 49


def test_restored_contact_with_a_not_placed_last_attempt_is_called_again() -> None:
    first = _core(lines=1, attempts=1)
    first_call = _originates(first.handle(T0, e.ContactsAdded(_contacts(1))))[0]
    record = _finished(first.handle(T0, _unreachable(first_call.call_id)))[0].record
    # saved pending again: called first thing after the restart
    core = _core(lines=1, attempts=1)
    progress = ContactProgress("c0", ContactState.PENDING, attempts=1)
    entry = e.RestoredContact(_contacts(1)[0], progress, [record])
    out = core.handle(T0 + 5, e.ContactsRestored([entry]))
    assert [o.variables["AUTOINFORMER_CONTACT"] for o in _originates(out)] == ["c0"]
    assert len(core.book.slots["c0"].history) == 1, "only the call that went out counts"
    # killed between the journal write and the progress write (still in_call): the
    # one-attempt budget is not used up by the attempt that never went out
    core = _core(lines=1, attempts=1)
    progress = ContactProgress("c0", ContactState.IN_CALL, attempts=1)
    entry = e.RestoredContact(_contacts(1)[0], progress, [record])
    core.handle(T0 + 5, e.ContactsRestored([entry]))
    assert core.book.slots["c0"].state in (ContactState.SCHEDULED, ContactState.IN_CALL)
