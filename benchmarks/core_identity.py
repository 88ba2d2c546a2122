"""Does a change to the dialer core change anything observable? Two revisions, one run.

A refactoring of ``src/autoinformer/core/`` must leave every figure the benchmarks report and
every ``autoinformer demo --json`` summary as they were. This script checks that out of both
revisions (``git archive``, into a temporary directory: neither checkout is touched), runs in
each, one after the other, the pacing suite, ``core_dialer.py``, ``core_release.py``,
``core_compliance.py`` and ``autoinformer demo --json --seed N`` for a few seeds, and compares
what they wrote, figure by figure. Timings (wall seconds, microseconds, load, the interpreter)
are not figures: they are left out of the comparison, and the core's microseconds per event
are reported side by side instead (the same run, so the same machine load).

Run: ``python benchmarks/core_identity.py --base main --head HEAD`` (``--quick``: the pacing
suite's smoke run and no compliance ``machines``/``spread`` sections, for a first look;
``--save DIR`` keeps both sides' outputs, ``--saved DIR...`` compares kept ones again). It
prints the differences (none, when the change is a pure refactoring) and the per-event costs,
writes ``benchmarks/results/core_identity.json`` and exits 1 when a figure differs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

VOLATILE = frozenset(
    {
        "wall_s",
        "wall_seconds",
        "sim_seconds_median",  # the pacing suite: wall seconds per simulated shift
        "dials_per_s",
        "core_s",
        "core_us_per_event",
        "us_per_event",
        "missing_only_us",
        "full_check_us",
        "load",
        "load_average_1m",
        "python",
        "machine",
        "store",  # demo: the temporary store's path
    }
)
"""Keys whose values are timings or facts about the machine, not figures of the run."""


def _export(rev: str, into: Path, write: bool = True) -> str:
    """Write revision ``rev``'s tree into ``into`` (unless ``write`` is False); return its full
    commit id."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not write:
        return sha
    blob = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True, capture_output=True)
    with tarfile.open(fileobj=io.BytesIO(blob.stdout)) as tar:
        tar.extractall(into, filter="data")
    return sha


def _run(tree: Path, args: list[str]) -> str:
    """Run ``python ARGS`` in ``tree`` with that tree's sources first on the path."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"), PYTHONHASHSEED="0")
    done = subprocess.run(
        [sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree.name}: python {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def _figures(value: Any) -> Any:
    """``value`` without its volatile keys (recursively)."""
    if isinstance(value, dict):
        return {k: _figures(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_figures(v) for v in value]
    return value


def _differences(a: Any, b: Any, where: str = "") -> Iterator[str]:
    """Each place where the figures ``a`` and ``b`` differ, as ``path: a != b``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                yield f"{where}/{key}: only in {'base' if key in a else 'head'}"
            else:
                yield from _differences(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _differences(x, y, f"{where}[{i}]")
    elif a != b:
        yield f"{where or '/'}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"


def _cases(quick: bool, seeds: list[int]) -> list[tuple[str, list[str], str | None]]:
    """(name, python args, the result file it writes or None for its stdout)."""
    suite = ["benchmarks/pacing/suite.py", "--quick"] if quick else ["benchmarks/pacing/suite.py"]
    compliance = ["benchmarks/core_compliance.py"]
    if quick:
        compliance += ["intake", "guard", "demo"]
    cases: list[tuple[str, list[str], str | None]] = [
        ("pacing suite", suite, "pacing.json"),
        ("core_dialer", ["benchmarks/core_dialer.py"], "core_dialer.json"),
        ("core_release", ["benchmarks/core_release.py"], "core_release.json"),
        ("core_compliance", compliance, "core_compliance.json"),
    ]
    for seed in seeds:
        args = ["-m", "autoinformer", "demo", "--json", "--seed", str(seed)]
        cases.append((f"demo --seed {seed}", args, None))
    return cases


def _outputs(
    args: argparse.Namespace,
    trees: dict[str, Path],
    name: str,
    cmd: list[str],
    result_file: str | None,
) -> dict[str, Any] | None:
    """Each side's output of one case: run in its tree (kept under ``--save``), or read back
    from the folders of an earlier run (``--saved``; None when none kept this case)."""
    stem = name.replace(" ", "_") + ".json"
    if args.saved is not None:
        for folder in args.saved:
            kept = {side: folder / side / stem for side in trees}
            if all(path.is_file() for path in kept.values()):
                return {side: json.loads(path.read_text()) for side, path in kept.items()}
        return None
    outputs: dict[str, Any] = {}
    for side, tree in trees.items():  # one after the other: the same machine load
        stdout = _run(tree, cmd)
        if result_file is None:
            outputs[side] = json.loads(stdout)
        else:
            outputs[side] = json.loads((tree / "benchmarks/results" / result_file).read_text())
        if args.save is not None:
            kept_file = args.save / side / stem
            kept_file.parent.mkdir(parents=True, exist_ok=True)
            kept_file.write_text(json.dumps(outputs[side], indent=2) + "\n")
    return outputs


def _costs(result: Any, key: str) -> list[float]:
    return [row[key] for row in result.get("rows", []) if key in row]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the revision before (main)")
    parser.add_argument("--head", default="HEAD", help="the revision after (HEAD)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="demo seeds")
    parser.add_argument("--quick", action="store_true", help="smaller suite and compliance")
    parser.add_argument("--only", nargs="*", help="run only the cases whose name starts so")
    parser.add_argument("--save", type=Path, help="keep each side's raw outputs in this folder")
    parser.add_argument(
        "--saved",
        type=Path,
        nargs="+",
        help="compare the outputs earlier runs kept (--save) instead of running anything",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "core_identity.json", help="the report's file"
    )
    args = parser.parse_args(argv)
    cases = _cases(args.quick, args.seeds)
    if args.only:
        cases = [case for case in cases if any(case[0].startswith(o) for o in args.only)]
    report: dict[str, Any] = {
        "benchmark": "core_identity",
        "python": platform.python_version(),
        "cases": {},
    }
    if args.saved is not None:
        report["compared"] = "the outputs earlier runs kept (--saved), not run again"
    failed = False
    with tempfile.TemporaryDirectory(prefix="core-identity-") as tmp:
        trees = {"base": Path(tmp) / "base", "head": Path(tmp) / "head"}
        for side, rev in (("base", args.base), ("head", args.head)):
            report[side] = {"rev": rev, "commit": _export(rev, trees[side], args.saved is None)}
        for name, cmd, result_file in cases:
            outputs = _outputs(args, trees, name, cmd, result_file)
            if outputs is None:  # --saved: this case was not among the kept outputs
                continue
            diffs = list(_differences(_figures(outputs["base"]), _figures(outputs["head"])))
            entry: dict[str, Any] = {"identical": not diffs, "differences": diffs[:50]}
            for key in ("core_us_per_event", "us_per_event"):
                if _costs(outputs["base"], key):
                    entry[key] = {side: _costs(out, key) for side, out in outputs.items()}
            report["cases"][name] = entry
            failed = failed or bool(diffs)
            verdict = "identical" if not diffs else f"{len(diffs)} difference(s)"
            print(f"{name}: {verdict}", flush=True)
            for line in diffs[:20]:
                print(f"  {line}")
            for key in ("core_us_per_event", "us_per_event"):
                if key in entry:
                    print(f"  {key}: base {entry[key]['base']}  head {entry[key]['head']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
