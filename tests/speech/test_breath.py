"""Fragment mode keeps the sentence's breath, and letters are read as letters (#15 item 6)."""

from __future__ import annotations

import io
import math
import re
import struct
import subprocess
import wave
from pathlib import Path
from typing import ClassVar

import attrs
import pytest

from autoinformer.contacts.model import Contact
from autoinformer.speech import (
    Engine,
    EngineRenderer,
    EspeakEngine,
    FragmentCache,
    Template,
    ToneEngine,
)
from autoinformer.speech.audio import silences
from autoinformer.speech.engines.espeak import espeak_available
from autoinformer.speech.plan import Break, Pause, Say, Silence, SpeechPlan, Synth
from autoinformer.speech.renderer import TRIM_KEEP_MS
from autoinformer.speech.spelling import speakable, speakable_ssml

needs_espeak = pytest.mark.skipif(
    not espeak_available(), reason="espeak-ng is not installed (apt install espeak-ng)"
)
DEBT = Template.parse(
    "Hello {NAME}, your debt is <currency>{B|abs} RUB</currency>. Press one for an operator."
)


def person(name: str = "Anna", balance: str = "-68.27") -> Contact:
    return Contact(id="1", variables={"NAME": name, "B": balance})


def kinds(units: list[object]) -> list[str]:
    return [u.kind if isinstance(u, Break) else type(u).__name__ for u in units]


# ------------------------------------------------------------------ where breaks go


def test_full_stops_and_commas_between_fragments_become_breaks() -> None:
    units = DEBT.plan(person(), "en").units("fragment", breaks=True)
    assert units[:4] == [Synth("Hello"), Synth("Anna"), Break("clause"), Synth("your debt is")]
    stop = units.index(Break("sentence"))
    assert units[stop - 1] == Synth("kopeks")
    assert units[stop + 1] == Synth("Press one for an operator.")
    assert units.count(Break("sentence")) == 1
    assert units.count(Break("clause")) == 1


def test_breaks_are_left_out_unless_asked_and_in_sentence_mode() -> None:
    plan = DEBT.plan(person(), "en")
    assert not any(isinstance(u, Break) for u in plan.units("fragment"))
    assert not any(isinstance(u, Break) for u in plan.units("sentence", breaks=True))


def test_no_break_at_the_edges_or_next_to_a_pause() -> None:
    plan = Template.parse(", Hi {NAME}.<stop:1s>. Bye. <audio:x.wav>, again.").plan(person())
    units = plan.units("fragment", breaks=True)
    assert kinds(units) == ["Synth", "Synth", "Silence", "Synth", "Play", "Synth"]


def test_the_stronger_boundary_wins_and_a_dot_in_a_value_is_an_initial() -> None:
    plan = SpeechPlan(
        (
            Say("Dear", True, ("Dear",)),
            Say("John A. Smith", False, ("John A. Smith",)),
            Say(", . Thanks", True, (", . Thanks",)),
            Say("Ann!", False, ("Ann!",)),
            Say("bye", True, ("bye",)),
        )
    )
    assert kinds(plan.units("fragment", breaks=True)) == [
        "Synth", "Synth", "Synth", "Synth", "sentence", "Synth", "Synth", "sentence", "Synth",
    ]  # fmt: skip


# ------------------------------------------------------------------ what the renderer puts there


@pytest.mark.anyio
async def test_a_break_is_the_engines_declared_pause(tmp_path: Path) -> None:
    engine = ToneEngine(pauses={"sentence": 400, "clause": 150})
    r = EngineRenderer(engine=engine, cache=FragmentCache(directory=tmp_path), gap_ms=40)
    pcm = await r.audio(DEBT.plan(person(), "en"))
    gaps = [n for _, n in silences(pcm, r.format)]
    # A speech fragment keeps 20 ms of its edge silence each side and the break fills the
    # rest of the engine's pause; tones have no edge silence, so the joins are 40 ms short.
    assert max(gaps) == 400 - 2 * TRIM_KEEP_MS
    assert 150 - 2 * TRIM_KEEP_MS in gaps
    assert r.engine_calls == len(set(engine.calls))  # declared: nothing was measured
    plan = DEBT.plan(person(), "en")
    estimate = r.estimate_seconds(DEBT, person(), "en")
    assert estimate == pytest.approx(r.format.seconds(pcm), rel=0.1)
    plain = EngineRenderer(engine=ToneEngine(), cache=FragmentCache(directory=tmp_path / "p"))
    # The estimate counts each break as the pause it becomes instead of a 40 ms join.
    expected = (360 - 40 + 110 - 40) / 1000
    assert estimate - plain.estimate_seconds(DEBT, person(), "en") == pytest.approx(expected)
    assert r.assemble_cached(plan) == pcm


