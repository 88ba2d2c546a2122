"""What the dialer-core benchmarks share: their Markdown table and their results file.

Each ``core_*.py`` script prints its rows as a Markdown table and writes them, with the settings
it ran with and the machine it ran on, to ``benchmarks/results/<name>.json``. One place for
both keeps the files alike (the same keys, in the same order) for whoever compares reruns.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def print_table(
    columns: Mapping[str, str], rows: Sequence[Mapping[str, object]], *, left: int = 0
) -> None:
    """Print ``rows`` as a Markdown table.

    Args:
        columns: header text -> the row key shown under it, in order.
        rows: the rows (values printed with ``str``).
        left: how many leading columns are text (left-aligned); the others are right-aligned.
    """
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" if i < left else "---:" for i in range(len(columns))) + "|")
    for row in rows:
        print("| " + " | ".join(str(row[key]) for key in columns.values()) + " |")


def write_results(name: str, rows: Sequence[Mapping[str, object]], **settings: object) -> Path:
    """Write ``results/<name>.json``: the settings, the machine, then the rows; its path.

    The one-minute load average is kept because other work on the machine skews wall times.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "benchmark": name,
        **settings,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rows": list(rows),
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    return path
