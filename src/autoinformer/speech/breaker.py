"""A circuit breaker per speech engine: a failing engine is skipped for a while, not retried
for every message.

Pure logic (no clock reads, no I/O): the caller passes the time, as the dialer core does, so
tests drive it with plain numbers. States, as in the classic pattern:

- ``closed``: the engine is used; ``failures`` consecutive failures open the circuit;
- ``open``: the engine is skipped until ``cooldown`` seconds have passed since it opened;
- ``half-open``: the cooldown is over; one message may try the engine (others still skip it).
  Success closes the circuit; failure opens it again for twice the cooldown (capped at
  ``max_cooldown``), so an engine that stays down costs one try per cooldown, not one per call.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from autoinformer.errors import SettingsError

__all__ = ["BreakerPolicy", "CircuitBreaker"]

State = Literal["closed", "open", "half-open"]


def _positive(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value > 0:
        raise SettingsError(attribute.name, f"expected a positive number, got {value!r}")


@attrs.frozen(kw_only=True)
class BreakerPolicy:
    """When a breaker opens and for how long.

    Attributes:
        failures: consecutive failures that open the circuit (1: the first failure does).
        cooldown: seconds a failed engine is skipped the first time.
        max_cooldown: the longest skip (the cooldown doubles while the engine keeps failing).
    """

    failures: int = attrs.field(default=1, validator=_positive)
    cooldown: float = attrs.field(default=30.0, validator=_positive)
    max_cooldown: float = attrs.field(default=600.0, validator=_positive)


@attrs.define(kw_only=True)
class CircuitBreaker:
    """One engine's breaker (see the module docstring).

    Attributes:
        policy: when it opens and for how long.
        state: ``closed``, ``open`` or ``half-open``.
        failures: consecutive failures so far.
        last_error: the most recent failure's message ("" when none).
        opened_at: when the circuit last opened (None: never, or closed since).
        cooldown: the current skip length in seconds.
    """

    policy: BreakerPolicy = attrs.field(factory=BreakerPolicy)
    state: State = attrs.field(default="closed", init=False)
    failures: int = attrs.field(default=0, init=False)
    last_error: str = attrs.field(default="", init=False)
    opened_at: float | None = attrs.field(default=None, init=False)
    cooldown: float = attrs.field(init=False)
    _trial: bool = attrs.field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        self.cooldown = self.policy.cooldown

    @property
    def retry_at(self) -> float | None:
        """When a skipped engine may be tried again (None unless open)."""
        if self.state != "open" or self.opened_at is None:
            return None
        return self.opened_at + self.cooldown

    def allows(self, now: float) -> bool:
        """May a message use the engine at ``now``? A True in ``half-open`` is the one trial:
        the caller must report its outcome with :meth:`succeeded` or :meth:`failed`."""
        retry_at = self.retry_at
        if retry_at is not None and now >= retry_at:
            self.state = "half-open"
            self._trial = False
        if self.state == "closed":
            return True
        if self.state == "half-open" and not self._trial:
            self._trial = True
            return True
        return False

    def succeeded(self, now: float) -> None:
        """The engine worked: close the circuit and forget past failures."""
        self.state = "closed"
        self.failures = 0
        self.opened_at = None
        self.cooldown = self.policy.cooldown
        self._trial = False

    def failed(self, now: float, error: str) -> None:
        """The engine failed with ``error``: count it, and open the circuit when due."""
        self.failures += 1
        self.last_error = error
        if self.state == "half-open":
            self.cooldown = min(self.cooldown * 2, self.policy.max_cooldown)
        elif self.failures < self.policy.failures:
            return
        self.state = "open"
        self.opened_at = now
        self._trial = False

    def release(self) -> None:
        """A trial ended without saying anything about the engine (cancelled, or failed for
        another reason such as a missing recording): let the next message try instead."""
        self._trial = False

    def describe(self, now: float) -> str:
        """Why the engine is skipped, for error messages: its last error and when it will be
        tried again."""
        retry_at = self.retry_at
        wait = f"; skipped, next try in {max(retry_at - now, 0):.0f} s" if retry_at else ""
        return f"{self.last_error}{wait}"
