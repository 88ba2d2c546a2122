"""Predictive pacing: launch calls so operators wait as little as possible, under an abandon cap.

How it decides (docs/pacing.md has the long version):

1. It learns online, from the calls it sees, the answer probability ``p`` (discounted, so it
   follows drift), the ring-time distribution of answered calls, when unanswered calls are
   released (the longest an unanswered call lasted: a busy line that ends at once says nothing
   about how long a ringing call may still answer), and the operators' mean talk time
   (``TALK_ENDED``; a call ending with no operator talk, ``ENDED``, frees no operator). It needs no
   scenario parameters. An answer that machine detection then reports as a machine
   (``Observation.MACHINE``) is taken back from all of them and from the live answers the
   abandon budget counts: a machine never reaches an operator, so it is no demand for one,
   and the cap is a share of live answers.
2. At each decision it counts the operators *supply* expected free within the look-ahead ``L``
   (the mean ring time of answered calls): idle ones, those in wrap-up, and the talking ones
   that will have finished (``talking * L / mean talk``, the renewal rate), and the *demand*:
   callees waiting plus the expected answers from the calls already ringing (each call's answer
   probability given how long it has rung, from the ring-time distribution).
3. It launches the largest ``n`` for which ``demand + n p + z sd <= supply`` (a normal bound on
   the answers exceeding the operators; ``sd`` includes the ``n`` new calls), never fewer than
   progressive would.
4. ``z`` is set by an integral controller on the campaign's pooled abandon count: every abandon
   above the set point (``aim * max_abandon_rate`` of live answers) makes it more careful, every
   answer below it bolder. Its prior grows with the team; a large team's prior starts steep and
   settles over its first thousand answers or so (cautious while the budget is small, then
   spending what the cautious start saved). A brake adds to ``z`` in proportion to how far the
   campaign's remaining abandon budget (``max_abandon_rate * answers - abandons``) has fallen
   below a few abandons, so a burst (a rising answer rate the estimate has not caught up with,
   the first minutes of a large team) is damped before the budget is gone. A hard guard falls
   back to progressive (which cannot abandon) while the budget is under half an abandon, so a
   small team's few answers never let an unlucky run end over the cap. A team under 20
   operators also keeps in hand the abandons its calls in flight are expected to bring (at the
   recent answer rate if that is higher), and cuts a launch to what its budget can absorb.

5. The release valve (``release_after``, 15 s by default, never less): just before each launch
   decision, while the answers expected within the next ten seconds or so (callees waiting and
   the ringing calls, each by its age) plus a margin of ``release_share * z`` standard
   deviations exceed the operators free by then, it asks the driver to hang up calls that have
   rung ``release_after`` seconds, the youngest of them first. A released call is censored
   data: it counts as its probability of answering in the answer rate and the ring times.

Every call is O(1) amortised: the sum over ringing calls is refreshed at most once per virtual
second and adjusted incrementally in between.
"""

from __future__ import annotations

import bisect
import collections
import math

import attrs

from autoinformer.errors import SettingsError
from autoinformer.pacing._checks import fraction, non_negative, positive
from autoinformer.pacing._raw import RawPacing, clamp
from autoinformer.pacing._tally import LiveAnswers
from autoinformer.pacing.base import (
    MIN_RELEASE_AFTER,
    Observation,
    check_release_after,
)
from autoinformer.pacing.estimators import DiscountedMean, DiscountedRate, RingHistogram
from autoinformer.pacing.hourly import HourBudget, RecentAnswerRate, expected_overflow

__all__ = ["PredictivePacing"]

_DIALED = Observation.DIALED
_ANSWERED = Observation.ANSWERED
_NOT_ANSWERED = Observation.NOT_ANSWERED
_TALK_ENDED = Observation.TALK_ENDED
_ABANDONED = Observation.ABANDONED
_CONNECTED = Observation.CONNECTED
_RELEASED = Observation.RELEASED
_MACHINE = Observation.MACHINE
_ROW_PAD = 1024
_HEARD = 4096  # recent answers kept to match a machine verdict with (minutes of answers)


def _release_floor(instance: object, attribute: object, value: float | None) -> None:
    if value is not None:  # None: the valve is shut
        check_release_after(value)


