"""A campaign's speech: which engines render its ``say`` steps, in what order.

A real switch cannot speak text: the dialer renders each ``say`` step (and each spoken menu
prompt) to a telephone WAV file with an engine, through the fragment cache, before the call is
placed, and hands the switch the file. :class:`SpeechSettings` is the campaign file's
``[speech]`` table; :meth:`SpeechSettings.renderer` builds what the runtime uses:
a :class:`FallbackRenderer` with an ordered list of engines (``engines = ["gtts", "espeak"]``,
or the older ``engine`` + ``fallback``). Each engine has a circuit breaker
(:mod:`autoinformer.speech.breaker`): an engine that failed (gTTS with no network, espeak-ng
missing) is skipped for ``cooldown`` seconds (doubling while it keeps failing) instead of being
retried for every message, and when every engine fails the error names each and why.

Engines: ``espeak`` (espeak-ng, offline: the default), ``gtts`` (Google's service: needs the
internet), ``tone`` (a tone per text, for tests).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.errors import SettingsError
from autoinformer.speech.breaker import BreakerPolicy, CircuitBreaker
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


def _check_engines(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, tuple):
        raise SettingsError("speech.engines", f"expected a list of engine names, got {value!r}")
    if not value:
        raise SettingsError("speech.engines", "expected at least one engine, got []")
    for index, name in enumerate(value):
        if name not in ENGINE_NAMES:
            raise SettingsError(
                f"speech.engines[{index}]",
                f"expected one of {', '.join(ENGINE_NAMES)}, got {name!r}",
            )
        if name in value[:index]:
            raise SettingsError(f"speech.engines[{index}]", f"{name!r} is listed twice")


def _check_cooldown(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise SettingsError(
            "speech.cooldown", f"expected a positive number of seconds, got {value!r}"
        )


def _to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


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
        engines: the engines in the order they are tried (``("gtts", "espeak")``); when
            given, it replaces ``engine`` and ``fallback``. ``voice`` is the first one's.
        cooldown: seconds a failed engine is skipped before it is tried again (doubling, up
            to 20 times this, while it keeps failing).
    """

    engine: str = attrs.field(default="espeak", validator=_check_engine)
    lang: str | None = attrs.field(default=None, validator=_check_text)
    voice: str | None = attrs.field(default=None, validator=_check_text)
    cache: Path | None = None
    fallback: str | None = attrs.field(default=None, validator=_check_engine)
    mode: str = attrs.field(default="fragment", validator=_check_mode)
    engines: tuple[str, ...] | None = attrs.field(
        default=None, converter=_to_tuple, validator=_check_engines
    )
    cooldown: float = attrs.field(default=30.0, validator=_check_cooldown)

    def __attrs_post_init__(self) -> None:
        if self.fallback is not None and self.fallback == self.engine:
            raise SettingsError("speech.fallback", f"is the engine itself ({self.engine!r})")

    @property
    def engine_order(self) -> tuple[str, ...]:
        """The engines in the order they are tried."""
        if self.engines is not None:
            return self.engines
        return (self.engine,) if self.fallback is None else (self.engine, self.fallback)

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
        order = self.engine_order
        renderers = [
            EngineRenderer(
                engine=_engine(name, self.voice if name == order[0] else None),
                cache=cache,
                mode=self.mode,  # type: ignore[arg-type]
                recordings_dir=recordings_dir,
            )
            for name in order
        ]
        policy = BreakerPolicy(cooldown=self.cooldown, max_cooldown=self.cooldown * 20)
        return FallbackRenderer(renderers=tuple(renderers), lang=self.lang, policy=policy)


def _engine(name: str, voice: str | None) -> Any:
    from autoinformer.speech.engines.base import engine_by_name

    if voice is None:
        return engine_by_name(name)
    if name == "espeak":
        return engine_by_name(name, voice=voice)
    if name == "gtts":
        return engine_by_name(name, tld=voice)
    raise SettingsError("speech.voice", f"the {name!r} engine has no voices")


def _engine_name(renderer: Any) -> str:
    return str(renderer.engine.name)


@attrs.define(kw_only=True)
class FallbackRenderer:
    """Renders with the first engine that works, skipping engines whose breaker is open (see
    the module docstring).

    Attributes:
        renderers: tried in order; each an :class:`~autoinformer.speech.EngineRenderer`.
        lang: the language to speak, over the one the dialer asks for (None: as asked).
        policy: when an engine's breaker opens and for how long.
        clock: the time source for the breakers (seconds; monotonic by default).
        fallbacks: how many messages a later engine rendered (an earlier one failed or was
            skipped).
        breakers: one per renderer, in the same order.
    """

    renderers: tuple[Any, ...]
    lang: str | None = None
    policy: BreakerPolicy = attrs.field(factory=BreakerPolicy)
    clock: Callable[[], float] = time.monotonic
    fallbacks: int = attrs.field(default=0, init=False)
    breakers: tuple[CircuitBreaker, ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        if not self.renderers:
            raise SettingsError("speech.engine", "needs at least one engine")
        self.breakers = tuple(CircuitBreaker(policy=self.policy) for _ in self.renderers)

    @property
    def engine_names(self) -> list[str]:
        """The engines, in the order they are tried."""
        return [_engine_name(r) for r in self.renderers]

    async def render(self, template: Template, contact: Contact, lang: str = "en") -> Path:
        """A WAV file of this contact's message.

        Engines whose breaker is open are skipped. When every engine is being skipped, the
        first is asked anyway (a last resort): a message is never refused without an engine
        having been asked, so a single engine's passing failure does not fail every call of
        its cooldown.

        Raises:
            InputError: the contact lacks a variable (no engine is tried: none would help).
            EngineError: every engine failed or is being skipped; the message names each
                engine, its error and when a skipped one is tried again.
        """
        from autoinformer.speech.errors import EngineError

        lang = self.lang or lang
        plan = template.plan(contact, lang)  # input errors surface before any engine runs
        problems: list[str] = []
        skipped: list[int] = []
        for index, breaker in enumerate(self.breakers):
            if not breaker.allows(self.clock()):
                skipped.append(index)
                continue
            path = await self._try(index, plan, problems)
            if path is not None:
                return path
        if len(skipped) == len(self.renderers):  # nothing was asked: the last resort
            path = await self._try(0, plan, problems)
            if path is not None:
                return path
        for index in skipped[1:] if len(skipped) == len(self.renderers) else skipped:
            breaker = self.breakers[index]
            name = _engine_name(self.renderers[index])
            problems.append(f"{name}: {breaker.describe(self.clock())}")
        raise EngineError("every speech engine failed: " + "; ".join(problems))

    async def _try(self, index: int, plan: Any, problems: list[str]) -> Path | None:
        """Render with one engine, reporting to its breaker; None (and a problem) on failure."""
        from autoinformer.speech.errors import EngineError

        renderer, breaker = self.renderers[index], self.breakers[index]
        try:
            path: Path = await renderer.render_plan(plan)
        except EngineError as exc:
            breaker.failed(self.clock(), str(exc))
            problems.append(f"{_engine_name(renderer)}: {exc}")
            return None
        finally:
            breaker.release()  # a trial that ended another way (cancelled) is not held
        breaker.succeeded(self.clock())
        if index:
            self.fallbacks += 1
        return path

    def estimate_seconds(self, template: Template, contact: Contact, lang: str = "en") -> float:
        """How long the message plays (the first engine's speaking rate)."""
        seconds: float = self.renderers[0].estimate_seconds(template, contact, self.lang or lang)
        return seconds
