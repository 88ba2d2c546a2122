"""Telephone audio: formats, conversion into fragments, WAV writing, upload checks, cache."""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from pydub import AudioSegment

from autoinformer.errors import InputError, SettingsError
from autoinformer.speech.audio import (
    TELEPHONE,
    TELEPHONE_ULAW,
    WIDEBAND,
    AudioFormat,
    check_recording,
    decode_to_fragment,
    to_fragment,
    wav_bytes,
    write_wav,
)
from autoinformer.speech.cache import FragmentCache, fragment_key
from autoinformer.speech.errors import AudioFileError, CacheError, EngineError

ToneWav = Callable[..., bytes]


def segment_of(payload: bytes, rate: int = 8000) -> AudioSegment:
    return AudioSegment(data=payload, sample_width=2, frame_rate=rate, channels=1)


def test_format_validation_names_the_field() -> None:
    with pytest.raises(SettingsError, match="sample_rate"):
        AudioFormat(11025)
    with pytest.raises(SettingsError, match="encoding"):
        AudioFormat(8000, "alaw")  # type: ignore[arg-type]


def test_silence_in_each_encoding() -> None:
    assert TELEPHONE.silence(500) == b"\x00" * 8000
    assert WIDEBAND.silence(10) == b"\x00" * 320
    assert TELEPHONE_ULAW.silence(10) == b"\xff" * 80  # mu-law zero is 0xFF
    assert TELEPHONE.seconds(b"\x00" * 16000) == 1.0


def test_fragment_is_resampled_trimmed_and_normalised(tone_wav: ToneWav) -> None:
    quiet = tone_wav(0.5, rate=16000, amplitude=500, lead_ms=300, tail_ms=300)
    payload = decode_to_fragment(quiet, TELEPHONE)
    seg = segment_of(payload)
    assert 500 <= len(seg) <= 560  # 0.5 s tone + up to 20 ms kept each side
    assert seg.dBFS == pytest.approx(-20.0, abs=0.5)
    assert seg.max_dBFS <= -1.0 + 0.01


def test_gain_is_limited_by_the_peak_ceiling() -> None:
    # Quiet hum with one loud click: reaching -20 dBFS RMS would clip the click, so the gain
    # stops where the click peaks at -1 dBFS and the RMS stays below the target.
    samples = [100 if i % 2 else -100 for i in range(8000)]
    samples[4000] = 20000
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<8000h", *samples))
    seg = segment_of(decode_to_fragment(buf.getvalue(), TELEPHONE, trim=False))
    assert seg.max_dBFS == pytest.approx(-1.0, abs=0.05)
    assert seg.dBFS < -25


def test_fragment_in_mu_law_is_one_byte_per_sample(tone_wav: ToneWav) -> None:
    payload = decode_to_fragment(tone_wav(0.25, rate=8000), TELEPHONE_ULAW, trim=False)
    assert len(payload) == 2000


def test_garbage_from_an_engine_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="cannot be decoded"):
        decode_to_fragment(b"RIFF\x00\x00\x00\x00WAVEjunk", TELEPHONE)


def test_pcm_wav_reads_back(tmp_path: Path) -> None:
    payload = TELEPHONE.silence(250) + b"\x01\x00" * 10
    target = tmp_path / "out" / "m.wav"
    write_wav(target, payload, TELEPHONE)
    with wave.open(str(target)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert w.readframes(w.getnframes()) == payload


def test_mu_law_wav_has_format_tag_7_and_decodes(tmp_path: Path, make_mp3: object) -> None:
    payload = b"\xff" * 7999  # odd length: the data chunk is padded
    data = wav_bytes(payload, TELEPHONE_ULAW)
    tag, channels, rate, byte_rate, align, bits = struct.unpack_from("<HHIIHH", data, 20)
    assert (tag, channels, rate, byte_rate, align, bits) == (7, 1, 8000, 8000, 1, 8)
    assert struct.unpack_from("<I", data, 4)[0] == len(data) - 8
    path = tmp_path / "u.wav"
    path.write_bytes(data)
    decoded = AudioSegment.from_file(str(path))  # ffmpeg reads the header we wrote
    assert len(decoded) == pytest.approx(1000, abs=1)


def test_unwritable_output_is_an_audio_file_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AudioFileError, match="cannot write"):
        write_wav(blocker / "m.wav", b"", TELEPHONE)


# ------------------------------------------------------------------ recordings (seed 004)


def test_good_wav_recording(tmp_path: Path, tone_wav: ToneWav) -> None:
    path = tmp_path / "intro.wav"
    path.write_bytes(tone_wav(2.0, rate=8000))
    info = check_recording(path)
    assert info.format == "wav"
    assert info.seconds == pytest.approx(2.0, abs=0.01)
    assert info.size == path.stat().st_size


