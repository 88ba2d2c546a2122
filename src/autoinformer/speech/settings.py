"""A campaign's speech: which engine renders its ``say`` steps, with what fallback.

A real switch cannot speak text: the dialer renders each ``say`` step (and each spoken menu
prompt) to a telephone WAV file with an engine, through the fragment cache, before the call is
placed, and hands the switch the file. :class:`SpeechSettings` is the campaign file's
``[speech]`` table; :meth:`SpeechSettings.renderer` builds what the runtime uses:
a :class:`FallbackRenderer` that tries the engine, then the ``fallback`` engine when the
first fails (gTTS with no network, espeak-ng missing), and says which failed and why when both
do.

Engines: ``espeak`` (espeak-ng, offline: the default), ``gtts`` (Google's service: needs the
internet), ``tone`` (a tone per text, for tests).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.errors import SettingsError
from autoinformer.speech.template import Template

__all__ = ["ENGINE_NAMES", "FallbackRenderer", "SpeechSettings", "default_cache_dir"]

ENGINE_NAMES = ("espeak", "gtts", "tone")
"""The engines a campaign file may name."""


def default_cache_dir() -> Path:
    """Where synthesised fragments are kept when nothing says otherwise: the user's cache
    directory (``$XDG_CACHE_HOME/autoinformer/speech``, else ``~/.cache/...``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autoinformer" / "speech"


def _check_engine(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None and attribute.name == "fallback":
        return
    if value not in ENGINE_NAMES:
        raise SettingsError(
            f"speech.{attribute.name}", f"expected one of {', '.join(ENGINE_NAMES)}, got {value!r}"
        )


def _check_text(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise SettingsError(f"speech.{attribute.name}", f"expected a non-empty text, got {value!r}")


def _check_mode(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ("fragment", "sentence"):
        raise SettingsError("speech.mode", f"expected 'fragment' or 'sentence', got {value!r}")


@attrs.frozen(kw_only=True)
class SpeechSettings:
    """The ``[speech]`` table of a campaign file.

    Attributes:
        engine: ``espeak`` (offline, the default), ``gtts`` or ``tone``.
        lang: the language spoken (None: the campaign's ``lang``).
        voice: the engine's voice: an espeak-ng voice (``ru``, ``en-us+f3``) or gTTS's
            accent domain (``com``, ``co.uk``); None: the language's default.
        cache: the fragment cache directory (None: beside the store, or
            :func:`default_cache_dir`).
        fallback: an engine to use when ``engine`` fails (None: no fallback).
        mode: ``fragment`` (personal data cached word by word) or ``sentence``.
    """

    engine: str = attrs.field(default="espeak", validator=_check_engine)
    lang: str | None = attrs.field(default=None, validator=_check_text)
    voice: str | None = attrs.field(default=None, validator=_check_text)
    cache: Path | None = None
    fallback: str | None = attrs.field(default=None, validator=_check_engine)
    mode: str = attrs.field(default="fragment", validator=_check_mode)

    def __attrs_post_init__(self) -> None:
        if self.fallback is not None and self.fallback == self.engine:
            raise SettingsError("speech.fallback", f"is the engine itself ({self.engine!r})")

    def renderer(
        self, *, cache_dir: Path | None = None, recordings_dir: Path | None = None
    ) -> FallbackRenderer:
        """The renderer these settings describe.

        Args:
            cache_dir: the cache directory when ``cache`` is not set (the runtime passes the
                directory beside the store); None: :func:`default_cache_dir`.
            recordings_dir: where relative ``<audio:...>`` paths are looked up.
        """
        from autoinformer.speech.cache import FragmentCache
        from autoinformer.speech.renderer import EngineRenderer

        directory = self.cache or cache_dir or default_cache_dir()
        cache = FragmentCache(directory=directory)
        renderers = [
            EngineRenderer(
                engine=_engine(name, self.voice if name == self.engine else None),
                cache=cache,
                mode=self.mode,  # type: ignore[arg-type]
                recordings_dir=recordings_dir,
            )
            for name in (self.engine, self.fallback)
            if name is not None
        ]
        return FallbackRenderer(renderers=tuple(renderers), lang=self.lang)


def _engine(name: str, voice: str | None) -> Any:
    from autoinformer.speech.engines.base import engine_by_name

    if voice is None:
        return engine_by_name(name)
    if name == "espeak":
        return engine_by_name(name, voice=voice)
    if name == "gtts":
        return engine_by_name(name, tld=voice)
    raise SettingsError("speech.voice", f"the {name!r} engine has no voices")


@attrs.define(kw_only=True)
class FallbackRenderer:
    """Renders with the first renderer that works (see the module docstring).

    Attributes:
        renderers: tried in order; each an :class:`~autoinformer.speech.EngineRenderer`.
        lang: the language to speak, over the one the dialer asks for (None: as asked).
        fallbacks: how many messages a fallback rendered (the first renderer failed).
    """

    renderers: tuple[Any, ...]
    lang: str | None = None
    fallbacks: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        if not self.renderers:
            raise SettingsError("speech.engine", "needs at least one engine")

    @property
    def engine_names(self) -> list[str]:
        """The engines, in the order they are tried."""
        return [r.engine.name for r in self.renderers]

    async def render(self, template: Template, contact: Contact, lang: str = "en") -> Path:
        """A WAV file of this contact's message.

        Raises:
            InputError: the contact lacks a variable (no engine is tried: none would help).
            EngineError: every engine failed; the message names each and why.
        """
        from autoinformer.speech.errors import EngineError

        lang = self.lang or lang
        plan = template.plan(contact, lang)  # input errors surface before any engine runs
        problems: list[str] = []
        for index, renderer in enumerate(self.renderers):
            try:
                path: Path = await renderer.render_plan(plan)
            except EngineError as exc:
                problems.append(f"{renderer.engine.name}: {exc}")
                continue
            if index:
                self.fallbacks += 1
            return path
        raise EngineError("; ".join(problems))

    def estimate_seconds(self, template: Template, contact: Contact, lang: str = "en") -> float:
        """How long the message plays (the first engine's speaking rate)."""
        seconds: float = self.renderers[0].estimate_seconds(template, contact, self.lang or lang)
        return seconds
