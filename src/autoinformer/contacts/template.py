"""The XLSX template a user downloads, fills in and uploads (seed 004 "Download Template").

The phone column is formatted as Text, so Excel keeps what the person types: no scientific
notation (``8.76E+10``), no lost leading zeros. A second sheet explains the columns. Cells are
written with :func:`safe_cell`, so nothing we write is ever taken for a formula.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from autoinformer.contacts.phones import check_region
from autoinformer.errors import ContactListError, SettingsError

__all__ = ["safe_cell", "write_template"]

_TEXT = "@"  # Excel's "Text" number format


def safe_cell(text: str) -> str:
    """``text`` made safe for a spreadsheet cell: a leading ``= + - @`` (after whitespace or
    invisible characters, in any width) gets a ``'`` first
    (:func:`~autoinformer.stats.cdr.csv_safe`).

    Excel and LibreOffice run a cell starting with those characters as a formula (CSV/XLSX
    injection); the apostrophe makes them show it as text.
    """
    from autoinformer.stats.cdr import csv_safe  # one rule for every cell we write

    return csv_safe(text)


def write_template(
    path: str | os.PathLike[str],
    *,
    variables: Sequence[str] = (),
    region: str | None = None,
) -> Path:
    """Write an empty contact-list workbook for a user to fill in.

    Args:
        path: where to write the ``.xlsx``.
        variables: extra columns, one per variable the call script uses (``BALANCE``).
        region: the default region the list will be read with; the instructions then say to
            write numbers without the country code.

    Returns:
        The path written.

    Raises:
        SettingsError: a variable name is empty or repeats a column; unknown ``region``.
        ContactListError: the file cannot be written.
    """
    import openpyxl
    from openpyxl.styles import Font

    region = check_region(region)
    columns = ["phone", "name"]
    for name in variables:
        if not name.strip() or name.strip().lower() in {c.lower() for c in columns}:
            raise SettingsError("variables", f"{name!r} is empty or repeats a column name")
        columns.append(name.strip())

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Contacts"
    sheet.append([safe_cell(c) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["A"].number_format = _TEXT
    sheet.column_dimensions["B"].width = 28
    for row in range(2, 1002):  # what the person types there stays text, as typed
        sheet.cell(row=row, column=1).number_format = _TEXT

    notes = book.create_sheet("Instructions")
    if region is not None:
        phone_rule = (
            f"Numbers of this country ({region}) are written without the country code, "
            "as dialled at home; numbers of other countries with + and their country code."
        )
    else:
        phone_rule = "Write every number with + and its country code."
    lines = [
        "How to fill in the Contacts sheet",
        "",
        "phone: the number to call. " + phone_rule,
        "  Several numbers for one person: separate them with ; in order of preference.",
        "  The column is formatted as Text: keep it so (numbers then keep every digit).",
        "name: the person's name (optional).",
        *(f"{v}: a value the call script says for this person." for v in columns[2:]),
        "",
        "One person per row; keep the header row as it is.",
    ]
    for line in lines:
        notes.append([safe_cell(line)])
    notes.column_dimensions["A"].width = 100
    try:
        book.save(Path(path))
    except OSError as exc:
        raise ContactListError(f"{path}: cannot write the template ({exc})") from None
    return Path(path)