def test_good_mp3_recording(tmp_path: Path, make_mp3: Callable[[Path, float], Path]) -> None:
    info = check_recording(make_mp3(tmp_path / "intro.mp3", 1.5))
    assert info.format == "mp3"
    assert info.seconds == pytest.approx(1.5, abs=0.1)


def test_too_long_recording(tmp_path: Path, tone_wav: ToneWav) -> None:
    path = tmp_path / "long.wav"
    path.write_bytes(tone_wav(31.0, rate=8000, amplitude=100))
    with pytest.raises(AudioFileError, match=r"31\.0 s long; the limit is 30 s"):
        check_recording(path)
    assert check_recording(path, max_seconds=40).seconds == pytest.approx(31.0, abs=0.01)


def test_too_big_recording(tmp_path: Path, tone_wav: ToneWav) -> None:
    path = tmp_path / "big.wav"
    path.write_bytes(tone_wav(1.0, rate=16000))
    with pytest.raises(AudioFileError, match=r"0\.03 MB; the limit is 0\.01 MB"):
        check_recording(path, max_bytes=10_000)


def test_wrong_extension_missing_and_corrupt(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match=r"expected a \.mp3 or \.wav file, got \.ogg"):
        check_recording(tmp_path / "a.ogg")
    with pytest.raises(AudioFileError, match="file not found"):
        check_recording(tmp_path / "missing.mp3")
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioFileError, match=r"not a valid mp3 file") as info:
        check_recording(bad)
    assert isinstance(info.value, InputError)
    assert info.value.path == str(bad)


def test_prerecorded_file_converts_to_format(tmp_path: Path, tone_wav: ToneWav) -> None:
    path = tmp_path / "r.wav"
    path.write_bytes(tone_wav(1.0, rate=16000, lead_ms=200))
    payload = to_fragment(path, TELEPHONE)
    assert len(payload) == 2 * 8000 * 12 // 10  # not trimmed: the lead-in is kept
    with pytest.raises(AudioFileError, match="file not found"):
        to_fragment(tmp_path / "nope.wav", TELEPHONE)


# ------------------------------------------------------------------ cache


def test_cache_keys_separate_everything_that_changes_the_sound() -> None:
    base = fragment_key("espeak-ng/en/s150/p50", "en", "roubles", TELEPHONE)
    assert base == fragment_key("espeak-ng/en/s150/p50", "EN", "roubles", TELEPHONE)
    others = {
        fragment_key("espeak-ng/en/s160/p50", "en", "roubles", TELEPHONE),
        fragment_key("espeak-ng/en/s150/p50", "ru", "roubles", TELEPHONE),
        fragment_key("espeak-ng/en/s150/p50", "en", "rouble", TELEPHONE),
        fragment_key("espeak-ng/en/s150/p50", "en", "roubles", WIDEBAND),
    }
    assert base not in others
    assert len(others) == 4


def test_cache_persists_across_instances_and_evicts_memory(tmp_path: Path) -> None:
    first = FragmentCache(directory=tmp_path, memory_items=1)
    first.put("a" * 64, b"AAAA")
    first.put("b" * 64, b"BB")
    assert first.get_memory("a" * 64) is None  # evicted from memory ...
    assert first.get("a" * 64) == b"AAAA"  # ... still on disk
    second = FragmentCache(directory=tmp_path)
    assert second.get("b" * 64) == b"BB"
    assert second.get("c" * 64) is None
    assert (second.hits, second.misses) == (1, 1)
    assert len(second) == 2


def test_cache_directory_that_is_a_file_is_a_cache_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError, match="cannot write the fragment cache"):
        FragmentCache(directory=blocker).put("a" * 64, b"x")


def test_cache_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="memory_items"):
        FragmentCache(directory=tmp_path, memory_items=-1)


def test_wav_bytes_pcm_is_a_valid_wave() -> None:
    data = wav_bytes(b"\x00\x00" * 16000, WIDEBAND)
    with wave.open(io.BytesIO(data)) as w:
        assert w.getframerate() == 16000
        assert w.getnframes() == 16000


def test_mp3_recordings_are_measured_by_ffmpeg(
    tmp_path: Path, make_mp3: Callable[[Path, float], Path]
) -> None:
    long = make_mp3(tmp_path / "long.mp3", 31.0)
    assert long.stat().st_size < 1_000_000  # too long, not too big: the duration is decoded
    with pytest.raises(AudioFileError, match=r"recording is 31\.\d s long; the limit is 30 s"):
        check_recording(long)
    renamed = tmp_path / "fake.wav"
    renamed.write_bytes(make_mp3(tmp_path / "short.mp3", 1.0).read_bytes())
    with pytest.raises(AudioFileError, match=r"not a valid wav file"):
        check_recording(renamed)  # an mp3 with a .wav name is not accepted as wav
