"""XLSX lists (seed 004): numeric cells, scientific text, the template round trip."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from autoinformer.contacts import RowStatus, check_contacts, read_contacts, write_template
from autoinformer.contacts.template import safe_cell
from autoinformer.errors import ContactListError, SettingsError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _book(path: Path, rows: list[list[object]], formats: dict[str, str] | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref, fmt in (formats or {}).items():
        sheet[ref].number_format = fmt
    book.save(path)
    return path


def test_example_debtors_xlsx() -> None:
    report = check_contacts(EXAMPLES / "debtors.xlsx", region="ID")
    assert (report.rows, report.valid, report.invalid, report.duplicates) == (8, 5, 2, 1)
    contacts = dict(report.contacts)
    assert contacts[2].phones == ("+6287630021323",)  # seed 004's example, typed as text
    assert contacts[3].phones == ("+6281234567890",)  # a numeric cell, 81234567890.0
    assert contacts[3].variables == {"amount": "275000.5", "due_date": "2026-01-20"}
    assert contacts[3].date("due_date") == dt.date(2026, 1, 20)
    assert contacts[9].phones == ("+6285712345678", "+6281399998888")
    lost = next(p for p in report.errors if p.row == 6)
    assert lost.column == "phone"
    assert "the last 5 digits were lost" in lost.reason


def test_numeric_cells_come_back_as_typed(tmp_path: Path) -> None:
    path = _book(
        tmp_path / "l.xlsx",
        [["phone", "account"], [87630021323.0, 123.0], [87630021324, 1e-05]],
    )
    results = list(read_contacts(path, region="ID"))
    assert [r.contact.phones for r in results if r.contact] == [
        ("+6287630021323",),
        ("+6287630021324",),
    ]
    assert [r.contact.variables["account"] for r in results if r.contact] == ["123", "0.00001"]


def test_zero_padding_format_gives_back_the_leading_zero(tmp_path: Path) -> None:
    # The person typed 0612345678 in a cell formatted 0000000000; Excel stored 612345678.
    path = _book(tmp_path / "l.xlsx", [["phone"], [612345678]], formats={"A2": "0000000000"})
    (result,) = read_contacts(path, region="IT")
    assert result.contact is not None
    assert result.contact.phones == ("+390612345678",)


def test_rounded_big_numeric_cell_is_reported(tmp_path: Path) -> None:
    path = _book(tmp_path / "l.xlsx", [["phone"], [1.2345678901234567e17]])
    (result,) = read_contacts(path, region="ID")
    assert result.status is RowStatus.INVALID
    assert "rounded" in result.problems[0].reason


def test_sheet_by_name(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["nothing here"])
    book.create_sheet("List").append(["phone"])
    book["List"].append(["+79161234567"])
    book.save(tmp_path / "l.xlsx")
    (result,) = read_contacts(tmp_path / "l.xlsx", sheet="List")
    assert result.ok
    with pytest.raises(SettingsError, match="no sheet 'Other'"):
        list(read_contacts(tmp_path / "l.xlsx", sheet="Other"))


def test_not_a_workbook_is_a_list_error(tmp_path: Path) -> None:
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a zip at all")
    with pytest.raises(ContactListError, match=r"broken\.xlsx: not a readable \.xlsx"):
        list(read_contacts(tmp_path / "broken.xlsx"))


def test_old_xls_is_refused_with_advice(tmp_path: Path) -> None:
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(ContactListError, match=r"save it as \.xlsx"):
        read_contacts(tmp_path / "old.xls")


def test_xlsx_progress_counts_rows(tmp_path: Path) -> None:
    rows: list[list[object]] = [["phone"]] + [[f"+7916{n:07d}"] for n in range(5000)]
    path = _book(tmp_path / "l.xlsx", rows)
    seen: list[tuple[int, int | None]] = []
    report = check_contacts(path, progress=lambda d, t: seen.append((d, t)))
    assert report.valid == 5000
    assert seen[-1] == (5001, 5001)


def test_template_round_trip(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx", variables=["BALANCE"], region="ID")
    book = openpyxl.load_workbook(path)
    sheet = book["Contacts"]
    assert [c.value for c in sheet[1]] == ["phone", "name", "BALANCE"]
    assert sheet["A2"].number_format == "@"  # Text: Excel keeps every digit typed
    assert "without the country code" in str(book["Instructions"]["A3"].value)
    # The user fills it in (as text, since the column is Text) and uploads it.
    sheet["A2"], sheet["B2"], sheet["C2"] = "087630021323", "Budi", "150000"
    book.save(path)
    (result,) = read_contacts(path, region="ID")
    assert result.contact is not None
    assert result.contact.phones == ("+6287630021323",)
    assert result.contact.variables == {"BALANCE": "150000"}


def test_template_rejects_a_repeated_column(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as exc:
        write_template(tmp_path / "t.xlsx", variables=["Phone"])
    assert exc.value.field == "variables"


def test_template_never_writes_a_formula(tmp_path: Path) -> None:
    path = write_template(tmp_path / "t.xlsx", variables=["=HYPERLINK(1)"])
    sheet = openpyxl.load_workbook(path)["Contacts"]
    assert sheet["C1"].value == "'=HYPERLINK(1)"
    assert sheet["C1"].data_type == "s"


@pytest.mark.parametrize("text", ["=1+1", "+7", "-3", "@SUM(A1)"])
def test_safe_cell_escapes_formula_starts(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert safe_cell("Anna") == "Anna"
