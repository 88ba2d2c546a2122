"""How hard the fuzz tests try.

By default each property runs a small, fixed (derandomised) set of examples so the suite stays
fast and never fails on a new random draw; ``AUTOINFORMER_FUZZ_EXAMPLES=5000`` runs that many
fresh random examples per property, for a fuzzing session (then add what it finds to
``tests/fuzz/corpus``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_EXAMPLES = os.environ.get("AUTOINFORMER_FUZZ_EXAMPLES")


def fuzz(examples: int) -> settings:
    """Hypothesis settings for a fuzz property with ``examples`` examples by default."""
    return settings(
        max_examples=int(_EXAMPLES) if _EXAMPLES else examples,
        derandomize=_EXAMPLES is None,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