@attrs.define(kw_only=True)
class BreathingEngine(Engine):
    """Tones per word with real pauses: 450 ms after a full stop, 200 ms after a comma."""

    name: ClassVar[str] = "breathing"
    calls: list[str] = attrs.field(factory=list)

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        self.calls.append(text)
        rate, samples = 16000, [0] * 1600
        for word in text.split():
            samples += [int(8000 * math.sin(i / 3)) for i in range(rate * len(word) * 20 // 1000)]
            gap = 450 if word.endswith(".") else 200 if word.endswith(",") else 30
            samples += [0] * (rate * gap // 1000)
        buf = io.BytesIO()
        with wave.open(buf, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
        return buf.getvalue()


@pytest.mark.anyio
async def test_an_unknown_pause_is_measured_once_and_kept_in_the_cache(tmp_path: Path) -> None:
    engine = BreathingEngine()
    r = EngineRenderer(engine=engine, cache=FragmentCache(directory=tmp_path))
    # Measured in 5 ms windows: a window the sound reaches into is not silent.
    sentence = await r.pause("sentence", "en")
    assert 450 - 2 * TRIM_KEEP_MS - 10 <= sentence <= 450 - 2 * TRIM_KEEP_MS
    clause = await r.pause("clause", "en")
    assert 200 - 2 * TRIM_KEEP_MS - 10 <= clause <= 200 - 2 * TRIM_KEEP_MS
    assert engine.calls == ["Five. Five.", "Five, five."]
    assert await r.pause("sentence", "en") == sentence
    await r.pause("sentence", "ru")
    assert engine.calls[-1] == "Пять. Пять."
    # Another process with the same cache directory measures nothing.
    again = BreathingEngine()
    r2 = EngineRenderer(engine=again, cache=FragmentCache(directory=tmp_path))
    assert await r2.pause("sentence", "en") == sentence
    assert again.calls == []
    # The cache keeps the engine's pause, not this renderer's join: a longer gap is a floor.
    wide = EngineRenderer(engine=again, cache=FragmentCache(directory=tmp_path), gap_ms=500)
    assert await wide.pause("sentence", "en") == 500
    assert again.calls == []


@pytest.mark.anyio
async def test_a_stop_in_fragment_mode_is_as_long_as_in_sentence_mode(tmp_path: Path) -> None:
    template = Template.parse("Dear {NAME}. Thank you.")
    lengths = {}
    for mode in ("sentence", "fragment"):
        r = EngineRenderer(
            engine=BreathingEngine(), cache=FragmentCache(directory=tmp_path / mode), mode=mode
        )
        pcm = await r.audio(template.plan(person(), "en"))
        lengths[mode] = max(n for _, n in silences(pcm, r.format, window_ms=5))
    assert 440 <= lengths["sentence"] <= 450
    assert abs(lengths["fragment"] - lengths["sentence"]) <= 20, lengths


@needs_espeak
@pytest.mark.anyio
@pytest.mark.parametrize("lang", ["en", "ru", "id"])
async def test_espeak_full_stop_in_fragment_mode_within_100_ms_of_sentence_mode(
    tmp_path: Path, lang: str
) -> None:
    stops = {}
    for mode in ("sentence", "fragment"):
        r = EngineRenderer(
            engine=EspeakEngine(), cache=FragmentCache(directory=tmp_path), mode=mode
        )
        pcm = await r.audio(DEBT.plan(person("Anna Petrova"), lang))
        stops[mode] = max(n for _, n in silences(pcm, r.format))  # the full stop's pause
    assert stops["sentence"] >= 300
    assert abs(stops["fragment"] - stops["sentence"]) <= 100, stops


# ------------------------------------------------------------------ letters


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("AM", "A-M"),
        ("ten AM", "ten A-M"),
        ("code A M Z, thanks", "code A-M-Z, thanks"),
        ("ИП Иванов", "и пэ Иванов"),  # Cyrillic letters by name: "Б-Б" reads "бы-бы"
        ("Д К Й", "дэ ка и краткое"),
        ("ОПЛАТИТЕ ДО 5 ДЕКАБРЯ", "ОПЛАТИТЕ ДО 5 ДЕКАБРЯ"),  # all capitals: words, not letters
        ("CALL US", "CALL US"),
        ("US", "U-S"),  # a lone fragment
        ("A reminder from Anna", "A reminder from Anna"),  # the article stays a word
        ("ANNA IVANOVA", "ANNA IVANOVA"),  # names in capitals stay names
        ("I am", "I am"),
        ("A", "A"),
    ],
)
def test_speakable_joins_letters(text: str, spoken: str) -> None:
    assert speakable(text) == spoken


def phonemes(text: str, voice: str, *, ssml: bool = False) -> str:
    out = subprocess.run(
        ["espeak-ng", "-q", "-x", "-v", voice, *(["-m"] if ssml else []), "--stdin"],
        input=text.encode(),
        capture_output=True,
        check=True,
    )
    return out.stdout.decode()


@needs_espeak
@pytest.mark.parametrize(
    ("template", "voice", "letters"),
    [
        ("<time>{T}</time>", "en", ["eI", "Em"]),  # "ten AM", not "ten am"
        ("Code <letters>{T}</letters>.", "en", ["eI", "Em"]),  # not "uh em"
        ("{T}", "en", ["eI", "Em"]),  # a lone "AM" value
        ("Ваш код <letters>{T}</letters>.", "ru", ["'Em"]),
        ("Code <letters>{T}</letters> please.", "en", ["'eI"]),  # a lone "A": not "uh"
        ("Код <letters>{T}</letters> пожалуйста.", "ru", ["b'E"]),  # "Б": not "бы"
    ],
)
def test_espeak_says_letters_as_letters_in_every_mode(
    tmp_path: Path, template: str, voice: str, letters: list[str]
) -> None:
    value = "10:00" if "time" in template else "АМ" if voice == "ru" else "AM"
    if "please" in template:
        value = "A"
    if "пожалуйста" in template:
        value = "Б"
    plan = Template.parse(template).plan(Contact(id="1", variables={"T": value}), voice)
    for mode, ssml in (("fragment", False), ("sentence", False), ("sentence", True)):
        r = EngineRenderer(
            engine=EspeakEngine(),
            cache=FragmentCache(directory=tmp_path),
            mode=mode,  # type: ignore[arg-type]
            use_ssml=ssml,
        )
        units = [u for u in r.units(plan) if isinstance(u, Synth)]
        assert all(u.ssml == ssml for u in units)
        said = " ".join(phonemes(u.text, voice, ssml=ssml) for u in units)
        assert all(p in said for p in letters), (mode, ssml, said)
        if voice == "en":  # the word "am", the article "uh" (in Russian a# is the letter)
            assert not re.search(r"\bam\b|a#", said), (mode, ssml, said)
        elif value == "АМ":  # "ам" read as a word has one stressed vowel and no "эм"
            assert said.count("'") >= 2, (mode, ssml, said)
        else:
            assert "by" not in said, (mode, ssml, said)


def test_ssml_text_is_spelled_but_not_its_markup_or_say_as() -> None:
    document = (
        '<speak xml:lang="en">At ten AM <break time="1ms"/> code '
        '<say-as interpret-as="characters">AM</say-as> A M</speak>'
    )
    assert speakable_ssml(document) == (
        '<speak xml:lang="en">At ten A-M <break time="1ms"/> code '
        '<say-as interpret-as="characters">AM</say-as> A-M</speak>'
    )


def test_units_before_and_after_a_pause_are_unchanged_by_spelling(tmp_path: Path) -> None:
    plan = SpeechPlan((Say("ten AM", True, ("ten AM",)), Pause(500), Say("ok", True, ("ok",))))
    r = EngineRenderer(engine=ToneEngine(), cache=FragmentCache(directory=tmp_path))
    assert r.units(plan) == [Synth("ten A-M"), Silence(500), Synth("ok")]
