"""From template + contact + language to a WAV file the switch plays.

:class:`SpeechRenderer` is the contract the dialer uses; :class:`EngineRenderer` implements it
with an :class:`~autoinformer.speech.engines.base.Engine`, a
:class:`~autoinformer.speech.cache.FragmentCache` and byte-level assembly:

1. the template makes a :class:`~autoinformer.speech.plan.SpeechPlan` (pure);
2. the plan becomes synthesis units, per word of personal data in ``fragment`` mode or per
   sentence in ``sentence`` mode;
3. each text unit is looked up in the cache; only misses reach the engine (concurrent misses
   for the same text wait for one synthesis instead of calling the engine twice);
4. the raw fragments, silences and recordings are concatenated and written as one WAV named
   by its content, so identical messages share a file.

In fragment mode a :class:`~autoinformer.speech.plan.Break` (a full stop or comma between two
fragments) becomes the pause the engine makes there inside a sentence: the engine's
:meth:`~autoinformer.speech.engines.base.Engine.pause_ms` when it knows it, else measured once by
synthesising a two-word calibration sentence ("Five. Five.") and timing the silence in it; the
result is kept in the fragment cache, so later runs do not measure again. Text goes to the
engine through :func:`~autoinformer.speech.spelling.speakable`, so letters are read as letters.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections import OrderedDict
from functools import partial
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import anyio
import anyio.to_thread
import attrs

from autoinformer.contacts.model import Contact
from autoinformer.errors import SettingsError
from autoinformer.speech import readas
from autoinformer.speech.audio import (
    TELEPHONE,
    TRIM_KEEP_MS,
    AudioFormat,
    decode_to_fragment,
    silences,
    to_fragment,
)
from autoinformer.speech.audio import write_wav as _write_wav
from autoinformer.speech.cache import FragmentCache, fragment_key
from autoinformer.speech.engines.base import Engine
from autoinformer.speech.errors import AudioFileError, EngineError
from autoinformer.speech.plan import (
    Boundary,
    Break,
    Mode,
    Play,
    Silence,
    SpeechPlan,
    Synth,
    Unit,
    estimate_plan_seconds,
)
from autoinformer.speech.spelling import speakable
from autoinformer.speech.template import Template

__all__ = ["TRIM_KEEP_MS", "EngineRenderer", "SpeechRenderer"]

_GUESS_MS = {"sentence": 400, "clause": 180}
"""Pauses assumed by estimates before the engine's own were measured (espeak-ng at 150 wpm)."""


@runtime_checkable
class SpeechRenderer(Protocol):
    """What the dialer needs from speech: audio to play and how long it plays."""

    async def render(self, template: Template, contact: Contact, lang: str) -> Path:
        """A WAV file ready for the switch with this contact's message.

        Raises:
            InputError: the contact lacks a variable or a value does not read.
            EngineError: synthesis failed.
        """
        ...

    def estimate_seconds(self, template: Template, contact: Contact, lang: str) -> float:
        """Roughly how long the message plays (no I/O; before synthesis)."""
        ...


def _to_path(value: Any) -> Any:
    """A directory given as a ``str`` or path-like becomes a :class:`Path`."""
    return Path(value) if isinstance(value, str | os.PathLike) else value


