"""The compliance defaults made real in the dialer core (DESIGN.md, "Compliance defaults").

Safe calling hours unless turned off explicitly, the per-day cap judged in every zone of a
number in strict mode, contacts whose values the script cannot speak skipped before dialling,
a failing do-not-call list that blocks instead of crashing, and the abandon-rate cap held over
any pacing policy.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.campaign_file import parse_campaign
from autoinformer.cli import main
from autoinformer.cli.demo import demo_campaign, demo_contacts
from autoinformer.contacts.model import Contact
from autoinformer.core import DialerCore
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.abandon_guard import (
    AbandonGuard,
    default_pacing,
    excess_moments,
    expected_excess,
)
from autoinformer.core.gates import DNC_RETRY, limits_next_allowed
from autoinformer.errors import PolicyError, SettingsError
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.pacing import BroadcastPacing, PredictivePacing, ProgressivePacing
from autoinformer.pacing.base import Observation, PacingObservation, PacingView
from autoinformer.policy.limits import ContactLimits
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.policy.zones import callee_zones
from autoinformer.queues.base import Operator
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.script import Script, menu, say, transfer
from autoinformer.sim.driver import simulate
from autoinformer.sim.model import PopulationModel

UTC = dt.UTC
TRANSFER = Script.of(
    say("Your debt is {BALANCE} RUB."),
    menu("Press 1 for an operator.", {"1": transfer("operators")}),
)
BROADCAST = Script.of(say("Your debt is {BALANCE} RUB."))
OPERATORS = QueueSettings(name="operators", operators=[Operator("anna", "PJSIP/101")])


def _campaign(**kw: object) -> Campaign:
    settings: dict[str, object] = {
        "name": "compliance",
        "timezone": "UTC",
        "script": BROADCAST,
        "lines": 3,
        "retry": RetryPolicy.simple(attempts=1),
    }
    settings.update(kw)
    return Campaign(**settings)  # type: ignore[arg-type]


def _contact(cid: str, *phones: str, **variables: str) -> Contact:
    return Contact(id=cid, phones=phones, variables={"BALANCE": "-5.00", **variables})


def _ts(*args: int) -> float:
    return dt.datetime(*args, tzinfo=UTC).timestamp()


# --- 1. safe calling hours by default ---------------------------------------------------------


def test_default_window_is_nine_to_eight_every_day_with_the_campaign_zone_as_fallback() -> None:
    window = _campaign(timezone="Europe/Moscow").window
    assert window.describe() == "mon-sun 09:00-20:00 (Europe/Moscow)"
    sunday_noon = dt.datetime(2026, 1, 4, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
    assert window.allows(sunday_noon)
    assert not window.allows(dt.datetime(2026, 1, 4, 17, 0, tzinfo=UTC))  # 20:00 Moscow


def test_a_call_at_night_in_the_callee_zone_waits_for_nine_there() -> None:
    start = _ts(2026, 1, 6, 10, 0)  # 10:00 UTC: 05:00 in New York, 13:00 in Moscow
    contacts = [_contact("ny", "+12125550101"), _contact("ru", "+79500000001")]
    result = simulate(_campaign(timezone="Europe/Moscow"), contacts, start=start)
    started = {r.contact_id: r.started_at for r in result.records}
    assert started["ru"] == pytest.approx(start, abs=1.0)  # inside the hours: at once
    assert started["ny"] == pytest.approx(_ts(2026, 1, 6, 14, 0), abs=1.0)  # 09:00 New York


def test_any_time_needs_an_explicit_opt_out() -> None:
    night = _ts(2026, 1, 6, 0, 30)  # 03:30 in Moscow
    contact = _contact("ru", "+79500000001")
    deferred = simulate(_campaign(timezone="Europe/Moscow"), [contact], start=night)
    assert deferred.records[0].started_at == pytest.approx(_ts(2026, 1, 6, 6, 0), abs=1.0)
    anytime = _campaign(window=CallWindow.any_time("Europe/Moscow"))
    assert simulate(anytime, [contact], start=night).records[0].started_at == night
    with pytest.raises(SettingsError) as info:
        _campaign(window=None)
    assert info.value.field == "window"
    assert "any_time" in info.value.message


def test_evolving_the_timezone_moves_the_default_window_and_keeps_a_given_one() -> None:
    moscow = _campaign(timezone="Europe/Moscow")
    assert moscow.window.timezone == ZoneInfo("Europe/Moscow")
    moved = attrs.evolve(moscow, timezone="America/New_York")
    assert moved.window == CallWindow.safe_default("America/New_York")
    # 10:00 in Moscow is 02:00 in New York: the default window must judge by the new zone
    # (a number of unknown zone falls back to it)
    morning_moscow = dt.datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
    assert moscow.window.allows(morning_moscow)
    assert not moved.window.allows(morning_moscow)
    # still the default: it follows a second change too
    assert attrs.evolve(moved, timezone="Asia/Tokyo").window.timezone == ZoneInfo("Asia/Tokyo")
    # a window the user gave is theirs, even when it is the safe default spelled out
    given_window = CallWindow.safe_default("Asia/Tokyo")
    tokyo = _campaign(window=given_window)
    assert attrs.evolve(tokyo, timezone="Europe/Paris").window.timezone == ZoneInfo("Asia/Tokyo")
    hours = CallWindow.parse(days="mon-fri", hours="10:00-18:00", timezone="Europe/Moscow")
    custom = attrs.evolve(_campaign(window=hours, timezone="Europe/Moscow"), timezone="UTC")
    assert custom.window == hours
    # the default window with a zone the user chose for it (attrs.evolve of the window) is
    # theirs too: neither the campaign nor a later change of its timezone moves it
    new_york = attrs.evolve(moscow.window, timezone=ZoneInfo("America/New_York"))
    assert _campaign(window=new_york, timezone="Europe/Moscow").window.timezone == new_york.timezone
    mine = attrs.evolve(moscow, window=new_york)
    assert mine.window.timezone == ZoneInfo("America/New_York")
    assert attrs.evolve(mine, timezone="Asia/Tokyo").window.timezone == new_york.timezone
    with pytest.raises(SettingsError) as info:
        attrs.evolve(moscow, timezone="Mars/Olympus")
    assert info.value.field == "timezone"


def _file(window: str = "", extra: str = "") -> dict[str, object]:
    import tomllib

    text = f"""
