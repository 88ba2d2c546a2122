"""A fast discrete-event simulator for pacing, operators and their queue.

One shift of a predictive campaign in virtual time: an event heap of plain floats, operators
handed answered calls longest-idle first, callees who wait ``patience`` seconds for an operator
and then hear the identification message (an abandoned call). It runs the same policy objects the
dialer core runs, through :class:`~autoinformer.pacing._raw.RawPacing`'s fast path when the
policy has one and through the plain :class:`~autoinformer.pacing.base.PacingPolicy` contract
otherwise.

Common random numbers: lead number ``i`` (the i-th call launched) always draws the same three
numbers from the seed (answer draw, ring time, talk time), whatever the policy, so two policies
run on one seed meet the same people in the same order. With a drifting answer rate the draw is
compared with the answer probability at the moment of dialing.

Releases: a policy with a ``release_after`` (:class:`~autoinformer.pacing.base.ReleasingPolicy`)
is asked before each launch decision how many ringing calls to hang up; the simulator hangs up
that many among the calls that have rung at least ``release_after`` seconds, the ones that have
rung the shortest time first, and reports each as ``RELEASED``. Each call's fate was drawn at
dialling (common random numbers), so it knows which released calls would have answered
(``answers_forgone``); the policy does not.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from autoinformer.errors import SettingsError
from autoinformer.pacing._checks import non_negative, positive
from autoinformer.pacing._raw import as_raw
from autoinformer.pacing.base import (
    PACING_POLL,
    Observation,
    PacingPolicy,
    release_after,
)
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.sim.schedule import (
    AnswerRateSchedule,
    answer_rate_at,
    parse_answer_rate_schedule,
)

__all__ = ["SCENARIOS", "Scenario", "SimResult", "TalkOracle", "simulate"]

_HOUR = 3600.0

# event kinds (ints: compared only when two events share a time and a sequence number, never)
_ANSWER = 0
_NO_ANSWER = 1
_PATIENCE = 2
_TALK_END = 3
_WRAP_END = 4
_TICK = 5  # decide_every: ask the policy again when nothing else happened for that long


@attrs.frozen
class Scenario:
    """A campaign shift to simulate.

    Attributes:
        agents: operators logged in for the whole shift.
        answer_rate: probability that a dialled person answers.
        answer_rate_drift: amplitude A of ``answer_rate + A cos(2 pi t / shift)``.
        answer_rate_schedule: an answer rate that steps during the shift, as text
            (``"0:0.35,2h:0.08"``: 0.35 from the start, 0.08 from two hours in) or
            ``(start seconds, rate)`` pairs (:mod:`autoinformer.sim.schedule`); when given it
            replaces ``answer_rate`` (and cannot be combined with a drift).
        ring_min: shortest ring time of an answered call, seconds.
        ring_max: longest ring time of an answered call, seconds; no longer than
            ``no_answer_timeout`` (a call that would answer after the switch gave it up never
            answers: such a scenario is refused rather than silently cut).
        no_answer_timeout: an unanswered call is released after this many seconds.
        talk_mean: mean talk time, seconds (lognormal).
        talk_cv: coefficient of variation of the talk time.
        wrapup: after-call work, seconds.
        patience: an answered callee waits this long for an operator, then the call is abandoned.
        hours: shift length; no call is launched after it (calls in progress finish).
        contacts: size of the list (None: enough people for the whole shift).
        lines: campaign line limit (None: no limit).
        name: a label for reports.
    """

    agents: int = 20
    answer_rate: float = 0.3
    answer_rate_drift: float = 0.0
    answer_rate_schedule: AnswerRateSchedule = attrs.field(
        default=(), converter=parse_answer_rate_schedule
    )
    ring_min: float = attrs.field(default=5.0, validator=non_negative("ring_min"))
    ring_max: float = 25.0
    no_answer_timeout: float = attrs.field(default=25.0, validator=positive("no_answer_timeout"))
    talk_mean: float = attrs.field(default=120.0, validator=positive("talk_mean"))
    talk_cv: float = attrs.field(default=1.0, validator=non_negative("talk_cv"))
    wrapup: float = attrs.field(default=10.0, validator=non_negative("wrapup"))
    patience: float = attrs.field(default=2.0, validator=non_negative("patience"))
    hours: float = attrs.field(default=8.0, validator=positive("hours"))
    contacts: int | None = None
    lines: int | None = None
    name: str = "custom"

    def __attrs_post_init__(self) -> None:
        if self.agents < 1:
            raise SettingsError("agents", f"must be >= 1, got {self.agents}")
        if not 0 < self.answer_rate <= 1:
            raise SettingsError("answer_rate", f"must be in (0, 1], got {self.answer_rate}")
        lo = self.answer_rate - abs(self.answer_rate_drift)
        hi = self.answer_rate + abs(self.answer_rate_drift)
        if lo < 0 or hi > 1:
            raise SettingsError(
                "answer_rate_drift",
                f"answer_rate +- drift must stay within [0, 1], got [{lo:g}, {hi:g}]",
            )
        if self.ring_max < self.ring_min:
            raise SettingsError("ring_max", f"must be >= ring_min ({self.ring_min})")
        if self.ring_max > self.no_answer_timeout:
            raise SettingsError(
                "ring_max",
                f"the longest ring ({self.ring_max:g} s) is above the no-answer timeout"
                f" ({self.no_answer_timeout:g} s): the switch gives a call up before it could"
                " answer; raise no_answer_timeout or lower ring_max",
            )
        if self.answer_rate_schedule and self.answer_rate_drift:
            raise SettingsError(
                "answer_rate_schedule", "cannot be combined with answer_rate_drift (use one)"
            )
        if self.contacts is not None and self.contacts < 0:
            raise SettingsError("contacts", f"must be >= 0, got {self.contacts}")
        if self.lines is not None and self.lines < 1:
            raise SettingsError("lines", f"must be >= 1, got {self.lines}")

    @property
    def shift_seconds(self) -> float:
        """The shift length in seconds."""
        return self.hours * _HOUR

    def answer_probability(self, t: float) -> float:
        """The answer probability for a call dialled at ``t`` seconds into the shift."""
        if self.answer_rate_schedule:
            return answer_rate_at(self.answer_rate_schedule, t)
        if self.answer_rate_drift == 0.0:
            return self.answer_rate
        return self.answer_rate + self.answer_rate_drift * math.cos(
            2.0 * math.pi * t / self.shift_seconds
        )


#: The benchmark scenarios (issue #5): 8-hour shifts, ring 5-25 s, released at 25 s, wrap 10 s.
SCENARIOS: dict[str, Scenario] = {
    "S1": Scenario(name="S1 base"),
    "S2": Scenario(name="S2 small team", agents=5),
    "S3": Scenario(name="S3 large team", agents=100),
    "S4": Scenario(name="S4 low answer rate", answer_rate=0.1),
    "S5": Scenario(name="S5 drifting answers", answer_rate=0.22, answer_rate_drift=0.12),
    "S6": Scenario(name="S6 heavy-tailed talk", talk_cv=2.5),
}


@attrs.frozen
class SimResult:
    """What one simulated shift produced.

    Attributes:
        dials: calls launched.
        answers: live answers.
        abandoned: answered callees who waited ``patience`` and got no operator.
        connects: answered callees handed to an operator.
        busy_seconds: operator talk plus wrap-up inside the shift.
        logged_in_seconds: operators times shift length.
        hourly_answers: live answers per hour of the shift (by answer time).
        hourly_abandoned: abandoned calls per hour of the shift.
        finished_after_s: when the last call of the list ended (None: the list was not exhausted).
        shift_seconds: the shift length.
        agents: operators logged in.
        released: calls hung up while still ringing, at the policy's request (all of them had
            rung ``release_after`` seconds or more). They count in ``dials``.
        answers_forgone: released calls that would have answered (the simulator drew every
            call's fate at dialling): answers the release cost.
    """

    dials: int
    answers: int
    abandoned: int
    connects: int
    busy_seconds: float
    logged_in_seconds: float
    hourly_answers: tuple[int, ...]
    hourly_abandoned: tuple[int, ...]
    finished_after_s: float | None
    shift_seconds: float
    agents: int
    released: int = 0
    answers_forgone: int = 0

    @property
    def occupancy(self) -> float:
        """(talk + wrap-up) / logged-in time."""
        return self.busy_seconds / self.logged_in_seconds if self.logged_in_seconds else 0.0

    @property
    def abandon_rate(self) -> float:
        """Abandoned calls / live answers."""
        return self.abandoned / self.answers if self.answers else 0.0

    @property
    def agent_hours(self) -> float:
        """Operator-hours logged in."""
        return self.logged_in_seconds / _HOUR

    @property
    def connects_per_agent_hour(self) -> float:
        """Calls handed to operators per operator-hour."""
        return self.connects / self.agent_hours if self.agent_hours else 0.0

    @property
    def dials_per_agent_hour(self) -> float:
        """Calls launched per operator-hour."""
        return self.dials / self.agent_hours if self.agent_hours else 0.0

    @property
    def released_per_agent_hour(self) -> float:
        """Ringing calls hung up per operator-hour (each one a missed call on someone's phone)."""
        return self.released / self.agent_hours if self.agent_hours else 0.0

    @property
    def answers_forgone_per_agent_hour(self) -> float:
        """Answers the releases cost, per operator-hour."""
        return self.answers_forgone / self.agent_hours if self.agent_hours else 0.0

    @property
    def idle_per_connect_s(self) -> float:
        """Operator idle seconds per call handed to an operator."""
        idle = self.logged_in_seconds - self.busy_seconds
        return idle / self.connects if self.connects else float("inf")

    @property
    def hourly_abandon_rates(self) -> list[float]:
        """Each clock hour's abandon rate, for the hours with at least one answer."""
        return [b / a for a, b in zip(self.hourly_answers, self.hourly_abandoned, strict=True) if a]

    @property
    def worst_hour_abandon_rate(self) -> float:
        """The highest hourly abandon rate (hours with at least one answer)."""
        return max(self.hourly_abandon_rates, default=0.0)

    def as_dict(self) -> dict[str, float | int | None]:
        """The figures as plain JSON-ready values."""
        return {
            "occupancy": self.occupancy,
            "abandon_rate": self.abandon_rate,
            "dials": self.dials,
            "answers": self.answers,
            "abandoned": self.abandoned,
            "connects": self.connects,
            "connects_per_agent_hour": self.connects_per_agent_hour,
            "dials_per_agent_hour": self.dials_per_agent_hour,
            "idle_per_connect_s": self.idle_per_connect_s,
            "worst_hour_abandon_rate": self.worst_hour_abandon_rate,
            "finished_after_s": self.finished_after_s,
            "released": self.released,
            "answers_forgone": self.answers_forgone,
            "released_per_agent_hour": self.released_per_agent_hour,
            "answers_forgone_per_agent_hour": self.answers_forgone_per_agent_hour,
        }


def simulate(
    scenario: Scenario,
    policy: PacingPolicy,
    seed: int = 0,
    *,
    progress: Callable[[float], None] | None = None,
    decide_every: float | None = PACING_POLL,
) -> SimResult:
    """Run one shift of ``scenario`` with ``policy`` on the people drawn from ``seed``.

    Args:
        scenario: the campaign, operators and callee model.
        policy: a pacing policy (used through its fast path when it has one).
        seed: chooses the people; the same seed gives every policy the same people.
        progress: called now and then with the virtual time reached (for a progress bar).
        decide_every: also ask the policy (release, then launch) whenever this many seconds
            passed without a decision, as the dialer core does (it polls the pacing every
            second while contacts are held back by it, ``pacing.base.PACING_POLL``, and wakes
            when a ringing call becomes eligible for release). The default is the core's
            cadence, so the simulator's figures are the ones a campaign gets. ``None``: at the
            simulator's events only, as the pacing figures before issue #18 were made. A
            policy whose answer moves with time alone (the predictive launch rule and its
            release valve: the ringing calls' ages) decides more often, and better, at the
            core's cadence: on T3 the core's occupancy is met within 0.3 points with it, and
            is 1.1 points under the events-only figure
            (``benchmarks/pacing/core_agreement.py``). A policy that decides on the state
            alone gives the same figures either way.

    Returns:
        The shift's figures.
    """
    raw = as_raw(policy)
    decide = raw.decide
    note = raw.note
    after = release_after(policy)  # None: this policy never releases (validated otherwise)
    decide_release = raw.decide_release
    o_released = Observation.RELEASED
    o_dialed, o_answered, o_not_answered = (
        Observation.DIALED,
        Observation.ANSWERED,
        Observation.NOT_ANSWERED,
    )
    o_connected, o_abandoned, o_talk_ended, o_ended = (
        Observation.CONNECTED,
        Observation.ABANDONED,
        Observation.TALK_ENDED,
        Observation.ENDED,
    )

    rng = random.Random(seed)
    rand = rng.random
    lognorm = rng.lognormvariate
    sigma = math.sqrt(math.log1p(scenario.talk_cv**2))
    mu = math.log(scenario.talk_mean) - sigma * sigma / 2.0
    ring_lo, ring_span = scenario.ring_min, scenario.ring_max - scenario.ring_min
    no_answer = scenario.no_answer_timeout
    wrap = scenario.wrapup
    patience = scenario.patience
    shift = scenario.shift_seconds
    n_agents = scenario.agents
    steady = scenario.answer_rate_drift == 0.0 and not scenario.answer_rate_schedule
    fixed_p = scenario.answer_rate if steady else -1.0
    p_of = scenario.answer_probability
    contacts_left = scenario.contacts if scenario.contacts is not None else -1
    lines = scenario.lines if scenario.lines is not None else 1 << 30
    oracle = getattr(policy, "bind_free_times", None)

    heap: list[tuple[float, int, int, Any]] = []
    push, pop = heapq.heappush, heapq.heappop
    seq = itertools.count().__next__
    idle_agents: deque[int] = deque(range(n_agents))
    free_at = [0.0] * n_agents  # when each operator is next free (talk end + wrap-up)
    if oracle is not None:
        oracle(free_at)
    waiting_q: deque[list[float]] = deque()  # [answer time, talk, still waiting (1.0/0.0)]
    n_hours = max(1, math.ceil(scenario.hours))
    hourly_ans = [0] * (n_hours + 1)
    hourly_ab = [0] * (n_hours + 1)

    dialing = waiting = talking = wrapping = 0
    dials = answers = abandoned = connects = released = forgone = 0
    # the calls launched, in launch order (for releases): [launched at, answers, still ringing]
    calls: list[list[float]] = []
    call_starts: list[float] = []
    head = 0  # calls before this index have all ended (older than the no-answer timeout)
    busy = 0.0
    last_end = 0.0
    list_done = False
    now = 0.0
    next_progress = 600.0

    def launch_many(n: int, now: float) -> int:
        nonlocal dials, contacts_left, list_done
        launched = 0
        p = fixed_p if fixed_p >= 0.0 else p_of(now)
        for _ in range(n):
            if contacts_left == 0:
                list_done = True
                break
            if contacts_left > 0:
                contacts_left -= 1
            u = rand()
            ring = ring_lo + ring_span * rand()
            talk = lognorm(mu, sigma)
            answers_it = u < p
            call = [now, 1.0 if answers_it else 0.0, 1.0, ring, talk]
            if after is not None:
                calls.append(call)
                call_starts.append(now)
            if answers_it:
                push(heap, (now + ring, seq(), _ANSWER, call))
            else:
                push(heap, (now + no_answer, seq(), _NO_ANSWER, call))
            dials += 1
            launched += 1
            note(o_dialed, now, 0.0)
        return launched

    def connect(agent: int, talk: float, now: float) -> None:
        nonlocal busy
        end = now + talk
        free_at[agent] = end + wrap
        push(heap, (end, seq(), _TALK_END, (agent, talk)))
        if now < shift:
            busy += min(end + wrap, shift) - now

    def release(n: int, now: float, after: float) -> None:
        """Hang up ``n`` calls rung >= ``after`` s, those that rang the shortest time first."""
        nonlocal dialing, released, forgone, head
        while head < len(call_starts) and call_starts[head] < now - no_answer - 1.0:
            head += 1
        if head > 4096:  # forget the calls long ended
            del calls[:head], call_starts[:head]
            head = 0
        i = bisect.bisect_right(call_starts, now - after, head) - 1
        while n > 0 and i >= head:
            call = calls[i]
            i -= 1
            if not call[2] or now - call[0] < after:
                continue
            call[2] = 0.0
            dialing -= 1
            released += 1
            if call[1]:
                forgone += 1
            n -= 1
            note(o_released, now, now - call[0])

    last_ask = 0.0

    def ask(now: float) -> None:
        nonlocal dialing, last_ask
        if now >= shift or list_done:
            return
        last_ask = now
        if after is not None and dialing:
            k = decide_release(
                now,
                lines - dialing - waiting - talking,
                dialing,
                waiting,
                n_agents,
                len(idle_agents),
                wrapping,
                talking,
            )
            if k > 0:
                release(k, now, after)
        n = decide(
            now,
            lines - dialing - waiting - talking,
            dialing,
            waiting,
            n_agents,
            len(idle_agents),
            wrapping,
            talking,
        )
        if n > 0:
            dialing += launch_many(n, now)

    if decide_every is not None and not decide_every > 0.0:
        raise SettingsError("decide_every", f"must be > 0 seconds or None, got {decide_every!r}")
    every = decide_every if decide_every is not None else 0.0
    ask(0.0)
    if every:
        push(heap, (every, seq(), _TICK, None))
    while heap:
        now, _, kind, payload = pop(heap)
        if kind == _TICK:  # one pending at a time: due decide_every after the last decision
            if now < shift and not list_done:
                if now - last_ask >= every - 1e-9:
                    ask(now)
                    push(heap, (now + every, seq(), _TICK, None))
                else:
                    push(heap, (last_ask + every, seq(), _TICK, None))
            continue
        if kind == _NO_ANSWER:
            if not payload[2]:  # released while ringing
                continue
            payload[2] = 0.0
            dialing -= 1
            note(o_not_answered, now, no_answer)
            last_end = now
        elif kind == _ANSWER:
            if not payload[2]:  # released while ringing
                continue
            payload[2] = 0.0
            ring, talk = payload[3], payload[4]
            dialing -= 1
            answers += 1
            hour = int(now // _HOUR)
            hourly_ans[hour if hour < n_hours else n_hours] += 1
            note(o_answered, now, ring)
            if idle_agents:
                agent = idle_agents.popleft()
                talking += 1
                connects += 1
                note(o_connected, now, 0.0)
                connect(agent, talk, now)
            else:
                entry = [now, talk, 1.0]
                waiting_q.append(entry)
                waiting += 1
                push(heap, (now + patience, seq(), _PATIENCE, entry))
        elif kind == _TALK_END:
            agent, talk = payload[0], payload[1]
            talking -= 1
            wrapping += 1
            note(o_talk_ended, now, talk)
            last_end = now
            push(heap, (now + wrap, seq(), _WRAP_END, agent))
        elif kind == _WRAP_END:
            wrapping -= 1
            agent = payload
            served = False
            while waiting_q:
                entry = waiting_q.popleft()
                if entry[2]:
                    entry[2] = 0.0
                    waiting -= 1
                    talking += 1
                    connects += 1
                    note(o_connected, now, now - entry[0])
                    connect(agent, entry[1], now)
                    served = True
                    break
            if not served:
                idle_agents.append(agent)
        else:  # _PATIENCE
            entry = payload
            if entry[2]:
                entry[2] = 0.0
                waiting -= 1
                abandoned += 1
                hour = int(entry[0] // _HOUR)
                hourly_ab[hour if hour < n_hours else n_hours] += 1
                note(o_abandoned, now, now - entry[0])
                note(o_ended, now, now - entry[0])  # the callee leaves: no operator talk
                last_end = now
        ask(now)
        if progress is not None and now >= next_progress:
            progress(min(now, shift))
            next_progress += 600.0

    if progress is not None:
        progress(shift)
    finished = last_end if contacts_left == 0 else None
    return SimResult(
        dials=dials,
        answers=answers,
        abandoned=abandoned,
        connects=connects,
        busy_seconds=busy,
        logged_in_seconds=n_agents * shift,
        hourly_answers=tuple(hourly_ans[:n_hours]),
        hourly_abandoned=tuple(hourly_ab[:n_hours]),
        finished_after_s=finished,
        shift_seconds=shift,
        agents=n_agents,
        released=released,
        answers_forgone=forgone,
    )


class TalkOracle(PredictivePacing):
    """A reference, not a policy: the predictive policy told exactly when each operator will be
    free (talk end plus wrap-up), which no real dialer knows. The gap between it and
    :class:`~autoinformer.pacing.predictive.PredictivePacing` is what better talk-time
    prediction could still win.
    """

    _free_at: list[float]

    def bind_free_times(self, free_at: list[float]) -> None:
        """The simulator hands over its live list of per-operator free times."""
        object.__setattr__(self, "_free_at", free_at)

    def _supply(
        self, now: float, idle: int, wrapup: int, talking: int, look: float
    ) -> tuple[float, float]:
        horizon = now + look
        return float(sum(1 for t in self._free_at if t <= horizon)), 0.0
