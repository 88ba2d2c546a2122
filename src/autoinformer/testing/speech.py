"""Speech for tests: a renderer that needs no engine binary and no network.

A real switch gets audio files, so a test of a campaign with ``say`` steps over a fake
Asterisk or FreeSWITCH needs a renderer. espeak-ng runs as a subprocess, which virtual time
(:mod:`autoinformer.testing.virtual_time`) cannot wait for (its timeout would fire at once);
:func:`tone_renderer` synthesises a tone per text in-process, through the same fragment cache
and assembly as every engine.
"""

from __future__ import annotations

from pathlib import Path

from autoinformer.speech.cache import FragmentCache
from autoinformer.speech.engines.tone import ToneEngine
from autoinformer.speech.renderer import EngineRenderer

__all__ = ["tone_renderer"]


def tone_renderer(directory: Path) -> EngineRenderer:
    """A renderer with the :class:`~autoinformer.speech.ToneEngine`, caching under
    ``directory`` (its ``engine.calls`` lists the texts it was asked for)."""
    return EngineRenderer(engine=ToneEngine(), cache=FragmentCache(directory=directory))