def _trials_or_none(instance: object, attribute: object, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise SettingsError("pacing.small_recent_trials", f"must be calls >= 1, got {value!r}")


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class PredictivePacing(RawPacing):
    """Predictive pacing with an abandon-rate cap (3% of live answers by default).

    Attributes:
        max_abandon_rate: the cap on abandoned / live answers for the campaign (US FCC, UK Ofcom:
            3%).
        aim: the highest set point of the controller, as a fraction of the cap.
        headroom: binomial standard deviations of the abandon rate kept below the cap.
        gain: how much one abandon above the set point raises the safety margin ``z``.
        z_start: the safety margin before the controller has learnt anything.
        z_team_slope: how the prior margin grows with the team, per ``ln(operators / 20)``
            (larger teams abandon in larger bursts; ``z_small_factor`` times this below 20).
        z_small_factor: the prior's slope below 20 operators as a share of ``z_team_slope``,
            once the team has seen answers: a small office settles bolder (3 operators: ``z``
            0.7 where 0.6, the factor until #18, kept it at 1.4 all shift, 2 points below the
            UCCX-style baseline), its few abandons checked by the guard and the brake.
        z_small_start: that share at the first answer (0.6, as before #18): a small team's
            first hour has a budget of one or two abandons, which a bold start would spend
            on its first burst (1-hour runs of 2, 3 and 5 operators then end over 3%).
        small_settle_answers: answers over which a small team's share moves from
            ``z_small_start`` to ``z_small_factor`` (an exponential time constant; 0: at once).
        z_team_slope_settled: the slope a team above 20 settles to as answers come in: a large
            team starts cautious, while its budget is a few abandons and its estimates young,
            then relaxes towards this, so the budget saved at the start is spent later.
        settle_answers: answers over which that slope relaxes (an exponential time constant).
        brake: how much ``z`` rises per abandon the remaining budget is below ``brake_below``.
        small_brake: the brake a team under 20 operators eases to over its first
            ``small_brake_answers`` answers, valve open only (#18); ``None`` (the default):
            the ``brake``, no easing. A 4-hour shift of 2-3 operators runs under ``brake_below``
            nearly all shift, and 0.2 gains it 0.5 points (2 operators, asked every second as
            the core asks, 60 seeds) on a steady answer rate; but on an answer rate that
            moves (2-5 operators on the DROP and RISE schedules, or S5's swing in an hour)
            20 of 720 runs ended over 3% (worst 6.25%) against 2 with the full brake, even
            with ``small_in_flight`` (benchmarks/results/pacing_small_teams.md).
        brake_below: the remaining abandon budget (in abandons) under which the brake acts.
        guard: fall back to progressive while fewer than this many abandons remain in budget.
        small_guard: the guard for a team under 20 operators; ``None`` (the default): ``guard``.
            1.0 means "one more abandon still ends the campaign within the cap": on the
            moving-answer-rate runs (2-5 operators, DROP, RISE, RING60, S5 in 1 h; 720 runs)
            1 ended over 3% against 2, but a team that earns its budget slowly (RISE's first
            two hours at p=0.08) dials progressively for hours: 4 points lower there.
        small_in_flight: a team under 20 operators keeps in hand, besides ``guard``, the
            abandons its calls in flight are expected to bring (their answers over the
            operators free until the last of them answers, shifted by this many standard
            deviations before the expected positive part is taken; #18), and a launch is cut
            to what the campaign budget can still absorb with it; ``None``: neither (before
            #18). Valve open only (shut, it was level). The guard and the launch only, not the
            brake (on the brake too it cost 2 operators half a point). On the 720
            moving-answer-rate runs (2-5 operators; benchmarks/pacing/small_teams.py) 2 ended
            over 3% (worst 3.03%) against 7 (worst 3.68%), with T2-T5 and S2 level.
        small_recent_trials: with ``small_in_flight``, the in-flight answers are priced at the
            larger of the answer rate and the share answered of this many last calls: the
            rate remembers ``memory`` calls, a small team's shift, and lags a rising answer
            rate for hours (most of the runs over 3% were RISE and S5 swings); ``None``: the
            answer rate alone.
        warmup: resolved calls to see (dialling progressively) before predicting.
        warmup_answers: answers to see before predicting: the first calls to resolve are the
            answered ones (the unanswered ring out later), so the first estimates of the answer
            rate are noisy and biased; with 15 answers its relative error is about a quarter.
            (With the default ``guard`` the budget asks for 17 anyway; this keeps a policy
            without the guard, as in the benchmark's fixed-``z`` sweeps, from over-dialling on
            an unlucky first handful of calls.)
        memory: trials the answer-rate estimate remembers (drift tracking).
        release_after: the release valve: a call still ringing after this many seconds (never
            under 15, the US and UK rule) may be hung up when more answers are coming within the
            next seconds than operators to take them; ``None`` never releases.
        release_share: the valve's margin as a share of the launch margin ``z``: it releases
            while ``answers expected + release_share * z * sd`` exceeds the operators free in
            its horizon (like the launch rule, but over the next seconds only). Tied to ``z``,
            the controller that sets the launch margin sets the valve's too.
        small_release_share: ``release_share`` for a team under 20 operators (#18); ``None``
            (the default): the same. 0.75 halves a small team's releases asked every second (as the
            dialer core asks) for 0.2-0.4 points more occupancy (2-5 operators, 60 seeds), but
            at the simulator's events it is level on 60 seeds and 0.3-0.4 points lower on the
            stress benchmark's ten (T3, T5), and on an answer rate that moves 14 of the 720
            runs above ended over 3% (worst 4.17%): not a clear win, so an option.
        release_z: standard deviations added to the valve's margin (on top of the share).
        release_look_extra: seconds added to the valve's horizon on the operators' side (an
            answer at the end of the horizon can still wait this long for an operator).
        abandon_hourly_cap: also keep abandons under this share of the live answers within
            every clock hour (``now // 3600``; an abandon counts in the hour its callee
            answered), not only over the campaign; ``None`` (the default): the campaign's cap
            only. The guard and the brake act on the smaller of the campaign's and the hour's
            remaining budgets (:class:`~autoinformer.pacing.hourly.HourBudget`); the option
            costs occupancy (benchmarks/pacing/stress.py measures it).
        hourly_trust: the share of the answers still expected in the hour (at its pace so
            far) that the hour's budget counts before they come (0: only those counted, every
            hour starts progressive).
        hourly_guard: fall back to progressive while fewer than this many abandons remain in
            the hour's budget (the calls already ringing can still abandon once the hour's
            budget is spent, and an hour has no later answers to dilute them).
        abandon_hour_ceiling: by default, no clock hour is let past this share of its live
            answers either (5%): the guard falls back to progressive while the hour's budget at
            this share (:class:`~autoinformer.pacing.hourly.HourBudget`) is under ``guard``.
            A ceiling, not a cap: it binds on a small team, whose hour is a hundred answers and
            whose abandons come in bursts (5 operators: a worst hour of 6.2% without it, 4.8%
            with it); a large team's hours stay far below it. ``None``: no ceiling.
        ceiling_in_flight: the ceiling's budget keeps in hand the abandons the calls in flight
            are expected to bring (as ``hourly_in_flight`` for the hourly cap: their excess
            answers over the operators free until the last of them answers, shifted by this
            many standard deviations before its expected positive part is taken), and a launch
            is cut to what the hour can absorb with them (#18). Blind to them (``None``, as
            before), hours ended past the ceiling: a launch the rule found safe enough brought
            a burst that spent a small team's hour at once (3 operators, asked every second,
            60 seeds: worst hour 7.0%, 40 hours of 240 over 4%; with 2.5: 5.9%, 3; before #18
            6.2%, 11). It cost 3 operators 1.2 points of occupancy, 2 operators 1.8 and S2's
            5 operators 0.9 (``ceiling_trust`` then 0.5; at 0.9 it gives back 0.6-0.9 of
            them); 20 operators and more are unchanged (benchmarks/pacing/
            worst_hour.py; 2.0 left 3 operators' worst hour at 7.0%). Not in the campaign's
            first minute, while the hour has no pace to project.
        ceiling_trust: the share of the answers still expected in the hour (at its pace so far)
            that the ceiling's budget counts before they come (``hourly_trust`` for the
            ceiling; 0.5, that one's, until #18's fourth session). A ceiling, not a cap: the
            hour's answers come at its pace, and counting half of them held a small team's
            hour at about half its budget until its last minutes, while ``ceiling_in_flight``
            already keeps the bursts of the calls in flight out. At 0.9 (60 seeds, asked every
            second; seeds 0-59 and 100-159) 2 operators gain 0.6 points, 3 operators 0.7-0.9
            and 5 operators 0.3, and no worst hour is above before #18's (benchmarks/pacing/
            worst_hour.py); at 1.0, 3 operators' worst hour reached 6.2-6.4%. With the valve
            open only: shut, ``shut_ceiling_trust``.
        shut_ceiling_trust: ``ceiling_trust`` with the valve shut (0.5, as before): nothing
            takes back a burst then, and at 0.9 one of 3 operators' 60 seeds ended its shift
            at 3.03% (T3; 2.94% at 0.5).
        hourly_headroom: with the hourly cap, the set point keeps this many binomial standard
            deviations of an *hour's* abandon rate (at the answers an hour brings) below the
            cap, so the controller aims where a single hour rarely goes over.
        hourly_floor: with the hourly cap, project the answers still to come in the hour at
            no more than the pace progressive dialling brings (the guard's fallback): an hour
            that spends its budget at a predictive pace and then falls back gets only those
            (50 operators at p=0.05: a quarter of the pace; hours ended at 3.8%).
        hourly_in_flight: with the hourly cap, the hour's budget keeps in hand the abandons
            the calls in flight are expected to bring (their excess answers over the operators
            free until the last of them answers, shifted by this many standard deviations
            before its expected positive part is taken), and a launch is cut to what the
            hour can still absorb with it; ``None``: neither (the hourly guard alone). 3 (2
            until the simulator asked every second, as the core asks): at 2, an hour of 100
            operators (S3, valve open) or of a poor list with the valve shut (L50, S4, DROP,
            RING60) ended an abandon over, a burst the normal bound put at a few hundredths;
            at 3 a team of 5 keeps to about progressive (1.5 points under 2's).
        hourly_fast_memory: with the hourly cap, the in-flight abandons use the larger of the
            answer rate and one that forgets over this many calls (an answer rate that has
            just risen shows there first); ``None``: the answer rate alone.
        hourly_recent_window: with the hourly cap, the in-flight abandons and the launch cut
            also use the answer rate of the calls launched in the last this many seconds,
            counted from their answers so far against their ages
            (:class:`~autoinformer.pacing.hourly.RecentAnswerRate`), when it is above the rate
            by more than ``hourly_recent_z`` standard deviations of its count: it sees a rise
            within a ring time, where a rate over resolved calls waits for the ring-outs and
            its memory (RISE, 0.08 -> 0.35 at 2 h, valve shut: the hour of the step ended at
            3.5-5.5%); ``None``: not used.
        hourly_recent_z: the evidence that rate needs (standard deviations, Poisson).
        hourly_after_wrapup: with the hourly cap and the valve shut, the in-flight abandons
            count a talking operator free within their look only if the talk ends a wrap-up
            before its end (the launch rule's supply counts the talk's end: over its few
            seconds of look its controller learns the bias from the abandons, but the hour's
            reserve looks until the last call in flight answers, some 27 s, and learns
            nothing; with 10 s of wrap-up it counted 40 talking operators as nine free where
            six are, and the bursts it let through ended L50's hours over 3%). ``False``: as
            before.
        hourly_level_window: with the hourly cap and the valve shut, the in-flight abandons and
            the launch cut never price a call under the answer rate of the calls launched in
            the last ``hourly_recent_window`` plus this many seconds, raised by
            ``hourly_level_z`` standard deviations of its answers (Poisson): a rate the last
            minutes' answers do not rule out. The answer rate remembers ``memory`` calls: at
            50 operators and p=0.05 half a minute of dialling, some fifty answers, so one
            time in twenty it is a quarter under the rate; the launch rule then dials a
            quarter too many, and the hour's reserve, priced at the same rate, let them go
            (L50, valve shut: 10 of 240 hours over 3%, worst 4.1%). ``None``: not used. The
            valve open hangs up such a surplus, and is left as it was.
        hourly_level_z: the standard deviations added to that level (0: the level itself).
        hourly_shut_in_flight: with the valve shut, ``hourly_in_flight`` is raised by this
            times ``ln(shut_answer_rate / p)`` while the answer rate ``p`` is under
            ``shut_answer_rate`` (1.5 at p=0.05, 0.9 at 0.1, none from 0.25): nothing takes
            back a burst then, the lower the answer rate the more calls ring per answer, and
            the normal bound on their answers is a whole-look total, blind to answers that
            bunch before the operators free up. L50 with the two fixes above, 30 seeds: at
            3, 4 of 240 hours over 3% (bursts of 7-13 abandons in a minute); at 4, none, but
            1 of 240 on seeds 100-129 (3.05%); at 4.5, none on either, and 1.5 points more
            occupancy than at 3 (fewer hours spent progressive after a burst). Raised at
            every answer rate, it cost S1 and S6 (p=0.3) 1.7 points for hours already at
            2.6% at most.
        shut_z_offset: with the valve shut (``release_after=None``) only, ``z`` is raised by
            this times ``ln(shut_answer_rate / p)`` while the learnt answer rate ``p`` is under
            ``shut_answer_rate`` (#18). The prior is set with the valve open, which hangs up
            a burst's surplus: the fewer of the calls ringing answer, the more of them the valve
            has to hang up, and shut, the more the margin must carry (a fixed margin read at
            3%: 0.47 higher than open at p=0.1, 0.29 at p=0.3). Learnt from below, it climbs by
            a step an abandon, several in a burst, and swings about the margin it needs;
            started nearer it, S4 (p=0.1) gains about a point, 50 operators at p=0.05 two
            (benchmarks/pacing/shut_controller.py). 0: the
            controller as before; the valve open and the hourly cap are never touched (with
            the cap the worst hour of RISE rose from 2.7% to 3.8%, of DROP from 2.9% to 3.2%).
        shut_answer_rate: the answer rate under which ``shut_z_offset`` acts (at p=0.3, as S1,
            a uniform raise costs 0.2-0.4 points: the controller there already spends the
            budget).
    """

    max_abandon_rate: float = attrs.field(default=0.03, validator=fraction("max_abandon_rate"))
    aim: float = attrs.field(default=0.97, validator=fraction("aim"))
    headroom: float = 1.0
    gain: float = 0.05
    z_start: float = 1.85
    z_team_slope: float = 0.4
    z_small_factor: float = 1.5
    z_small_start: float = 0.6
    small_settle_answers: float = attrs.field(
        default=100.0, validator=non_negative("small_settle_answers")
    )
    z_team_slope_settled: float = 0.1
    settle_answers: float = attrs.field(default=1000.0, validator=positive("settle_answers"))
    talk_warmup: int = 200
    z_min: float = -1.5
    z_max: float = 5.0
    brake: float = attrs.field(default=0.4, validator=non_negative("pacing.brake"))
    small_brake: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(non_negative("pacing.small_brake"))
    )
    small_brake_answers: float = attrs.field(
        default=30.0, validator=non_negative("pacing.small_brake_answers")
    )
    brake_below: float = attrs.field(default=3.0, validator=non_negative("pacing.brake_below"))
    guard: float = 0.5
    small_guard: float | None = None
    small_in_flight: float | None = 1.0
    small_recent_trials: int | None = attrs.field(
        default=100,
        validator=_trials_or_none,
    )
    warmup: int = 20
    warmup_answers: int = 15
    memory: float = 500.0
    release_after: float | None = attrs.field(default=15.0, validator=_release_floor)
    release_z: float = 0.0
    release_share: float = 1.0
    small_release_share: float | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(non_negative("pacing.small_release_share")),
    )
    release_look_extra: float = 2.0
    abandon_hourly_cap: float | None = attrs.field(default=None)
    hourly_trust: float = attrs.field(default=0.5, validator=non_negative("hourly_trust"))
    hourly_guard: float = 2.0
    abandon_hour_ceiling: float | None = 0.05
    ceiling_in_flight: float | None = 2.5
    ceiling_trust: float = attrs.field(default=0.9, validator=non_negative("ceiling_trust"))
    shut_ceiling_trust: float = attrs.field(
        default=0.5, validator=non_negative("shut_ceiling_trust")
    )
    hourly_headroom: float = 1.5
    hourly_floor: bool = True
    hourly_in_flight: float | None = 3.0
    hourly_fast_memory: float | None = 100.0
    hourly_recent_window: float | None = 60.0
    hourly_recent_z: float = 2.0
    hourly_level_window: float | None = 240.0
    hourly_level_z: float = 1.0
    hourly_shut_in_flight: float = 0.95
    hourly_after_wrapup: bool = True

    shut_z_offset: float = 0.3
    shut_answer_rate: float = attrs.field(
        default=0.25, validator=fraction("pacing.shut_answer_rate")
    )

    patience: float = 2.0
    look_extra: float = -4.0

    _p: DiscountedRate = attrs.field(init=False)
    _ring: RingHistogram = attrs.field(init=False, factory=RingHistogram)
    _talk: DiscountedMean = attrs.field(init=False, factory=DiscountedMean)
    _wrap: DiscountedMean = attrs.field(init=False, factory=lambda: DiscountedMean(prior=0.0))
    _wrap_starts: list[float] = attrs.field(init=False, factory=list)
    # the longest an unanswered call lasted (the ring timeout): the answer-by-age table's length
    _no_answer_after: float = attrs.field(init=False, default=30.0)
    _launches: list[float] = attrs.field(init=False, factory=list)
    _live: LiveAnswers = attrs.field(init=False, factory=LiveAnswers)  # the abandon budget's
    # recent answers (time, ring seconds, answer-rate trials then), for a machine verdict
    _heard: collections.deque[tuple[float, float, int]] = attrs.field(
        init=False, factory=lambda: collections.deque(maxlen=_HEARD)
    )
    # _row[k]: P(a ringing call will be answered | it has rung k seconds), padded with zeros
    _row: list[float] = attrs.field(init=False, factory=list)
    _row_stale: int = attrs.field(init=False, default=1 << 30)
    _ringing: float = attrs.field(init=False, default=0.0)  # expected answers of ringing calls
    _ringing_at: float = attrs.field(init=False, default=-1e18)
    # _row_h[k]: P(answer within the valve's horizon | rung k s); _ringing_h: their sum
    _row_h: list[float] = attrs.field(init=False, factory=list)
    _ringing_h: float = attrs.field(init=False, default=0.0)
    _horizon: float = attrs.field(init=False, default=10.0)
    # launch times of the calls asked to be released and not reported RELEASED yet
    _pending: list[float] = attrs.field(init=False, factory=list)
    _p_now: float = attrs.field(init=False, default=0.3)
    _look: float = attrs.field(init=False, default=15.0)
    _wrap_mean: float = attrs.field(init=False, default=0.0)
    _team: int = attrs.field(init=False, default=-1)
    _talk_done: float = attrs.field(init=False, default=0.0)
    _talk_started_sum: float = attrs.field(init=False, default=0.0)
    _talking: int = attrs.field(init=False, default=0)
    _z_prior: float = attrs.field(init=False, default=2.0)
    _log_team: float = attrs.field(init=False, default=0.0)  # ln(operators / 20) above 20
    _log_small: float = attrs.field(init=False, default=0.0)  # ln(operators / 20) below 20
    _gain_now: float = attrs.field(init=False, default=0.05)
    _z: float = attrs.field(init=False, default=2.0)
    _hourly: HourBudget | None = attrs.field(init=False, default=None)  # abandon_hourly_cap
    _ceiling: HourBudget | None = attrs.field(init=False, default=None)
    _now: float = attrs.field(init=False, default=0.0)  # the latest time seen
    _in_flight: float = attrs.field(init=False, default=0.0)  # abandons the ringing calls owe
    _p_fast: DiscountedRate | None = attrs.field(init=False, default=None)  # the hourly cap's
    _if_excess: float = attrs.field(init=False, default=0.0)
    _if_var: float = attrs.field(init=False, default=0.0)
    _if_p: float = attrs.field(init=False, default=0.3)
    _ring_last: float = attrs.field(init=False, default=25.0)  # the longest answered ring
    _cf_excess: float = attrs.field(init=False, default=0.0)  # the ceiling's calls in flight
    _cf_var: float = attrs.field(init=False, default=0.0)
    _cf_on: bool = attrs.field(init=False, default=False)  # priced by the ceiling's test
    _recent: RecentAnswerRate | None = attrs.field(init=False, default=None)  # the hourly cap's
    _recent_cdf: list[float] = attrs.field(init=False, factory=list)
    _recent_row: list[float] | None = attrs.field(init=False, default=None)
    _recent_counts: tuple[float, float] = attrs.field(init=False, default=(0.0, 0.0))
    # a small team's campaign budget: abandons the calls in flight owe it (small_in_flight)
    _owed: float = attrs.field(init=False, default=0.0)
    _owed_excess: float = attrs.field(init=False, default=0.0)
    _owed_var: float = attrs.field(init=False, default=0.0)
    _owed_p: float = attrs.field(init=False, default=0.3)

    def __attrs_post_init__(self) -> None:
        if self.memory < 10:
            raise SettingsError("pacing.memory", f"must be >= 10 calls, got {self.memory}")
        cap = _share_or_none("pacing.abandon_hourly_cap", self.abandon_hourly_cap)
        if cap is not None:
            self._hourly = HourBudget(cap=cap, trust=self.hourly_trust, carry=False)
        ceiling = _share_or_none("pacing.abandon_hour_ceiling", self.abandon_hour_ceiling)
        if ceiling is not None:
            shut = self.release_after is None
            trust = self.shut_ceiling_trust if shut else self.ceiling_trust
            self._ceiling = HourBudget(cap=ceiling, trust=trust)
        self._p = DiscountedRate(memory=self.memory)
        if cap is not None and self.hourly_fast_memory is not None:
            self._p_fast = DiscountedRate(memory=self.hourly_fast_memory)
        if cap is not None and self.hourly_recent_window is not None:
            level = self.hourly_level_window if self.release_after is None else None
            self._recent = RecentAnswerRate(window=self.hourly_recent_window, level=level or 0.0)

    # -- learning -------------------------------------------------------------------------
    def note(self, kind: Observation, now: float, seconds: float) -> None:
        self._now = now
        if kind is _DIALED:
            self._launches.append(now)
            if self._recent is not None:
                self._recent.launched(now)
            if self._row:
                self._ringing += self._row[0]
                self._ringing_h += self._row_h[0]
        elif kind is _ANSWERED:
            self._resolve(now - seconds)
            self._p.add(True)
            if self._p_fast is not None:
                self._p_fast.add(True)
            if self._recent is not None:
                self._recent.answered(now - seconds)
            self._ring.add(seconds)
            self._heard.append((now, seconds, self._p.count))
            self._live.note(kind)
            if self._hourly is not None:
                self._hourly.count(now, kind)
            if self._ceiling is not None:
                self._ceiling.count(now, kind)
            self._row_stale += 1
            self._update_z()
        elif kind is _NOT_ANSWERED:
            self._resolve(now - seconds)
            self._p.add(False)
            if self._p_fast is not None:
                self._p_fast.add(False)
            if seconds > self._no_answer_after:  # a busy line ends at once: not the timeout
                self._no_answer_after = seconds
            self._row_stale += 1
        elif kind is _TALK_ENDED:  # an operator's talk (ENDED, a call without one, is not)
            self._talk.add(seconds)
            self._talk_done += seconds
            if self._talking > 0:  # (after its CONNECTED, unless a driver skipped that)
                self._talk_started_sum -= now - seconds
                self._talking -= 1
                self._wrap_starts.append(now)
        elif kind is _CONNECTED:
            self._talk_started_sum += now
            self._talking += 1
        elif kind is _ABANDONED:
            self._live.note(kind)
            if self._hourly is not None:  # the hour its callee answered in
                self._hourly.count(now - seconds, kind)
            if self._ceiling is not None:
                self._ceiling.count(now - seconds, kind)
            self._update_z()
        elif kind is _RELEASED:
            self._released(now, seconds)
        elif kind is _MACHINE:
            self._machine(now - seconds)

    def _machine(self, answered_at: float) -> None:
        """The answer heard at ``answered_at`` was a machine: not a live answer.

        It leaves the live answers the abandon budget and the controller count (the cap is a
        share of live answers), and it becomes a failure in the answer rate and leaves the
        ring times: the rate predicts the demand for operators, and a machine never reaches
        one (counted, a campaign with many machines would dial as if they needed operators).
        The answer is the one heard nearest ``answered_at`` (answers heard at the same moment
        are alike to the estimates).
        """
        self._live.note(_MACHINE)
        if self._hourly is not None:
            self._hourly.count(answered_at, _MACHINE)
        if self._ceiling is not None:
            self._ceiling.count(answered_at, _MACHINE)
        heard = self._heard
        best = -1
        gap = math.inf
        for i in range(len(heard) - 1, -1, -1):  # the verdict comes seconds after: scan back
            d = abs(heard[i][0] - answered_at)
            if d < gap:
                best, gap = i, d
            elif heard[i][0] < answered_at:
                break
        if best >= 0:
            _, ring, trials = heard[best]
            del heard[best]
            self._p.retract(self._p.count - trials)
            self._ring.remove(ring)
        self._row_stale += 1
        self._update_z()

    def _budget(self, now: float) -> float:
        """Abandons left in budget: the campaign's, or the clock hour's (less the extra guard
        it keeps, ``hourly_guard - guard``) if that is smaller."""
        budget = self.max_abandon_rate * self._live.answers - self._live.abandons
        if self._hourly is not None:
            floor = self._progressive_pace(now) if self.hourly_floor else None
            hourly = self._hourly.remaining(now, floor) - self.hourly_guard + self.guard
            hourly -= self._in_flight
            if hourly < budget:
                return hourly
        return budget

    def _progressive_pace(self, now: float) -> float:
        """Live answers per second that progressive dialling (the guard's fallback) brings.

        Each operator dials one call at a time: a connect takes ``(1 - p) / p`` unanswered
        calls of the longest unanswered ring, plus the answered ring, the talk and the wrap-up.
        Every term is on the long side (the longest unanswered ring, the talk infinite before
        one ended), so it is a floor: the hourly cap's projection of the answers still to come
        in the hour never counts more (:meth:`HourBudget.remaining`).
        """
        p = self._p.value
        if p <= 0.0 or self._team <= 0:
            return 0.0
        cycle = (1.0 - p) / p * self._no_answer_after + self._ring.mean
        cycle += self._mean_talk(now) + self._wrap_mean
        return self._team / cycle

    def _note_in_flight(
        self, now: float, waiting: int, idle: int, wrapup: int, talking: int
    ) -> None:
        """The hourly cap: abandons the calls ringing now are expected to bring.

        Until the last of them answers (the longest answered ring, plus the callee's patience)
        the answers expected of them and the callees waiting, against the operators free by
        then; ``hourly_in_flight`` standard deviations (``hourly_shut_in_flight`` more with
        the valve shut) are added to the excess before its expected positive part is taken
        (0: the plain expectation).
        """
        if self.hourly_in_flight is None:
            self._in_flight = 0.0
            return
        k = self._hour_k()
        look = self._ring_last + self.patience
        supply, var = self._supply(now, idle, wrapup, talking, look)
        if self.hourly_after_wrapup and self.release_after is None:
            supply, var = self._after_wrapup(now, supply, var, talking, look)
        ringing = self._ringing if self._ringing > 0.0 else 0.0
        p = self._hour_p(now)
        if p > self._p_now:  # answers rising faster than the answer rate follows
            ringing *= p / self._p_now
        n = len(self._launches)
        if n:
            ringing = min(ringing, float(n))
            var += ringing * (1.0 - ringing / n)
        sd = math.sqrt(var) if var > 0.0 else 0.0
        self._in_flight = expected_overflow(waiting + ringing - supply + k * sd, sd)
        self._if_excess, self._if_var = waiting + ringing - supply, var
        self._if_p = p

    def _after_wrapup(
        self, now: float, supply: float, var: float, talking: int, look: float
    ) -> tuple[float, float]:
        """The hourly cap, valve shut: a talking operator counts as free within ``look`` only
        if the talk ends a wrap-up before it (``_supply`` counts the talk's end).

        The launch rule's look is a few seconds, and its controller learns any bias of its
        supply from the abandons; the hour's reserve looks until the last of the calls in
        flight answers (some 27 s) and learns nothing: with 10 s of wrap-up it counted 40
        talking operators (2 min talks) as nine free where six are, three answers on an
        excess whose standard deviation is about 3.5, and bursts of a dozen abandons ended
        hours over 3% (L50, valve shut).
        """
        talk = self._mean_talk(now)
        f = look / talk
        g = (look - self._wrap_mean) / talk
        f = 1.0 if f > 1.0 else f
        g = 1.0 if g > 1.0 else g if g > 0.0 else 0.0
        return supply - talking * (f - g), var - talking * (f * (1.0 - f) - g * (1.0 - g))

    def _hour_p(self, now: float) -> float:
        """The answer rate the hourly cap prices the calls in flight at: the estimate, or
        one that follows faster (``hourly_fast_memory``), or that of the latest launches
        (``hourly_recent_window``) when they show more answers than the estimate explains by
        ``hourly_recent_z`` standard deviations, whichever is largest; with the valve shut,
        never under the level of the calls launched in the last few minutes raised by
        ``hourly_level_z`` standard deviations (``hourly_level_window``)."""
        p = self._p_now
        fast = self._p_fast
        if fast is not None and fast.value > p:
            p = fast.value
        recent = self._recent
        if recent is not None:
            if self._recent_row is not self._row:  # the ring times were re-read
                surv = self._ring.survival_table()
                self._recent_cdf = [1.0 - x for x in surv]
                self._recent_row = self._row
            answers, seen = recent.counts(now, self._recent_cdf)
            self._recent_counts = (answers, seen)
            if seen > 0.0:
                base = self._p_now * seen
                if answers > base + self.hourly_recent_z * math.sqrt(base) and answers > p * seen:
                    p = answers / seen
            if recent.level > 0.0:  # the valve shut: not under the level of the latest launches
                answers, seen = recent.level_counts(now, self._recent_cdf)
                high = answers + self.hourly_level_z * math.sqrt(answers)
                if seen > 0.0 and high > p * seen:
                    p = high / seen
        return p if p < 1.0 else 1.0

    def _recent_high(self) -> float:
        """The highest answer rate the latest launches allow (an upper bound at
        ``hourly_recent_z`` standard deviations of their answers, Poisson), 1 with none.

        The hour prices the calls it launches now at this: their abandons cannot be taken
        back, and after a progressive spell (each hour's first minute, or a budget run low)
        the launch rule dials dozens at once at a rate the latest launches may not bear out
        (RISE: 41 calls at 0.08 a minute after the rise, one answer of eight launches seen).
        A few launches bound the rate loosely, so the batch is small, and as their answers
        come the bound closes on the rate: a ramp, not a leap.
        """
        answers, seen = self._recent_counts
        if seen <= 0.0:
            return 1.0
        z = self.hourly_recent_z
        high = (answers + z * z / 2.0 + z * math.sqrt(answers + z * z / 4.0)) / seen
        return high if high < 1.0 else 1.0

    def _answered_by(self, seconds: float) -> float:
        """``F(seconds)``: the share of answered calls that answer within ``seconds``."""
        surv = self._ring.survival_table()
        k = int(seconds) if seconds > 0.0 else 0
        return 1.0 - surv[k] if k < len(surv) else 1.0

    def _released(self, now: float, seconds: float) -> None:
        """A call hung up after ringing ``seconds``: censored, neither answered nor not.

        It counts as ``P(answer | rung seconds)`` of an answer in the answer rate, and that
        weight goes to the ring-time tail beyond ``seconds`` (so releasing the calls that have
        rung long biases neither the rate nor the ring-time distribution).
        """
        self._resolve(now - seconds, prefer_pending=True)  # the driver counts rings its own way
        q = self._answer_given_rung(seconds)
        self._p.add_fraction(q)
        if self._p_fast is not None:
            self._p_fast.add_fraction(q)
        if self._recent is not None:
            self._recent.released(now - seconds, self._answered_by(seconds))
        self._ring.add_tail(seconds, q)
        self._row_stale += 1

    def _answer_given_rung(self, seconds: float) -> float:
        """``P(answer | rung seconds)`` from the current estimates."""
        p = self._p.value
        surv = self._ring.survival_table()
        k = int(seconds) if seconds > 0.0 else 0
        s = surv[k] if k < len(surv) else 0.0
        if k + 1 < len(surv):  # linear inside the bin
            s += (surv[k + 1] - s) * (seconds - k)
        alive = p * s
        return alive / (alive + 1.0 - p) if alive > 0.0 else 0.0

    def _resolve(self, launched_at: float, *, prefer_pending: bool = False) -> None:
        """Forget the ringing call launched at ``launched_at`` (the nearest one), among the
        calls counted and those a release decision set aside (``_pending``, their answers
        already taken off: the driver may release fewer, and one may end before the next
        decision); on a tie a counted one, unless ``prefer_pending`` (a release)."""
        launches = self._launches
        pending = self._pending
        i = -1
        if launches:
            i = bisect.bisect_left(launches, launched_at - 1e-6)
            if i >= len(launches):
                i = len(launches) - 1
            elif i > 0 and launched_at - launches[i - 1] < launches[i] - launched_at:
                i -= 1
        if pending:
            k = min(range(len(pending)), key=lambda j: abs(pending[j] - launched_at))
            gap = abs(pending[k] - launched_at)
            near = abs(launches[i] - launched_at) if i >= 0 else math.inf
            if gap < near or (prefer_pending and gap <= near):
                del pending[k]
                return
        if i < 0:
            return
        if self._row:
            age = int(self._ringing_at - launches[i])
            if age < 0:
                age = 0
            self._ringing -= self._row[age]
            self._ringing_h -= self._row_h[age]
        del launches[i]

    def _refresh_row(self) -> None:
        p = self._p.value
        surv = self._ring.survival_table()
        size = len(surv)
        # the valve's horizon: until the last answers of the calls old enough to release
        after = self.release_after if self.release_after is not None else MIN_RELEASE_AFTER
        last = next((k for k in range(size) if surv[k] <= 0.01), size)
        h = max(1, round(last - after))
        self._horizon = float(h)
        self._ring_last = float(last)
        row = []
        row_h = []
        for k in range(int(self._no_answer_after) + 1):
            alive = surv[k] if k < size else 0.0
            alive_answer = p * alive
            den = alive_answer + 1.0 - p
            row.append(alive_answer / den if alive_answer > 0 else 0.0)
            later = surv[k + h] if k + h < size else 0.0
            row_h.append(p * (alive - later) / den if alive_answer > 0 else 0.0)
        row.extend([0.0] * _ROW_PAD)
        row_h.extend([0.0] * _ROW_PAD)
        self._row = row
        self._row_h = row_h
        self._row_stale = 0
        self._p_now = p if p > 0.005 else 0.005
        self._look = self._ring.mean + self.look_extra
        self._ringing_at = -1e18  # force a full recount

    def _recount(self, now: float) -> None:
        """Expected answers of the ringing calls, from their ages (C-level loops only)."""
        try:
            if self.release_after is None:
                self._ringing = sum(
                    map(self._row.__getitem__, map(int, map(now.__sub__, self._launches)))
                )
            else:
                ages = list(map(int, map(now.__sub__, self._launches)))
                self._ringing = sum(map(self._row.__getitem__, ages))
                self._ringing_h = sum(map(self._row_h.__getitem__, ages))
        except IndexError:  # a call rang for longer than the table covers (odd driver timing)
            size = len(self._row)
            ages = [min(size - 1, max(0, int(now - s))) for s in self._launches]
            self._ringing = sum(self._row[k] for k in ages)
            self._ringing_h = sum(self._row_h[k] for k in ages)
        self._ringing_at = now

    # -- deciding -------------------------------------------------------------------------
    @property
    def set_point(self) -> float:
        """The abandon rate the controller aims at now.

        The cap less ``headroom`` binomial standard deviations of the rate at the answers seen
        so far (so a small team, whose final rate is noisier, aims lower), and never above
        ``aim`` times the cap.
        """
        cap = self.max_abandon_rate
        answers = self._live.answers if self._live.answers > 1 else 1
        headroom = self.headroom
        if self._hourly is not None:  # an hour's rate is as noisy as an hour's answers make it
            cap = min(cap, self._hourly.cap)
            answers = min(answers, max(1, round(self._hourly.hour_answers(self._now))))
            headroom = max(headroom, self.hourly_headroom)
        rate = cap - headroom * math.sqrt(cap * (1.0 - cap) / answers)
        top = self.aim * cap
        return top if rate > top else rate if rate > 0.0 else 0.0

    @property
    def safety(self) -> float:
        """The current safety margin ``z`` (standard deviations of answers over operators).

        A prior that grows with the team (the mismatch between when answers arrive and when
        operators free up grows with the flow of calls; above 20 operators it starts steep and
        settles as answers come in), corrected by the integral of abandons above the set point,
        per abandon less for larger teams (they abandon in larger bursts), plus the brake while
        fewer than ``brake_below`` abandons remain in budget.
        """
        return self._z

    def _update_z(self) -> None:
        prior = self._z_prior
        if self._log_team > 0.0:  # a large team: cautious at first, settling as answers come
            settled = self.z_team_slope_settled
            left = math.exp(-self._live.answers / self.settle_answers)
            prior = self.z_start + (settled + (self.z_team_slope - settled) * left) * self._log_team
        elif self._log_small < 0.0 and self.small_settle_answers > 0.0:
            # a small team: as cautious as before #18 at first, bolder as answers come in
            start, bold = self.z_small_start, self.z_small_factor
            grown = 1.0 - math.exp(-self._live.answers / self.small_settle_answers)
            prior = self.z_start + self.z_team_slope * (start + (bold - start) * grown) * (
                self._log_small
            )
        live = self._live
        z = prior + self._gain_now * (live.abandons - self.set_point * live.answers)
        short = self.brake_below - self._budget(self._now)
        if short > 0.0:  # the brake: the budget is nearly spent, damp the burst now
            z += self._brake_now() * short
        z += self._shut_correction(short)
        self._z = self.z_min if z < self.z_min else self.z_max if z > self.z_max else z

    def _brake_now(self) -> float:
        """The brake per abandon short: a small team's moves from ``brake`` to ``small_brake``
        over its first answers (``small_brake_answers``, an exponential time constant)."""
        small = self.small_brake
        if small is None or self._log_small >= 0.0 or self.release_after is None:
            return self.brake
        if self.small_brake_answers <= 0.0:
            return small
        left = math.exp(-self._live.answers / self.small_brake_answers)
        return small + (self.brake - small) * left

    def _shut_correction(self, short: float) -> float:
        """What the valve shut adds to ``z`` (0 with the valve open): ``shut_z_offset`` times
        ``ln(shut_answer_rate / p)`` while the answer rate ``p`` learnt is under
        ``shut_answer_rate``.

        The prior is set for the valve open, which hangs up the surplus of a burst of answers;
        shut, the surplus abandons, several callees at once, and the integral (and the brake
        while ``short``, the abandons the budget is under ``brake_below``, is positive) climbs
        by that many steps at once and comes down over the next half hour: learnt from below,
        the margin swings about the one it needs and its low swings make the next burst. The
        lower the answer rate, the more calls ring per answer and the larger the surplus the
        valve would have hung up, so the further the prior is from the shut valve's margin.
        (``short`` is unused here; variants in benchmarks/pacing/shut_controller.py act on it.)
        """
        if self.release_after is not None or self._hourly is not None:
            return 0.0  # (with the hourly cap, RISE's and DROP's worst hours rose 1.1, 0.3)
        p = self._p.value
        ref = self.shut_answer_rate
        return self.shut_z_offset * math.log(ref / p) if 0.0 < p < ref else 0.0

    def _team_changed(self, logged_in: int) -> None:
        self._team = logged_in
        ratio = max(1, logged_in) / 20.0
        slope = self.z_team_slope if ratio >= 1.0 else self.z_team_slope * self.z_small_factor
        self._z_prior = self.z_start + slope * math.log(ratio)
        self._log_team = math.log(ratio) if ratio > 1.0 else 0.0
        self._log_small = math.log(ratio) if ratio < 1.0 else 0.0
        self._gain_now = self.gain / math.sqrt(ratio)
        self._update_z()

    @property
    def answer_rate(self) -> float:
        """The current estimate of the answer probability."""
        return self._p.value

    @property
    def talk_mean(self) -> float:
        """The operators' mean talk time learnt (s, over ~400 talks; 120 before any ended)."""
        return self._talk.mean

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
        n = idle - dialing - waiting  # progressive: the floor
        if logged_in != self._team:
            self._team_changed(logged_in)
        warm = self._p.count >= self.warmup and self._live.answers >= self.warmup_answers
        if warm and self._hourly is not None:  # (estimates before the warm-up: stale tables)
            self._catch_up(now, dialing)
            self._note_in_flight(now, waiting, idle, wrapup, talking)
        owes = warm and self._owes_in_flight()
        if owes:
            self._note_owed(now, dialing, waiting, idle, wrapup, talking)
        if (
            warm
            and self._budget(now) - (self._owed if owes else 0.0) >= self._guard_now()
            and self._under_ceiling(now, dialing, waiting, idle, wrapup, talking)
        ):
            predicted = self._predict(now, dialing, waiting, idle, wrapup, talking)
            if predicted > n and self._hourly is not None and self.hourly_in_flight is not None:
                predicted = self._hour_affords(now, predicted)
            if predicted > n and owes:
                predicted = self._campaign_affords(now, predicted)
            predicted = self._ceiling_affords(now, predicted, n)
            if predicted > n:
                n = predicted
        return clamp(n, lines_free)

    def _under_ceiling(
        self, now: float, dialing: int, waiting: int, idle: int, wrapup: int, talking: int
    ) -> bool:
        """Whether the hour ceiling lets the launch rule predict: its budget at
        ``abandon_hour_ceiling``, less the abandons the calls in flight are expected to bring
        (``ceiling_in_flight``; not while the hour has no pace to project), is at least
        ``guard``. It leaves the calls in flight priced for :meth:`_ceiling_affords`."""
        ceiling = self._ceiling
        self._cf_on = False
        if ceiling is None:
            return True
        left = ceiling.remaining(now)
        if left < self.guard:
            return False
        if self.ceiling_in_flight is None or not _projects(ceiling, now):
            return True
        self._cf_on = True
        return left - self._ceiling_owed(now, dialing, waiting, idle, wrapup, talking) >= self.guard

    def _ceiling_owed(
        self, now: float, dialing: int, waiting: int, idle: int, wrapup: int, talking: int
    ) -> float:
        """Abandons the calls ringing now (and the callees waiting) are expected to bring:
        the expected positive part of their answers, until the last of them answers (the
        longest answered ring plus the callee's patience), over the operators free by then,
        shifted by ``ceiling_in_flight`` standard deviations."""
        self._catch_up(now, dialing)
        supply, var = self._supply(now, idle, wrapup, talking, self._ring_last + self.patience)
        ringing = self._ringing if self._ringing > 0.0 else 0.0
        n = len(self._launches)
        if n:
            ringing = min(ringing, float(n))
            var += ringing * (1.0 - ringing / n)
        sd = math.sqrt(var) if var > 0.0 else 0.0
        k = self.ceiling_in_flight or 0.0
        self._cf_excess, self._cf_var = waiting + ringing - supply, var
        return expected_overflow(waiting + ringing - supply + k * sd, sd)

    def _ceiling_affords(self, now: float, launch: int, floor: int) -> int:
        """The largest launch, up to ``launch`` and no fewer than ``floor`` (progressive's),
        whose calls together with those in flight owe the hour no more abandons than the
        ceiling's budget has left above ``guard`` (the ceiling's test, :meth:`_under_ceiling`,
        priced the calls in flight just before). The launch rule weighs the answers against
        the operators with a margin of ``z``; a small team's hour has a budget of two or three
        abandons, and a launch the rule finds safe enough can still bring a burst that spends
        it all at once."""
        ceiling = self._ceiling
        k = self.ceiling_in_flight
        if launch <= floor or ceiling is None or k is None or not self._cf_on:
            return launch
        avail = ceiling.remaining(now) - self.guard
        return _affordable(self._cf_excess, self._cf_var, self._p_now, k, avail, floor, launch)

    def _guard_now(self) -> float:
        """The campaign guard: ``small_guard`` for a team under 20 operators, if set."""
        if self.small_guard is not None and self._log_small < 0.0:
            return self.small_guard
        return self.guard

    def _owes_in_flight(self) -> bool:
        """Whether the campaign budget keeps in hand the in-flight calls' abandons (a team
        under 20 operators with ``small_in_flight`` set, valve open).

        Not with the valve shut: there the launch rule is another's (#18's shut-valve work),
        and on the 720 moving-answer-rate runs it was level (53 over 3% against 55)."""
        return (
            self.small_in_flight is not None
            and self._log_small < 0.0
            and self.release_after is not None
        )

    def _note_owed(
        self, now: float, dialing: int, waiting: int, idle: int, wrapup: int, talking: int
    ) -> None:
        """The abandons the calls in flight are expected to bring the campaign (``_owed``).

        Until the last of them answers (the longest answered ring plus the callee's
        patience), the callees waiting and the ringing calls' expected answers against the
        operators free by then, shifted by ``small_in_flight`` standard deviations before
        the expected positive part is taken (:func:`expected_overflow`). A small team's
        budget is a few abandons: a launch at half an abandon left whose burst then lands
        ends a short run over the cap.
        """
        self._catch_up(now, dialing)
        look = self._ring_last + self.patience
        supply, var = self._supply(now, idle, wrapup, talking, look)
        ringing = self._ringing if self._ringing > 0.0 else 0.0
        p = self._p_now
        recent = self._recent_rate()
        if recent > p:  # the answer rate has risen faster than the estimate follows
            ringing *= recent / p
            p = recent
        self._owed_p = p
        count = len(self._launches)
        if count:
            ringing = min(ringing, float(count))
            var += ringing * (1.0 - ringing / count)
        excess = waiting + ringing - supply
        self._owed_excess, self._owed_var = excess, var
        self._owed = _owed(excess, var, self.small_in_flight or 0.0)

    def _recent_rate(self) -> float:
        """The share answered of the last ``small_recent_trials`` calls resolved (0: unset).

        The answer rate remembers ``memory`` calls: a small team's whole shift. When the rate
        rises (0.08 -> 0.35, or S5's swing) it lags for hours, and the launches it prices
        bring bursts of answers; the recent window shows the rise first. Counted from the
        answers heard (each noted with the trial count it came at), so no second estimator.
        """
        k = self.small_recent_trials
        if k is None or self._p.count < k:
            return 0.0
        since = self._p.count - k
        heard = self._heard
        answered = 0
        for i in range(len(heard) - 1, -1, -1):
            if heard[i][2] <= since:
                break
            answered += 1
        return answered / k

    def _campaign_affords(self, now: float, launch: int) -> int:
        """The largest launch, up to ``launch``, after which the campaign's budget less the
        abandons all the calls in flight are expected to bring still keeps the guard."""
        avail = self._budget(now) - self._guard_now()
        k = self.small_in_flight or 0.0
        return _affordable(self._owed_excess, self._owed_var, self._owed_p, k, avail, 0, launch)

    def _hour_affords(self, now: float, launch: int) -> int:
        """The largest launch, up to ``launch``, whose calls together with those ringing owe the
        hour no more abandons than its budget has left (``hourly_guard`` kept in hand).

        The launch rule weighs the next seconds; this weighs the hour: once the calls are
        dialled their abandons are the hour's (with the valve shut, for certain). At the
        first minute of an hour after a progressive spell, the rule can launch dozens of calls
        at once; if the answer rate has just risen the estimate has not, and the batch
        arrives as a burst the hour cannot absorb.
        """
        hourly = self._hourly
        assert hourly is not None
        floor = self._progressive_pace(now) if self.hourly_floor else None
        avail = hourly.remaining(now, floor) - self.hourly_guard
        excess, var, p = self._if_excess, self._if_var, self._if_p
        if self._recent is not None:
            high = self._recent_high()
            if high > p:
                p = high
        return _affordable(excess, var, p, self._hour_k(), avail, 0, launch)

    def _hour_k(self) -> float:
        """The hour's in-flight shift: ``hourly_in_flight``, plus with the valve shut
        ``hourly_shut_in_flight * ln(shut_answer_rate / p)`` while ``p`` is under it."""
        k = self.hourly_in_flight or 0.0
        if self.release_after is not None:
            return k
        p, ref = self._p.value, self.shut_answer_rate
        return k + self.hourly_shut_in_flight * math.log(ref / p) if 0.0 < p < ref else k

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
        """The release valve: how many of the calls rung ``release_after`` s or more to hang up.

        Over the next few seconds (until the last answers of the calls old enough to release
        arrive) it compares the demand, callees waiting plus the answers the ringing calls are
        expected to give in that time, with the supply, operators idle, ending their wrap-up or
        (at the renewal rate) their talk in that time plus ``release_look_extra``. While the
        demand plus a margin (``release_share * z + release_z`` standard deviations of the
        difference) exceeds the supply it releases eligible calls, the youngest first (the
        order the driver follows), each taking its ``P(answer | rung a)`` off the demand. The
        calls it asks to release are forgotten at once, so the launch decision that follows
        already counts without them. Never before the estimates are in (the warm-up).
        """
        after = self.release_after
        if (
            after is None
            or not dialing
            or self._p.count < self.warmup
            or self._live.answers < self.warmup_answers
        ):
            return 0
        if logged_in != self._team:
            self._team_changed(logged_in)
        self._catch_up(now, dialing)
        launches = self._launches
        if len(launches) != dialing:  # the driver does not report DIALED: no ages to go by
            return 0
        j = bisect.bisect_right(launches, now - after)
        while j > 0 and now - launches[j - 1] < after:
            j -= 1
        if j == 0:
            return 0
        supply, var = self._supply(
            now, idle, wrapup, talking, self._horizon + self.release_look_extra
        )
        ringing = self._ringing_h if self._ringing_h > 0.0 else 0.0
        var += ringing * (1.0 - ringing / dialing)
        excess = waiting + ringing - supply
        share = self.release_share
        if self.small_release_share is not None and self._log_small < 0.0:
            share = self.small_release_share
        z = self.release_z + share * self._z
        if excess + z * math.sqrt(var if var > 0.0 else 0.0) <= 0.0:
            return 0
        row, row_h, at = self._row, self._row_h, self._ringing_at
        top = j
        least = 0
        if self._hourly is not None:
            least = max(0, top - self._hour_release_limit(dialing, waiting, idle))
        while j > least and excess + z * math.sqrt(var if var > 0.0 else 0.0) > 0.0:
            j -= 1
            q = row[int(now - launches[j])]
            excess -= q
            var -= q * (1.0 - q)
            age = int(at - launches[j])
            if age < 0:
                age = 0
            self._ringing -= row[age]
            self._ringing_h -= row_h[age]
        released = top - j
        self._pending.extend(launches[j:top])
        del launches[j:top]
        return released

    @staticmethod
    def _hour_release_limit(dialing: int, waiting: int, idle: int) -> int:
        """The hourly cap: release only calls beyond those an idle operator already covers.

        While the hour's budget holds the launch to progressive the margin ``z`` is at its
        brake's height, and the valve, tied to it, would hang up the very calls progressive
        dialling makes, each with an idle operator waiting for it (2 operators asked every
        second: 49 releases per operator-hour, 3 points under progressive). A call that an
        idle operator covers cannot be abandoned, so releasing it buys the hour nothing.
        """
        spare = dialing + waiting - idle
        return spare if spare > 0 else 0

    def _catch_up(self, now: float, dialing: int) -> None:
        """Bring the answer-by-age table and the ringing calls' expected answers up to date."""
        if self._row_stale >= 64 or not self._row:
            self._refresh_row()
        launches = self._launches
        if self._pending:  # the driver released fewer than asked: those calls still ring
            for t in self._pending:
                bisect.insort(launches, t)
            self._pending.clear()
            self._ringing_at = -1e18
        if len(launches) > dialing:  # calls ended without an observation: forget the oldest
            del launches[: len(launches) - dialing]
            self._ringing_at = -1e18
        if now - self._ringing_at >= 1.0:
            self._recount(now)

    def _predict(
        self, now: float, dialing: int, waiting: int, idle: int, wrapup: int, talking: int
    ) -> int:
        self._catch_up(now, dialing)
        p = self._p_now
        look = self._look
        supply, var = self._supply(now, idle, wrapup, talking, look)
        if len(self._launches) == dialing:
            ringing = self._ringing
            if ringing < 0.0:
                ringing = 0.0
            if dialing:
                var += ringing * (1.0 - ringing / dialing)
        else:  # the driver does not report DIALED: treat the calls as fresh
            ringing = dialing * p
            var += ringing * (1.0 - p)
        return _largest_launch(supply - waiting - ringing, var, p, self._z, 1.0 - p)

    def _supply(
        self, now: float, idle: int, wrapup: int, talking: int, look: float
    ) -> tuple[float, float]:
        """Operators expected free within ``look`` seconds, and the variance of that count.

        Idle ones; those in wrap-up whose (learnt) wrap-up time ends in time; and each talking
        one with probability ``look / mean talk`` (the renewal rate of a busy operator).
        """
        starts = self._wrap_starts
        if len(starts) > wrapup:
            while len(starts) > wrapup:  # the oldest left wrap-up: learn how long it took
                self._wrap.add(now - starts.pop(0))
            self._wrap_mean = self._wrap.mean
        f = look / self._mean_talk(now)
        if f > 1.0:
            f = 1.0
        supply = idle + talking * f
        if starts:
            supply += bisect.bisect_right(starts, now + look - self._wrap_mean)
        return supply, talking * f * (1.0 - f)

    def _mean_talk(self, now: float) -> float:
        """Mean talk time; early on, corrected for the calls still in progress.

        The first talks to end are the short ones, so a plain mean of the first few is far too
        low. Until enough have ended, use the censored estimate (completed talk time plus the
        time the ongoing calls have run so far, per completed call), which the long calls in
        progress pull up. Before any talk has ended it is infinite: the talking operators count
        as not freeing up, which is safe and lets prediction start without waiting for a talk
        to end (on a large team the first ends take a minute of mostly idle operators).
        """
        talk = self._talk
        if talk.count >= self.talk_warmup:
            return talk.total / talk.weight
        if not talk.count:
            return math.inf
        ongoing = self._talking * now - self._talk_started_sum
        return (self._talk_done + max(0.0, ongoing)) / talk.count


