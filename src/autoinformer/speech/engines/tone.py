"""A counting fake engine: a tone per text, for tests and benchmarks (no binary, no network).

Each distinct text gets its own pitch and a length proportional to its characters, so tests can
tell fragments apart in the assembled audio and benchmarks can count engine calls exactly.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import wave
from typing import ClassVar

import attrs

from autoinformer.speech.engines.base import Engine

__all__ = ["ToneEngine"]


@attrs.define(kw_only=True)
class ToneEngine(Engine):
    """Synthesises a sine tone per text and records every call.

    Attributes:
        sample_rate: rate of the WAV it returns (16 kHz, so the renderer has to resample).
        ms_per_char: tone length per character of text.
        calls: the texts it was asked for, in order.
        pauses: the pause it declares at a boundary (``{"sentence": 400}``); its tones have
            none, so by default a break in fragment mode is the plain join gap.
    """

    name: ClassVar[str] = "tone"
    supports_ssml: ClassVar[bool] = True

    sample_rate: int = 16000
    ms_per_char: int = 20
    calls: list[str] = attrs.field(factory=list)
    pauses: dict[str, int] = attrs.field(factory=dict)

    def pause_ms(self, kind: str, lang: str) -> int | None:
        """As declared in :attr:`pauses` (0 when not: a tone has no pauses of its own)."""
        return self.pauses.get(kind, 0)

    def frequency(self, text: str) -> float:
        """The pitch used for ``text`` (300..1300 Hz, stable across runs)."""
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        return 300.0 + int.from_bytes(digest[:2], "big") % 1000

    def chars_per_second(self, lang: str) -> float:
        """Exactly how fast the tones "speak", so duration estimates can be checked."""
        return 1000 / self.ms_per_char

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        """A WAV tone; never fails."""
        self.calls.append(text)
        n = self.sample_rate * self.ms_per_char * max(len(text), 1) // 1000
        step = 2 * math.pi * self.frequency(text) / self.sample_rate
        frames = struct.pack(f"<{n}h", *(int(8000 * math.sin(step * i)) for i in range(n)))
        buf = io.BytesIO()
        with wave.open(buf, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(frames)
        return buf.getvalue()