def _check_dir(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Refused at construction, not with a TypeError at the first render."""
    if value is not None and not isinstance(value, Path):
        raise SettingsError(attribute.name, f"expected a directory path, got {value!r}")


def _check_instance(kind: type) -> Any:
    def check(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind):
            raise SettingsError(
                attribute.name, f"expected a {kind.__name__}, got {type(value).__name__}"
            )

    return check


def _check_mode(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("fragment", "sentence"):
        raise SettingsError(attribute.name, f"expected 'fragment' or 'sentence', got {value!r}")


def _check_nonneg(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise SettingsError(attribute.name, f"expected 0 or more, got {value}")


def _check_keep(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and value < 1:
        raise SettingsError(attribute.name, f"expected 1 or more (or None), got {value}")


def _check_positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise SettingsError(attribute.name, f"expected 1 or more, got {value}")


@attrs.define(kw_only=True)
class EngineRenderer:
    """Renders messages with an engine and a fragment cache.

    Attributes:
        engine: the speech engine.
        cache: where synthesised fragments are kept.
        output_dir: where assembled messages are written (default ``<cache>/messages``).
        format: the audio format of the output (8 kHz 16-bit PCM by default).
        mode: ``fragment`` (personal data cached word by word: cheapest, less natural at the
            joins) or ``sentence`` (one engine call per distinct sentence: natural, costly for
            lists where every sentence differs).
        gap_ms: silence between fragments in fragment mode (joins sound less rushed).
        recordings_dir: where relative ``<audio:...>`` paths are looked up.
        max_engine_calls: engine calls allowed in flight at once.
        use_ssml: in sentence mode, send engines that take SSML one SSML document per stretch
            between recordings (pauses become ``<break>``; read-as spans are already words).
        keep_messages: how many assembled WAV files this renderer keeps; past that, the file
            handed out least recently is deleted (a message is needed only while its call
            plays it; 100,000 kept messages would be ~10 GB). None keeps them all.
        engine_calls: engine calls made so far (for reports and benchmarks).
    """

    engine: Engine = attrs.field(validator=_check_instance(Engine))
    cache: FragmentCache = attrs.field(validator=_check_instance(FragmentCache))
    output_dir: Path | None = attrs.field(default=None, converter=_to_path, validator=_check_dir)
    format: AudioFormat = TELEPHONE
    mode: Mode = attrs.field(default="fragment", validator=_check_mode)
    gap_ms: int = attrs.field(default=40, validator=_check_nonneg)
    recordings_dir: Path | None = attrs.field(
        default=None, converter=_to_path, validator=_check_dir
    )
    max_engine_calls: int = attrs.field(default=4, validator=_check_positive)
    use_ssml: bool = False
    keep_messages: int | None = attrs.field(default=10_000, validator=_check_keep)
    engine_calls: int = attrs.field(default=0, init=False)
    _inflight: dict[str, anyio.Event] = attrs.field(factory=dict, init=False)
    _limiter: anyio.CapacityLimiter | None = attrs.field(default=None, init=False)
    _recordings: dict[tuple[str, float, int], bytes] = attrs.field(factory=dict, init=False)
    _messages: OrderedDict[Path, None] = attrs.field(factory=OrderedDict, init=False)
    _pauses: dict[tuple[Boundary, str], int] = attrs.field(factory=dict, init=False)
    _pause_lock: anyio.Lock | None = attrs.field(default=None, init=False)

    @property
    def messages_dir(self) -> Path:
        """Where assembled WAV files go."""
        return self.output_dir or self.cache.directory / "messages"

    # ------------------------------------------------------------------ public contract

    async def render(self, template: Template, contact: Contact, lang: str = "en") -> Path:
        """A WAV file for this contact's message (see :class:`SpeechRenderer`)."""
        return await self.render_plan(template.plan(contact, lang))

    def estimate_seconds(self, template: Template, contact: Contact, lang: str = "en") -> float:
        """How long the message plays, from the engine's speaking rate (no synthesis)."""
        plan = template.plan(contact, lang)
        seconds = estimate_plan_seconds(plan, chars_per_second=self.engine.chars_per_second(lang))
        seconds += sum(self._recording_seconds(p) for p in plan.pieces if isinstance(p, Play))
        if self.mode == "fragment":
            units = plan.units("fragment", breaks=True)
            for before, unit in itertools.pairwise(units):
                if isinstance(before, Synth) and isinstance(unit, Synth):
                    seconds += self.gap_ms / 1000
                elif isinstance(unit, Break):
                    seconds += self._known_pause(unit.kind, plan.lang) / 1000
        return seconds

    def _known_pause(self, kind: Boundary, lang: str) -> int:
        """The silence a break adds, as far as it is known without synthesis."""
        known = self._pauses.get((kind, lang))
        if known is not None:
            return known
        declared = self.engine.pause_ms(kind, lang)
        own = _GUESS_MS[kind] if declared is None else declared
        return max(own - 2 * TRIM_KEEP_MS, self.gap_ms)

    def _recording_seconds(self, play: Play) -> float:
        """A recording's length: exact once converted, else probed once (0 if unreadable)."""
        path = self._resolve(play)
        ident = self._ident(path)
        data = self._recordings.get(ident)
        if data is None:
            try:
                data = self._recordings[ident] = to_fragment(path, self.format)
            except AudioFileError:
                return 0.0
        return self.format.seconds(data)

    def _resolve(self, play: Play) -> Path:
        path = Path(play.path)
        if not path.is_absolute() and self.recordings_dir is not None:
            path = self.recordings_dir / path
        return path

    @staticmethod
    def _ident(path: Path) -> tuple[str, float, int]:
        try:
            stat = path.stat()
        except OSError:
            return (str(path), 0.0, -1)
        return (str(path), stat.st_mtime, stat.st_size)

    # ------------------------------------------------------------------ steps

    async def render_plan(self, plan: SpeechPlan) -> Path:
        """Assemble a plan's audio and write it (once) under :attr:`messages_dir`."""
        payload = await self.audio(plan)
        digest = hashlib.sha256(payload).hexdigest()[:32]
        path = self.messages_dir / f"{digest}-{self.format.key}.wav"
        if not await anyio.Path(path).exists():
            await anyio.to_thread.run_sync(_write_wav, path, payload, self.format)
        self._messages[path] = None
        self._messages.move_to_end(path)
        if self.keep_messages is not None:
            while len(self._messages) > self.keep_messages:
                old, _ = self._messages.popitem(last=False)
                await anyio.to_thread.run_sync(partial(old.unlink, missing_ok=True))
        return path

    def units(self, plan: SpeechPlan) -> list[Unit]:
        """The synthesis units this renderer makes of a plan (mode, SSML)."""
        if self.use_ssml and self.mode == "sentence" and self.engine.supports_ssml:
            return plan.ssml_units()
        return [
            Synth(speakable(u.text)) if isinstance(u, Synth) else u
            for u in plan.units(self.mode, breaks=True)
        ]

    async def audio(self, plan: SpeechPlan) -> bytes:
        """The plan's raw samples in :attr:`format`, synthesising only missing fragments."""
        parts: list[bytes] = []
        previous_synth = False
        pause: Boundary | None = None
        for unit in self.units(plan):
            if isinstance(unit, Synth):
                if previous_synth and pause is not None:
                    parts.append(self.format.silence(await self.pause(pause, plan.lang)))
                elif previous_synth and self.gap_ms:
                    parts.append(self.format.silence(self.gap_ms))
                parts.append(await self.fragment(unit.text, plan.lang, ssml=unit.ssml))
                previous_synth, pause = True, None
            elif isinstance(unit, Break):
                pause = unit.kind
            elif isinstance(unit, Silence):
                parts.append(self.format.silence(unit.ms))
                previous_synth = False
            else:
                parts.append(await self.recording(unit))
                previous_synth = False
        return b"".join(parts)

    def assemble_cached(self, plan: SpeechPlan) -> bytes | None:
        """The plan's samples from in-memory fragments only, or None if one is missing.

        The hot path when every fragment is warm: no awaits, no disk, no decoding; this is
        what the assembly benchmark times.
        """
        parts: list[bytes] = []
        previous_synth = False
        pause: int | None = None
        for unit in self.units(plan):
            if isinstance(unit, Synth):
                key = self._key(unit.text, plan.lang, unit.ssml)
                data = self.cache.get_memory(key)
                if data is None:
                    return None
                if previous_synth and pause is not None:
                    parts.append(self.format.silence(pause))
                elif previous_synth and self.gap_ms:
                    parts.append(self.format.silence(self.gap_ms))
                parts.append(data)
                previous_synth, pause = True, None
            elif isinstance(unit, Break):
                pause = self._pauses.get((unit.kind, plan.lang))
                if pause is None:
                    return None
            elif isinstance(unit, Silence):
                parts.append(self.format.silence(unit.ms))
                previous_synth = False
            else:
                return None
        return b"".join(parts)

    def _key(self, text: str, lang: str, ssml: bool) -> str:
        engine_id = self.engine.cache_id(lang) + ("/ssml" if ssml else "")
        return fragment_key(engine_id, lang, text, self.format)

    async def fragment(self, text: str, lang: str, *, ssml: bool = False) -> bytes:
        """One fragment's samples: from the cache, else synthesised once and cached.

        Raises:
            EngineError: the engine failed (tasks that waited for it then try themselves).
        """
        key = self._key(text, lang, ssml)
        data = self.cache.get_memory(key)
        if data is not None:
            return data
        while key in self._inflight:
            await self._inflight[key].wait()
            data = self.cache.get_memory(key)
            if data is not None:
                return data
        # Registered before the first await, so concurrent callers wait for this one.
        done = self._inflight[key] = anyio.Event()
        try:
            data = await anyio.to_thread.run_sync(self.cache.get, key)
            if data is None:
                if self._limiter is None:
                    self._limiter = anyio.CapacityLimiter(self.max_engine_calls)
                async with self._limiter:
                    self.engine_calls += 1
                    raw = await self.engine.synthesize(text, lang=lang, ssml=ssml)
                data = await anyio.to_thread.run_sync(self._convert_and_store, key, raw)
        finally:
            del self._inflight[key]
            done.set()
        return data

    async def pause(self, kind: Boundary, lang: str) -> int:
        """Milliseconds of silence a :class:`Break` adds between two trimmed fragments, so
        the join is as long as the engine's own pause at that boundary in a sentence.

        Known once per engine and language: the engine's declared pause, else measured by
        synthesising a calibration sentence (two engine calls per language, ever: the result
        is kept in the fragment cache).

        Raises:
            EngineError: the calibration synthesis failed.
        """
        known = self._pauses.get((kind, lang))
        if known is not None:
            return known
        if self._pause_lock is None:
            self._pause_lock = anyio.Lock()
        async with self._pause_lock:
            known = self._pauses.get((kind, lang))
            if known is not None:
                return known
            own = self.engine.pause_ms(kind, lang)
            if own is None:  # measured once, ever: the engine's pause is kept in the cache
                key = self._key(f"\x00pause:{kind}", lang, False)
                stored = await anyio.to_thread.run_sync(self.cache.get, key)
                if stored is not None:
                    own = round(self.format.seconds(stored) * 1000)
                else:
                    own = await self._measure_pause(kind, lang)
                    silence = self.format.silence(own)
                    await anyio.to_thread.run_sync(self.cache.put, key, silence)
            ms = max(own - 2 * TRIM_KEEP_MS, self.gap_ms)
            self._pauses[(kind, lang)] = ms
            return ms

    async def _measure_pause(self, kind: Boundary, lang: str) -> int:
        """The engine's pause at a boundary: the silence inside "Five. Five." (or "Five,
        five."), measured with the same rule that trims fragments' edges."""
        word = readas.read_number(5, lang)
        word = word[:1].upper() + word[1:]
        text = f"{word}. {word}." if kind == "sentence" else f"{word}, {word.lower()}."
        self.engine_calls += 1
        raw = await self.engine.synthesize(text, lang=lang)
        data = await anyio.to_thread.run_sync(decode_to_fragment, raw, self.format)
        total = round(self.format.seconds(data) * 1000)
        runs = silences(data, self.format, window_ms=5)
        inside = [n for start, n in runs if 0 < start < total - n]
        return max(inside, default=0)

    def _convert_and_store(self, key: str, raw: bytes) -> bytes:
        data = decode_to_fragment(raw, self.format)
        if not data:
            raise EngineError("engine returned empty audio")
        self.cache.put(key, data)
        return data

    async def recording(self, play: Play) -> bytes:
        """A prerecorded file's samples (converted once per file version).

        Raises:
            AudioFileError: missing or undecodable.
        """
        path = self._resolve(play)
        ident = self._ident(path)
        data = self._recordings.get(ident)
        if data is None:
            data = await anyio.to_thread.run_sync(to_fragment, path, self.format)
            self._recordings[ident] = data
        return data