[campaign]
name = "file"
timezone = "Europe/Moscow"
{extra}
{window}
[[script]]
say = "Hello."
"""
    return tomllib.loads(text)


def test_campaign_file_window_defaults_safe_and_hours_any_opts_out() -> None:
    night = dt.datetime(2026, 1, 6, 0, 30, tzinfo=UTC)
    default = parse_campaign(_file(), base=Path(".")).campaign.window
    assert default == CallWindow.safe_default("Europe/Moscow")
    assert not default.allows(night)
    table = '[campaign.window]\nhours = "any"\nholidays = ["2026-01-07"]'
    opted = parse_campaign(_file(table), base=Path(".")).campaign.window
    assert opted.allows(night)
    assert opted.describe().startswith("mon-sun 00:00-24:00 (Europe/Moscow)")
    assert not opted.allows(dt.datetime(2026, 1, 7, 12, 0, tzinfo=UTC))  # holidays still hold


# --- 2. strict mode: the per-day cap holds in every zone of the number ------------------------


def test_per_day_cap_in_strict_mode_waits_for_the_new_day_in_every_zone() -> None:
    number = "+79500000003"  # a Russian mobile: 16 zones from UTC+2 to UTC+12; rings, no answer
    first = dt.datetime(2026, 1, 6, 11, 0, tzinfo=UTC)  # 13:00 Bucharest, 23:00 Kamchatka
    later = dt.datetime(2026, 1, 6, 13, 0, tzinfo=UTC)  # Jan 7 in the east, Jan 6 in the west
    zones = callee_zones(number, None, "UTC", later, strict=True)
    limits = ContactLimits(per_day=1)
    one_zone = limits.next_allowed([first], later, zones[0])
    assert one_zone is not None
    assert one_zone < dt.datetime(2026, 1, 6, 22, 0, tzinfo=UTC)
    midnight_west = dt.datetime(2026, 1, 6, 22, 0, tzinfo=UTC)  # 00:00 Jan 7 in Bucharest
    assert limits_next_allowed(limits, [first], later, zones) == midnight_west

    window = CallWindow.parse(hours="any", timezone="Europe/Moscow", strict=True)
    campaign = _campaign(
        window=window, limits=limits, retry=RetryPolicy.simple(attempts=2, interval="1m")
    )
    result = simulate(campaign, [_contact("east-west", number)], start=first.timestamp())
    assert [r.started_at for r in result.records] == pytest.approx(
        [first.timestamp(), midnight_west.timestamp()], abs=1.0
    )


# --- 3. the speech template's full check gates contacts ---------------------------------------


def test_a_value_the_script_cannot_speak_skips_the_contact_not_the_campaign() -> None:
    script = Script.of(say("Your debt is <currency>{BALANCE|abs} RUB</currency>, due {DUE}."))
    campaign = _campaign(script=script)
    contacts = [
        _contact("words", "+79500000001", BALANCE="a lot", DUE="Friday"),
        _contact("fine", "+79500000011", DUE="Friday"),
        Contact(id="nodue", phones=("+79500000021",), variables={"BALANCE": "-1"}),
    ]
    result = simulate(campaign, contacts)
    assert [r.contact_id for r in result.records] == ["fine"]
    assert result.records[0].outcome is Outcome.DELIVERED
    words = result.progress["words"]
    assert words.state is ContactState.SKIPPED
    assert "BALANCE" in words.reason
    assert "a lot" in words.reason
    assert result.progress["nodue"].state is ContactState.SKIPPED
    assert "DUE" in result.progress["nodue"].reason


def test_a_bad_date_span_is_skipped_with_the_reason() -> None:
    campaign = _campaign(script=Script.of(say("Please pay by <date>{DUE}</date>.")))
    contacts = [_contact("bad", "+79500000001", DUE="the 45th of Smarch")]
    result = simulate(campaign, contacts)
    assert result.records == ()
    assert result.progress["bad"].state is ContactState.SKIPPED
    assert "DUE" in result.progress["bad"].reason or "45th" in result.progress["bad"].reason


# --- 4. a do-not-call list that raises never escapes -----------------------------------------


class _FlakyList:
    """A do-not-call list whose backing file goes away for a while."""

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures, self.asked = error, failures, 0

    def blocks(self, number: str) -> bool:
        self.asked += 1
        if self.asked <= self.failures:
            raise self.error
        return number.endswith("9")


@pytest.mark.parametrize(
    "error", [OSError(5, "Input/output error"), PolicyError("the DNC service timed out")]
)
def test_a_failing_dnc_list_blocks_for_now_and_the_contact_is_retried(error: Exception) -> None:
    dnc = _FlakyList(error, failures=1)
    core = DialerCore(campaign=_campaign(), dnc=dnc)
    now = _ts(2026, 1, 6, 10, 0)
    out = core.handle(now, e.ContactsAdded((_contact("a", "+79500000001"),)))
    assert not any(isinstance(cmd, c.Originate) for cmd in out)  # never dialled on a guess
    saved = [cmd.progress for cmd in out if isinstance(cmd, c.SaveProgress)]
    assert saved
    assert saved[-1].state is ContactState.PENDING
    assert "do-not-call list unavailable" in saved[-1].reason
    assert core.dnc_errors == 1
    assert type(error).__name__ in core.dnc_last_error
    assert c.WakeAt(now + DNC_RETRY) in out
    again = core.handle(now + DNC_RETRY, e.Tick())
    assert [cmd.number for cmd in again if isinstance(cmd, c.Originate)] == ["+79500000001"]


class _HalfBrokenList:
    def blocks(self, number: str) -> bool:
        if number.endswith("1"):
            raise OSError("dnc.txt: No such file or directory")
        return False


def test_a_dnc_list_failing_on_one_number_lets_the_other_number_be_called() -> None:
    contact = _contact("two", "+79500000001", "+79500000010")
    result = simulate(_campaign(), [contact], dnc=_HalfBrokenList())
    assert [r.number for r in result.records] == ["+79500000010"]


def test_a_dnc_list_that_keeps_failing_never_calls_and_never_crashes() -> None:
    dnc = _FlakyList(OSError("gone"), failures=10**9)
    result = simulate(_campaign(), [_contact("a", "+79500000001")], dnc=dnc, until=_ts(2026, 1, 2))
    assert result.records == ()
    assert dnc.asked > 10  # asked again and again, a minute apart
    assert "unavailable" in result.progress["a"].reason


# --- 5. the abandon-rate cap over any pacing --------------------------------------------------


def _view(**kw: int) -> PacingView:
    fields: dict[str, float] = {"now": 0.0, "lines_free": 10, "agents_idle": 2}
    fields.update(kw)
    return PacingView(**fields)  # type: ignore[arg-type]


def _feed(guard: AbandonGuard, kind: Observation, n: int) -> None:
    for _ in range(n):
        guard.observe(PacingObservation(kind, 0.0))


def test_guard_limits_to_progressive_until_the_budget_covers_more() -> None:
    guard = AbandonGuard(inner=BroadcastPacing(), cap=0.03)
    assert guard.calls_to_launch(_view()) == 2  # nothing learnt: one call per idle operator
    assert guard.limited == 1
    # 1000 answered calls, one in ten asked for an operator, none abandoned: room to spare
    _feed(guard, Observation.DIALED, 2000)
    _feed(guard, Observation.ANSWERED, 1000)
    _feed(guard, Observation.NOT_ANSWERED, 1000)
    _feed(guard, Observation.TALK_ENDED, 1000)
    _feed(guard, Observation.CONNECTED, 100)
    assert guard.calls_to_launch(_view()) == 10
    _feed(guard, Observation.ABANDONED, 29)  # 29 of 1000: one more would pass 3%
    assert guard.rate() == pytest.approx(0.029)
    assert guard.calls_to_launch(_view()) == 2
    assert guard.calls_to_launch(_view(agents_idle=0)) == 0


def test_guard_never_raises_what_the_inner_policy_asks_for() -> None:
    guard = AbandonGuard(inner=ProgressivePacing(), cap=0.03)
    assert guard.calls_to_launch(_view(agents_idle=3, dialing=1)) == 2
    assert guard.limited == 0
    with pytest.raises(SettingsError) as info:
        AbandonGuard(inner=BroadcastPacing(), cap=1.5)
    assert info.value.field == "abandon_cap"


@pytest.mark.parametrize("cap", [-0.1, 1.01, "3%"])
def test_abandon_cap_is_validated(cap: object) -> None:
    with pytest.raises(SettingsError) as info:
        _campaign(abandon_cap=cap)
    assert info.value.field == "abandon_cap"


def test_default_pacing_is_progressive_when_the_script_transfers_and_guarded() -> None:
    transfers = _campaign(script=TRANSFER, queues=[OPERATORS])
    core = DialerCore(campaign=transfers)
    assert isinstance(core.pacing, AbandonGuard)
    assert isinstance(core.pacing.inner, ProgressivePacing)
    assert isinstance(default_pacing(transfers), ProgressivePacing)
    assert isinstance(DialerCore(campaign=_campaign()).pacing, BroadcastPacing)
    mine = PredictivePacing()
    guarded = DialerCore(campaign=transfers, pacing=mine).pacing
    assert isinstance(guarded, AbandonGuard)
    assert guarded.inner is mine
    opted = DialerCore(campaign=_campaign(script=TRANSFER, queues=[OPERATORS], abandon_cap=1.0))
    assert isinstance(opted.pacing, ProgressivePacing)
    data = _file(extra="abandon_cap = 0.02")
    data["script"] = [{"menu": "Press 1.", "options": {"1": "transfer:operators"}}]
    data["operators"] = [{"id": "anna", "endpoint": "PJSIP/101"}]
    spec = parse_campaign(data, base=Path("."))
    assert spec.campaign.abandon_cap == 0.02
    assert isinstance(spec.pacing(), ProgressivePacing)


def _answered_and_abandoned(outcomes: dict[str, int]) -> tuple[int, int]:
    answered = sum(
        outcomes[o.value]
        for o in (Outcome.DELIVERED, Outcome.HUNG_UP_EARLY, Outcome.TRANSFERRED, Outcome.ABANDONED)
    )
    return answered, outcomes[Outcome.ABANDONED.value]


@pytest.mark.parametrize("seed", [1, 3, 5])
def test_broadcast_pacing_with_transfers_stays_under_the_cap(seed: int) -> None:
    contacts = demo_contacts(300, seed)
    model = PopulationModel(seed=seed, digit_rates={"1": 0.3}, talk_median_s=60.0)
    guarded = simulate(demo_campaign(), contacts, model=model, pacing=BroadcastPacing())
    answered, abandoned = _answered_and_abandoned(guarded.outcomes())
    assert answered > 200
    assert abandoned <= 0.03 * answered
    # the same campaign with the guard turned off explicitly: far over the cap
    loose = attrs.evolve(demo_campaign(), abandon_cap=1.0)
    model = PopulationModel(seed=seed, digit_rates={"1": 0.3}, talk_median_s=60.0)
    unguarded = simulate(loose, contacts, model=model, pacing=BroadcastPacing())
    answered, abandoned = _answered_and_abandoned(unguarded.outcomes())
    assert abandoned > 0.06 * answered


def test_broadcast_without_operators_keeps_every_line_busy() -> None:
    contacts = [_contact(f"c{i}", f"+7950{i:07d}") for i in range(100)]
    result = simulate(_campaign(lines=7), contacts, model=PopulationModel(seed=2))
    edges = sorted(
        [(r.started_at, 1) for r in result.records]
        + [(r.ended_at or 0.0, -1) for r in result.records]
    )
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    assert peak == 7


@pytest.mark.parametrize("pacing", ["progressive", "predictive", "broadcast"])
def test_demo_shows_abandoned_at_or_under_three_percent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pacing: str
) -> None:
    store = str(tmp_path / "demo.sqlite")
    code = main(["demo", "--json", "--store", store, "--pacing", pacing, "--contacts", "300"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pacing"] == pacing
    assert summary["window"] == "mon-sun 09:00-20:00 (Europe/Moscow)"
    answered, abandoned = _answered_and_abandoned(summary["outcomes"])
    assert answered > 150
    assert abandoned <= 0.03 * answered
    assert summary["abandon_rate"] == pytest.approx(abandoned / answered, abs=1e-4)
    assert summary["wall_seconds"] < 30


def test_a_resumed_campaign_keeps_its_abandon_count() -> None:
    def record(i: int, outcome: Outcome) -> AttemptRecord:
        return AttemptRecord(
            attempt_id=f"a{i}",
            campaign="compliance",
            contact_id=f"c{i}",
            attempt_no=1,
            number=f"+7950{i:07d}",
            caller_id=None,
            started_at=_ts(2026, 1, 6, 9, 0),
            ended_at=_ts(2026, 1, 6, 9, 1),
            outcome=outcome,
        )

    outcomes = [Outcome.DELIVERED] * 90 + [Outcome.TRANSFERRED] * 5 + [Outcome.ABANDONED] * 5
    outcomes += [Outcome.NO_ANSWER] * 50
    entries = [
        e.RestoredContact(
            _contact(f"c{i}", f"+7950{i:07d}"),
            ContactProgress(contact_id=f"c{i}", state=ContactState.DONE, attempts=1),
            (record(i, outcome),),
        )
        for i, outcome in enumerate(outcomes)
    ]
    campaign = _campaign(script=TRANSFER, queues=[OPERATORS], lines=10)
    core = DialerCore(campaign=campaign, pacing=BroadcastPacing())
    core.handle(_ts(2026, 1, 6, 10, 0), e.ContactsRestored(entries))
    guard = core.pacing
    assert isinstance(guard, AbandonGuard)
    assert (guard.answers, guard.abandons, guard.requests) == (100, 5, 10)
    assert guard.rate() == pytest.approx(0.05)  # over the cap: no more than progressive
    assert guard.calls_to_launch(_view(lines_free=10, agents_idle=1)) == 1


def test_expected_excess_is_exact_for_independent_calls() -> None:
    def brute(waiting: int, live: int, q_live: float, ring: int, q_ring: float, idle: int) -> float:
        total = 0.0
        for asks in itertools.product([0, 1], repeat=live + ring):
            p = 1.0
            for k, ask in enumerate(asks):
                q = q_live if k < live else q_ring
                p *= q if ask else 1 - q
            total += p * max(0, waiting + sum(asks) - idle)
        return total

    for case in [(0, 3, 0.3, 2, 0.1, 1), (1, 2, 0.6, 4, 0.2, 2), (0, 0, 0.5, 6, 0.3, 3)]:
        assert expected_excess(*case) == pytest.approx(brute(*case), abs=1e-9)
    assert expected_excess(3, 0, 0.5, 0, 0.5, 1) == 2.0  # more waiting than idle operators


def test_excess_moments_are_exact_for_independent_calls() -> None:
    def brute(
        waiting: int, live: int, q_live: float, ring: int, q_ring: float, idle: int
    ) -> tuple[float, float]:
        first = second = 0.0
        for asks in itertools.product([0, 1], repeat=live + ring):
            p = 1.0
            for k, ask in enumerate(asks):
                q = q_live if k < live else q_ring
                p *= q if ask else 1 - q
            x = max(0, waiting + sum(asks) - idle)
            first += p * x
            second += p * x * x
        return first, second - first * first

    cases = [
        (0, 3, 0.3, 2, 0.1, 1),
        (1, 2, 0.6, 4, 0.2, 2),
        (0, 0, 0.5, 6, 0.3, 3),
        (3, 2, 0.5, 2, 0.4, 1),
    ]
    for case in cases:
        mean, var = excess_moments(*case)
        want_mean, want_var = brute(*case)
        assert mean == pytest.approx(want_mean, abs=1e-9)
        assert var == pytest.approx(want_var, abs=1e-9)


def _ringing_excess(ringing: int, q: float, idle: int) -> tuple[float, float]:
    """Mean and standard deviation of max(0, R - idle), R ~ Binomial(ringing, q), summed
    term by term over the whole distribution."""
    pmf = [math.comb(ringing, k) * q**k * (1 - q) ** (ringing - k) for k in range(ringing + 1)]
    mean = sum(p * max(0, k - idle) for k, p in enumerate(pmf))
    second = sum(p * max(0, k - idle) ** 2 for k, p in enumerate(pmf))
    return mean, math.sqrt(second - mean * mean)


def test_guard_keeps_the_spread_of_the_calls_in_flight_in_hand() -> None:
    """Many calls ringing: their expected excess fits the budget, their spread does not."""

    def fed(z: float) -> AbandonGuard:
        guard = AbandonGuard(inner=BroadcastPacing(), cap=0.03, z=z)
        _feed(guard, Observation.DIALED, 2000)
        _feed(guard, Observation.ANSWERED, 1000)
        _feed(guard, Observation.NOT_ANSWERED, 1000)
        _feed(guard, Observation.TALK_ENDED, 1000)
        _feed(guard, Observation.CONNECTED, 175)
        _feed(guard, Observation.ABANDONED, 25)
        _feed(guard, Observation.DIALED, 20)  # 20 calls ringing, nobody listening or waiting
        return guard

    view = _view(lines_free=100, agents_idle=2, dialing=20)
    budget = 0.03 * 1000 - 2.0 - 25  # 3 abandons left over the reserve
    q = (175 + 25 + 1) / (2000 + 1)  # requests over ended calls, as the guard learns it

    def largest(z: float) -> int:
        fitting = [
            n for n in range(101) if (m := _ringing_excess(20 + n, q, 2))[0] + z * m[1] <= budget
        ]
        return max(fitting)

    old, new = largest(0.0), largest(1.0)
    assert new < old  # the spread holds back launches the mean alone would allow
    assert fed(0.0).calls_to_launch(view) == old
    guard = fed(1.0)
    assert guard.calls_to_launch(view) == new
    assert guard.limited == 1
    # at the old count the excess's mean is in the budget, one standard deviation above it not
    mean, sd = _ringing_excess(20 + old, q, 2)
    assert mean <= budget < mean + sd


@pytest.mark.parametrize("z", [-0.5, math.inf, math.nan, "1", True])
def test_guard_z_is_validated(z: object) -> None:
    with pytest.raises(SettingsError) as info:
        AbandonGuard(inner=BroadcastPacing(), z=z)  # type: ignore[arg-type]
    assert info.value.field == "z"


def test_guard_counts_the_callees_still_listening_to_the_script() -> None:
    guard = AbandonGuard(inner=ProgressivePacing(), cap=0.03)
    _feed(guard, Observation.DIALED, 1)
    _feed(guard, Observation.ANSWERED, 1)  # answered, in the script: may press 1 any moment
    view = _view(agents_idle=1)
    assert ProgressivePacing().calls_to_launch(view) == 1  # progressive does not see them
    assert guard.calls_to_launch(view) == 0
    _feed(guard, Observation.TALK_ENDED, 1)  # the callee hung up without asking
    assert guard.calls_to_launch(view) == 1


def test_one_busy_operator_and_many_pressing_1_stay_under_the_cap() -> None:
    campaign = demo_campaign()
    one = attrs.evolve(campaign.queues["operators"], operators=(Operator("anna", "PJSIP/101"),))
    campaign = attrs.evolve(campaign, queues=[one])
    contacts = demo_contacts(400, 2)

    def model() -> PopulationModel:
        return PopulationModel(seed=2, digit_rates={"1": 0.6}, talk_median_s=60.0)

    guarded = simulate(campaign, contacts, model=model(), pacing=BroadcastPacing())
    answered, abandoned = _answered_and_abandoned(guarded.outcomes())
    assert answered > 250
    assert abandoned <= 0.03 * answered
    # plain progressive pacing alone is not enough here: the listeners press 1 later
    loose = attrs.evolve(campaign, abandon_cap=1.0)
    plain = simulate(loose, contacts, model=model(), pacing=ProgressivePacing())
    answered, abandoned = _answered_and_abandoned(plain.outcomes())
    assert abandoned > 0.06 * answered


def test_a_campaign_held_back_by_an_operator_in_wrap_up_carries_on() -> None:
    # progressive pacing launches nothing while the only operator is in wrap-up; the core
    # must ask again later, not stall with contacts never called
    desk = QueueSettings(name="operators", operators=[Operator("anna", "PJSIP/101")], wrapup=30)
    campaign = _campaign(script=TRANSFER, queues=[desk])
    contacts = [_contact(f"t{i}", f"+795{i:07d}8") for i in range(5)]  # each presses 1
    result = simulate(campaign, contacts)
    assert [r.outcome for r in result.records] == [Outcome.TRANSFERRED] * 5
    assert result.states() == {"done": 5}


_ZONES = ["Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Kamchatka"]


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 3 * 24 * 60), min_size=0, max_size=6),
    at=st.integers(0, 4 * 24 * 60),
    zone_names=st.lists(st.sampled_from(_ZONES), min_size=1, max_size=4, unique=True),
    per_day=st.integers(1, 3),
)
def test_limits_in_every_zone_hold_at_the_answer_and_not_before(
    offsets: list[int], at: int, zone_names: list[str], per_day: int
) -> None:
    base = dt.datetime(2026, 3, 1, tzinfo=UTC)
    history = [base + dt.timedelta(minutes=m) for m in offsets]
    now = base + dt.timedelta(minutes=at)
    zones = [ZoneInfo(name) for name in zone_names]
    limits = ContactLimits(per_day=per_day, per_7_days=None)
    found = limits_next_allowed(limits, history, now, zones)
    assert found is not None
    assert found >= now
    assert all(limits.allows(history, found, zone) for zone in zones)
    just_before = found - dt.timedelta(seconds=1)
    if just_before >= now:  # the first such moment: a second earlier some zone objects
        assert not all(limits.allows(history, just_before, zone) for zone in zones)
