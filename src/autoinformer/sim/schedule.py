"""An answer rate that steps during a shift: ``"0:0.35,2h:0.08"``.

A sudden change of the answer rate (a list segment of mobiles after landlines, the evening
after the afternoon) is what a predictive policy finds hardest: its estimate lags the change,
and the hour after a drop is when it abandons most. The pacing simulator's
:class:`~autoinformer.sim.pacing.Scenario` and ``autoinformer simulate --answer-rate-schedule``
take the same spelling, parsed here, so the benchmarks' stress cases are what a user can run.

The schedule is a list of ``START:RATE`` steps, START a duration from the shift's start
(``0``, ``90m``, ``2h``, seconds as a bare number) and RATE the answer probability from then
on, until the next step. The first step must start at 0 (the rate at the start is never left
implicit); the starts must increase.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

from autoinformer.errors import SettingsError
from autoinformer.policy.durations import parse_duration

__all__ = ["AnswerRateSchedule", "answer_rate_at", "parse_answer_rate_schedule"]

AnswerRateSchedule = tuple[tuple[float, float], ...]
"""``((start seconds, answer probability), ...)``, starts increasing from 0."""

_EXAMPLE = "like '0:0.35,2h:0.08'"


def parse_answer_rate_schedule(
    value: str | Iterable[tuple[float, float]], field: str = "answer_rate_schedule"
) -> AnswerRateSchedule:
    """A schedule from its text (``"0:0.35,2h:0.08"``) or from ``(start, rate)`` pairs.

    Args:
        value: the text, or pairs of (seconds from the shift's start, answer probability).
        field: the setting's name for the error message (``--answer-rate-schedule`` on the CLI).

    Returns:
        The steps as ``((start seconds, rate), ...)``; empty for an empty text or list.

    Raises:
        SettingsError: a step that is not ``START:RATE``, a duration or a rate that does not
            parse, a rate outside (0, 1], a first start other than 0, or starts not increasing;
            the message names the step (1-based) and what was expected.
    """
    steps: list[tuple[float, float]] = []
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")] if value.strip() else []
        for i, part in enumerate(parts, 1):
            start_text, colon, rate_text = part.rpartition(":")
            if not colon or not start_text.strip():
                raise SettingsError(field, f"step {i} {part!r}: expected START:RATE ({_EXAMPLE})")
            start = parse_duration(start_text.strip(), f"{field} step {i} start").total_seconds()
            try:
                rate = float(rate_text)
            except ValueError:
                raise SettingsError(
                    field, f"step {i} {part!r}: the rate {rate_text.strip()!r} is not a number"
                ) from None
            steps.append((start, rate))
    else:
        for i, pair in enumerate(value, 1):
            try:
                start, rate = (float(x) for x in pair)
            except (TypeError, ValueError):
                raise SettingsError(
                    field, f"step {i}: expected a (start seconds, rate) pair, got {pair!r}"
                ) from None
            steps.append((start, rate))
    for i, (start, rate) in enumerate(steps, 1):
        if not math.isfinite(start) or start < 0:
            raise SettingsError(field, f"step {i}: start must be >= 0 seconds, got {start:g}")
        if not 0.0 < rate <= 1.0:
            raise SettingsError(field, f"step {i}: the answer rate must be in (0, 1], got {rate:g}")
        if i == 1 and start != 0.0:
            raise SettingsError(
                field, f"the first step must start at 0 (the rate at the start), got {start:g} s"
            )
        if i > 1 and start <= steps[i - 2][0]:
            raise SettingsError(
                field,
                f"step {i}: starts must increase, got {start:g} s after {steps[i - 2][0]:g} s",
            )
    return tuple(steps)


def answer_rate_at(schedule: AnswerRateSchedule, t: float) -> float:
    """The rate in force ``t`` seconds into the shift (the last step started by then)."""
    i = bisect.bisect_right(schedule, (t, math.inf)) - 1
    return schedule[i if i > 0 else 0][1]
