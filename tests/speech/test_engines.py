"""Engines: espeak-ng for real (skipped without the binary), gTTS through a faked HTTP layer."""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.parse
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from autoinformer.errors import SettingsError
from autoinformer.speech.engines import engine_by_name
from autoinformer.speech.engines.espeak import EspeakEngine, espeak_available
from autoinformer.speech.engines.google import GttsEngine, gtts_lang
from autoinformer.speech.engines.tone import ToneEngine
from autoinformer.speech.errors import EngineError

needs_espeak = pytest.mark.skipif(
    not espeak_available(), reason="espeak-ng binary not installed (apt install espeak-ng)"
)


# ------------------------------------------------------------------ espeak-ng


@needs_espeak
@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "ru", "id"])
async def test_espeak_writes_a_wav_with_real_sizes(lang: str) -> None:
    data = await EspeakEngine().synthesize("twenty five", lang=lang)
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnchannels() == 1
        frames = w.getnframes()
        assert frames * w.getsampwidth() == len(data) - 44  # streamed header was fixed
        assert 0.3 < frames / w.getframerate() < 3.0


@needs_espeak
@pytest.mark.anyio
async def test_espeak_takes_ssml_breaks() -> None:
    engine = EspeakEngine()
    plain = await engine.synthesize("<speak>one two</speak>", lang="en", ssml=True)
    paused = await engine.synthesize(
        '<speak>one <break time="1s"/> two</speak>', lang="en", ssml=True
    )
    assert len(paused) - len(plain) > 0.8 * 22050 * 2  # about a second more audio


@needs_espeak
@pytest.mark.anyio
async def test_espeak_unknown_voice_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="voice 'xx-nope'"):
        await EspeakEngine(voice="xx-nope").synthesize("hi", lang="en")


@pytest.mark.anyio
async def test_espeak_missing_binary_says_how_to_install() -> None:
    with pytest.raises(EngineError, match="apt install espeak-ng"):
        await EspeakEngine(binary="espeak-ng-not-here").synthesize("hi", lang="en")


def test_espeak_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="speed"):
        EspeakEngine(speed=10)
    with pytest.raises(SettingsError, match="pitch"):
        EspeakEngine(pitch=100)
    with pytest.raises(SettingsError, match="timeout"):
        EspeakEngine(timeout=0)


def test_espeak_cache_id_changes_with_the_sound() -> None:
    assert EspeakEngine().cache_id("en") != EspeakEngine(speed=170).cache_id("en")
    assert EspeakEngine().cache_id("en") != EspeakEngine().cache_id("ru")
    assert EspeakEngine(voice="en-us").cache_id("ru") == EspeakEngine(voice="en-us").cache_id("en")


def test_engine_by_name() -> None:
    assert isinstance(engine_by_name("espeak", speed=120), EspeakEngine)
    assert isinstance(engine_by_name("GTTS"), GttsEngine)
    assert isinstance(engine_by_name("tone"), ToneEngine)
    with pytest.raises(SettingsError, match="engine: unknown engine 'polly'"):
        engine_by_name("polly")


# ------------------------------------------------------------------ gTTS, HTTP layer faked


class FakeTranslate(BaseAdapter):
    """A requests transport that answers like translate.google.com's batchexecute RPC.

    It decodes the real request body gTTS sends (``f.req`` with the text and language) and
    replies in the service's line format with base64 audio, so gTTS's own parsing runs.
    """

    def __init__(self, audio: bytes, *, status: int = 200, fail: bool = False) -> None:
        super().__init__()
        self.audio = audio
        self.status = status
        self.fail = fail
        self.seen: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.fail:
            raise requests.exceptions.ConnectionError("connection refused")
        body = request.body if isinstance(request.body, str) else request.body.decode()  # type: ignore[union-attr]
        freq = urllib.parse.parse_qs(body)["f.req"][0]
        rpc = json.loads(freq)[0][0]
        text, lang = json.loads(rpc[1])[:2]
        with self.lock:
            self.seen.append((request.url or "", text, lang))
        b64 = base64.b64encode(self.audio).decode("ascii")
        line = '[["wrb.fr","jQ1olc","[\\"' + b64 + '\\"]",null,null,null,"generic"]]'
        response = requests.Response()
        response.status_code = self.status
        response.raw = io.BytesIO(f")]}}'\n\n{len(line)}\n{line}\n".encode())
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def fake_translate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_mp3: Callable[[Path, float], Path]
) -> FakeTranslate:
    adapter = FakeTranslate(make_mp3(tmp_path / "reply.mp3", 0.5).read_bytes())
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    return adapter


@pytest.mark.anyio
async def test_gtts_real_path_against_fake_service(fake_translate: FakeTranslate) -> None:
    data = await GttsEngine(tld="co.uk").synthesize("пятьсот рублей", lang="ru-RU")
    assert data == fake_translate.audio
    ((url, text, lang),) = fake_translate.seen
    assert url.startswith("https://translate.google.co.uk/_/TranslateWebserverUi/")
    assert (text, lang) == ("пятьсот рублей", "ru")


@pytest.mark.anyio
async def test_gtts_http_error_is_an_engine_error(fake_translate: FakeTranslate) -> None:
    fake_translate.status = 429
    with pytest.raises(EngineError, match="gTTS failed"):
        await GttsEngine().synthesize("hello", lang="en")


@pytest.mark.anyio
async def test_gtts_unreachable_is_an_engine_error(fake_translate: FakeTranslate) -> None:
    fake_translate.fail = True
    with pytest.raises(EngineError, match="gTTS failed"):
        await GttsEngine().synthesize("hello", lang="en")


@pytest.mark.anyio
async def test_gtts_refuses_ssml_and_unknown_languages() -> None:
    with pytest.raises(EngineError, match="SSML"):
        await GttsEngine().synthesize("<speak/>", lang="en", ssml=True)
    with pytest.raises(EngineError, match="refused 'xx'"):
        await GttsEngine().synthesize("hi", lang="xx")


def test_gtts_language_codes() -> None:
    assert gtts_lang("en-US") == "en"
    assert gtts_lang("id") == "id"
    assert gtts_lang("zh") == "zh-CN"
    assert gtts_lang("pt_BR") == "pt"


@pytest.mark.anyio
async def test_tone_engine_counts_and_distinguishes_texts() -> None:
    engine = ToneEngine()
    a = await engine.synthesize("five", lang="en")
    b = await engine.synthesize("hundred", lang="en")
    assert engine.calls == ["five", "hundred"]
    assert engine.frequency("five") != engine.frequency("hundred")
    with wave.open(io.BytesIO(b)) as w:
        assert w.getnframes() == 16000 * 20 * 7 // 1000
    assert len(a) < len(b)
