"""``contacts check`` says how many numbers have an ambiguous zone and which zone calling
hours will use; ``--countries`` allows other countries' numbers written without ``+``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoinformer.cli import main

LIST = "phone;BALANCE\n+79161234567;1\n+79501234567;2\n+74951234567;3\n77012345678;4\n"


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    path = tmp_path / "list.csv"
    path.write_text(LIST, encoding="utf-8")
    code = main(["contacts", "check", str(path), "--region", "RU", *args])
    return code, capsys.readouterr().out


def test_the_text_report_counts_ambiguous_zones_and_says_none_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _check(tmp_path, capsys)
    assert code == 0
    assert "3 of 4 numbers may be in several zones and no zone is named" in out


def test_the_json_report_names_the_fallback_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _check(tmp_path, capsys, "--timezone", "Europe/Moscow", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["valid"] == 4
    assert data["zones"]["ambiguous"] == 3  # the Moscow landline has one zone
    assert data["zones"]["fallback"] == "Europe/Moscow"
    assert data["zones"]["fallback_source"] == "timezone"
    assert len(data["contacts"]) == 4  # --json keeps the contacts, as before


def test_countries_allows_a_number_written_without_plus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "us.csv"
    path.write_text("phone\n17605632123\n", encoding="utf-8")
    assert main(["contacts", "check", str(path), "--region", "RU", "--json"]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert refused["invalid"] == 1
    assert main(["contacts", "check", str(path), "--region", "RU", "--countries", "US"]) == 0
