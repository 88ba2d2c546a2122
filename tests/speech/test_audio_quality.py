"""Audio quality (#15 item 8): anti-aliased resampling, stereo uploads as loud as mono ones,
files whose name lies about their format."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from autoinformer.speech.audio import (
    TELEPHONE,
    TELEPHONE_ULAW,
    check_recording,
    decode_to_fragment,
    silences,
    sniff,
    to_fragment,
)
from autoinformer.speech.errors import AudioFileError


def wav(channels: list[list[float]], rate: int) -> bytes:
    """A 16-bit WAV with one list of float samples (-1..1) per channel."""
    frames = np.round(np.array(channels).T * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return buf.getvalue()


def sine(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 0.4) -> list[float]:
    return [amplitude * math.sin(2 * math.pi * freq * i / rate) for i in range(int(rate * seconds))]


def level_db(pcm: bytes, rate: int, freq: float) -> float:
    """The level of one frequency in 16-bit PCM (Hann-windowed spectrum, dB)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    bins = np.fft.rfftfreq(len(x), 1 / rate)
    near = np.abs(bins - freq) <= 20
    return float(20 * np.log10(spectrum[near].max() + 1e-9))


def rms_dbfs(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(float) / 32768
    return float(20 * np.log10(np.sqrt(np.mean(x * x))))


@pytest.mark.parametrize("rate", [16000, 22050, 44100, 48000])
def test_tones_above_4_khz_do_not_fold_back_into_the_band(rate: int) -> None:
    # 1 kHz belongs in the telephone band; 5 kHz does not and would alias to 3 kHz.
    mixed = [a + b for a, b in zip(sine(1000, rate), sine(5000, rate), strict=True)]
    pcm = decode_to_fragment(wav([mixed], rate), TELEPHONE, trim=False)
    assert len(pcm) == 2 * 8000  # one second at 8 kHz
    suppression = level_db(pcm, 8000, 1000) - level_db(pcm, 8000, 3000)
    assert suppression >= 50, f"3 kHz alias only {suppression:.1f} dB under the 1 kHz tone"


def test_a_tone_inside_the_band_keeps_its_pitch_and_level() -> None:
    pcm = decode_to_fragment(wav([sine(3400, 44100)], 44100), TELEPHONE, trim=False)
    assert level_db(pcm, 8000, 3400) - level_db(pcm, 8000, 600) > 60  # nothing else appears
    assert rms_dbfs(pcm) == pytest.approx(-20.0, abs=0.2)


@pytest.mark.parametrize(
    "channels",
    [
        pytest.param(lambda: [sine(440, 16000), sine(660, 16000)], id="different-channels"),
        pytest.param(lambda: [sine(440, 16000), [0.0] * 16000], id="left-only"),
        pytest.param(lambda: [sine(440, 16000), sine(440, 16000)], id="same-channels"),
    ],
)
def test_a_stereo_upload_is_as_loud_as_a_mono_one(tmp_path: Path, channels: object) -> None:
    mono = tmp_path / "mono.wav"
    mono.write_bytes(wav([sine(440, 16000)], 16000))
    stereo = tmp_path / "stereo.wav"
    stereo.write_bytes(wav(channels(), 16000))  # type: ignore[operator]
    mono_level = rms_dbfs(to_fragment(mono, TELEPHONE))
    stereo_level = rms_dbfs(to_fragment(stereo, TELEPHONE))
    assert mono_level == pytest.approx(-20.0, abs=0.2)
    assert stereo_level == pytest.approx(mono_level, abs=0.2)


def test_mu_law_fragments_go_through_the_same_chain() -> None:
    mixed = [a + b for a, b in zip(sine(1000, 16000), sine(5000, 16000), strict=True)]
    import audioop  # only to read the mu-law back

    pcm = audioop.ulaw2lin(decode_to_fragment(wav([mixed], 16000), TELEPHONE_ULAW, trim=False), 2)
    # mu-law's own quantisation noise is ~38 dB under the signal: the alias is under it.
    assert level_db(pcm, 8000, 1000) - level_db(pcm, 8000, 3000) >= 35


def test_8_and_32_bit_input_is_read_at_its_level() -> None:
    for width, fmt in ((1, "B"), (4, "i")):
        n = 8000
        full = (1 << (8 * width - 1)) - 1
        values = [int(0.3 * full * math.sin(2 * math.pi * 500 * i / 8000)) for i in range(n)]
        if width == 1:
            values = [v + 128 for v in values]
        buf = io.BytesIO()
        with wave.open(buf, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(width)
            out.setframerate(8000)
            out.writeframes(struct.pack(f"<{n}{fmt}", *values))
        pcm = decode_to_fragment(buf.getvalue(), TELEPHONE, trim=False)
        # a clean tone (8-bit quantisation puts its own harmonics ~37 dB down)
        assert level_db(pcm, 8000, 500) - level_db(pcm, 8000, 1500) > 30
        assert rms_dbfs(pcm) == pytest.approx(-20.0, abs=0.3)


def test_sniff_reads_the_header_not_the_name() -> None:
    assert sniff(wav([[0.0] * 10], 8000)) == "wav"
    assert sniff(b"ID3\x04rest") == "mp3"
    assert sniff(b"\xff\xfb\x90\x00") == "mp3"
    assert sniff(b"OggS\x00") == "ogg"
    assert sniff(b"fLaC\x00") == "flac"
    assert sniff(b"\x00\x00\x00\x20ftypM4A ") == "mp4"
    assert sniff(b"hello") is None


def test_a_wav_named_mp3_is_refused_saying_it_is_a_wav(tmp_path: Path) -> None:
    path = tmp_path / "greeting.mp3"
    path.write_bytes(wav([sine(440, 8000)], 8000))
    with pytest.raises(
        AudioFileError, match=r"it is a WAV file named \.mp3 \(rename it to \.wav\)"
    ):
        check_recording(path)
    renamed = path.rename(tmp_path / "greeting.wav")
    assert check_recording(renamed).format == "wav"


def test_an_ogg_named_mp3_says_what_it_is_without_a_rename_hint(tmp_path: Path) -> None:
    path = tmp_path / "x.mp3"
    path.write_bytes(b"OggS" + b"\x00" * 200)
    with pytest.raises(AudioFileError, match=r"it is an Ogg file named \.mp3$"):
        check_recording(path)


def test_a_recording_is_decoded_by_its_content_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "greeting.mp3"
    path.write_bytes(wav([sine(440, 8000)], 8000))
    assert len(to_fragment(path, TELEPHONE)) == 2 * 8000


def test_silences_finds_pauses_between_sounds() -> None:
    tone = np.round(np.array(sine(440, 8000, 0.2)) * 32767).astype("<i2").tobytes()
    pause = TELEPHONE.silence(300)
    runs = silences(tone + pause + tone + TELEPHONE.silence(50), TELEPHONE)
    assert runs[0] == (200, 300)
    assert runs[-1] == (700, 50)
    assert silences(b"", TELEPHONE) == []
