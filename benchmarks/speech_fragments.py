"""Speech at campaign scale: engine calls and per-contact assembly for 100,000 debtors.

Rerun: ``python benchmarks/speech_fragments.py`` (add ``--contacts 20000`` for a quicker run).

What it measures, for a debt reminder with a distinct balance per contact
("Hello {NAME}, your debt is <currency>{BALANCE|abs} RUB</currency>.<stop:1s> Press 1..."):

1. engine calls in fragment mode, counted with a counting tone engine (the fake returns tones,
   so the count is exact and the run needs no binary); target <= 1% of contacts. The number of
   distinct sentences (= engine calls in sentence mode) is reported next to it;
2. time to assemble one contact's audio from warm fragments (raw PCM concatenation + WAV
   header), median over several runs of 10,000 contacts; target < 2 ms. Reported with and
   without building the contact's speech plan (the pure template step, num2words included);
   The plan + assembly figure clears num2words' memo first, so every amount is read afresh;
3. a real espeak-ng run on a small sample: synthesis time per fragment and per contact;
4. names (#15 item 9): seed 003's greeting with 10,000 distinct Russian full names (surname,
   first name, patronymic drawn from Faker's ru_RU lists, as a real list's are from a
   country's): engine calls per contact with names cached by their parts, against one call per
   distinct whole name (the peer: what caching whole names costs). Engine calls per contact
   for the first 10,000 distinct balances are reported beside it.

Prints a Markdown table; writes ``benchmarks/results/speech_fragments.json`` and a PNG of the
cumulative engine calls per contacts processed.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

from autoinformer.contacts.model import Contact
from autoinformer.speech import (
    EngineRenderer,
    EspeakEngine,
    FragmentCache,
    Template,
    ToneEngine,
    readas,
)
from autoinformer.speech.audio import wav_bytes
from autoinformer.speech.plan import Synth

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TEMPLATE = Template.parse(
    "Hello {NAME}, your debt is <currency>{BALANCE|abs} RUB</currency>.<stop:1s> "
    "Press 1 to talk to an operator."
)
NAMES = ["Ilya", "Igor", "Anna", "Maria", "Oleg", "Dewi", "Budi", "Siti", "John", "Mary"]
FIO = Template.parse(
    "Здравствуйте, {fio}. Вы оставили заявку на сайте нашего магазина. "
    "Чтобы подтвердить заказ, нажмите 1."
)


def contacts(n: int, seed: int = 7) -> list[Contact]:
    """``n`` debtors with distinct balances between 0.01 and 100,000.00 (in cents)."""
    rng = random.Random(seed)
    cents = rng.sample(range(1, 10_000_001), n)
    return [
        Contact(
            id=str(i),
            variables={"NAME": rng.choice(NAMES), "BALANCE": f"-{c // 100}.{c % 100:02d}"},
        )
        for i, c in enumerate(cents)
    ]


def full_names(n: int, seed: int = 11) -> list[str]:
    """``n`` distinct Russian full names, gender-consistent, from Faker's ru_RU lists."""
    from faker.providers.person.ru_RU import Provider as Names

    rng = random.Random(seed)
    lists = (
        (Names.last_names_male, Names.first_names_male, Names.middle_names_male),
        (Names.last_names_female, Names.first_names_female, Names.middle_names_female),
    )
    seen: set[str] = set()
    while len(seen) < n:
        surnames, firsts, middles = rng.choice(lists)
        seen.add(f"{rng.choice(surnames)} {rng.choice(firsts)} {rng.choice(middles)}")
    return sorted(seen, key=lambda _: rng.random())


async def names_run(names: list[str], cache_dir: Path) -> dict[str, float]:
    """Engine calls to render seed 003's greeting for every name (fragment mode)."""
    renderer = EngineRenderer(
        engine=ToneEngine(ms_per_char=1), cache=FragmentCache(directory=cache_dir)
    )
    for i, name in enumerate(names):
        await renderer.audio(FIO.plan(Contact(id=str(i), variables={"fio": name}), "ru"))
    parts = {part for name in names for part in name.split()}
    whole = len(set(names)) + 2  # the peer: a call per distinct name plus the two phrases
    return {
        "contacts": len(names),
        "distinct_parts": len(parts),
        "engine_calls": renderer.engine_calls,
        "calls_per_contact": renderer.engine_calls / len(names),
        "whole_name_calls": whole,
        "whole_name_calls_per_contact": whole / len(names),
        "ratio_whole_to_parts": whole / renderer.engine_calls,
    }


async def warm(renderer: EngineRenderer, people: list[Contact], lang: str) -> tuple[list[int], int]:
    """Synthesise every fragment the list needs.

    Returns:
        Cumulative engine calls after each contact, and the number of distinct sentences
        (what sentence mode would have synthesised).
    """
    curve = []
    sentences: set[str] = set()
    for person in people:
        plan = TEMPLATE.plan(person, lang)
        sentences.update(u.text for u in plan.units("sentence") if isinstance(u, Synth))
        await renderer.audio(plan)
        curve.append(renderer.engine_calls)
    return curve, len(sentences)


