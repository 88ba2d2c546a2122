"""Write examples/debtors.xlsx: an Indonesian list as seed 004 users bring it.

Numbers are written without the country code (default region ID) and several arrive the way
Excel mangles them: as numeric cells (87630021323.0), with a zero-padding number format, and
as scientific-notation text whose last digits are gone. Run: python examples/make_debtors_xlsx.py
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent


def main(path: Path = HERE / "debtors.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    sheet.append(["phone", "name", "amount", "due_date"])
    rows = [
        ("87630021323", "Budi Santoso", 150000, dt.datetime(2026, 1, 16)),  # text, as typed
        (81234567890.0, "Siti Rahayu", 275000.5, dt.datetime(2026, 1, 20)),  # numeric cell
        ("081298765432", "Agus Wijaya", 99000, dt.datetime(2026, 1, 31)),  # with trunk 0
        ("+6281311112222", "Dewi Lestari", 120000, dt.datetime(2026, 2, 1)),  # E.164
        ("8.12345E+10", "Rudi Hartono", 80000, dt.datetime(2026, 2, 3)),  # digits lost
        ("12345", "Wati Susanti", 50000, dt.datetime(2026, 2, 5)),  # too short
        (81234567890, "Siti Rahayu (2)", 275000, dt.datetime(2026, 2, 6)),  # duplicate
        ("85712345678; 81399998888", "Joko Widodo", 310000, dt.datetime(2026, 2, 7)),  # two
    ]
    for row in rows:
        sheet.append(list(row))
    sheet.cell(row=3, column=1).number_format = "0"
    book.save(path)
    return path


if __name__ == "__main__":
    print(main())
