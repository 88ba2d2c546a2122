"""The renderer: fragments shared across contacts, one synthesis per fragment, WAV output."""

from __future__ import annotations

import re
import struct
import wave
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import anyio
import attrs
import pytest

from autoinformer.contacts.model import Contact
from autoinformer.errors import InputError, SettingsError
from autoinformer.speech import (
    AudioFormat,
    Engine,
    EngineError,
    EngineRenderer,
    EspeakEngine,
    FragmentCache,
    SpeechRenderer,
    Template,
    ToneEngine,
)
from autoinformer.speech.audio import TELEPHONE
from autoinformer.speech.cache import fragment_key
from autoinformer.speech.engines.espeak import espeak_available
from autoinformer.speech.plan import Synth

DEBT = Template.parse("Hello {NAME}, you owe <currency>{BALANCE|abs} RUB</currency>.<stop:1s>Bye.")


def debtor(i: int, balance: str) -> Contact:
    return Contact(id=str(i), name="", variables={"NAME": "Ann", "BALANCE": balance})


def renderer(tmp_path: Path, **kwargs: object) -> EngineRenderer:
    engine = kwargs.pop("engine", None) or ToneEngine()
    return EngineRenderer(
        engine=engine,  # type: ignore[arg-type]
        cache=FragmentCache(directory=tmp_path / "cache"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_engine_renderer_is_a_speech_renderer(tmp_path: Path) -> None:
    assert isinstance(renderer(tmp_path), SpeechRenderer)


def test_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="mode"):
        renderer(tmp_path, mode="words")
    with pytest.raises(SettingsError, match="gap_ms"):
        renderer(tmp_path, gap_ms=-1)
    with pytest.raises(SettingsError, match="max_engine_calls"):
        renderer(tmp_path, max_engine_calls=0)


@pytest.mark.anyio
async def test_distinct_balances_share_fragments(tmp_path: Path) -> None:
    r = renderer(tmp_path)
    engine = r.engine
    assert isinstance(engine, ToneEngine)
    balances = [f"-{n}.{n % 100:02d}" for n in range(100, 400, 7)]
    words: set[str] = set()
    for i, balance in enumerate(balances):
        plan = DEBT.plan(debtor(i, balance))
        words |= {u.text for u in plan.units("fragment") if isinstance(u, Synth)}
        await r.render(DEBT, debtor(i, balance), "en")
    assert sorted(engine.calls) == sorted(words)  # every fragment synthesised exactly once
    assert r.engine_calls == len(words) < len(balances) * 3

    # A new process with the same cache directory synthesises nothing.
    again = EngineRenderer(engine=ToneEngine(), cache=FragmentCache(directory=tmp_path / "cache"))
    await again.render(DEBT, debtor(0, balances[0]), "en")
    assert again.engine_calls == 0


@pytest.mark.anyio
async def test_concurrent_renders_synthesise_each_fragment_once(tmp_path: Path) -> None:
    r = renderer(tmp_path)
    paths: list[Path] = []

    async def one(i: int) -> None:
        paths.append(await r.render(DEBT, debtor(i, "-525.19"), "en"))

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(one, i)
    engine = r.engine
    assert isinstance(engine, ToneEngine)
    assert len(engine.calls) == len(set(engine.calls))
    assert len(set(paths)) == 1  # identical messages share one file


@pytest.mark.anyio
async def test_output_is_the_fragments_gaps_and_pauses_in_order(tmp_path: Path) -> None:
    r = renderer(tmp_path, gap_ms=50)
    contact = debtor(1, "-5")
    path = await r.render(DEBT, contact, "en")
    plan = DEBT.plan(contact, "en")
    units = plan.units("fragment")
    assert units[-2:] == [units[-2], Synth("Bye.")]
    expected = b""
    for index, unit in enumerate(units):
        if isinstance(unit, Synth):
            if index and isinstance(units[index - 1], Synth):
                expected += TELEPHONE.silence(50)
            key = fragment_key(r.engine.cache_id("en"), "en", unit.text, TELEPHONE)
            fragment = r.cache.get(key)
            assert fragment
            expected += fragment
        else:
            expected += TELEPHONE.silence(1000)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert w.readframes(w.getnframes()) == expected
    assert r.assemble_cached(plan) == expected


@pytest.mark.anyio
async def test_estimate_matches_the_audio_for_the_tone_engine(tmp_path: Path) -> None:
    r = renderer(tmp_path, mode="sentence")
    contact = debtor(1, "-68.27")
    path = await r.render(DEBT, contact, "en")
    with wave.open(str(path)) as w:
        actual = w.getnframes() / w.getframerate()
    assert r.estimate_seconds(DEBT, contact, "en") == pytest.approx(actual, rel=0.1)


@pytest.mark.anyio
async def test_sentence_mode_calls_the_engine_per_sentence(tmp_path: Path) -> None:
    r = renderer(tmp_path, mode="sentence")
    await r.render(DEBT, debtor(1, "-68.27"), "en")
    engine = r.engine
    assert isinstance(engine, ToneEngine)
    assert engine.calls == ["Hello Ann, you owe sixty-eight roubles twenty-seven kopeks.", "Bye."]


@pytest.mark.anyio
async def test_mu_law_and_wideband_outputs(tmp_path: Path) -> None:
    contact = debtor(1, "-1")
    ulaw = renderer(tmp_path, format=AudioFormat(8000, "ulaw"))
    data = (await ulaw.render(DEBT, contact, "en")).read_bytes()
    assert struct.unpack_from("<HHI", data, 20) == (7, 1, 8000)
    wide = renderer(tmp_path, format=AudioFormat(16000))
    with wave.open(str(await wide.render(DEBT, contact, "en"))) as w:
        assert w.getframerate() == 16000


@pytest.mark.anyio
async def test_recordings_are_played_in_place(
    tmp_path: Path, tone_wav: Callable[..., bytes]
) -> None:
    (tmp_path / "intro.wav").write_bytes(tone_wav(0.5, rate=8000))
    r = renderer(tmp_path, recordings_dir=tmp_path, gap_ms=0)
    template = Template.parse("<audio:intro.wav><stop:100ms>Hi")
    payload = await r.audio(template.plan(Contact(id="1")))
    hi = r.cache.get(fragment_key(r.engine.cache_id("en"), "en", "Hi", TELEPHONE))
    assert hi is not None
    assert len(payload) == 8000 + 1600 + len(hi)
    assert payload[8000:9600] == TELEPHONE.silence(100)
    # The estimate counts the recording's real length, the pause and the words.
    hi_seconds = 2 / ToneEngine().chars_per_second("en")
    expected = 0.5 + 0.1 + hi_seconds
    assert r.estimate_seconds(template, Contact(id="1")) == pytest.approx(expected, abs=0.01)


@attrs.define(kw_only=True)
class BrokenEngine(Engine):
    """An engine that fails the way a real one does: with EngineError."""

    name: ClassVar[str] = "broken"
    calls: int = 0

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        self.calls += 1
        raise EngineError("service down")


@pytest.mark.anyio
async def test_engine_failure_propagates_and_nothing_is_cached(tmp_path: Path) -> None:
    engine = BrokenEngine()
    r = renderer(tmp_path, engine=engine)
    with pytest.raises(EngineError, match="service down"):
        await r.render(DEBT, debtor(1, "1"), "en")
    with pytest.raises(EngineError):
        await r.render(DEBT, debtor(1, "1"), "en")
    assert engine.calls == 2  # retried, not remembered as good
    assert len(r.cache) == 0


@pytest.mark.anyio
async def test_a_contact_without_the_variable_is_an_input_error(tmp_path: Path) -> None:
    r = renderer(tmp_path)
    with pytest.raises(InputError, match="BALANCE"):
        await r.render(DEBT, Contact(id="x", variables={"NAME": "A"}), "en")


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng binary not installed")
@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "ru", "id"])
async def test_espeak_end_to_end(tmp_path: Path, lang: str) -> None:
    r = renderer(tmp_path, engine=EspeakEngine())
    contact = debtor(1, "-525.19")
    path = await r.render(DEBT, contact, lang)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate()) == (1, 8000)
        seconds = w.getnframes() / 8000
    assert seconds == pytest.approx(r.estimate_seconds(DEBT, contact, lang), rel=0.4)
    assert seconds > 2.0


