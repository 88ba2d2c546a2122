"""Pacing policies: how many calls to launch now."""

from autoinformer.pacing.base import (
    BroadcastPacing,
    Observation,
    PacingObservation,
    PacingPolicy,
    PacingView,
)

__all__ = ["BroadcastPacing", "Observation", "PacingObservation", "PacingPolicy", "PacingView"]
