"""``autoinformer contacts check`` / ``template``: JSON shape, exit codes, readable output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autoinformer.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_check_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contacts", "check", str(EXAMPLES / "debtors.csv"), "--region", "RU", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1  # some rows are invalid
    assert {k: report[k] for k in ("rows", "valid", "invalid", "duplicates")} == {
        "rows": 12,
        "valid": 6,  # row 2's US number is written without +: not called unless allowed
        "invalid": 5,
        "duplicates": 1,
    }
    (abroad,) = [e for e in report["errors"] if e["row"] == 2]
    assert abroad["value"] == "17605632123"
    assert "United States (+1)" in abroad["reason"]
    for error in report["errors"]:
        assert {"row", "column", "value", "reason"} <= error.keys()
        assert isinstance(error["row"], int)
        assert all(isinstance(error[k], str) for k in ("column", "value", "reason"))
    assert report["contacts"][0] == {
        "row": 3,
        "id": "row-3",
        "name": "Ilya mihailov",
        "phones": ["+77760569623"],
        "variables": {"BALANCE": "-525.19"},
        "timezone": None,
    }


def test_check_text_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["contacts", "check", str(EXAMPLES / "debtors.xlsx"), "--region", "ID"])
    out = capsys.readouterr().out
    assert code == 1
    assert "8 rows: 5 valid, 2 invalid, 1 duplicate" in out
    assert "row 6, column phone: '8.12345E+10'" in out


def test_clean_list_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.tsv"
    path.write_text("Budi\t87630021323\nSiti\t81234567890\n")
    assert main(["contacts", "check", str(path), "--region", "ID"]) == 0
    assert "2 rows: 2 valid, 0 invalid, 0 duplicate" in capsys.readouterr().out


def test_duplicates_alone_do_not_fail_the_check(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("phone\n+79161234567\n+79161234567\n")
    assert main(["contacts", "check", str(path)]) == 0


def test_named_columns_and_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "list.txt"
    path.write_text("who\tcell\nAnna\t+79161234567\n")
    args = ["contacts", "check", str(path), "--format", "tsv", "--json"]
    code = main([*args, "--phone-column", "cell", "--name-column", "who"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["contacts"][0]["name"] == "Anna"


@pytest.mark.parametrize(
    "args",
    [
        ["contacts", "check", "does-not-exist.csv"],
        ["contacts", "check", "{examples}/debtors.csv", "--region", "Narnia"],
        ["contacts", "check", "{examples}/debtors.csv", "--phone-column", "nope"],
        ["contacts"],
    ],
)
def test_unreadable_file_or_bad_usage_exits_two(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([a.format(examples=EXAMPLES) for a in args]) == 2
    assert capsys.readouterr().err


def test_template_command_writes_a_checkable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "template.xlsx"
    assert main(["contacts", "template", str(out), "--variable", "BALANCE"]) == 0
    assert out.exists()
    assert main(["contacts", "check", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert report["rows"] == 0


def test_check_reads_a_copied_example(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "debtors.csv", tmp_path / "list.csv")
    assert main(["contacts", "check", str(tmp_path / "list.csv"), "--format", "seed"]) == 1


def test_check_reads_pasted_text_from_stdin() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "autoinformer", "contacts", "check", "-", "--region", "ID"],
        input="Budi\t87630021323\nSiti\t12\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "2 rows: 1 valid, 1 invalid" in proc.stdout
    assert "row 2, column B: '12'" in proc.stdout


def test_progress_bar_follows_absolute_figures(capsys: pytest.CaptureFixture[str]) -> None:
    from autoinformer.cli.contacts import _Bar

    bar = _Bar()
    bar(40, 100)
    bar(100, 100)
    bar(100, 100)
    assert (bar._bar.n, bar._bar.total) == (100, 100)
    bar.close()
    assert capsys.readouterr().out == ""  # never on stdout, where --json goes
