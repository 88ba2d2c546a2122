"""When to call a contact again after an attempt, and on which of their numbers.

One budget per contact: :attr:`RetryPolicy.attempts` is the total number of attempts a contact
may get (the first call included), whatever the outcomes were. Each outcome has a
:class:`RetryRule` (retry or not, after which delay). Final outcomes (``delivered``,
``transferred``, ``opted_out``, ``invalid_number``) never retry.

Compliance defaults: a person whose call was ``abandoned`` (answered, no operator came) is not
called again for 72 hours unless the campaign guarantees an operator for the next call; and the
phone rings at least 15 seconds before the dialer gives up (:meth:`RetryPolicy.ring_timeout_for`
raises shorter requests to that floor; a ``ring_timeout`` setting below it is rejected).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from autoinformer.errors import SettingsError
from autoinformer.outcomes import Outcome
from autoinformer.policy._config import build
from autoinformer.policy.durations import DurationLike, parse_duration

__all__ = [
    "FINAL_OUTCOMES",
    "RetryDecision",
    "RetryPolicy",
    "RetryRule",
]

FINAL_OUTCOMES = frozenset(
    {Outcome.DELIVERED, Outcome.TRANSFERRED, Outcome.OPTED_OUT, Outcome.INVALID_NUMBER}
)
"""Outcomes after which a contact is never called again in the campaign."""

_PERSON_REACHED = frozenset({Outcome.HUNG_UP_EARLY, Outcome.ABANDONED, Outcome.AGENT_ERROR})
"""A person answered on this number: the next attempt uses the same number."""


def _delay(value: DurationLike | None) -> dt.timedelta | None:
    return None if value is None else parse_duration(value, "delay")


@attrs.frozen
class RetryRule:
    """What to do after one kind of outcome.

    Attributes:
        retry: whether to call again (budget permitting).
        delay: how long to wait before the next attempt (``"20m"`` accepted); None: the
            policy's ``default_delay``. :meth:`RetryPolicy.rule` always returns it resolved.
    """

    retry: bool
    delay: dt.timedelta | None = attrs.field(default=None, converter=_delay)


@attrs.frozen
class RetryDecision:
    """The verdict after one attempt.

    Attributes:
        retry: True when the contact gets another attempt.
        at: earliest time for it (None when not retrying); the call window and contact limits
            may push it later.
        number_index: index into the contact's phones for the next attempt.
        reason: one line for logs, statistics and the contact's progress record.
    """

    retry: bool
    at: dt.datetime | None
    number_index: int
    reason: str


def _rule_from(outcome: Outcome, value: object) -> RetryRule:
    field = f"rules[{outcome.value}]"
    if isinstance(value, RetryRule):
        rule = value
    elif isinstance(value, bool):
        rule = RetryRule(retry=value)
    elif value is None:
        rule = RetryRule(retry=False)
    elif isinstance(value, str | int | float | dt.timedelta):
        rule = RetryRule(retry=True, delay=parse_duration(value, field))
    elif isinstance(value, Mapping):  # a campaign file's table: { retry = true, delay = "2h" }
        for key in value:
            if key not in ("retry", "delay"):
                raise SettingsError(f"{field}.{key}", "unknown setting (expected retry, delay)")
        retry = value.get("retry", True)
        if not isinstance(retry, bool):
            raise SettingsError(f"{field}.retry", f"expected true or false, got {retry!r}")
        delay = value.get("delay")
        rule = RetryRule(
            retry=retry, delay=None if delay is None else parse_duration(delay, f"{field}.delay")
        )
    else:
        raise SettingsError(
            field,
            f"expected a RetryRule, a delay like '20m', False, or a table with retry and delay, "
            f"got {value!r}",
        )
    if rule.retry and outcome in FINAL_OUTCOMES:
        raise SettingsError(field, f"{outcome.value} is final and never retries")
    return rule


def _outcome_key(key: object) -> Outcome:
    try:
        return Outcome(str(key))
    except ValueError:
        known = ", ".join(o.value for o in Outcome)
        raise SettingsError(
            "rules", f"unknown outcome {key!r} (expected one of: {known})"
        ) from None


def _rules(value: Mapping[Outcome | str, Any] | None) -> Mapping[Outcome, RetryRule]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SettingsError("rules", f"expected a mapping of outcome to rule, got {value!r}")
    return {_outcome_key(k): _rule_from(_outcome_key(k), v) for k, v in value.items()}


def _default_delay(value: DurationLike) -> dt.timedelta:
    return parse_duration(value, "default_delay")


def _cooldown(value: DurationLike) -> dt.timedelta:
    return parse_duration(value, "abandoned_cooldown")


def _min_ring(value: DurationLike) -> float:
    return parse_duration(value, "min_ring_seconds").total_seconds()


def _ring_timeout(value: DurationLike) -> float:
    return parse_duration(value, "ring_timeout").total_seconds()


@attrs.frozen
class RetryPolicy:
    """Retries per outcome, all drawing on one budget of attempts per contact.

    Attributes:
        attempts: total attempts per contact, the first call included (>= 1).
        rules: per-outcome :class:`RetryRule` (or a delay like ``"5m"`` meaning "retry after",
            False meaning "do not retry", or a table ``{"retry": True, "delay": "2h"}``).
            Outcomes not listed retry after ``default_delay``, except the final ones.
        default_delay: delay for outcomes without a rule (``"20m"``).
        alternate_numbers: move to the contact's next number when the last attempt did not
            reach a person (no answer, busy, rejected, unreachable, failed, machine, unknown);
            after ``hung_up_early``/``abandoned``/``agent_error`` the same number is kept.
        abandoned_cooldown: least delay after an ``abandoned`` call (72 h by default).
        cooldown_unless_operator_guaranteed: skip that cool-down when the caller passes
            ``operator_guaranteed=True`` (an operator is reserved for the next call).
        min_ring_seconds: the ring-time floor (15 s, the compliance default).
        ring_timeout: seconds to ring before giving up; must be >= ``min_ring_seconds``.
    """

    attempts: int = 3
    rules: Mapping[Outcome, RetryRule] = attrs.field(factory=dict, converter=_rules, hash=False)
    default_delay: dt.timedelta = attrs.field(
        default=dt.timedelta(minutes=20), converter=_default_delay
    )
    alternate_numbers: bool = True
    abandoned_cooldown: dt.timedelta = attrs.field(
        default=dt.timedelta(hours=72), converter=_cooldown
    )
    cooldown_unless_operator_guaranteed: bool = True
    min_ring_seconds: float = attrs.field(default=15.0, converter=_min_ring)
    ring_timeout: float = attrs.field(default=30.0, converter=_ring_timeout)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise SettingsError("attempts", f"expected a whole number >= 1, got {self.attempts!r}")
        if self.attempts < 1:
            raise SettingsError("attempts", f"expected a whole number >= 1, got {self.attempts}")
        if self.min_ring_seconds <= 0:
            raise SettingsError("min_ring_seconds", "must be more than 0 seconds")
        if self.ring_timeout < self.min_ring_seconds:
            raise SettingsError(
                "ring_timeout",
                f"must ring at least {self.min_ring_seconds:g} s, got {self.ring_timeout:g} s",
            )

    @classmethod
    def simple(cls, attempts: int = 3, interval: DurationLike = "20m") -> RetryPolicy:
        """Seed 000's settings: "N repeated calls, M minutes apart" for every retryable outcome."""
        return cls(attempts=attempts, default_delay=parse_duration(interval, "interval"))

    @classmethod
    def from_config(cls, data: Mapping[str, object], prefix: str = "retry") -> RetryPolicy:
        """A policy from a campaign file's table (the attribute names; ``interval`` is accepted
        for ``default_delay``).

        Raises:
            SettingsError: an unknown key or a wrong value, named ``retry.<key>``.
        """
        keys = [a.name for a in attrs.fields(cls)]
        return build(cls, data, prefix, keys, aliases={"interval": "default_delay"})

    def rule(self, outcome: Outcome) -> RetryRule:
        """The rule in force for ``outcome``, its delay resolved (never None).

        Final outcomes: no retry. Outcomes without a rule: retry after ``default_delay``.
        """
        if outcome in FINAL_OUTCOMES:
            return RetryRule(retry=False, delay=dt.timedelta(0))
        rule = self.rules.get(outcome)
        if rule is None:
            return RetryRule(retry=True, delay=self.default_delay)
        if rule.delay is None:
            return RetryRule(retry=rule.retry, delay=self.default_delay)
        return rule

    def ring_timeout_for(self, requested: float | None = None) -> float:
        """Seconds to ring for one call: ``requested`` (or the policy's) raised to the floor."""
        value = self.ring_timeout if requested is None else requested
        return max(float(value), self.min_ring_seconds)

    def decide(
        self,
        outcome: Outcome,
        attempts_made: int,
        number_index: int,
        phone_count: int,
        now: dt.datetime,
        operator_guaranteed: bool = False,
    ) -> RetryDecision:
        """Whether and when to call again after an attempt ended with ``outcome``.

        Args:
            outcome: how the attempt ended (``unknown``: it was in flight at a crash).
            attempts_made: attempts so far for this contact, the one just ended included.
            number_index: index of the number that attempt used.
            phone_count: how many numbers the contact has (>= 1).
            now: when the attempt ended (aware).
            operator_guaranteed: an operator is reserved for the next call (lifts the
                abandoned-call cool-down when the policy allows that).

        Returns:
            The decision; ``at`` is the earliest time, before the window and limits apply.

        Raises:
            SettingsError: ``phone_count`` < 1, a negative count or index, or a naive ``now``.
        """
        if now.tzinfo is None:
            raise SettingsError("now", "must be a timezone-aware datetime")
        if phone_count < 1:
            raise SettingsError(
                "phone_count", f"a contact needs at least 1 number, got {phone_count}"
            )
        if attempts_made < 0:
            raise SettingsError("attempts_made", f"must not be negative, got {attempts_made}")
        if not 0 <= number_index < phone_count:
            raise SettingsError(
                "number_index", f"expected 0..{phone_count - 1}, got {number_index}"
            )
        try:
            outcome = Outcome(outcome)
        except ValueError:
            raise SettingsError("outcome", f"unknown outcome {outcome!r}") from None
        if outcome in FINAL_OUTCOMES:
            return RetryDecision(False, None, number_index, f"final outcome: {outcome.value}")
        rule = self.rule(outcome)
        if not rule.retry:
            return RetryDecision(False, None, number_index, f"no retry after {outcome.value}")
        if attempts_made >= self.attempts:
            return RetryDecision(
                False,
                None,
                number_index,
                f"attempt budget used ({attempts_made} of {self.attempts})",
            )
        delay = rule.delay if rule.delay is not None else self.default_delay
        reason = f"retry after {outcome.value}"
        lifted = operator_guaranteed and self.cooldown_unless_operator_guaranteed
        if outcome is Outcome.ABANDONED and not lifted and self.abandoned_cooldown > delay:
            delay = self.abandoned_cooldown
            reason += " (abandoned-call cool-down)"
        next_index = number_index
        if self.alternate_numbers and phone_count > 1 and outcome not in _PERSON_REACHED:
            next_index = (number_index + 1) % phone_count
        return RetryDecision(True, now + delay, next_index, reason)
