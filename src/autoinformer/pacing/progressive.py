"""Progressive and power pacing: the simple, exact policies.

Progressive launches one call per idle operator and so never abandons a call: every answered
callee finds the operator the call was launched for. Power launches a fixed number of lines per
idle operator; it is fast and blind, the ``ratio`` decides both its occupancy and its abandons.
"""

from __future__ import annotations

import attrs

from autoinformer.errors import SettingsError
from autoinformer.pacing._raw import PerIdlePacing

__all__ = ["PowerPacing", "ProgressivePacing"]


@attrs.define(kw_only=True)
class ProgressivePacing(PerIdlePacing):
    """One call in flight per idle operator (a call waiting for an operator counts as one)."""

    ratio = 1.0  # a constant, not a setting


def _check_ratio(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 1.0:
        raise SettingsError("pacing.ratio", f"must be >= 1.0 lines per idle operator, got {value}")


@attrs.define(kw_only=True)
class PowerPacing(PerIdlePacing):
    """A fixed ratio: keep ``ratio`` calls in flight per idle operator.

    Attributes:
        ratio: lines per idle operator (1.0 is progressive); the calls already ringing and the
            answered callees waiting for an operator count against it.
    """

    ratio: float = attrs.field(default=2.0, validator=_check_ratio)
