"""Telephone audio: formats switches play, conversion into the cache, assembly, upload checks.

The expensive work (decoding with pydub + ffmpeg; mixing down to mono, resampling with soxr's
anti-aliasing filter, loudness normalisation with numpy) happens once per fragment when it
enters the cache (:func:`to_fragment`). A fragment is stored as raw
samples already in the target :class:`AudioFormat`, so assembling one contact's message is a
byte concatenation of fragments and silences plus a WAV header (:func:`wav_bytes`): well under
a millisecond for a typical message, which is what lets 100,000 contacts be rendered cheaply.

Mu-law is sample-wise, so mu-law fragments concatenate exactly like PCM ones; normalising per
fragment at cache time keeps the assembled message at one loudness. The order matters: mix
down first, then resample, then set the level, so a stereo upload and a mono one end at the same
loudness and the resampler's overshoot is under the ceiling.

Why soxr: a 22-48 kHz engine output carries energy above 4 kHz; resampling to 8 kHz without a
low-pass filter (``audioop.ratecv``, pydub's ``set_frame_rate``) folds it back into the band as
audible aliasing. soxr's "very high quality" filter suppresses it (measured by
``benchmarks/speech_audio.py``).
"""

from __future__ import annotations

import io
import math
import struct
import warnings
import wave
from pathlib import Path
from typing import Any, Literal

import attrs

from autoinformer.errors import SettingsError
from autoinformer.speech._files import write_atomic
from autoinformer.speech.errors import AudioFileError, EngineError

with warnings.catch_warnings():  # deprecated in 3.11, still the fastest mu-law codec
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

__all__ = [
    "SILENCE_DB",
    "TELEPHONE",
    "TELEPHONE_ULAW",
    "TRIM_KEEP_MS",
    "WIDEBAND",
    "AudioFormat",
    "RecordingInfo",
    "check_recording",
    "decode_to_fragment",
    "resample",
    "silences",
    "sniff",
    "to_fragment",
    "wav_bytes",
    "write_wav",
]

Encoding = Literal["pcm16", "ulaw"]
_RATES = (8000, 16000, 22050, 44100, 48000)


