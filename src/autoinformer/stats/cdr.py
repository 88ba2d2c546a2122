"""Call detail records: one row per attempt, exported to CSV or XLSX without formula injection.

A spreadsheet executes a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some read a
leading tab or carriage return the same way). Call records carry text from outside: contact ids
from an uploaded list, switch details, and phone numbers that start with ``+``. So:

- CSV: a text value starting with one of those characters gets a leading apostrophe
  (``'+79508881234``), which spreadsheets show as text and people still read as the number;
- XLSX: every text value is written as a cell of type string (``t="inlineStr"``), never as a
  formula, so ``+79508881234`` stays exactly that; characters XML cannot hold are dropped.

Times are ISO 8601 in UTC (``2026-01-16T10:00:05Z``). Rows are streamed: the CSV writer and
openpyxl's write-only mode keep memory flat for exports of millions of attempts.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from autoinformer.errors import ExportError
from autoinformer.outcomes import HangupCause
from autoinformer.records import AttemptRecord

__all__ = [
    "CDR_COLUMNS",
    "ExportError",
    "cdr_rows",
    "csv_safe",
    "iso_utc",
    "write_cdr_csv",
    "write_cdr_xlsx",
]

CDR_COLUMNS: tuple[str, ...] = (
    "attempt_id",
    "campaign",
    "contact",
    "attempt",
    "number",
    "caller_id",
    "started_at",
    "answered_at",
    "ended_at",
    "talk_seconds",
    "outcome",
    "cause",
    "cause_name",
    "digits",
    "operator",
    "machine",
    "detail",
)
"""The columns of a call detail record, in export order."""

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def iso_utc(t: float | None) -> str | None:
    """POSIX seconds as ISO 8601 UTC with a ``Z`` (whole seconds unless there is a fraction)."""
    if t is None:
        return None
    stamp = dt.datetime.fromtimestamp(t, dt.UTC)
    spec = "seconds" if stamp.microsecond == 0 else "milliseconds"
    return stamp.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


# = + - @ as Excel and LibreOffice see them: also their full-width (＝＋－＠) and small
# (﹦﹢﹣﹫) forms, which IME input produces and spreadsheets may fold to ASCII.
_FORMULA_CHARS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b")
# Skipped before the first character that counts: what str.isspace() calls space (tab, line
# feed, carriage return, no-break space, ideographic space...) and invisible format characters.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def csv_safe(value: str) -> str:
    """The text as a CSV cell no spreadsheet will execute (see the module docstring).

    A cell gets a leading apostrophe when it starts with a tab or a carriage return, or when
    its first character that is neither whitespace (line feed, no-break space... included)
    nor invisible is ``=``, ``+``, ``-`` or ``@`` in any width: ``"\\n=1+1"``, ``" =1+1"``
    and ``"＝1+1"`` are formulas to some spreadsheet.
    """
    if value.startswith(_DANGEROUS_START):
        return "'" + value
    for char in value:
        if char.isspace() or char in _INVISIBLE:
            continue
        return "'" + value if char in _FORMULA_CHARS else value
    return value


def _cause_name(cause: int | None) -> str | None:
    if cause is None:
        return None
    try:
        return HangupCause(cause).name
    except ValueError:
        return None


def cdr_rows(records: Iterable[AttemptRecord]) -> Iterator[tuple[Cell, ...]]:
    """One typed row per record, in :data:`CDR_COLUMNS` order (no escaping: values as they are).

    Unfinished attempts (no outcome yet) are included with an empty outcome.
    """
    for r in records:
        yield (
            r.attempt_id,
            r.campaign,
            r.contact_id,
            r.attempt_no,
            r.number,
            r.caller_id,
            iso_utc(r.started_at),
            iso_utc(r.answered_at),
            iso_utc(r.ended_at),
            round(r.talk_seconds, 3),
            None if r.outcome is None else r.outcome.value,
            r.cause,
            _cause_name(r.cause),
            r.digits,
            r.operator,
            int(r.machine),
            r.detail,
        )


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_safe(value)
    return str(value)


def write_cdr_csv(
    records: Iterable[AttemptRecord],
    target: Path | str | IO[str],
    *,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
) -> int:
    """Write call detail records as CSV with a header row; returns the number of records.

    Args:
        records: the attempts (streamed, not held in memory).
        target: a path, or an open text stream (e.g. ``sys.stdout``; ``newline=""``).
        encoding: for a path; the default writes a BOM so Excel reads UTF-8 (Cyrillic) right.
        delimiter: ``,`` or ``;`` (what a Russian-locale Excel expects) or a tab.

    Raises:
        ExportError: the file cannot be written.
    """
    if isinstance(target, (str, Path)):
        path = Path(target)
        try:
            with path.open("w", encoding=encoding, newline="") as fh:
                return _write_csv(records, fh, delimiter)
        except OSError as exc:
            raise ExportError(f"{path}: cannot write the CSV export: {exc.strerror}") from exc
    return _write_csv(records, target, delimiter)


def _write_csv(records: Iterable[AttemptRecord], fh: IO[str], delimiter: str) -> int:
    writer = csv.writer(fh, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(CDR_COLUMNS)
    count = 0
    for row in cdr_rows(records):
        writer.writerow([_csv_cell(v) for v in row])
        count += 1
    return count


def _xlsx_text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return str(ILLEGAL_CHARACTERS_RE.sub("", value))


def write_cdr_xlsx(
    records: Iterable[AttemptRecord], target: Path | str | IO[bytes], *, sheet: str = "calls"
) -> int:
    """Write call detail records to an XLSX workbook (write-only mode); returns the count.

    Text is written as string cells (never formulas), numbers as numbers; the header row is
    frozen so it stays visible while scrolling.

    Args:
        records: the attempts (streamed through openpyxl's write-only worksheet).
        target: a path, or a binary stream opened for writing.
        sheet: the worksheet's title (31 characters at most, as Excel allows).

    Raises:
        ExportError: the file cannot be written.
    """
    if not isinstance(target, (str, Path)):
        return _write_xlsx(records, target, sheet)
    path = Path(target)
    try:
        with path.open("wb") as fh:
            return _write_xlsx(records, fh, sheet)
    except OSError as exc:
        raise ExportError(f"{path}: cannot write the XLSX export: {exc.strerror}") from exc


def _write_xlsx(records: Iterable[AttemptRecord], fh: IO[bytes], sheet: str) -> int:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    ws = workbook.create_sheet(title=sheet[:31] or "calls")
    ws.freeze_panes = "A2"

    def cell(value: Cell) -> Any:
        if not isinstance(value, str):
            return value
        text = _xlsx_text(value)
        if not text.startswith("="):
            return text  # openpyxl stores any other text as a string cell already
        c = WriteOnlyCell(ws, value=text)
        c.data_type = "s"  # openpyxl would make "=..." a formula; a string it stays
        return c

    ws.append([cell(name) for name in CDR_COLUMNS])
    count = 0
    for row in cdr_rows(records):
        ws.append([cell(v) for v in row])
        count += 1
    workbook.save(fh)
    return count
