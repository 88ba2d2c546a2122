"""Speech engines: the :class:`~autoinformer.speech.engines.base.Engine` ABC and its
implementations (espeak-ng offline, gTTS online, a counting tone engine for tests)."""

from __future__ import annotations

from autoinformer.speech.engines.base import Engine, engine_by_name

__all__ = ["Engine", "engine_by_name"]