def time_assembly(
    renderer: EngineRenderer, people: list[Contact], lang: str, runs: int
) -> dict[str, float]:
    """Median ms per contact: assembly only (plans prebuilt), and plan + assembly."""
    plans = [TEMPLATE.plan(p, lang) for p in people]
    only, full = [], []
    for _ in range(runs):
        start = time.perf_counter()
        for plan in plans:
            payload = renderer.assemble_cached(plan)
            assert payload is not None
            wav_bytes(payload, renderer.format)
        only.append((time.perf_counter() - start) * 1000 / len(plans))
        for cached in (readas.read_currency, readas.spell_numbers_in, readas._cardinal):
            cached.cache_clear()  # time num2words for real: every balance is new
        start = time.perf_counter()
        for person in people:
            payload = renderer.assemble_cached(TEMPLATE.plan(person, lang))
            assert payload is not None
            wav_bytes(payload, renderer.format)
        full.append((time.perf_counter() - start) * 1000 / len(people))
    return {"assembly_ms": statistics.median(only), "plan_and_assembly_ms": statistics.median(full)}


async def espeak_sample(people: list[Contact], lang: str, cache_dir: Path) -> dict[str, float]:
    """Real espeak-ng: fragments synthesised for a sample, wall time per fragment/contact."""
    renderer = EngineRenderer(engine=EspeakEngine(), cache=FragmentCache(directory=cache_dir))
    start = time.perf_counter()
    for person in people:
        await renderer.render(TEMPLATE, person, lang)
    elapsed = time.perf_counter() - start
    return {
        "contacts": len(people),
        "engine_calls": renderer.engine_calls,
        "seconds": elapsed,
        "ms_per_fragment": elapsed * 1000 / max(renderer.engine_calls, 1),
        "ms_per_contact_cold": elapsed * 1000 / len(people),
    }


def plot(curves: dict[str, list[int]], n: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    xs = range(1, n + 1)
    for lang, curve in curves.items():
        ax.plot(xs, curve, label=f"fragment mode ({lang})")
    ax.plot(xs, xs, "--", color="grey", label="sentence mode (one call per contact)")
    ax.axhline(n / 100, color="red", linewidth=0.8, label=f"1% of {n:,} contacts (target)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("contacts rendered (distinct balances)")
    ax.set_ylabel("engine calls so far")
    ax.set_title("Speech engine calls: fragments saturate, sentences do not")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=30, help="contacts for the espeak-ng run")
    parser.add_argument("--names", type=int, default=10_000, help="distinct full names")
    args = parser.parse_args(argv)

    people = contacts(args.contacts)
    langs = ["en", "ru", "id"]
    results: dict[str, object] = {"contacts": args.contacts, "template": TEMPLATE.source}
    rows = []
    curves: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in langs:
            renderer = EngineRenderer(
                engine=ToneEngine(ms_per_char=5),
                cache=FragmentCache(directory=Path(tmp) / f"tone-{lang}"),
            )
            curve, sentences = anyio.run(warm, renderer, people, lang)
            curves[lang] = curve
            timing = time_assembly(renderer, people[:10_000], lang, args.runs)
            calls = renderer.engine_calls
            first = min(10_000, args.contacts)
            row = {
                "lang": lang,
                "engine_calls": calls,
                "calls_per_contact_pct": 100 * calls / args.contacts,
                "calls_per_contact_first_10k": curve[first - 1] / first,
                "sentence_mode_calls": sentences,
                **timing,
            }
            rows.append(row)
        results["tone"] = rows
        espeak = None
        if shutil.which("espeak-ng"):
            espeak = {
                lang: anyio.run(
                    espeak_sample, people[: args.sample], lang, Path(tmp) / f"es-{lang}"
                )
                for lang in langs
            }
        results["espeak"] = espeak
        names = anyio.run(names_run, full_names(args.names), Path(tmp) / "names")
        results["names"] = names

    print(f"### Speech fragments: {args.contacts:,} contacts with distinct balances\n")
    print(
        "| lang | engine calls (fragment) | % of contacts | engine calls (sentence) "
        "| assembly ms/contact (median) | plan + assembly ms/contact |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['lang']} | {r['engine_calls']:,} | {r['calls_per_contact_pct']:.3f}% "
            f"| {r['sentence_mode_calls']:,} | {r['assembly_ms']:.4f} "
            f"| {r['plan_and_assembly_ms']:.3f} |"
        )
    print(f"\n### Engine calls per contact, first {min(10_000, args.contacts):,} contacts\n")
    print("| what differs per contact | lang | engine calls per contact |")
    print("|---|---|---:|")
    for r in rows:
        print(f"| balance | {r['lang']} | {r['calls_per_contact_first_10k']:.4f} |")
    print(
        f"| full name (names by parts) | ru | {names['calls_per_contact']:.4f} "
        f"({names['engine_calls']:,} calls, {names['distinct_parts']:,} distinct parts) |"
    )
    print(
        f"| full name (whole names, peer) | ru | {names['whole_name_calls_per_contact']:.4f} "
        f"(x{names['ratio_whole_to_parts']:.1f} the calls) |"
    )
    if espeak:
        print(f"\n### espeak-ng, real synthesis, first {args.sample} contacts (cold cache)\n")
        print("| lang | engine calls | ms per fragment | ms per contact (cold) |")
        print("|---|---:|---:|---:|")
        for lang, e in espeak.items():
            print(
                f"| {lang} | {e['engine_calls']} | {e['ms_per_fragment']:.1f} "
                f"| {e['ms_per_contact_cold']:.1f} |"
            )
    else:
        print("\n(espeak-ng not installed: real-synthesis sample skipped)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speech_fragments.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(curves, args.contacts, RESULTS / "speech_fragments.png")
    ok = all(r["calls_per_contact_pct"] <= 1.0 and r["assembly_ms"] < 2.0 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
