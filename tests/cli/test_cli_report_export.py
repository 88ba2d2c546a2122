"""``autoinformer report`` and ``autoinformer export`` on a store ``autoinformer demo`` wrote."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from autoinformer.cli import main
from autoinformer.store.sqlite import SqliteStore

CAMPAIGN = "HOA debt (demo)"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A store from ``autoinformer demo --store``, with the demo's own JSON summary."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdout", out)
        assert main(["demo", "--contacts", "60", "--store", str(path), "--json"]) == 0
    return path, json.loads(out.getvalue())


def test_report_json_agrees_with_the_demo_summary(
    demo_store: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, summary = demo_store
    assert main(["report", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["campaign"] == CAMPAIGN
    assert report["attempts"] == summary["attempts"]
    assert report["by_outcome"] == summary["outcomes"]
    assert report["contacts_by_state"] == summary["contacts"]
    assert report["skipped"] == summary["skipped"]
    by_hour_total = sum(sum(h.values()) for h in report["by_hour"].values())
    assert by_hour_total == report["attempts"]
    assert sum(v["attempts"] for v in report["by_caller_id"].values()) == report["attempts"]
    assert sum(report["by_operator"].values()) == report["by_outcome"]["transferred"] > 0
    assert set(report["by_operator"]) <= {"anna", "boris"}
    assert report["cost"] is None  # no --rate: no cost
    assert report["sms_sent"] is None  # the demo has no SMS rules


def test_report_prices_the_calls_with_a_rate(
    demo_store: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo_store
    assert main(["report", str(path), "--json", "--rate", "1.8"]) == 0
    report = json.loads(capsys.readouterr().out)
    billed = float(report["billed_minutes"])
    assert billed > 0
    assert float(report["cost"]) == pytest.approx(billed * 1.8, abs=0.01)


def test_report_text_shows_every_section(
    demo_store: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, summary = demo_store
    assert main(["report", str(path), "--rate", "2", "--timezone", "Europe/Moscow"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{CAMPAIGN}: {summary['attempts']} attempts")
    for heading in (
        "outcomes:",
        "rates: answered",
        "per hour (Europe/Moscow):",
        "per caller ID:",
        "per operator (transferred calls):",
        "SMS sent: 0",
        "cost ",
    ):
        assert heading in out


def test_report_on_a_missing_store_or_campaign_is_a_usage_error(
    demo_store: tuple[Path, dict[str, object]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _ = demo_store
    missing = tmp_path / "nothing.sqlite"
    assert main(["report", str(missing)]) == 2
    assert "no such store" in capsys.readouterr().err
    assert not missing.exists()  # a report never creates a store
    assert main(["report", str(path), "--campaign", "nope"]) == 2
    assert f"the store has: {CAMPAIGN!r}" in capsys.readouterr().err


def test_report_asks_which_campaign_when_the_store_has_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from autoinformer.contacts.model import Contact

    path = tmp_path / "two.sqlite"
    with SqliteStore(path) as store:
        for name in ("jan", "feb"):
            store.add_contacts(name, [Contact(id="a", phones=("+79500000001",))])
    assert main(["report", str(path)]) == 2
    assert "pick one with --campaign" in capsys.readouterr().err
    assert main(["report", str(path), "--campaign", "feb", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["contacts_by_state"] == {"pending": 1}


def test_export_csv_to_stdout_has_every_attempt_and_no_live_formula(
    demo_store: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, summary = demo_store
    assert main(["export", str(path), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == summary["attempts"]
    assert {row["campaign"] for row in rows} == {CAMPAIGN}
    assert all(row["number"].startswith("'+7") for row in rows)  # text, not a formula
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@"))


def test_export_xlsx_writes_text_cells(
    demo_store: tuple[Path, dict[str, object]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, summary = demo_store
    out = tmp_path / "calls.xlsx"
    assert main(["export", str(path), "--format", "xlsx", "--out", str(out)]) == 0
    assert f"wrote {summary['attempts']} call records" in capsys.readouterr().err
    sheet = openpyxl.load_workbook(out).active
    assert sheet.max_row == summary["attempts"] + 1
    number = sheet["E2"]
    assert number.data_type == "s"
    assert str(number.value).startswith("+7")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"


def test_export_keeps_an_existing_file_and_checks_the_name(
    demo_store: tuple[Path, dict[str, object]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = demo_store
    out = tmp_path / "calls.csv"
    out.write_text("keep me")
    assert main(["export", str(path), "--format", "csv", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "keep me"
    assert main(["export", str(path), "--format", "csv", "--out", str(out), "--force"]) == 0
    assert out.read_text(encoding="utf-8-sig").startswith("attempt_id,")
    wrong = tmp_path / "calls.csv"
    assert main(["export", str(path), "--format", "xlsx", "--out", str(wrong)]) == 2
    assert "needs a .xlsx name" in capsys.readouterr().err