@pytest.mark.anyio
async def test_ssml_engines_get_one_document_per_stretch(
    tmp_path: Path, tone_wav: Callable[..., bytes]
) -> None:
    (tmp_path / "intro.wav").write_bytes(tone_wav(0.2, rate=8000))
    template = Template.parse("<audio:intro.wav>Code <letters>VIP</letters>.<stop:1s>Bye")
    r = renderer(tmp_path, mode="sentence", use_ssml=True, recordings_dir=tmp_path)
    await r.render(template, Contact(id="1"), "en")
    engine = r.engine
    assert isinstance(engine, ToneEngine)
    (call,) = engine.calls
    # Letters are spelled in the words themselves ("V I P", or however the renderer spells
    # them for the engine), never left to a <say-as> the engine may not obey.
    assert re.fullmatch(
        r'<speak version="1\.1" xmlns="http://www\.w3\.org/2001/10/synthesis" xml:lang="en">'
        r'Code V[ -]I[ -]P\. <break time="1000ms"/> Bye</speak>',
        call,
    )
    # Fragment mode never sends SSML: fragments must stay shareable words.
    fragments = renderer(tmp_path / "f", mode="fragment", use_ssml=True, recordings_dir=tmp_path)
    await fragments.render(template, Contact(id="1"), "en")
    assert isinstance(fragments.engine, ToneEngine)
    assert not any(c.startswith("<speak") for c in fragments.engine.calls)


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng binary not installed")
@pytest.mark.anyio
async def test_espeak_times_ssml_breaks(tmp_path: Path) -> None:
    r = renderer(tmp_path, engine=EspeakEngine(), mode="sentence", use_ssml=True)
    with_pause = await r.audio(Template.parse("one<stop:2s>two").plan(Contact(id="1")))
    without = await r.audio(Template.parse("one two").plan(Contact(id="1")))
    assert TELEPHONE.seconds(with_pause) - TELEPHONE.seconds(without) > 1.5


@pytest.mark.anyio
async def test_old_messages_are_pruned_least_recently_handed_out_first(tmp_path: Path) -> None:
    r = renderer(tmp_path, keep_messages=2)
    a = await r.render(DEBT, debtor(1, "1"), "en")
    b = await r.render(DEBT, debtor(2, "2"), "en")
    assert await r.render(DEBT, debtor(3, "1"), "en") == a  # a is handed out again
    c = await r.render(DEBT, debtor(4, "3"), "en")
    assert (a.exists(), b.exists(), c.exists()) == (True, False, True)
    assert sorted(r.messages_dir.iterdir()) == sorted([a, c])
    with pytest.raises(SettingsError, match="keep_messages"):
        renderer(tmp_path, keep_messages=0)
