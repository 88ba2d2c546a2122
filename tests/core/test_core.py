"""The dialer core, driven in virtual time against the last-digit test parties."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import attrs
import pytest

from autoinformer.backends.base import CallAnswered, CallEnded
from autoinformer.campaign import Campaign, QueueSettings, SmsRules
from autoinformer.contacts.dnc import DoNotCallList
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore, call_id_for
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.intake import DUPLICATE_REASON
from autoinformer.errors import SettingsError
from autoinformer.outcomes import ContactState, HangupCause, Outcome
from autoinformer.pacing.base import BroadcastPacing
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.script import Script, callback, menu, opt_out, play, say, transfer
from autoinformer.sim.driver import DEFAULT_START, simulate
from autoinformer.sim.model import PopulationModel
from autoinformer.testing.parties import PARTIES

SCRIPT = Script.of(
    play("sound:greeting"),
    say("Your debt is {BALANCE} RUB."),
    menu("Press 1 for an operator.", {"1": transfer("operators")}),
)
OPERATORS = QueueSettings(name="operators", operators=[Operator("anna", "PJSIP/101")])


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "test",
        "timezone": "UTC",
        "script": SCRIPT,
        "lines": 3,
        "queues": [OPERATORS],
        "retry": RetryPolicy.simple(attempts=1),
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


def _contact(cid: str, *phones: str, **variables: str) -> Contact:
    return Contact(id=cid, phones=phones, variables={"BALANCE": "-5.00", **variables})


def test_every_test_party_gets_its_expected_outcome_and_digits() -> None:
    contacts = [_contact(f"p{d}", f"+7950000000{d}") for d in PARTIES]
    result = simulate(_campaign(), contacts)
    by_contact = {r.contact_id: r for r in result.records}
    for digit, party in PARTIES.items():
        record = by_contact[f"p{digit}"]
        assert record.outcome is party.expected, f"party {digit}: {record}"
        assert record.digits == party.expected_digits, f"party {digit}"
    assert by_contact["p8"].operator == "anna"
    assert by_contact["p8"].talk_seconds > 10
    assert result.progress["p1"].state is ContactState.DONE
    assert result.progress["p2"].state is ContactState.EXHAUSTED
    assert sum(result.outcomes().values()) == len(result.records) == len(PARTIES)


def test_same_seed_same_campaign_to_the_last_attempt_and_lines_are_a_hard_cap() -> None:
    contacts = [_contact(f"c{i}", f"+7950{i:07d}") for i in range(200)]
    campaign = _campaign(lines=7, retry=RetryPolicy.simple(attempts=3, interval="10m"))
    model = PopulationModel(seed=5, digit_rates={"1": 0.2})
    first = simulate(campaign, contacts, model=model)
    second = simulate(campaign, contacts, model=PopulationModel(seed=5, digit_rates={"1": 0.2}))
    assert first.records == second.records
    assert first.records != simulate(campaign, contacts, model=attrs.evolve(model, seed=6)).records
    # concurrency never above the line limit
    edges = sorted(
        [(r.started_at, 1) for r in first.records]
        + [(r.ended_at or 0.0, -1) for r in first.records]
    )
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    assert peak <= 7
    assert len(first.records) > 200


def test_journal_goes_before_originate_and_ids_are_stable() -> None:
    core = DialerCore(campaign=_campaign(lines=1))
    out = core.handle(DEFAULT_START, e.ContactsAdded([_contact("a", "+79500000001")]))
    kinds = [type(cmd) for cmd in out]
    assert kinds.index(c.Journal) < kinds.index(c.Originate)
    journal = next(cmd for cmd in out if isinstance(cmd, c.Journal))
    originate = next(cmd for cmd in out if isinstance(cmd, c.Originate))
    assert journal.begin
    assert journal.record.outcome is None
    assert originate.call_id == journal.record.attempt_id == call_id_for("test", "a", 1)
    assert originate.ring_timeout >= 15
    # a refused originate is a failed attempt, recorded, not lost
    out = core.handle(DEFAULT_START + 1, e.CommandFailed(originate.call_id, "refused", True))
    final = next(cmd for cmd in out if isinstance(cmd, c.Journal))
    assert final.record.outcome is Outcome.FAILED
    assert any(isinstance(cmd, c.Done) for cmd in out)


def test_retries_respect_budget_interval_and_alternate_numbers() -> None:
    contact = _contact("two", "+79500000002", "+79500000003")  # busy, then no answer
    campaign = _campaign(retry=RetryPolicy.simple(attempts=3, interval="20m"))
    result = simulate(campaign, [contact])
    assert [r.number for r in result.records] == ["+79500000002", "+79500000003", "+79500000002"]
    assert [r.outcome for r in result.records] == [Outcome.BUSY, Outcome.NO_ANSWER, Outcome.BUSY]
    gaps = [b.started_at - (a.ended_at or 0) for a, b in itertools.pairwise(result.records)]
    assert all(gap >= 20 * 60 - 1e-6 for gap in gaps)
    assert result.progress["two"].state is ContactState.EXHAUSTED
    assert [r.attempt_no for r in result.records] == [1, 2, 3]


@pytest.mark.parametrize(
    ("on_machine", "detail"), [("hangup", ""), ("leave_message", "message left")]
)
def test_answering_machine_hang_up_or_leave_the_message(on_machine: str, detail: str) -> None:
    campaign = _campaign(machine_detection=True, on_machine=on_machine)
    result = simulate(campaign, [_contact("m", "+15550000001")])  # a machine by convention
    (record,) = result.records
    assert record.outcome is Outcome.MACHINE
    assert record.machine
    assert record.detail == detail
    if on_machine == "hangup":
        assert record.talk_seconds < 5
    else:
        assert record.talk_seconds > 3  # waited for the beep, played the message


def test_opt_out_adds_to_dnc_and_blocks_the_number_at_dial_time() -> None:
    script = Script.of(menu("Press 2 to stop these calls.", {"2": opt_out()}))
    dnc = DoNotCallList()
    contacts = [_contact("a", "+79500000007"), _contact("b", "+79500000007")]
    result = simulate(_campaign(script=script, lines=1, queues=[]), contacts, dnc=dnc)
    (record,) = result.records
    assert record.outcome is Outcome.OPTED_OUT
    assert dnc.blocks("+79500000007")
    assert result.opted_out == ("+79500000007",)
    assert result.progress["a"].state is ContactState.DONE
    assert result.progress["b"].state is ContactState.SKIPPED
    # the same number twice in one list: the second contact is never dialled (it would be
    # blocked by the do-not-call list now in any case)
    assert result.progress["b"].reason == DUPLICATE_REASON


def test_dnc_list_checked_at_dial_time_tries_the_other_number() -> None:
    dnc = DoNotCallList.from_numbers(["+79500000001"])
    result = simulate(_campaign(), [_contact("x", "+79500000001", "+79500000000")], dnc=dnc)
    assert [r.number for r in result.records] == ["+79500000000"]


def test_window_defers_the_first_call_to_the_opening_in_callee_time() -> None:
    window = CallWindow.parse(days="mon-fri", hours="09:00-20:00", timezone="Europe/Moscow")
    start = dt.datetime(2026, 1, 6, 3, 0, tzinfo=dt.UTC).timestamp()  # Tue 06:00 Moscow
    result = simulate(_campaign(window=window), [_contact("w", "+79500000001")], start=start)
    (record,) = result.records
    opened = dt.datetime(2026, 1, 6, 6, 0, tzinfo=dt.UTC).timestamp()  # 09:00 Moscow
    assert record.started_at == pytest.approx(opened, abs=1.0)


def test_cancel_stops_further_attempts() -> None:
    from autoinformer.sim.driver import Simulation

    campaign = _campaign(retry=RetryPolicy.simple(attempts=3, interval="20m"))
    sim = Simulation(campaign=campaign)
    sim.at(DEFAULT_START, e.ContactsAdded([_contact("paid", "+79500000002")]))
    sim.at(DEFAULT_START + 600, e.ContactCancelled("paid", "debt paid"))
    result = sim.run()
    assert len(result.records) == 1
    assert result.progress["paid"].state is ContactState.CANCELLED
    assert result.progress["paid"].reason == "debt paid"


def test_restored_in_flight_attempt_becomes_unknown_and_is_retried() -> None:
    contact = _contact("r", "+79500000001")
    crashed = AttemptRecord(
        attempt_id=call_id_for("test", "r", 1),
        campaign="test",
        contact_id="r",
        attempt_no=1,
        number="+79500000001",
        caller_id=None,
        started_at=DEFAULT_START - 30,
    )
    progress = ContactProgress(contact_id="r", state=ContactState.IN_CALL, attempts=1)
    campaign = _campaign(retry=RetryPolicy(attempts=2, rules={"unknown": "1m"}))
    core = DialerCore(campaign=campaign)
    out = core.handle(
        DEFAULT_START, e.ContactsRestored([e.RestoredContact(contact, progress, [crashed])])
    )
    journals = [cmd for cmd in out if isinstance(cmd, c.Journal)]
    assert journals[0].record.outcome is Outcome.UNKNOWN
    assert journals[0].record.attempt_id == crashed.attempt_id
    assert not any(isinstance(cmd, c.Originate) for cmd in out)  # retry waits its delay
    out = core.handle(DEFAULT_START + 61, e.Tick())
    originate = next(cmd for cmd in out if isinstance(cmd, c.Originate))
    assert originate.call_id == call_id_for("test", "r", 2)


def test_operator_cases_abandoned_and_a_failing_operator_skipped() -> None:
    busy_desk = QueueSettings(
        name="operators", operators=[Operator("anna", "PJSIP/101")], max_wait=5.0
    )
    two_callers = [_contact("a", "+79500000008"), _contact("b", "+79510000008")]
    # both dialled at once (the abandon guard and progressive pacing would hold the second)
    both = _campaign(queues=[busy_desk], abandon_cap=1.0)
    result = simulate(both, two_callers, pacing=BroadcastPacing())
    outcomes = sorted(r.outcome.value for r in result.records if r.outcome)
    assert outcomes == ["abandoned", "transferred"]

    # an operator whose phone fails is skipped for this caller (not agent_error): with nobody
    # else to ring, the callee waits out max_wait and the call is abandoned
    broken = QueueSettings(
        name="operators", operators=[Operator("x", "PJSIP/unavailable")], max_wait=5.0
    )
    result = simulate(_campaign(queues=[broken]), [_contact("c", "+79500000008")])
    (record,) = result.records
    assert record.outcome is Outcome.ABANDONED
    assert record.operator is None
    assert "x (user_busy)" in record.detail


def test_callback_hook_answer_is_recorded() -> None:
    script = Script.of(menu("Press 2 to cancel the order.", {"2": callback("cancel_order")}))
    seen: list[tuple[str, str]] = []

    def cancel(contact: Contact, digits: str) -> str:
        seen.append((contact.id, digits))
        return "order cancelled"

    result = simulate(
        _campaign(script=script, queues=[]),
        [_contact("o", "+79500000007")],
        hooks={"cancel_order": cancel},
    )
    (record,) = result.records
    assert seen == [("o", "2")]
    assert record.callback_result == "order cancelled"
    assert record.outcome is Outcome.DELIVERED


def test_sms_on_hangup_and_on_final_missed_call() -> None:
    sms = SmsRules(on_hangup="Thank you, {name}.", on_missed="You missed our call.")
    campaign = _campaign(sms=sms, retry=RetryPolicy.simple(attempts=2, interval="5m"))
    contacts = [
        Contact(id="d", name="Igor", phones=("+79500000001",), variables={"BALANCE": "1"}),
        Contact(id="busy", name="Ilya", phones=("+79500000002",), variables={"BALANCE": "1"}),
    ]
    result = simulate(campaign, contacts)
    texts = {(s.contact_id, s.rule): s.text for s in result.sms}
    assert texts == {
        ("d", "on_hangup"): "Thank you, Igor.",
        ("busy", "on_missed"): "You missed our call.",  # once: after the last attempt
    }
    assert len(result.sms) == 2


def test_contact_missing_a_variable_is_skipped_with_the_reason() -> None:
    result = simulate(_campaign(), [Contact(id="nobal", phones=("+79500000001",))])
    assert result.records == ()
    assert result.progress["nobal"].state is ContactState.SKIPPED
    assert "BALANCE" in result.progress["nobal"].reason


def test_campaign_validation_names_the_field() -> None:
    with pytest.raises(SettingsError, match="unknown queue 'operators'"):
        _campaign(queues=[])
    with pytest.raises(SettingsError) as info:
        _campaign(script=Script.of(say("Your debt is {BALANCE")))
    assert info.value.field == "script[0].say"
    with pytest.raises(SettingsError, match="lines"):
        _campaign(lines=0)
    with pytest.raises(SettingsError, match="on_machine"):
        _campaign(on_machine="sing")


def test_pause_resume_and_stop() -> None:
    core = DialerCore(campaign=_campaign(lines=1))
    core.handle(DEFAULT_START, e.Pause())
    out = core.handle(DEFAULT_START, e.ContactsAdded([_contact("a", "+79500000001")]))
    assert not any(isinstance(cmd, c.Originate) for cmd in out)
    out = core.handle(DEFAULT_START + 1, e.Resume())
    originate = next(cmd for cmd in out if isinstance(cmd, c.Originate))
    out = core.handle(DEFAULT_START + 2, e.Stop(hangup=True))
    assert c.Hangup(originate.call_id) in out
    ended = CallEnded(originate.call_id, HangupCause.NORMAL_CLEARING)
    out = core.handle(DEFAULT_START + 2, ended)
    assert out[-1] == c.Done("stopped")


def test_caller_ids_come_from_the_pool_and_caps_hold_calls_back() -> None:
    from autoinformer.policy.callerid import CallerIdPool

    pool = CallerIdPool(["+74950000001", "+74950000002"], daily_cap=2, sticky=False)
    contacts = [_contact(f"c{i}", f"+7950000{i:03d}1") for i in range(6)]
    result = simulate(_campaign(caller_ids=pool, lines=6), contacts)
    used = [r.caller_id for r in result.records]
    assert set(used) <= set(pool.numbers)
    assert used.count("+74950000001") <= 2 * 2  # two days at most for six calls
    day_one = [r for r in result.records if r.started_at < DEFAULT_START + 14 * 3600]
    assert len(day_one) == 4  # the caps (2 x 2) hold the rest until the next day
    assert len(result.records) == 6


def test_nothing_waits_forever_when_the_switch_goes_silent() -> None:
    core = DialerCore(campaign=_campaign(lines=1))
    out = core.handle(DEFAULT_START, e.ContactsAdded([_contact("a", "+79500000001")]))
    originate = next(cmd for cmd in out if isinstance(cmd, c.Originate))
    wakes = [cmd.time for cmd in out if isinstance(cmd, c.WakeAt)]
    assert wakes
    assert wakes[-1] <= DEFAULT_START + originate.ring_timeout + 31
    # no event at all from the switch: the core hangs up after ring timeout + grace ...
    t = DEFAULT_START + originate.ring_timeout + 31
    out = core.handle(t, e.Tick())
    assert c.Hangup(originate.call_id) in out
    # ... and if even the hang-up is never confirmed, it ends the attempt itself
    out = core.handle(t + 31, e.Tick())
    final = next(cmd for cmd in out if isinstance(cmd, c.Journal))
    assert final.record.outcome is Outcome.FAILED
    assert "never" in final.record.detail
    assert out[-1] == c.Done("finished")
    # a late CallEnded for it changes nothing
    assert core.handle(t + 40, CallEnded(originate.call_id, HangupCause.NO_ANSWER)) == []


def test_a_playback_the_switch_refuses_ends_the_call_as_failed() -> None:
    core = DialerCore(campaign=_campaign(lines=1))
    out = core.handle(DEFAULT_START, e.ContactsAdded([_contact("a", "+79500000001")]))
    call_id = next(cmd for cmd in out if isinstance(cmd, c.Originate)).call_id
    out = core.handle(DEFAULT_START + 1, CallAnswered(call_id))
    assert any(isinstance(cmd, c.Play) for cmd in out)
    out = core.handle(DEFAULT_START + 1.1, e.CommandFailed(call_id, "file not found"))
    assert c.Hangup(call_id) not in out  # a moment for a CallEnded racing the failure
    out = core.handle(DEFAULT_START + 2.1, e.Tick())
    assert c.Hangup(call_id) in out
    out = core.handle(DEFAULT_START + 2.2, CallEnded(call_id, HangupCause.NORMAL_CLEARING, True))
    final = next(cmd for cmd in out if isinstance(cmd, c.Journal))
    assert final.record.outcome is Outcome.FAILED
    assert final.record.detail == "file not found"


def test_refused_originates_back_off_instead_of_burning_the_list() -> None:
    core = DialerCore(campaign=_campaign(lines=1))
    contacts = [_contact(f"c{i}", f"+7950000000{i}") for i in range(1, 4)]
    out = core.handle(DEFAULT_START, e.ContactsAdded(contacts))
    first = next(cmd for cmd in out if isinstance(cmd, c.Originate))
    out = core.handle(DEFAULT_START, e.CommandFailed(first.call_id, "switch down", True))
    assert not any(isinstance(cmd, c.Originate) for cmd in out)  # holds back 1 s
    wake = [cmd.time for cmd in out if isinstance(cmd, c.WakeAt)][-1]
    assert wake == DEFAULT_START + 1
    out = core.handle(wake, e.Tick())
    second = next(cmd for cmd in out if isinstance(cmd, c.Originate))
    out = core.handle(wake, e.CommandFailed(second.call_id, "switch down", True))
    assert [cmd.time for cmd in out if isinstance(cmd, c.WakeAt)][-1] == wake + 2  # doubles


def test_resume_from_the_store_after_a_cut_reconciles_in_flight_calls(tmp_path: Path) -> None:
    from autoinformer.store.sqlite import SqliteStore

    campaign = _campaign(lines=4, retry=RetryPolicy.simple(attempts=3, interval="2m"))
    contacts = [_contact(f"c{i}", f"+7950{i:06d}{i % 10}") for i in range(20)]
    with SqliteStore(tmp_path / "cut.sqlite", durability="normal") as store:
        first = simulate(campaign, contacts, store=store, until=DEFAULT_START + 40)
        in_flight = {r.attempt_id for r in store.unfinished_attempts("test")}
        assert in_flight, "the cut should land while calls are in flight"
        assert len(first.records) < len(list(store.attempts("test")))
        second = simulate(campaign, contacts, store=store)  # resumes: same store
        records = {r.attempt_id: r for r in store.attempts("test")}
    assert all(records[a].outcome is Outcome.UNKNOWN for a in in_flight)
    assert all(r.outcome is not None for r in records.values())
    for contact in contacts:
        numbers = sorted(r.attempt_no for r in records.values() if r.contact_id == contact.id)
        assert numbers == list(range(1, len(numbers) + 1))
        assert len(numbers) <= 3
    states = {p.state for p in second.progress.values()}
    assert states <= {ContactState.DONE, ContactState.EXHAUSTED, ContactState.SKIPPED}
