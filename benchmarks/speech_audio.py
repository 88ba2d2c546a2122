"""How the speech sounds (#15 items 6 and 8): aliasing, stereo level, the breath at a full stop.

Rerun: ``python benchmarks/speech_audio.py`` (``--runs 5``).

1. Aliasing suppression: a 1 kHz + 5 kHz tone pair at 16/22.05/44.1/48 kHz converted to 8 kHz
   by :func:`autoinformer.speech.audio.decode_to_fragment` (soxr). 5 kHz is above the 4 kHz
   Nyquist limit and must vanish; without an anti-alias filter it folds to 3 kHz. Suppression
   is the 1 kHz level minus the 3 kHz level (dB; target >= 50). The peer is pydub's
   ``set_frame_rate`` (``audioop.ratecv``, what the renderer used before).
2. Stereo against mono: the same 440 Hz recording as mono, as stereo with different channels
   and as stereo with one silent channel, each through :func:`to_fragment`; the level
   difference to mono in dB (target: within 0.5 dB; it was -3 dB).
3. The breath at a full stop: seed-style debt templates rendered by espeak-ng in sentence and
   fragment mode (en, ru, id; several names); the full stop's pause (the longest silence,
   5 ms windows) in both modes and the difference (target: within 100 ms). Median and worst.

Every figure is deterministic for a given engine build; ``--runs`` repeats the timing-free
measurements anyway and reports the median, so a rerun on another machine is comparable.
Writes ``benchmarks/results/speech_audio.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import statistics
import sys
import tempfile
import wave
from pathlib import Path

import anyio
import numpy as np

from autoinformer.contacts.model import Contact
from autoinformer.speech import EngineRenderer, EspeakEngine, FragmentCache, Template
from autoinformer.speech.audio import TELEPHONE, decode_to_fragment, silences, to_fragment
from autoinformer.speech.engines.espeak import espeak_available

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TEMPLATES = [
    "Hello {NAME}, your debt is <currency>{B|abs} RUB</currency>. Press one for an operator.",
    "Dear {NAME}. Your payment of <currency>{B|abs} RUB</currency> is overdue. Please pay today.",
    "{NAME}, this is your bank. The balance is <currency>{B|abs} RUB</currency>. Thank you.",
]
PEOPLE = [("Anna Petrova", "-68.27"), ("Ivan", "-1250.00"), ("Maria Ivanova", "-3.50")]


def _wav(channels: list[np.ndarray], rate: int) -> bytes:
    frames = np.round(np.stack(channels, axis=1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return buf.getvalue()


def _sine(freq: float, rate: int, seconds: float = 1.0, amplitude: float = 0.4) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * math.pi * freq * t)


def _level(pcm: bytes, rate: int, freq: float) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    bins = np.fft.rfftfreq(len(x), 1 / rate)
    return float(20 * np.log10(spectrum[np.abs(bins - freq) <= 20].max() + 1e-9))


def _rms_db(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(float) / 32768
    return float(20 * np.log10(np.sqrt(np.mean(x * x))))


def aliasing() -> list[dict[str, float]]:
    """Suppression of the 3 kHz alias of a 5 kHz tone, soxr against audioop.ratecv."""
    from pydub import AudioSegment

    rows = []
    for rate in (16000, 22050, 44100, 48000):
        data = _wav([_sine(1000, rate) + _sine(5000, rate)], rate)
        ours = decode_to_fragment(data, TELEPHONE, trim=False)
        peer = AudioSegment.from_file(io.BytesIO(data), format="wav").set_frame_rate(8000).raw_data
        rows.append(
            {
                "input_rate": rate,
                "suppression_db": _level(ours, 8000, 1000) - _level(ours, 8000, 3000),
                "peer_suppression_db": _level(peer, 8000, 1000) - _level(peer, 8000, 3000),
            }
        )
    return rows


def stereo(tmp: Path) -> dict[str, float]:
    """Level of stereo uploads after conversion, relative to the same sound in mono (dB)."""
    rate = 16000
    a, b = _sine(440, rate), _sine(660, rate)
    files = {
        "mono": [a],
        "stereo_different_channels": [a, b],
        "stereo_one_channel_silent": [a, np.zeros_like(a)],
        "stereo_same_channels": [a, a],
    }
    from pydub import AudioSegment

    levels, peer = {}, {}
    for name, channels in files.items():
        path = tmp / f"{name}.wav"
        path.write_bytes(_wav(channels, rate))
        levels[name] = _rms_db(to_fragment(path, TELEPHONE))
        # The peer (before): level set on the stereo segment, then the mix down.
        segment = AudioSegment.from_file(str(path))
        segment = segment.apply_gain(-20.0 - segment.dBFS).set_channels(1)
        peer[name] = _rms_db(segment.set_frame_rate(8000).raw_data)
    out = {name: level - levels["mono"] for name, level in levels.items() if name != "mono"}
    out |= {f"{name} (before)": lv - peer["mono"] for name, lv in peer.items() if name != "mono"}
    return out


async def breath(tmp: Path) -> list[dict[str, object]]:
    """The full stop's pause in sentence and fragment mode, per language/template/person."""
    rows: list[dict[str, object]] = []
    for lang in ("en", "ru", "id"):
        for t_index, source in enumerate(TEMPLATES):
            template = Template.parse(source)
            for name, balance in PEOPLE:
                plan = template.plan(Contact(id="1", variables={"NAME": name, "B": balance}), lang)
                stops = {}
                for mode in ("sentence", "fragment"):
                    renderer = EngineRenderer(
                        engine=EspeakEngine(), cache=FragmentCache(directory=tmp), mode=mode
                    )
                    pcm = await renderer.audio(plan)
                    stops[mode] = max(n for _, n in silences(pcm, TELEPHONE, window_ms=5))
                rows.append(
                    {
                        "lang": lang,
                        "template": t_index,
                        "name": name,
                        "sentence_ms": stops["sentence"],
                        "fragment_ms": stops["fragment"],
                        "difference_ms": stops["fragment"] - stops["sentence"],
                    }
                )
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    results: dict[str, object] = {"runs": args.runs}
    runs = [aliasing() for _ in range(args.runs)]
    alias_rows = [
        {
            "input_rate": row["input_rate"],
            "suppression_db": statistics.median(r[i]["suppression_db"] for r in runs),
            "peer_suppression_db": statistics.median(r[i]["peer_suppression_db"] for r in runs),
        }
        for i, row in enumerate(runs[0])
    ]
    results["aliasing"] = alias_rows
    with tempfile.TemporaryDirectory() as tmp:
        stereo_runs = [stereo(Path(tmp)) for _ in range(args.runs)]
        results["stereo_minus_mono_db"] = {
            k: statistics.median(r[k] for r in stereo_runs) for k in stereo_runs[0]
        }
        breath_rows = anyio.run(breath, Path(tmp)) if espeak_available() else []
    results["breath"] = breath_rows

    print("### Aliasing: 1 kHz + 5 kHz to 8 kHz, alias at 3 kHz (dB under the 1 kHz tone)\n")
    print("| input rate | soxr (ours) | audioop.ratecv (before) |")
    print("|---:|---:|---:|")
    for r in alias_rows:
        print(f"| {r['input_rate']} | {r['suppression_db']:.1f} | {r['peer_suppression_db']:.1f} |")
    print("\n### Stereo upload level after conversion, relative to mono (dB)\n")
    for k, v in results["stereo_minus_mono_db"].items():  # type: ignore[attr-defined]
        print(f"- {k}: {v:+.2f}")
    ok = min(r["suppression_db"] for r in alias_rows) >= 50
    ok = ok and all(
        abs(v) <= 0.5
        for k, v in results["stereo_minus_mono_db"].items()  # type: ignore[attr-defined]
        if "before" not in k
    )
    if breath_rows:
        print("\n### The full stop's pause: fragment mode against sentence mode (espeak-ng)\n")
        print("| lang | sentence ms (median) | fragment ms (median) | diff median | worst |diff| |")
        print("|---|---:|---:|---:|---:|")
        summary = {}
        for lang in ("en", "ru", "id"):
            mine = [r for r in breath_rows if r["lang"] == lang]
            diffs = [int(r["difference_ms"]) for r in mine]  # type: ignore[call-overload]
            row = {
                "sentence_ms": statistics.median(int(r["sentence_ms"]) for r in mine),  # type: ignore[call-overload]
                "fragment_ms": statistics.median(int(r["fragment_ms"]) for r in mine),  # type: ignore[call-overload]
                "difference_median_ms": statistics.median(diffs),
                "worst_abs_difference_ms": max(abs(d) for d in diffs),
            }
            summary[lang] = row
            print(
                f"| {lang} | {row['sentence_ms']:.0f} | {row['fragment_ms']:.0f} "
                f"| {row['difference_median_ms']:+.0f} | {row['worst_abs_difference_ms']} |"
            )
        results["breath_summary"] = summary
        ok = ok and all(s["worst_abs_difference_ms"] <= 100 for s in summary.values())
    else:
        print("\n(espeak-ng not installed: the full-stop measurement was skipped)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speech_audio.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
