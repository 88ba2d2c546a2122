"""The seeded model of called people and operators, shared by both faces of the simulator.

The discrete-event driver (virtual time, :mod:`autoinformer.sim.driver`) and the async
:class:`~autoinformer.backends.sim.SimSwitch` (real or scaled time) both ask the same question:
*what happens when we call number N for the k-th time?* A model answers with a
:class:`CalleeFate`, a pure draw from a random generator seeded by a hash of
``(seed, number, attempt_no)``. The answer therefore does not depend on the order in which calls
happen (common random numbers): two pacing strategies compared on the same seed face exactly the
same people, and a rerun with the same seed gives the same campaign.

Two models are provided:

- :class:`PartiesModel`: the test convention of :mod:`autoinformer.sim.parties` (the last
  digit of the number chooses the behaviour). Deterministic; the default of SimSwitch, so the
  backend conformance suite runs on it.
- :class:`PopulationModel`: a statistical population (answer, busy, unreachable, rejected and
  invalid rates, ring time and listening time distributions, answering machines, digits,
  patience) for capacity planning and pacing benchmarks.

Any object with the two methods of :class:`CallModel` can be plugged in.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

import attrs

from autoinformer.errors import SettingsError
from autoinformer.outcomes import HangupCause
from autoinformer.sim.parties import OPERATOR_TALK_SECONDS, party_for

__all__ = [
    "CallModel",
    "CalleeFate",
    "OperatorFate",
    "PartiesModel",
    "PopulationModel",
    "SeededStream",
    "seeded_random",
    "seeded_uniform",
]


@attrs.frozen
class CalleeFate:
    """What one call attempt to a customer number will do, drawn before the call is placed.

    Times are seconds: ``ring_s`` from the originate, the others from the answer.

    Attributes:
        answers: someone (a person or a machine) picks up after ``ring_s``, unless our ring
            timeout is shorter (then the attempt is ``no_answer``).
        ring_s: seconds of ringing before the answer or the failure.
        fail_cause: for a call that is not answered, the Q.850 cause the network reports after
            ``ring_s``; None means it rings until our ring timeout (``NO_ANSWER``).
        machine: an answering machine picked up (detection reports it ``amd_s`` after answer).
        listen_s: seconds after answer when the callee hangs up by itself, unless the call was
            bridged to an operator first (then the operator's talk time governs); None: stays
            until we hang up.
        digits: DTMF digits the callee presses, as (seconds after answer, digit), in order.
        patience_s: how long the callee waits for an operator (hold music, silence) before
            giving up; the driver uses it for abandoned calls. A callee who presses a digit
            stays at least ``patience_s`` after the last press (both faces of the simulator
            apply ``max(listen_s, last digit time + patience_s)``).
        amd_s: seconds after answer at which answering-machine detection decides.
    """

    answers: bool
    ring_s: float
    fail_cause: HangupCause | None = None
    machine: bool = False
    listen_s: float | None = None
    digits: tuple[tuple[float, str], ...] = ()
    patience_s: float = 30.0
    amd_s: float = 2.0

    @property
    def rings(self) -> bool:
        """The callee's phone rings (the switch reports progress): an answer, a ring-out, a
        rejection; a busy line or an unreachable, invalid number fails without ringing."""
        return self.answers or self.fail_cause in (None, HangupCause.CALL_REJECTED)

    @property
    def progress_s(self) -> float:
        """When both faces of the simulator report the ringing, seconds from the originate."""
        return min(0.2, self.ring_s / 2)


@attrs.frozen
class OperatorFate:
    """What one operator leg will do.

    Attributes:
        answers: the operator picks up after ``answer_s``; otherwise the leg fails with
            ``fail_cause`` after ``answer_s``. A failed leg does not end the customer's call:
            the core skips that operator for it and the callee keeps waiting for the next one
            the queue's strategy picks, ``abandoned`` only when the queue's ``max_wait`` runs
            out (``agent_error`` is an operator who answered and could not be bridged; see
            ``docs/outcomes.md``).
        answer_s: seconds from the originate of the operator leg to its answer (or failure).
        talk_s: seconds of conversation once bridged; then the operator hangs up.
        wrap_up_s: after-call work before the operator is free again (used by the driver).
        fail_cause: the cause when ``answers`` is False (None: USER_BUSY).
    """

    answers: bool
    answer_s: float
    talk_s: float
    wrap_up_s: float = 0.0
    fail_cause: HangupCause | None = None


class CallModel(Protocol):
    """A model of the world on the other end of the line; both methods are pure draws."""

    def callee(self, number: str, attempt_no: int) -> CalleeFate:
        """The fate of attempt ``attempt_no`` (1-based) to customer ``number``."""
        ...

    def operator(self, endpoint: str, call_no: int) -> OperatorFate:
        """The fate of the ``call_no``-th (1-based) leg placed to operator ``endpoint``."""
        ...


T = TypeVar("T")
_M64 = (1 << 64) - 1
_UNIT = 1.0 / (1 << 53)


class SeededStream:
    """A small random stream (splitmix64) whose seeding costs nothing.

    A simulation seeds one generator per call attempt, so seeding must be cheap: Mersenne
    Twister's (``random.Random``) costs ~10 us, more than the whole draw. splitmix64 passes
    BigCrush, and streams from distinct hashed seeds are independent enough for a callee model.
    """

    __slots__ = ("_state",)

    def __init__(self, state: int) -> None:
        self._state = state & _M64

    def _next(self) -> int:
        self._state = z = (self._state + 0x9E3779B97F4A7C15) & _M64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        return z ^ (z >> 31)

    def random(self) -> float:
        """A uniform float in [0, 1)."""
        return (self._next() >> 11) * _UNIT

    def uniform(self, low: float, high: float) -> float:
        """A uniform float between ``low`` and ``high``."""
        return low + (high - low) * self.random()

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        """A normal deviate (Box-Muller)."""
        radius = math.sqrt(-2.0 * math.log(1.0 - self.random()))
        return mu + sigma * radius * math.cos(math.tau * self.random())

    def randrange(self, start: int, stop: int | None = None) -> int:
        """A uniform integer in ``range(start, stop)`` (or ``range(start)``), unbiased."""
        low, high = (0, start) if stop is None else (start, stop)
        width = high - low
        if width <= 0:
            raise ValueError(f"empty range for randrange({low}, {high})")
        k = width.bit_length()
        while True:  # rejection sampling: no modulo bias
            value = self.getrandbits(k)
            if value < width:
                return low + value

    def choice(self, items: Sequence[T]) -> T:
        """A uniformly chosen element of a non-empty sequence."""
        if not items:
            raise IndexError("cannot choose from an empty sequence")
        return items[self.randrange(len(items))]

    def getrandbits(self, k: int) -> int:
        """A non-negative integer with ``k`` random bits."""
        bits = 0
        for shift in range(0, k, 64):
            bits |= self._next() << shift
        return bits & ((1 << k) - 1)


def _digest(seed: int, key: tuple[object, ...]) -> int:
    text = "\x1f".join(str(part) for part in (seed, *key))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def seeded_random(seed: int, *key: object) -> SeededStream:
    """A generator seeded by a stable hash of ``seed`` and ``key`` (not Python's ``hash``).

    Python's ``hash`` of a string changes between processes; blake2b does not, so a seed means
    the same thing on every run and every machine.
    """
    return SeededStream(_digest(seed, key))


def seeded_uniform(seed: int, *key: object) -> float:
    """One uniform number in [0, 1) for ``seed`` and ``key``, without building a generator."""
    return (_digest(seed, key) >> 11) * _UNIT


# --- the test-party convention ------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PartiesModel:
    """Callees follow :data:`autoinformer.sim.parties.PARTIES` (the last digit decides).

    Additions to the convention, so every fault a campaign meets can be produced on purpose:

    - a number matching ``machine_pattern`` (default: fictional ``+1555...`` numbers) is
      answered by a machine, with the timing of its last digit's party;
    - a number without any digit is ``invalid_number`` (cause 28) instead of an error;
    - an operator endpoint matching ``unavailable_pattern`` (default: containing
      ``unavailable``) does not answer: the leg fails with USER_BUSY after ``answer_s`` (the
      callee waits on for another operator).

    Operators answer after 1-3 s (a seeded draw per endpoint and leg) and talk
    :data:`~autoinformer.sim.parties.OPERATOR_TALK_SECONDS`.
    """

    seed: int = 0
    machine_pattern: str = r"^\+?1555"
    unavailable_pattern: str = r"unavailable"
    operator_talk_s: float = OPERATOR_TALK_SECONDS
    patience_s: float = 15.0

    def __attrs_post_init__(self) -> None:
        for name in ("machine_pattern", "unavailable_pattern"):
            try:
                re.compile(getattr(self, name))
            except re.error as exc:
                raise SettingsError(name, f"not a regular expression: {exc}") from None
        if not self.operator_talk_s > 0:
            raise SettingsError("operator_talk_s", "must be > 0")
        if not self.patience_s > 0:
            raise SettingsError("patience_s", "must be > 0")

    def callee(self, number: str, attempt_no: int) -> CalleeFate:
        if not any(c.isdigit() for c in number):
            return CalleeFate(
                answers=False, ring_s=0.1, fail_cause=HangupCause.INVALID_NUMBER_FORMAT
            )
        party = party_for(number)
        machine = party.answers and re.search(self.machine_pattern, number) is not None
        return CalleeFate(
            answers=party.answers,
            ring_s=party.ring_seconds,
            fail_cause=party.fail_cause,
            machine=machine,
            listen_s=party.stays_seconds,
            digits=() if machine else party.digits,
            patience_s=self.patience_s,
            amd_s=3.0 if machine else 2.0,
        )

    def operator(self, endpoint: str, call_no: int) -> OperatorFate:
        rng = seeded_random(self.seed, "operator", endpoint, call_no)
        answer_s = round(rng.uniform(1.0, 3.0), 3)
        if re.search(self.unavailable_pattern, endpoint):
            return OperatorFate(
                answers=False, answer_s=answer_s, talk_s=0.0, fail_cause=HangupCause.USER_BUSY
            )
        return OperatorFate(answers=True, answer_s=answer_s, talk_s=self.operator_talk_s)


# --- a statistical population -------------------------------------------------------------


def _rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise SettingsError(name, f"must be a probability in [0, 1], got {value!r}")


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise SettingsError(name, f"must be a finite number > 0, got {value!r}")


def _lognormal(rng: SeededStream, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.gauss(0.0, 1.0))


def _digit_rates(value: Mapping[str, float]) -> Mapping[str, float]:
    return dict(value)


@attrs.frozen(kw_only=True)
class PopulationModel:
    """A statistical population of called people and operators, seeded.

    Per number (the same on every attempt): ``invalid_rate`` of the numbers are invalid
    (cause 28, ``invalid_number``). Per attempt, in this order: busy (17), rejected (21),
    unreachable (20: powered off, out of coverage), failed (34: congestion); otherwise the
    phone rings and someone answers with probability ``answer_rate`` after a log-normal ring
    time (so a short ring timeout loses late answerers), else it rings until our timeout.

    An answered call is a machine with probability ``machine_rate``; a machine listens
    ``machine_listen_s`` (greeting and recording) and presses nothing. A person hangs up early
    (within ``early_hangup_max_s``) with probability ``early_hangup_rate``, else listens a
    log-normal time; presses digit ``d`` with probability ``digit_rates[d]`` at a time uniform
    in ``digit_window_s`` after answer, then waits at least ``patience_s`` (log-normal) more.

    Args: every field is a setting; all are validated (SettingsError names the field).
    """

    seed: int = 0
    invalid_rate: float = 0.01
    busy_rate: float = 0.08
    rejected_rate: float = 0.03
    unreachable_rate: float = 0.08
    failed_rate: float = 0.005
    answer_rate: float = 0.6
    ring_median_s: float = 9.0
    ring_sigma: float = 0.5
    fail_after_s: tuple[float, float] = (0.5, 4.0)
    machine_rate: float = 0.1
    machine_listen_s: tuple[float, float] = (20.0, 45.0)
    early_hangup_rate: float = 0.1
    early_hangup_max_s: float = 8.0
    listen_median_s: float = 45.0
    listen_sigma: float = 0.8
    digit_rates: Mapping[str, float] = attrs.field(factory=dict, converter=_digit_rates, hash=False)
    digit_window_s: tuple[float, float] = (3.0, 15.0)
    patience_median_s: float = 15.0
    patience_sigma: float = 0.6
    operator_answer_rate: float = 0.98
    operator_answer_s: tuple[float, float] = (1.0, 3.0)
    talk_median_s: float = 90.0
    talk_sigma: float = 0.7
    wrap_up_median_s: float = 10.0
    wrap_up_sigma: float = 0.5

    def __attrs_post_init__(self) -> None:
        for name in (
            "invalid_rate",
            "busy_rate",
            "rejected_rate",
            "unreachable_rate",
            "failed_rate",
            "answer_rate",
            "machine_rate",
            "early_hangup_rate",
            "operator_answer_rate",
        ):
            _rate(name, getattr(self, name))
        failures = self.busy_rate + self.rejected_rate + self.unreachable_rate + self.failed_rate
        if failures > 1.0:
            raise SettingsError(
                "busy_rate",
                f"busy + rejected + unreachable + failed rates add up to {failures:g} > 1",
            )
        for name in (
            "ring_median_s",
            "early_hangup_max_s",
            "listen_median_s",
            "patience_median_s",
            "talk_median_s",
            "wrap_up_median_s",
        ):
            _positive(name, getattr(self, name))
        for name in ("ring_sigma", "listen_sigma", "patience_sigma", "talk_sigma", "wrap_up_sigma"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise SettingsError(name, f"must be a finite number >= 0, got {value!r}")
        for name in ("fail_after_s", "machine_listen_s", "digit_window_s", "operator_answer_s"):
            low, high = getattr(self, name)
            if not (0 < low <= high and math.isfinite(high)):
                raise SettingsError(
                    name, f"expected (low, high) with 0 < low <= high, got {(low, high)!r}"
                )
        total = 0.0
        for digit, rate in self.digit_rates.items():
            if len(digit) != 1 or digit not in "0123456789*#ABCD":
                raise SettingsError("digit_rates", f"{digit!r} is not a DTMF digit")
            _rate(f"digit_rates[{digit!r}]", rate)
            total += rate
        if total > 1.0:
            raise SettingsError("digit_rates", f"rates add up to {total:g} > 1")

    def callee(self, number: str, attempt_no: int) -> CalleeFate:
        if seeded_uniform(self.seed, "number", number) < self.invalid_rate:
            return CalleeFate(
                answers=False, ring_s=0.3, fail_cause=HangupCause.INVALID_NUMBER_FORMAT
            )
        rng = seeded_random(self.seed, "callee", number, attempt_no)
        u = rng.random()
        fail_s = round(rng.uniform(*self.fail_after_s), 3)
        for rate, cause in (
            (self.busy_rate, HangupCause.USER_BUSY),
            (self.rejected_rate, HangupCause.CALL_REJECTED),
            (self.unreachable_rate, HangupCause.SUBSCRIBER_ABSENT),
            (self.failed_rate, HangupCause.NORMAL_CIRCUIT_CONGESTION),
        ):
            if u < rate:
                if cause is HangupCause.CALL_REJECTED:  # rings a while, then the person declines
                    fail_s = round(min(_lognormal(rng, self.ring_median_s, 0.5), 60.0) / 2, 3)
                return CalleeFate(answers=False, ring_s=fail_s, fail_cause=cause)
            u -= rate
        ring_s = round(min(_lognormal(rng, self.ring_median_s, self.ring_sigma), 120.0), 3)
        patience_s = round(_lognormal(rng, self.patience_median_s, self.patience_sigma), 3)
        if rng.random() >= self.answer_rate:
            return CalleeFate(answers=False, ring_s=ring_s, patience_s=patience_s)
        if rng.random() < self.machine_rate:
            return CalleeFate(
                answers=True,
                ring_s=ring_s,
                machine=True,
                listen_s=round(rng.uniform(*self.machine_listen_s), 3),
                patience_s=patience_s,
                amd_s=round(rng.uniform(2.5, 4.0), 3),
            )
        if rng.random() < self.early_hangup_rate:
            listen_s = rng.uniform(1.0, self.early_hangup_max_s)
        else:
            listen_s = _lognormal(rng, self.listen_median_s, self.listen_sigma)
        digits: tuple[tuple[float, str], ...] = ()
        v = rng.random()
        for digit, rate in self.digit_rates.items():
            if v < rate:
                at = round(rng.uniform(*self.digit_window_s), 3)
                digits = ((at, digit),)
                listen_s = max(listen_s, at + patience_s)
                break
            v -= rate
        return CalleeFate(
            answers=True,
            ring_s=ring_s,
            listen_s=round(listen_s, 3),
            digits=digits,
            patience_s=patience_s,
            amd_s=round(rng.uniform(1.5, 2.5), 3),
        )

    def operator(self, endpoint: str, call_no: int) -> OperatorFate:
        rng = seeded_random(self.seed, "operator", endpoint, call_no)
        answer_s = round(rng.uniform(*self.operator_answer_s), 3)
        talk_s = round(_lognormal(rng, self.talk_median_s, self.talk_sigma), 3)
        wrap_up_s = round(_lognormal(rng, self.wrap_up_median_s, self.wrap_up_sigma), 3)
        if rng.random() >= self.operator_answer_rate:
            return OperatorFate(
                answers=False,
                answer_s=answer_s,
                talk_s=0.0,
                fail_cause=HangupCause.NO_ANSWER,
            )
        return OperatorFate(answers=True, answer_s=answer_s, talk_s=talk_s, wrap_up_s=wrap_up_s)
