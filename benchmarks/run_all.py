"""Run every benchmark in this folder, one after another (``nox -s bench``).

Each benchmark is a script that prints a Markdown table and writes JSON (and plots) to
``benchmarks/results/``. Pass names to run a subset: ``python benchmarks/run_all.py esl_parse``.
Benchmarks that call real servers (``real_switches``: the shared test PBX) run only when named.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ONLY_WHEN_NAMED = {"real_switches"}
"""They talk to real, shared switches: run them by name, under ``flock /tmp/pbx.lock``."""


def main(argv: list[str]) -> int:
    # _NAME.py is a helper the benchmarks import (``_loadgen.py``), not a benchmark
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name != "run_all.py" and not p.name.startswith("_")
    )
    scripts += sorted(HERE.glob("*/run.py"))
    wanted = set(argv)
    failed = 0
    for script in scripts:
        name = script.parent.name if script.name == "run.py" else script.stem
        if (wanted and name not in wanted) or (not wanted and name in ONLY_WHEN_NAMED):
            continue
        print(f"\n## {name}\n", flush=True)
        failed += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