def _projects(hour: HourBudget, now: float) -> bool:
    """Whether the hour's budget projects its answers to come (past its first ``settle``
    seconds, or at the last hour's pace): before that, in the campaign's first minute, it
    counts the answers counted only (some twenty: a budget of one abandon at 5%), and the
    abandons a large team's first calls in flight might bring would hold it back for no
    hour's sake (100 operators: its first minute's dozens of calls; the campaign's guard
    holds that minute)."""
    return hour.last_hour_answers > 0 or now - hour.hour * 3600.0 >= hour.settle


def _share_or_none(field: str, value: object) -> float | None:
    """A share of live answers strictly between 0 and 1, or None; else a SettingsError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < 1.0:
        raise SettingsError(
            field,
            f"must be a share of live answers between 0 and 1 (exclusive), or None, got {value!r}",
        )
    return float(value)


def _owed(excess: float, var: float, k: float) -> float:
    """Abandons expected of answers exceeding the operators by a normal ``excess`` with
    variance ``var``, its mean shifted up by ``k`` standard deviations."""
    sd = math.sqrt(var) if var > 0.0 else 0.0
    return expected_overflow(excess + k * sd, sd)


def _affordable(
    excess: float, var: float, p: float, k: float, avail: float, lo: int, hi: int
) -> int:
    """The largest launch ``n`` in ``[lo, hi]`` whose calls, with those already in flight
    (answers over the operators a normal ``excess`` with variance ``var``), owe no more than
    ``avail`` abandons (:func:`_owed`, shifted ``k`` standard deviations); ``lo`` if none.

    Each new call adds ``p`` to the excess and ``p (1 - p)`` to its variance, so what is owed
    grows with ``n``: bisect. The campaign's budget (a small team), the hour ceiling and the
    hourly cap each cut a launch this way, each with its own budget and reserve.
    """
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _owed(excess + mid * p, var + mid * p * (1.0 - p), k) <= avail:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _largest_launch(margin: float, var: float, p: float, z: float, unit_var: float) -> int:
    """The largest n with ``n p + z sqrt(var + n p unit_var) <= margin`` (0 if none)."""
    if unit_var <= 1e-9:
        n = margin / p
        return int(n) if n > 0 else 0
    # with x = sqrt(var + n p v): x^2 + v z x - (var + v margin) <= 0
    c = var + unit_var * margin
    if c <= 0.0:
        return 0
    x = (-unit_var * z + math.sqrt(unit_var * unit_var * z * z + 4.0 * c)) / 2.0
    n = (x * x - var) / (p * unit_var)
    return int(n) if n > 0 else 0
