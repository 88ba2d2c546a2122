# Vendored unchanged from commit 5f6004e^ (before #18): see __init__.py.
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
   small team's few answers never let an unlucky run end over the cap.

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
from autoinformer.pacing._raw import RawPacing, clamp, view_args
from autoinformer.pacing.base import (
    MIN_RELEASE_AFTER,
    Observation,
    PacingView,
    check_release_after,
)
from autoinformer.pacing.estimators import DiscountedMean, DiscountedRate, RingHistogram

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
            (larger teams abandon in larger bursts; 0.6 times this below 20 operators).
        z_team_slope_settled: the slope a team above 20 settles to as answers come in: a large
            team starts cautious, while its budget is a few abandons and its estimates young,
            then relaxes towards this, so the budget saved at the start is spent later.
        settle_answers: answers over which that slope relaxes (an exponential time constant).
        brake: how much ``z`` rises per abandon the remaining budget is below ``brake_below``.
        brake_below: the remaining abandon budget (in abandons) under which the brake acts.
        guard: fall back to progressive while fewer than this many abandons remain in budget.
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
        release_z: standard deviations added to the valve's margin (on top of the share).
        release_look_extra: seconds added to the valve's horizon on the operators' side (an
            answer at the end of the horizon can still wait this long for an operator).
    """

    max_abandon_rate: float = attrs.field(default=0.03, validator=fraction("max_abandon_rate"))
    aim: float = attrs.field(default=0.97, validator=fraction("aim"))
    headroom: float = 1.0
    gain: float = 0.05
    z_start: float = 1.85
    z_team_slope: float = 0.4
    z_team_slope_settled: float = 0.1
    settle_answers: float = attrs.field(default=1000.0, validator=positive("settle_answers"))
    talk_warmup: int = 200
    z_min: float = -1.5
    z_max: float = 5.0
    brake: float = attrs.field(default=0.4, validator=non_negative("pacing.brake"))
    brake_below: float = attrs.field(default=3.0, validator=non_negative("pacing.brake_below"))
    guard: float = 0.5
    warmup: int = 20
    warmup_answers: int = 15
    memory: float = 500.0
    release_after: float | None = attrs.field(default=15.0, validator=_release_floor)
    release_z: float = 0.0
    release_share: float = 1.0
    release_look_extra: float = 2.0

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
    _answers: int = attrs.field(init=False, default=0)  # live: ANSWERED less MACHINE
    # recent answers (time, ring seconds, answer-rate trials then), for a machine verdict
    _heard: collections.deque[tuple[float, float, int]] = attrs.field(
        init=False, factory=lambda: collections.deque(maxlen=_HEARD)
    )
    _abandons: int = attrs.field(init=False, default=0)
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
    _gain_now: float = attrs.field(init=False, default=0.05)
    _z: float = attrs.field(init=False, default=2.0)

    def __attrs_post_init__(self) -> None:
        if self.memory < 10:
            raise SettingsError("pacing.memory", f"must be >= 10 calls, got {self.memory}")
        self._p = DiscountedRate(memory=self.memory)

    # -- learning -------------------------------------------------------------------------
    def note(self, kind: Observation, now: float, seconds: float) -> None:
        if kind is _DIALED:
            self._launches.append(now)
            if self._row:
                self._ringing += self._row[0]
                self._ringing_h += self._row_h[0]
        elif kind is _ANSWERED:
            self._resolve(now - seconds)
            self._p.add(True)
            self._ring.add(seconds)
            self._heard.append((now, seconds, self._p.count))
            self._answers += 1
            self._row_stale += 1
            self._update_z()
        elif kind is _NOT_ANSWERED:
            self._resolve(now - seconds)
            self._p.add(False)
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
            self._abandons += 1
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
        if self._answers > 0:
            self._answers -= 1
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

    def _released(self, now: float, seconds: float) -> None:
        """A call hung up after ringing ``seconds``: censored, neither answered nor not.

        It counts as ``P(answer | rung seconds)`` of an answer in the answer rate, and that
        weight goes to the ring-time tail beyond ``seconds`` (so releasing the calls that have
        rung long biases neither the rate nor the ring-time distribution).
        """
        self._resolve(now - seconds, prefer_pending=True)  # the driver counts rings its own way
        q = self._answer_given_rung(seconds)
        self._p.add_fraction(q)
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
        answers = self._answers if self._answers > 1 else 1
        rate = cap - self.headroom * math.sqrt(cap * (1.0 - cap) / answers)
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
            left = math.exp(-self._answers / self.settle_answers)
            prior = self.z_start + (settled + (self.z_team_slope - settled) * left) * self._log_team
        z = prior + self._gain_now * (self._abandons - self.set_point * self._answers)
        short = self.brake_below - (self.max_abandon_rate * self._answers - self._abandons)
        if short > 0.0:  # the brake: the budget is nearly spent, damp the burst now
            z += self.brake * short
        self._z = self.z_min if z < self.z_min else self.z_max if z > self.z_max else z

    def _team_changed(self, logged_in: int) -> None:
        self._team = logged_in
        ratio = max(1, logged_in) / 20.0
        slope = self.z_team_slope if ratio >= 1.0 else self.z_team_slope * 0.6
        self._z_prior = self.z_start + slope * math.log(ratio)
        self._log_team = math.log(ratio) if ratio > 1.0 else 0.0
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
        if (
            self._p.count >= self.warmup
            and self._answers >= self.warmup_answers
            and self.max_abandon_rate * self._answers - self._abandons >= self.guard
        ):
            predicted = self._predict(now, dialing, waiting, idle, wrapup, talking)
            if predicted > n:
                n = predicted
        return clamp(n, lines_free)

    def calls_to_release(self, view: PacingView) -> int:
        """The contract's face of :meth:`decide_release`."""
        return self.decide_release(*view_args(view))

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
            or self._answers < self.warmup_answers
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
        z = self.release_z + self.release_share * self._z
        if excess + z * math.sqrt(var if var > 0.0 else 0.0) <= 0.0:
            return 0
        row, row_h, at = self._row, self._row_h, self._ringing_at
        top = j
        while j > 0 and excess + z * math.sqrt(var if var > 0.0 else 0.0) > 0.0:
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
