"""Speech: personalised templates, read-as rules, engines and telephone audio.

The pure half (no I/O) is imported eagerly: :class:`Template` (parse, check, render text or
SSML) and the :class:`SpeechPlan` it produces. The audio half (engines, fragment cache, pydub
assembly, :class:`EngineRenderer`) is loaded on first use, so ``import autoinformer.speech``
does not import pydub or start looking for espeak-ng.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from autoinformer.speech.plan import Pause, Play, Say, SpeechPlan
from autoinformer.speech.template import Template

if TYPE_CHECKING:
    from autoinformer.speech.audio import AudioFormat, RecordingInfo, check_recording
    from autoinformer.speech.cache import FragmentCache
    from autoinformer.speech.engines.base import Engine
    from autoinformer.speech.engines.espeak import EspeakEngine
    from autoinformer.speech.engines.google import GttsEngine
    from autoinformer.speech.engines.tone import ToneEngine
    from autoinformer.speech.errors import AudioFileError, EngineError
    from autoinformer.speech.renderer import EngineRenderer, SpeechRenderer
    from autoinformer.speech.settings import FallbackRenderer, SpeechSettings

__all__ = [
    "AudioFileError",
    "AudioFormat",
    "Engine",
    "EngineError",
    "EngineRenderer",
    "EspeakEngine",
    "FallbackRenderer",
    "FragmentCache",
    "GttsEngine",
    "Pause",
    "Play",
    "RecordingInfo",
    "Say",
    "SpeechPlan",
    "SpeechRenderer",
    "SpeechSettings",
    "Template",
    "ToneEngine",
    "check_recording",
]

_LAZY = {
    "AudioFormat": "autoinformer.speech.audio",
    "RecordingInfo": "autoinformer.speech.audio",
    "check_recording": "autoinformer.speech.audio",
    "FragmentCache": "autoinformer.speech.cache",
    "Engine": "autoinformer.speech.engines.base",
    "EspeakEngine": "autoinformer.speech.engines.espeak",
    "GttsEngine": "autoinformer.speech.engines.google",
    "ToneEngine": "autoinformer.speech.engines.tone",
    "AudioFileError": "autoinformer.speech.errors",
    "EngineError": "autoinformer.speech.errors",
    "EngineRenderer": "autoinformer.speech.renderer",
    "SpeechRenderer": "autoinformer.speech.renderer",
    "FallbackRenderer": "autoinformer.speech.settings",
    "SpeechSettings": "autoinformer.speech.settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
