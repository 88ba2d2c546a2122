"""The abandon-rate guard: no pacing policy may push abandoned calls past the campaign's cap.

An *abandoned* call is one a person answered, asked for an operator, and no operator took in
time. US (FCC) and UK (Ofcom) rules cap them at 3% of live answers per campaign; DESIGN.md makes
that a compliance default. :class:`~autoinformer.pacing.PredictivePacing` keeps to its own cap,
but a campaign may run any policy (broadcast, power, a baseline, the user's own), and a
broadcast campaign whose script says "press 1 for an operator" abandoned about 15% of its
answers before this guard existed.

So when the script can transfer, the dialer core wraps whatever policy is in use in an
:class:`AbandonGuard`. The guard counts live answers (an answer that machine detection then
reports as a machine, ``Observation.MACHINE``, is taken off: with many machines, counting them
would let the true rate run past the cap) and abandons, and lets the policy launch
more calls than the idle operators can take only while the campaign's remaining abandon budget
covers the operator requests those calls may bring. When it does not, launches are limited to
what the idle operators can take (progressive), counting as progressive pacing does the calls
ringing and waiting, and also the answered callees still listening to the script: in a
"press 1 for an operator" script they are the ones who will ask. (Plain progressive pacing,
which does not count them, abandoned 14.8% of the answers with one operator and 60% of the
listeners pressing 1 in ``benchmarks/core_compliance.py``; guarded, 2.6%.)

Pure decision code: time and counts come in through the pacing contract.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from autoinformer.errors import SettingsError
from autoinformer.pacing._checks import check_window_seconds
from autoinformer.pacing.base import (
    BroadcastPacing,
    Observation,
    PacingObservation,
    PacingPolicy,
    PacingView,
    release_after,
)
from autoinformer.pacing.progressive import ProgressivePacing

if TYPE_CHECKING:
    from autoinformer.campaign import Campaign

__all__ = ["AbandonGuard", "default_pacing", "excess_moments", "expected_excess"]

_ENDS = frozenset(
    {Observation.NOT_ANSWERED, Observation.RELEASED, Observation.TALK_ENDED, Observation.ENDED}
)
"""The observations that end a launched call for pacing (each call gives exactly one): the
guard counts the calls in flight, and the callees still in the script, from them."""


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


def _binomial_head(n: int, p: float, size: int) -> list[float]:
    """``P(X = k)`` for ``k < size`` where ``X`` is Binomial(``n``, ``p``)."""
    head = [0.0] * size
    if size <= 0:
        return head
    if p <= 0.0 or n == 0:
        head[0] = 1.0
        return head
    if p >= 1.0:
        if n < size:
            head[n] = 1.0
        return head
    odds = p / (1.0 - p)
    term = (1.0 - p) ** n
    for k in range(min(size, n + 1)):
        head[k] = term
        term *= (n - k) / (k + 1) * odds
    return head


def excess_moments(
    waiting: int, live: int, q_live: float, ringing: int, q_ringing: float, idle: int
) -> tuple[float, float]:
    """Mean and variance of the operator requests beyond the idle operators, ``max(0, D - idle)``.

    ``D`` is as in :func:`expected_excess`. With ``S`` the requests of the live and ringing
    calls (a sum of two independent binomials) and ``room = idle - waiting``, ``X = S - room``:
    ``E[max(0, X)] = E[X] + sum over j < room of (room - j) P(S = j)`` and
    ``E[max(0, X)^2] = Var(S) + E[X]^2 - sum over j < room of (room - j)^2 P(S = j)``, both
    exact for independent calls. The guard needs the variance because the abandons the calls in
    flight will cause are a random number: spending the budget down to their mean overshoots
    about half the time.
    """
    mean_x = waiting + live * q_live + ringing * q_ringing - idle
    var_s = live * q_live * (1.0 - q_live) + ringing * q_ringing * (1.0 - q_ringing)
    room = idle - waiting
    if room <= 0:
        return mean_x, var_s
    a, b = _binomial_head(live, q_live, room), _binomial_head(ringing, q_ringing, room)
    under = under_sq = 0.0
    for j in range(room):
        p_j = sum(a[i] * b[j - i] for i in range(j + 1))
        under += (room - j) * p_j
        under_sq += (room - j) * (room - j) * p_j
    mean = max(0.0, mean_x + under)
    second = max(0.0, var_s + mean_x * mean_x - under_sq)
    return mean, max(0.0, second - mean * mean)


def expected_excess(
    waiting: int, live: int, q_live: float, ringing: int, q_ringing: float, idle: int
) -> float:
    """Expected operator requests beyond the idle operators: ``E[max(0, D - idle)]``.

    ``D`` is the demand the calls in flight may bring: the callees already waiting, plus each
    answered callee still in the script asking with chance ``q_live``, plus each ringing call
    asking with chance ``q_ringing``. A request no idle operator can take is, with talks much
    longer than a callee's patience, an abandoned call. Exact for independent calls:
    ``E[max(0, D - idle)] = E[D] - idle + sum over j < idle of (idle - j) P(D = j)``.
    """
    return excess_moments(waiting, live, q_live, ringing, q_ringing, idle)[0]


def _check_cap(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise SettingsError("abandon_cap", f"expected a fraction from 0 to 1, got {value!r}")


def _check_z(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0.0
    ):
        raise SettingsError("z", f"expected a number of standard deviations >= 0, got {value!r}")


def _check_window(instance: object, attribute: object, value: float | None) -> None:
    check_window_seconds("window_seconds", value)


@attrs.define(kw_only=True)
class AbandonGuard:
    """Holds a pacing policy to an abandon-rate cap; itself a pacing policy.

    It always allows the launches that every call in flight could still be served for: idle
    operators minus the callees waiting, the answered callees still in the script (any of them
    may yet press 1) and the calls ringing. Beyond that, it allows the largest number of
    launches ``n`` (up to what the policy wants) for which

        ``abandons + mean + z * sd <= cap * answers - reserve``

    where ``mean`` and ``sd`` are the mean and standard deviation of the number of operator
    requests no idle operator can take if the calls in flight and the ``n`` new ones go ahead
    (:func:`excess_moments`), from the learned chances that a ringing call (requests over
    finished calls) and an answered callee (requests over answers) ask for an operator; both
    start at 1, careful until the guard knows. Only answers already seen count in the budget,
    so it errs on the careful side. Spending the budget down to the *mean* (``z = 0``) lets the
    realised abandons overshoot it about half the time, and a fixed ``reserve`` is too little
    once many calls are in flight: so ``z`` keeps standard deviations in hand, a margin that
    grows with the spread (see ``z``).

    The same rule holds twice: for the whole campaign (the counts above) and for the last
    ``window_seconds`` (the answers and abandons seen in that rolling window, with the same
    ``cap``, ``reserve`` and ``z``). Launches beyond the safe count need *both* budgets to cover
    the in-flight risk, so a quiet first day cannot lend its unused budget to the second.

    Attributes:
        inner: the policy being guarded (its observations are passed on unchanged).
        cap: the most abandons allowed, as a fraction of live answers (0..1).
        reserve: abandons kept in hand against bad luck, whatever the calls in flight.
        z: standard deviations of the in-flight calls' abandons kept in hand on top of their
            mean (>= 0). Those abandons are random: with ``z = 0`` the guard spent the budget
            down to their mean, a seed of the demo's first day ended at 3.06% of live answers,
            and the budget, once spent, held the policy to progressive for the rest of the
            day. At the default 4 the worst of its 90 days (3 pacings, 0/30/60% machines, 10
            seeds) is 2.88%, and launching in smaller steps keeps the budget alive: guarded
            broadcast with 60% machines makes 17.4 transfers per operator-hour instead of 14.5
            (``python benchmarks/core_compliance.py spread``; 4 and 6 cost the same, 0-2 less).
        window_seconds: the rolling window the cap also holds over (seconds, > 0), or None
            for the campaign budget alone. UK Ofcom's persistent-misuse policy measures the 3%
            per campaign per 24 hours, so the default is 86400; the US FCC measures it per
            campaign over 30 days, which the campaign budget covers for campaigns under 30
            days. Without the window, a multi-day campaign with a quiet first day could spend
            that day's unused budget on day two and abandon more than 3% of day two's answers.
            :meth:`restore` rebuilds it from the earlier attempts' times (the store's
            attempt records), so a resumed campaign keeps the last 24 hours' budget.
        answers: live answers seen: answered calls less those machine detection then found to
            be machines (``Observation.MACHINE``), the cap's denominator. A machine's answer
            counts until its verdict comes (a few seconds: ``cap`` of an abandon per machine
            awaiting one, well inside ``reserve``); a machine still playing the message counts
            as a callee who may ask for an operator (careful).
        machines: answers that were machines (already taken off ``answers``).
        abandons: abandoned calls seen.
        requests: answered calls that asked for an operator (connected or abandoned).
        limited: how many times the guard held the policy back (for logs and tests).
    """

    inner: PacingPolicy
    cap: float = attrs.field(default=0.03, validator=_check_cap)
    reserve: float = 2.0
    z: float = attrs.field(default=4.0, validator=_check_z)
    window_seconds: float | None = attrs.field(default=86400.0, validator=_check_window)
    answers: int = attrs.field(default=0, init=False)
    machines: int = attrs.field(default=0, init=False)
    abandons: int = attrs.field(default=0, init=False)
    requests: int = attrs.field(default=0, init=False)
    limited: int = attrs.field(default=0, init=False)
    _dialed: int = attrs.field(default=0, init=False)
    _ended: int = attrs.field(default=0, init=False)
    # the rolling window: when its live answers and abandons came (in time order, from the
    # observations' ``now``), and a heap of when the answers later found to be machines came
    # (their verdicts arrive out of answer order); each time leaves once, so amortised O(1)
    # per observation (O(log n) for a machine)
    _window_answers: deque[float] = attrs.field(factory=deque, init=False, repr=False)
    _window_abandons: deque[float] = attrs.field(factory=deque, init=False, repr=False)
    _window_machines: list[float] = attrs.field(factory=list, init=False, repr=False)

    @property
    def request_rate(self) -> float:
        """The chance a launched call asks for an operator (1.0 until calls have ended)."""
        return min(1.0, (self.requests + 1) / (self._ended + 1))

    @property
    def live_request_rate(self) -> float:
        """The chance an answered callee asks for an operator (1.0 until answers are seen)."""
        return min(1.0, (self.requests + 1) / (self.answers + 1))

    def rate(self) -> float:
        """Abandons so far as a fraction of live answers (0.0 before any answer)."""
        return self.abandons / self.answers if self.answers else 0.0

    @property
    def window_answers(self) -> int:
        """Live answers in the rolling window as of the last observation or view (the
        campaign's ``answers`` when ``window_seconds`` is None)."""
        if self.window_seconds is None:
            return self.answers
        return max(0, len(self._window_answers) - len(self._window_machines))

    @property
    def window_abandons(self) -> int:
        """Abandons in the rolling window as of the last observation or view (the campaign's
        ``abandons`` when ``window_seconds`` is None)."""
        if self.window_seconds is None:
            return self.abandons
        return len(self._window_abandons)

    def _expire(self, now: float) -> None:
        """Drop what came ``window_seconds`` or longer before ``now`` from the window."""
        if self.window_seconds is None:
            return
        cutoff = now - self.window_seconds
        for times in (self._window_answers, self._window_abandons):
            while times and times[0] <= cutoff:
                times.popleft()
        machines = self._window_machines
        while machines and machines[0] <= cutoff:
            heapq.heappop(machines)

    def budget(self, now: float) -> float:
        """The abandons the guard may still risk at ``now``: the smaller of the campaign's
        budget, ``cap * answers - reserve - abandons``, and the same over the rolling window."""
        self._expire(now)
        budget = self.cap * self.answers - self.reserve - self.abandons
        if self.window_seconds is not None:
            window = self.cap * self.window_answers - self.reserve - self.window_abandons
            budget = min(budget, window)
        return budget

    def allowed(self, view: PacingView, wanted: int) -> int:
        """How many of the ``wanted`` launches the abandon budget covers now."""
        in_flight = max(0, self._dialed - self._ended)
        ringing = min(view.dialing, in_flight)
        live = max(0, in_flight - ringing - view.waiting - view.agents_talking)
        idle = view.agents_idle
        safe = max(0, min(wanted, idle - view.waiting - live - ringing))
        budget = self.budget(view.now)
        if safe >= wanted or budget <= 0.0:
            return safe
        q, q_live, z = self.request_rate, self.live_request_rate, self.z

        def fits(n: int) -> bool:
            mean, var = excess_moments(view.waiting, live, q_live, ringing + n, q, idle)
            return mean + z * math.sqrt(var) <= budget

        if not fits(safe):
            return safe
        low, high = safe, wanted  # fits(low); find the largest n that fits
        while low < high:
            mid = (low + high + 1) // 2
            if fits(mid):
                low = mid
            else:
                high = mid - 1
        return low

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
        """Count the attempts a resumed campaign made before (the cap is per campaign).

        The rolling window is rebuilt from when the earlier live answers and abandons came
        (the attempt records the store hands back on resume carry the times): without it a
        resumed campaign's window would start empty, with no window budget, and dialling
        would stay progressive until about ``reserve / cap`` (67) live answers had come
        since the restart, however much budget the last 24 hours had left. Times at or
        before ``now - window_seconds`` are left out; the rest enter the window in time
        order. With no times given the window starts empty (careful).

        Args:
            finished: attempts with a result.
            answers: of those, answered by a person.
            requests: of those, the ones that asked for an operator.
            abandons: of those, abandoned.
            now: the time of the restore (None: keep every time given).
            answered_at: when the earlier live answers came (machines left out).
            abandoned_at: when the earlier abandoned calls ended.
        """
        self._dialed += finished
        self._ended += finished
        self.answers += answers
        self.requests += requests
        self.abandons += abandons
        if self.window_seconds is None:
            return
        cutoff = -math.inf if now is None else now - self.window_seconds
        for window, times in (
            (self._window_answers, answered_at),
            (self._window_abandons, abandoned_at),
        ):
            merged = sorted([*window, *(t for t in times if t > cutoff)])
            window.clear()
            window.extend(merged)

    @property
    def release_after(self) -> float | None:
        """The guarded policy's release threshold (None when it never releases ringing
        calls): wrapping a :class:`~autoinformer.pacing.base.ReleasingPolicy` keeps the
        capability, so the core releases what the policy asks."""
        return release_after(self.inner)

    def calls_to_release(self, view: PacingView) -> int:
        """The guarded policy's answer, unchanged: a release can only lower the abandons."""
        ask = getattr(self.inner, "calls_to_release", None)
        return int(ask(view)) if callable(ask) and self.release_after is not None else 0

    def calls_to_launch(self, view: PacingView) -> int:
        """The inner policy's answer, limited to what the abandon budget allows."""
        wanted = self.inner.calls_to_launch(view)
        if wanted <= 0:
            return wanted
        allowed = self.allowed(view, wanted)
        if allowed < wanted:
            self.limited += 1
        return allowed

    def observe(self, observation: PacingObservation) -> None:
        """Count what the budget needs and pass the observation on."""
        kind, now = observation.kind, observation.now
        self._expire(now)
        windowed = self.window_seconds is not None
        if kind is Observation.DIALED:
            self._dialed += 1
        elif kind is Observation.ANSWERED:
            self.answers += 1
            if windowed:
                self._window_answers.append(now)
        elif kind in _ENDS:
            self._ended += 1  # a released call no longer rings: it can bring no request
        elif kind is Observation.CONNECTED:
            self.requests += 1
        elif kind is Observation.ABANDONED:
            self.requests += 1
            self.abandons += 1
            if windowed:
                self._window_abandons.append(now)
        elif kind is Observation.MACHINE:  # the answer counted above was not a live one
            self.machines += 1
            if self.answers > 0:
                self.answers -= 1
            answered_at = now - observation.seconds
            if self.window_seconds is not None and answered_at > now - self.window_seconds:
                heapq.heappush(self._window_machines, answered_at)  # its answer is in the window
        self.inner.observe(observation)
