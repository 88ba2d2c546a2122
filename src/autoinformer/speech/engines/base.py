"""The speech engine contract: text (or SSML) in, an audio file's bytes out.

An engine does one thing, synthesis; caching, conversion to telephone formats and assembly
are the renderer's job, so an engine is short to write. Cloud engines that take SSML set
:attr:`Engine.supports_ssml` and receive SSML when the renderer is told to send it.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from autoinformer.errors import SettingsError

__all__ = ["Engine", "engine_by_name"]

# name -> "module:Class", loaded lazily so unused engines cost nothing.
_ENGINES = {
    "espeak": "autoinformer.speech.engines.espeak:EspeakEngine",
    "espeak-ng": "autoinformer.speech.engines.espeak:EspeakEngine",
    "gtts": "autoinformer.speech.engines.google:GttsEngine",
    "tone": "autoinformer.speech.engines.tone:ToneEngine",
}


class Engine(ABC):
    """A text-to-speech engine.

    Attributes:
        name: short name, part of the fragment cache key.
        supports_ssml: the engine accepts SSML (``ssml=True`` in :meth:`synthesize`).
    """

    name: ClassVar[str] = "engine"
    supports_ssml: ClassVar[bool] = False

    def cache_id(self, lang: str) -> str:
        """What identifies this engine's sound for ``lang`` in the cache key: name, voice and
        every setting that changes the audio. Two engines with the same id must sound alike."""
        return self.name

    def chars_per_second(self, lang: str) -> float:
        """Speaking rate used to estimate durations before synthesis."""
        return 14.0

    def pause_ms(self, kind: str, lang: str) -> int | None:
        """How long the engine pauses at a ``"sentence"`` or ``"clause"`` boundary inside a
        text, in ms; None (the default): unknown, the renderer measures it once."""
        return None

    @abstractmethod
    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        """Synthesise speech.

        Args:
            text: the words (or an SSML document when ``ssml`` is true).
            lang: language code (``"en"``, ``"ru"``, ``"id"``, ``"pt-BR"``).
            ssml: ``text`` is SSML; only for engines with :attr:`supports_ssml`.

        Returns:
            The bytes of an audio file (WAV or MP3) that pydub/ffmpeg can decode.

        Raises:
            EngineError: the engine could not synthesise.
        """


def engine_by_name(name: str, **settings: Any) -> Engine:
    """Create an engine by its short name (``espeak``, ``gtts``, ``tone``).

    Raises:
        SettingsError: unknown engine name (field ``engine``).
    """
    target = _ENGINES.get(name.lower())
    if target is None:
        raise SettingsError(
            "engine", f"unknown engine {name!r}; expected one of {sorted(_ENGINES)}"
        )
    module, _, cls = target.partition(":")
    engine: Engine = getattr(importlib.import_module(module), cls)(**settings)
    return engine
