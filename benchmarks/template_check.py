"""What checking a contact against its speech templates costs (issue #13 item 7, template half).

Every contact entering a campaign is checked (``Template.check``, called by the core's intake)
so that a value the template cannot read skips the contact before it is dialled. A full check
reads the contact's values in words with num2words (~0.4 ms); the memo on value classes reads
one value per class (``-68.27`` and ``-12.50`` are both ``-99.99``). This measures contacts
checked per second both ways on the same lists: distinct balances (a debt to the kopeck), a
due date from a month of days, and (second template) a distinct full name per contact.

- before: ``Template.check_uncached`` (what ``check`` did before the memo) on ``--before``
  contacts, reading caches cleared first;
- after: ``Template.check`` with a fresh template (empty memo) on ``--contacts`` contacts.

Only the check is timed: contacts are built in chunks outside the timed loop. Median of
``--runs`` runs; the ratio is after/before in contacts per second.

Run: ``python benchmarks/template_check.py [--contacts 1000000] [--before 20000] [--runs 3]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent / "src"))

from autoinformer.contacts.model import Contact  # noqa: E402
from autoinformer.speech import Template, readas  # noqa: E402
from autoinformer.speech.wording import cardinal_words  # noqa: E402

TEMPLATES = {
    # Seed 000's call with the |debt filter, and a date in the genitive.
    "seed000_ru": (
        "Здравствуйте, вас беспокоит ТСЖ. Ваш долг %VAR:BALANCE|debt% rub. "
        'Оплатите до <date case="genitive">{DUE}</date>.',
        "ru",
    ),
    # An English reminder with a name read as text and an amount in a span.
    "reminder_en": (
        "Hello {NAME}, you owe <currency>{BALANCE|abs} USD</currency>, due <date>{DUE}</date>.",
        "en",
    ),
}
_FIRST = ("Ivan", "Anna", "Oleg", "Maria", "Petr", "Olga", "Ilya", "Nina", "Igor", "Elena")
_LAST = ("Ivanov", "Petrova", "Sidorov", "Lipko", "Mihailov", "Smirnova", "Kuznetsov")
CHUNK = 50_000


def contacts(n: int, seed: int) -> Iterator[list[Contact]]:
    """``n`` contacts in chunks: distinct balances (a debt to the kopeck), a due date in
    December, a distinct full name each."""
    rng = random.Random(seed)
    balances = rng.sample(range(1, 10_000_000), n)  # kopecks: every balance distinct
    start = dt.date(2026, 12, 1)
    chunk: list[Contact] = []
    for i, kopecks in enumerate(balances):
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {i}"  # distinct full names
        due = start + dt.timedelta(days=rng.randrange(31))
        variables = {
            "BALANCE": f"-{kopecks // 100}.{kopecks % 100:02d}",
            "DUE": due.isoformat(),
            "NAME": name,
        }
        chunk.append(Contact(id=f"row-{i + 2}", variables=variables))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def timed(n: int, seed: int, check: Callable[[Contact], list[str]]) -> float:
    """Seconds spent in ``check`` over ``n`` contacts (building them is not timed)."""
    spent = 0.0
    for chunk in contacts(n, seed):
        start = time.perf_counter()
        for contact in chunk:
            problems = check(contact)
            if problems:
                raise SystemExit(f"unexpected problem: {problems}")
        spent += time.perf_counter() - start
    return spent


def clear_caches() -> None:
    for cached in (readas.read_currency, readas.spell_numbers_in, cardinal_words):
        cached.cache_clear()


def measure(name: str, source: str, lang: str, n_after: int, n_before: int, runs: int) -> dict:
    before: list[float] = []
    after: list[float] = []
    for run in range(runs):
        clear_caches()
        full = Template.parse(source)
        before.append(timed(n_before, run, functools.partial(full.check_uncached, lang=lang)))
        clear_caches()
        memo = Template.parse(source)  # an empty memo
        after.append(timed(n_after, run, functools.partial(memo.check, lang=lang)))
        print(f"{name} run {run + 1}: before {before[-1]:.2f}s/{n_before}, "
              f"after {after[-1]:.2f}s/{n_after}", file=sys.stderr)  # fmt: skip
    rate_before = n_before / statistics.median(before)
    rate_after = n_after / statistics.median(after)
    return {
        "template": source,
        "lang": lang,
        "before": {
            "contacts": n_before,
            "seconds_all": before,
            "contacts_per_second": rate_before,
            "ms_per_contact": 1000 / rate_before,
        },
        "after": {
            "contacts": n_after,
            "seconds_all": after,
            "seconds_median": statistics.median(after),
            "contacts_per_second": rate_after,
            "ms_per_contact": 1000 / rate_after,
        },
        "speedup": rate_after / rate_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--before", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = {
        name: measure(name, source, lang, args.contacts, args.before, args.runs)
        for name, (source, lang) in TEMPLATES.items()
    }
    results["runs"] = args.runs
    results["load_average_after"] = os.getloadavg()[0]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "template_check.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    for name, (_, _) in TEMPLATES.items():
        r = results[name]
        print(
            f"{name}: before {r['before']['contacts_per_second']:,.0f} contacts/s "
            f"({r['before']['ms_per_contact']:.3f} ms each); after "
            f"{r['after']['contacts_per_second']:,.0f} contacts/s "
            f"({r['after']['ms_per_contact'] * 1000:.1f} us each, "
            f"{r['after']['contacts']:,} in {r['after']['seconds_median']:.1f} s); "
            f"x{r['speedup']:.0f}"
        )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