def _check_rate(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value not in _RATES:
        raise SettingsError(attribute.name, f"expected one of {_RATES} Hz, got {value}")


def _check_encoding(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("pcm16", "ulaw"):
        raise SettingsError(attribute.name, f"expected 'pcm16' or 'ulaw', got {value!r}")


@attrs.frozen
class AudioFormat:
    """A mono format a switch plays.

    Attributes:
        sample_rate: Hz; 8000 (narrowband telephone, the default) or 16000 (wideband, G.722).
        encoding: ``pcm16`` (signed 16-bit little endian) or ``ulaw`` (G.711 mu-law, 8 bit).
    """

    sample_rate: int = attrs.field(default=8000, validator=_check_rate)
    encoding: Encoding = attrs.field(default="pcm16", validator=_check_encoding)

    @property
    def sample_width(self) -> int:
        """Bytes per sample."""
        return 2 if self.encoding == "pcm16" else 1

    @property
    def bytes_per_second(self) -> int:
        """Payload bytes per second of audio."""
        return self.sample_rate * self.sample_width

    @property
    def key(self) -> str:
        """Short id used in cache keys and file names (``8000-pcm16``)."""
        return f"{self.sample_rate}-{self.encoding}"

    def silence(self, ms: int) -> bytes:
        """``ms`` of silence in this format (mu-law silence is 0xFF, not 0x00)."""
        n = self.sample_rate * ms // 1000
        return b"\x00" * (2 * n) if self.encoding == "pcm16" else b"\xff" * n

    def seconds(self, payload: bytes) -> float:
        """Duration of raw samples in this format."""
        return len(payload) / self.bytes_per_second


TELEPHONE = AudioFormat()
WIDEBAND = AudioFormat(16000)
TELEPHONE_ULAW = AudioFormat(8000, "ulaw")


_KINDS = {"wav": "a WAV", "mp3": "an MP3", "ogg": "an Ogg", "flac": "a FLAC", "mp4": "an MP4/M4A"}


def sniff(data: bytes) -> str | None:
    """The container an audio file's first bytes announce: ``wav``, ``mp3``, ``ogg``,
    ``flac``, ``mp4``, or None when they do not say (a name can lie, the header cannot)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"fLaC":
        return "flac"
    if data[4:8] == b"ftyp":
        return "mp4"
    return None


SILENCE_DB = 40.0
"""Sound more than this many dB under the peak counts as silence (edge trimming, pauses)."""


def _samples(segment: Any) -> Any:
    """A pydub segment as mono float samples in [-1, 1): channels averaged (the mix down)."""
    import numpy as np

    width = segment.sample_width
    if width not in (1, 2, 4):  # 24-bit: widen to 32 so numpy can read it
        segment, width = segment.set_sample_width(4), 4
    # pydub keeps samples signed (it biases unsigned 8-bit WAV data when it reads it).
    dtype = {1: np.int8, 2: np.int16, 4: np.int32}[width]
    raw = np.frombuffer(segment.raw_data, dtype=dtype).astype(np.float64)
    scale = float(2 ** (8 * width - 1))
    frames = raw.reshape(-1, segment.channels) / scale
    return frames.mean(axis=1)


def resample(samples: Any, from_rate: int, to_rate: int) -> Any:
    """Resample mono float samples with soxr's very-high-quality anti-aliasing filter."""
    import soxr

    if from_rate == to_rate or len(samples) == 0:
        return samples
    return soxr.resample(samples, from_rate, to_rate, quality="VHQ")


def _level(samples: Any, target_dbfs: float, ceiling_dbfs: float) -> Any:
    """Bring the RMS level to ``target_dbfs`` without the peak passing ``ceiling_dbfs``
    (dBFS as pydub measures it: a full-scale square wave is 0 dBFS)."""
    import numpy as np

    if len(samples) == 0:
        return samples
    rms = float(np.sqrt(np.mean(np.square(samples))))
    peak = float(np.max(np.abs(samples)))
    if rms == 0.0 or peak == 0.0:
        return samples
    gain_db = min(target_dbfs - 20 * math.log10(rms), ceiling_dbfs - 20 * math.log10(peak))
    return samples * 10 ** (gain_db / 20)


TRIM_KEEP_MS = 20
"""Silence a trimmed fragment keeps at each edge (two of them frame every join)."""


def _trim(segment: Any, keep_ms: int = TRIM_KEEP_MS) -> Any:
    """Cut the engine's leading/trailing silence (40 dB under the peak), keep ``keep_ms``."""
    from pydub.silence import detect_leading_silence

    peak: float = segment.max_dBFS
    if math.isinf(peak):
        return segment
    threshold = peak - SILENCE_DB
    start = detect_leading_silence(segment, silence_threshold=threshold)
    end = detect_leading_silence(segment.reverse(), silence_threshold=threshold)
    length = len(segment)
    return segment[max(start - keep_ms, 0) : max(length - end + keep_ms, start + 1)]


def _encode(segment: Any, fmt: AudioFormat, target_dbfs: float, ceiling_dbfs: float) -> bytes:
    """Mix down, resample, set the level, quantise: a decoded segment as raw samples in ``fmt``."""
    import numpy as np

    mono = resample(_samples(segment), segment.frame_rate, fmt.sample_rate)
    leveled = _level(mono, target_dbfs, ceiling_dbfs)
    pcm = np.clip(np.round(leveled * 32768), -32768, 32767).astype("<i2").tobytes()
    return pcm if fmt.encoding == "pcm16" else audioop.lin2ulaw(pcm, 2)


def silences(payload: bytes, fmt: AudioFormat, *, window_ms: int = 10) -> list[tuple[int, int]]:
    """Where the audio is silent: ``(start_ms, length_ms)`` runs of ``window_ms`` windows whose
    peak is :data:`SILENCE_DB` under the whole payload's peak (the trimming rule), so a pause
    measured here is the pause a listener hears between words."""
    import numpy as np

    pcm = payload if fmt.encoding == "pcm16" else audioop.ulaw2lin(payload, 2)
    x = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32))
    step = fmt.sample_rate * window_ms // 1000
    n = len(x) // step
    if n == 0:
        return []
    peak = int(x.max())
    quiet = x[: n * step].reshape(n, step).max(axis=1) <= peak * 10 ** (-SILENCE_DB / 20)
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for index, flag in enumerate([*quiet.tolist(), False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start * window_ms, (index - start) * window_ms))
            start = None
    return runs


def decode_to_fragment(
    data: bytes,
    fmt: AudioFormat,
    *,
    trim: bool = True,
    target_dbfs: float = -20.0,
    ceiling_dbfs: float = -1.0,
) -> bytes:
    """Decode an engine's audio file and convert it to raw samples in ``fmt``.

    Mono, resampled, trimmed of edge silence (so fragments join without holes) and
    normalised to ``target_dbfs`` RMS with the peak kept under ``ceiling_dbfs``.

    Raises:
        EngineError: the bytes are not audio pydub/ffmpeg can decode.
    """
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

    try:
        segment = AudioSegment.from_file(io.BytesIO(data), format=sniff(data))
    except (CouldntDecodeError, OSError, IndexError, ValueError) as exc:
        raise EngineError(f"engine returned audio that cannot be decoded: {exc}") from None
    if trim:
        segment = _trim(segment)
    return _encode(segment, fmt, target_dbfs, ceiling_dbfs)


