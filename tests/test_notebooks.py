"""The notebooks in docs/notebooks run, without Jupyter, so they cannot rot.

Each notebook's code cells are executed in order in one namespace, in a scratch directory that
holds a copy of ``examples/`` (the notebooks look for it from the working directory up), with
matplotlib on its non-interactive Agg backend. No kernel and no ``nbformat`` are needed: a
notebook is JSON. The committed files must stay small (outputs stripped, no embedded blobs),
and the notebooks may only use the public API.
"""

from __future__ import annotations

import ast
import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
MAX_BYTES = 200_000
FIGURES = {  # charts each notebook draws (the waveform needs espeak-ng)
    "debt_reminder": 2,
    "capacity_planning": 2,
    "speech_preview": 1 if shutil.which("espeak-ng") else 0,
}


def _load(path: Path) -> dict[str, Any]:
    notebook: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return notebook


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _code_cells(notebook: dict[str, Any]) -> list[str]:
    return [_source(c) for c in notebook["cells"] if c.get("cell_type") == "code"]


def run_notebook(path: Path, workdir: Path) -> dict[str, Any]:
    """Execute the code cells of ``path`` in order in one namespace (cwd must be ``workdir``).

    Returns:
        The namespace after the last cell.

    Raises:
        AssertionError: a cell raised; the message names the notebook and the cell.
    """
    namespace: dict[str, Any] = {"__name__": f"notebook_{path.stem}"}
    for number, source in enumerate(_code_cells(_load(path)), start=1):
        code = compile(source, f"{path.name} cell {number}", "exec")
        try:
            exec(code, namespace)
        except Exception as exc:
            raise AssertionError(
                f"{path.name}: code cell {number} raised {type(exc).__name__}: {exc}"
            ) from exc
    assert Path.cwd() == workdir, f"{path.name} changed the working directory"
    return namespace


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a copy of examples/, matplotlib on Agg, and the temporary
    directories the notebooks make (tempfile.mkdtemp) kept inside it."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


def test_the_three_notebooks_are_there() -> None:
    assert {p.stem for p in NOTEBOOKS} >= set(FIGURES)


# capacity_planning simulates a 40-hour week of a 20,000-contact list for nine team sizes and
# then more weeks until a plan holds: about a minute alone, over two under a loaded -n 4 run
@pytest.mark.timeout(400)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, scratch: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    backend = matplotlib.get_backend()
    matplotlib.use("Agg", force=True)  # MPLBACKEND only counts before the first import
    import matplotlib.pyplot as plt

    plt.close("all")
    try:
        with warnings.catch_warnings():
            # plt.show() on Agg says it cannot show; that is the point of Agg here.
            warnings.filterwarnings("ignore", message=".*non-interactive.*", category=UserWarning)
            namespace = run_notebook(path, scratch)
        figures = plt.get_fignums()
    finally:
        plt.close("all")
        matplotlib.use(backend)
    assert namespace["__name__"] == f"notebook_{path.stem}"
    expected = FIGURES.get(path.stem, 1)
    assert len(figures) >= expected, f"{path.name} drew {len(figures)} figures, not {expected}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_small_and_stripped(path: Path) -> None:
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size} bytes; strip its outputs"
    notebook = _load(path)
    assert notebook["nbformat"] == 4
    assert notebook["cells"], f"{path.name} has no cells"
    for number, cell in enumerate(notebook["cells"], start=1):
        assert cell["cell_type"] in ("code", "markdown", "raw"), f"cell {number}"
        blob = json.dumps(cell.get("outputs", [])) + json.dumps(cell.get("attachments", {}))
        assert len(blob) < MAX_BYTES, f"{path.name} cell {number} embeds {len(blob)} bytes"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_uses_public_names_only(path: Path) -> None:
    for number, source in enumerate(_code_cells(_load(path)), start=1):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autoinformer"):
                module = node.module or ""
                private = [p for p in module.split(".") if p.startswith("_")]
                private += [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} cell {number} imports private {private}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    bad = parts[0] == "autoinformer" and any(p.startswith("_") for p in parts)
                    assert not bad, f"{path.name} cell {number} imports {alias.name}"


def _notebook(tmp_path: Path, *cells: str) -> Path:
    path = tmp_path / "broken.ipynb"
    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [
                    {"cell_type": "markdown", "metadata": {}, "source": ["# title"]},
                    *(
                        {
                            "cell_type": "code",
                            "metadata": {},
                            "execution_count": None,
                            "outputs": [],
                            "source": cell.splitlines(keepends=True),
                        }
                        for cell in cells
                    ),
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_runner_shares_the_namespace_and_reports_the_failing_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ok = _notebook(tmp_path, "x = 2\ny = 3", "z = x * y")
    assert run_notebook(ok, tmp_path)["z"] == 6

    broken = _notebook(tmp_path, "x = 2", "assert x == 3, 'two is not three'")
    with pytest.raises(AssertionError, match=r"broken.ipynb: code cell 2 raised .*two is not"):
        run_notebook(broken, tmp_path)
