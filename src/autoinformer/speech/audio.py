"""Telephone audio: formats switches play, conversion into the cache, assembly, upload checks.

The expensive work (decoding, resampling, loudness normalisation; pydub + ffmpeg) happens once
per fragment when it enters the cache (:func:`to_fragment`). A fragment is stored as raw
samples already in the target :class:`AudioFormat`, so assembling one contact's message is a
byte concatenation of fragments and silences plus a WAV header (:func:`wav_bytes`): well under
a millisecond for a typical message, which is what lets 100,000 contacts be rendered cheaply.

Mu-law is sample-wise, so mu-law fragments concatenate exactly like PCM ones; normalising per
fragment at cache time keeps the assembled message at one loudness.
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
    "TELEPHONE",
    "TELEPHONE_ULAW",
    "WIDEBAND",
    "AudioFormat",
    "RecordingInfo",
    "check_recording",
    "decode_to_fragment",
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


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _normalise(segment: Any, target_dbfs: float, ceiling_dbfs: float) -> Any:
    """Bring the RMS level to ``target_dbfs`` without the peak passing ``ceiling_dbfs``."""
    rms: float = segment.dBFS
    if math.isinf(rms):
        return segment
    peak: float = segment.max_dBFS
    gain = min(target_dbfs - rms, ceiling_dbfs - peak)
    return segment.apply_gain(gain)


def _trim(segment: Any, keep_ms: int = 20) -> Any:
    """Cut the engine's leading/trailing silence (40 dB under the peak), keep ``keep_ms``."""
    from pydub.silence import detect_leading_silence

    peak: float = segment.max_dBFS
    if math.isinf(peak):
        return segment
    threshold = peak - 40.0
    start = detect_leading_silence(segment, silence_threshold=threshold)
    end = detect_leading_silence(segment.reverse(), silence_threshold=threshold)
    length = len(segment)
    return segment[max(start - keep_ms, 0) : max(length - end + keep_ms, start + 1)]


def _encode(segment: Any, fmt: AudioFormat) -> bytes:
    converted = segment.set_channels(1).set_frame_rate(fmt.sample_rate).set_sample_width(2)
    raw: bytes = converted.raw_data
    return raw if fmt.encoding == "pcm16" else audioop.lin2ulaw(raw, 2)


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
        segment = AudioSegment.from_file(io.BytesIO(data), format=_sniff(data))
    except (CouldntDecodeError, OSError, IndexError, ValueError) as exc:
        raise EngineError(f"engine returned audio that cannot be decoded: {exc}") from None
    if trim:
        segment = _trim(segment)
    return _encode(_normalise(segment, target_dbfs, ceiling_dbfs), fmt)


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
    return _encode(_normalise(segment, target_dbfs, -1.0), fmt)


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
        segment = AudioSegment.from_file(str(p), format=ext)
    except (CouldntDecodeError, OSError, IndexError, ValueError, EOFError):
        raise AudioFileError(str(p), f"not a valid {ext} file (cannot decode it)") from None
    seconds = len(segment) / 1000
    if seconds > max_seconds:
        raise AudioFileError(
            str(p), f"recording is {seconds:.1f} s long; the limit is {max_seconds:g} s"
        )
    return RecordingInfo(p, ext, seconds, size)