def to_fragment(path: Path, fmt: AudioFormat, *, target_dbfs: float = -20.0) -> bytes:
    """A prerecorded file (mp3, wav, anything ffmpeg reads) as raw samples in ``fmt``,
    normalised like synthesised fragments but not trimmed (the recording's pauses are meant).

    Raises:
        AudioFileError: the file is missing or not decodable audio.
    """
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

    try:
        segment = AudioSegment.from_file(str(path))
    except FileNotFoundError:
        raise AudioFileError(str(path), "file not found") from None
    except (CouldntDecodeError, OSError, IndexError, ValueError) as exc:
        raise AudioFileError(str(path), f"not a readable audio file ({exc})") from None
    return _encode(segment, fmt, target_dbfs, -1.0)


def wav_bytes(payload: bytes, fmt: AudioFormat) -> bytes:
    """A complete WAV file around raw samples (PCM via :mod:`wave`; mu-law with the
    WAVE_FORMAT_MULAW header that :mod:`wave` cannot write)."""
    if fmt.encoding == "pcm16":
        buf = io.BytesIO()
        with wave.open(buf, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(fmt.sample_rate)
            out.writeframes(payload)
        return buf.getvalue()
    pad = b"\x00" if len(payload) % 2 else b""
    fmt_chunk = struct.pack("<HHIIHHH", 7, 1, fmt.sample_rate, fmt.sample_rate, 1, 8, 0)
    fact = struct.pack("<4sII", b"fact", 4, len(payload))
    body = (
        b"WAVE"
        + struct.pack("<4sI", b"fmt ", len(fmt_chunk))
        + fmt_chunk
        + fact
        + struct.pack("<4sI", b"data", len(payload))
        + payload
        + pad
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_wav(path: Path, payload: bytes, fmt: AudioFormat) -> None:
    """Write a WAV atomically (a switch never sees half a file), readable as any new file of
    this process is (the umask's mode, 0644 under umask 022), so a switch running as another
    user can play it.

    Raises:
        AudioFileError: the directory is not writable.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, wav_bytes(payload, fmt))
    except OSError as exc:
        raise AudioFileError(str(path), f"cannot write: {exc.strerror or exc}") from None


@attrs.frozen
class RecordingInfo:
    """A recording that passed :func:`check_recording`.

    Attributes:
        path: the file.
        format: ``mp3`` or ``wav`` (from the extension, confirmed by decoding).
        seconds: its duration.
        size: bytes on disk.
    """

    path: Path
    format: str
    seconds: float
    size: int


def check_recording(
    path: Path | str,
    *,
    max_seconds: float = 30.0,
    max_bytes: int = 1_000_000,
    formats: tuple[str, ...] = ("mp3", "wav"),
) -> RecordingInfo:
    """Check an uploaded recording as seed 004 does: mp3 or wav, <= 30 s, <= 1 MB.

    Args:
        path: the uploaded file.
        max_seconds: longest allowed duration.
        max_bytes: largest allowed size.
        formats: allowed extensions.

    Returns:
        What was found (format, duration, size).

    Raises:
        AudioFileError: missing, wrong extension, too big, not decodable, or too long; the
            message says what was found and what is allowed.
    """
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    if ext not in formats:
        allowed = " or ".join(f".{f}" for f in formats)
        raise AudioFileError(str(p), f"expected a {allowed} file, got {p.suffix or 'no extension'}")
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise AudioFileError(str(p), "file not found") from None
    except OSError as exc:
        raise AudioFileError(str(p), f"cannot read: {exc.strerror or exc}") from None
    if size > max_bytes:
        raise AudioFileError(
            str(p),
            f"file is {size / 1e6:.2f} MB; the limit is {max_bytes / 1e6:.2f} MB "
            "(shorten it or export at a lower bitrate, mono)",
        )
    if size == 0:
        raise AudioFileError(str(p), "file is empty")
    try:
        with p.open("rb") as f:
            kind = sniff(f.read(16))
    except OSError as exc:
        raise AudioFileError(str(p), f"cannot read: {exc.strerror or exc}") from None
    if kind is not None and kind != ext:
        # A switch picks the decoder by the name: a WAV called .mp3 would not play.
        what = _KINDS[kind]
        rename = f" (rename it to .{kind})" if kind in formats else ""
        raise AudioFileError(
            str(p), f"not a valid {ext} file: it is {what} file named .{ext}{rename}"
        )
    try:
        segment = AudioSegment.from_file(str(p), format=ext)
    except (CouldntDecodeError, OSError, IndexError, ValueError, EOFError):
        raise AudioFileError(str(p), f"not a valid {ext} file (cannot decode it)") from None
    seconds = len(segment) / 1000
    if seconds > max_seconds:
        raise AudioFileError(
            str(p), f"recording is {seconds:.1f} s long; the limit is {max_seconds:g} s"
        )
    return RecordingInfo(p, ext, seconds, size)
