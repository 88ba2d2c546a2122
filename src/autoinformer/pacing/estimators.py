"""Online estimators for pacing: answer rate, ring times, talk times.

Small, allocation-free and O(1) per observation, because a policy sees every call. They hold no
clock: every update carries the value it learns from.
"""

from __future__ import annotations

import math

import attrs

__all__ = ["DiscountedMean", "DiscountedRate", "RingHistogram"]


@attrs.define(kw_only=True)
class DiscountedRate:
    """A success rate with exponential forgetting over about ``memory`` trials.

    The answer probability drifts during a day (people go to lunch, come home); a discounted
    count follows it while a plain average would average the morning into the evening.

    Attributes:
        memory: the effective number of recent trials that count (weights ``1 - 1/memory``).
        prior: the rate reported before any trial.
    """

    memory: float = 600.0
    prior: float = 0.3
    successes: float = 0.0
    trials: float = 0.0
    count: int = 0

    def add(self, success: bool) -> None:
        """Record one trial."""
        keep = 1.0 - 1.0 / self.memory
        self.successes = self.successes * keep + (1.0 if success else 0.0)
        self.trials = self.trials * keep + 1.0
        self.count += 1

    def add_fraction(self, success: float) -> None:
        """Record one trial whose outcome is unknown, as ``success`` (its probability) of one.

        A censored trial (a call released while still ringing) is neither a success nor a
        failure; counting it as its expected value keeps the rate unbiased, where counting it as
        a failure would pull the rate down.
        """
        keep = 1.0 - 1.0 / self.memory
        self.successes = self.successes * keep + success
        self.trials = self.trials * keep + 1.0
        self.count += 1

    def retract(self, since: int) -> None:
        """Turn the success recorded ``since`` trials ago into a failure (an answer that turned
        out to be a machine): it has decayed to ``(1 - 1/memory) ** since`` of one by now."""
        keep = 1.0 - 1.0 / self.memory
        weight = keep**since if since > 0 else 1.0
        self.successes = self.successes - weight if self.successes > weight else 0.0

    @property
    def value(self) -> float:
        """The current estimate (the prior until something was seen)."""
        if self.trials <= 0.0:
            return self.prior
        return self.successes / self.trials

    @property
    def effective_trials(self) -> float:
        """How many trials the estimate rests on (for confidence bounds)."""
        return self.trials


@attrs.define(kw_only=True)
class DiscountedMean:
    """A mean (and second moment) with exponential forgetting over about ``memory`` values."""

    memory: float = 400.0
    prior: float = 120.0
    weight: float = 0.0
    total: float = 0.0
    total_sq: float = 0.0
    count: int = 0

    def add(self, x: float) -> None:
        """Record one value."""
        keep = 1.0 - 1.0 / self.memory
        self.weight = self.weight * keep + 1.0
        self.total = self.total * keep + x
        self.total_sq = self.total_sq * keep + x * x
        self.count += 1

    @property
    def mean(self) -> float:
        """The current mean (the prior until something was seen)."""
        return self.total / self.weight if self.weight > 0.0 else self.prior

    @property
    def cv(self) -> float:
        """The coefficient of variation (1.0, the exponential's, until two values were seen)."""
        if self.count < 2 or self.total <= 0.0:
            return 1.0
        m = self.total / self.weight
        var = max(0.0, self.total_sq / self.weight - m * m)
        return math.sqrt(var) / m


@attrs.define(kw_only=True)
class RingHistogram:
    """Ring times of answered calls in one-second bins: gives P(ring <= t) for the pacing model.

    Attributes:
        bins: number of one-second bins (longer rings land in the last one).
    """

    bins: int = 64
    counts: list[float] = attrs.field(init=False)
    total: float = 0.0
    sum: float = 0.0

    def __attrs_post_init__(self) -> None:
        self.counts = [0.0] * self.bins

    def add(self, seconds: float) -> None:
        """Record one answered call's ring time."""
        i = int(seconds)
        if i >= self.bins:
            i = self.bins - 1
        elif i < 0:
            i = 0
        self.counts[i] += 1.0
        self.total += 1.0
        self.sum += seconds

    def remove(self, seconds: float) -> None:
        """Take back one ring time recorded by :meth:`add` (an answer that was a machine)."""
        i = int(seconds)
        if i >= self.bins:
            i = self.bins - 1
        elif i < 0:
            i = 0
        w = self.counts[i] if self.counts[i] < 1.0 else 1.0
        if w <= 0.0:
            return
        self.counts[i] -= w
        self.total -= w
        self.sum -= w * seconds
        if self.total <= 1e-9:  # nothing left: the empty histogram's exact state
            self.total = self.sum = 0.0
        elif self.sum < 0.0:
            self.sum = 0.0

    def add_tail(self, after: float, weight: float) -> None:
        """Record ``weight`` of an answer known only to come after ``after`` seconds of ringing.

        A call released after ringing ``after`` s would have been answered with probability
        ``weight``, at a ring time drawn from the tail of the distribution beyond ``after``: the
        weight is spread over the bins past ``after`` in proportion to their counts (the
        expectation step of EM for censored data). Without it, releasing calls that have rung
        long would leave only the short rings in the histogram, and the chance that an old call
        still answers would be underestimated. O(bins).
        """
        if weight <= 0.0:
            return
        counts = self.counts
        first = int(after)
        if first >= self.bins - 1:
            first = self.bins - 1
        elif first < 0:
            first = 0
        # the bin holding ``after`` counts for the share of it that lies beyond ``after``
        share = 1.0 - (after - first) if after > first else 1.0
        head = counts[first] * share
        tail = head + sum(counts[first + 1 :])
        if tail <= 0.0:  # nothing known past it: put it in the next bin
            i = min(self.bins - 1, first + 1)
            counts[i] += weight
            self.total += weight
            self.sum += weight * (i + 0.5)
            return
        scale = weight / tail
        moment = 0.0
        if head > 0.0:
            add = head * scale
            counts[first] += add
            moment += add * (first + 1.0 + after) / 2.0  # the mid-point of the bin's tail part
        for k in range(first + 1, self.bins):
            c = counts[k]
            if c > 0.0:
                add = c * scale
                counts[k] = c + add
                moment += add * (k + 0.5)
        self.total += weight
        self.sum += moment

    @property
    def mean(self) -> float:
        """Mean ring time of answered calls (15 s until something was seen)."""
        return self.sum / self.total if self.total else 15.0

    def survival_table(self) -> list[float]:
        """``S[k]`` = P(ring > k seconds) for k = 0..bins (linear inside each bin)."""
        out = [1.0] * (self.bins + 1)
        if not self.total:
            return out
        acc = 0.0
        for k in range(self.bins):
            acc += self.counts[k]
            out[k + 1] = max(0.0, 1.0 - acc / self.total)
        return out
