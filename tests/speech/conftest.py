"""Fixtures for speech tests: generated recordings (no network, no binaries beyond ffmpeg)."""

from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import pytest

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (pydub needs it for mp3)"
)


def tone_wav(
    seconds: float,
    *,
    rate: int = 16000,
    amplitude: int = 8000,
    lead_ms: int = 0,
    tail_ms: int = 0,
    freq: float = 440.0,
) -> bytes:
    """A mono 16-bit WAV: silence, a sine tone, silence."""
    n = int(rate * seconds)
    step = 2 * math.pi * freq / rate
    samples = [0] * (rate * lead_ms // 1000)
    samples += [int(amplitude * math.sin(step * i)) for i in range(n)]
    samples += [0] * (rate * tail_ms // 1000)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buf.getvalue()


def make_mp3(path: Path, seconds: float) -> Path:
    """An MP3 tone made by ffmpeg."""
    subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"sine=frequency=440:duration={seconds}", "-ac", "1", "-ar", "22050",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(name="tone_wav")
def tone_wav_fixture():  # type: ignore[no-untyped-def]
    """The :func:`tone_wav` maker."""
    return tone_wav


@pytest.fixture(name="make_mp3")
def make_mp3_fixture():  # type: ignore[no-untyped-def]
    """The :func:`make_mp3` maker (skips when ffmpeg is missing)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (pydub needs it for mp3)")
    return make_mp3
