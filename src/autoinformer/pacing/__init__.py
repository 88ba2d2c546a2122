"""Pacing policies: how many calls to launch now.

``broadcast``, ``progressive`` and ``power`` are exact and simple; ``predictive`` learns the
answer rate, ring and talk times and keeps abandoned calls under 3% of live answers. The field's
policies (VICIdial, Issabel, UCCX) live in :mod:`autoinformer.pacing.baselines` for comparison.
"""

from autoinformer.pacing._raw import RawPacing
from autoinformer.pacing.base import (
    BroadcastPacing,
    Observation,
    PacingObservation,
    PacingPolicy,
    PacingView,
)
from autoinformer.pacing.predictive import PredictivePacing
from autoinformer.pacing.progressive import PowerPacing, ProgressivePacing

__all__ = [
    "BroadcastPacing",
    "Observation",
    "PacingObservation",
    "PacingPolicy",
    "PacingView",
    "PowerPacing",
    "PredictivePacing",
    "ProgressivePacing",
    "RawPacing",
]
