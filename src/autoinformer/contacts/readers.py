"""Reading contact files row by row (the I/O edge of contact import): CSV, TSV, XLSX.

Every reader streams: a CSV is decoded and split as it is read, an XLSX is read with openpyxl's
``read_only`` mode, so a million-row list is never held in memory. A reader yields
``(row_number, cells)`` with spreadsheet row numbers (the first line is row 1) and reports
progress through an optional callback. Anything the file system or openpyxl raises becomes a
:class:`~autoinformer.errors.ContactListError` naming the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, Literal, TypeGuard

from autoinformer.errors import ContactListError, SettingsError

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

__all__ = ["FORMATS", "Format", "ProgressHook", "Source", "detect_format", "iter_rows"]

Format = Literal["csv", "tsv", "xlsx", "seed"]
FORMATS: tuple[Format, ...] = ("csv", "tsv", "xlsx", "seed")
Source = str | os.PathLike[str] | IO[str]
ProgressHook = Callable[[int, int | None], None]
"""Called now and then with (units done, units in total or None): bytes for text, rows for XLSX."""

_SAMPLE = 65_536
_PROGRESS_EVERY = 4096
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


def detect_format(source: Source, fmt: str | None = None) -> Format:
    """The format to read ``source`` as: ``fmt`` when given, else from the name and content.

    Raises:
        SettingsError: ``fmt`` is not one of csv, tsv, xlsx, seed.
        ContactListError: the file is an old binary ``.xls``.
    """
    if fmt is not None:
        lowered = fmt.lower()
        if lowered not in FORMATS:
            raise SettingsError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
        return lowered
    if not isinstance(source, str | os.PathLike):
        return "csv"
    path = Path(source)
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ContactListError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if magic == _OLE_MAGIC or suffix == ".xls":
        raise ContactListError(
            f"{path}: the old Excel 97-2003 .xls format is not supported; "
            "save it as .xlsx (Excel Workbook) or CSV"
        )
    if magic == _ZIP_MAGIC or suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    return "csv"


def iter_rows(
    source: Source,
    fmt: Format,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    progress: ProgressHook | None = None,
) -> Iterator[tuple[int, Sequence[object]]]:
    """Rows of the file as ``(row_number, cells)``; XLSX cells keep their stored types.

    Raises:
        ContactListError: the file cannot be opened, decoded or parsed at all.
    """
    if fmt == "xlsx":
        if not isinstance(source, str | os.PathLike):
            raise SettingsError("format", "xlsx needs a file path, not a text stream")
        yield from _xlsx_rows(Path(source), sheet, progress)
    else:
        yield from _text_rows(source, fmt, encoding, progress)


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read (progress for text formats)."""

    def __init__(self, raw: BinaryIO, hook: ProgressHook | None, total: int | None) -> None:
        self._raw = raw
        self._hook = hook
        self._total = total
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        if self._hook is not None:
            self._hook(self.count, self._total)
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


def _pick_encoding(sample: bytes, given: str | None) -> str:
    if given is not None:
        try:
            codecs.lookup(given)
        except LookupError:
            raise SettingsError("encoding", f"unknown text encoding {given!r}") from None
        return given
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        # Not UTF-8: Russian accounting exports (seed 000) are Windows-1251.
        return "cp1251"
    return "utf-8"


def _pick_delimiter(first_line: str, fmt: Format) -> str:
    if fmt == "tsv":
        return "\t"
    if fmt == "seed":
        return ","
    best, best_count = ",", 1
    for delimiter in (",", ";", "\t"):
        fields = next(csv.reader([first_line], delimiter=delimiter, skipinitialspace=True), [])
        if len(fields) > best_count:
            best, best_count = delimiter, len(fields)
    return best


def _text_rows(
    source: Source, fmt: Format, encoding: str | None, progress: ProgressHook | None
) -> Iterator[tuple[int, Sequence[object]]]:
    name = str(source) if isinstance(source, str | os.PathLike) else "<text>"
    stream: IO[str]
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            raw = path.open("rb")
            total: int | None = path.stat().st_size
        except OSError as exc:
            raise ContactListError(
                f"{path}: cannot read the file ({exc.strerror or exc})"
            ) from None
        counting = _CountingReader(raw, progress, total)
        buffered = io.BufferedReader(counting, buffer_size=_SAMPLE)
        chosen = _pick_encoding(buffered.peek(_SAMPLE)[:_SAMPLE], encoding)
        stream = io.TextIOWrapper(buffered, encoding=chosen, newline="")
    else:
        stream = source
    row = 0
    try:
        first = stream.readline()
        delimiter = _pick_delimiter(first, fmt)
        lines = _chain_first(first, stream)
        reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True, strict=False)
        for row, cells in enumerate(reader, start=1):
            yield row, cells
    except UnicodeDecodeError as exc:
        raise ContactListError(
            f"{name}: not readable as {getattr(stream, 'encoding', 'text')} after row {row} "
            f"({exc.reason}); give the file's encoding (encoding=, --encoding)"
        ) from None
    except csv.Error as exc:
        raise ContactListError(f"{name}: broken CSV after row {row}: {exc}") from None
    except OSError as exc:
        raise ContactListError(f"{name}: read failed ({exc.strerror or exc})") from None
    finally:
        if isinstance(source, str | os.PathLike):
            stream.close()


def _chain_first(first: str, stream: IO[str]) -> Iterator[str]:
    if first:
        yield first
    yield from stream


# What openpyxl and zipfile raise on a damaged workbook: a bad deflate stream (zlib.error), a
# compression method, patch data or strong encryption zipfile cannot read
# (NotImplementedError), a member cut short (EOFError), an encrypted member (RuntimeError),
# broken XML (SyntaxError: ElementTree's ParseError), and parts that point nowhere.
_BROKEN_XLSX: tuple[type[Exception], ...] = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
    SyntaxError,
    KeyError,
    IndexError,
    AttributeError,
    TypeError,
    ValueError,
)


def _xlsx_rows(
    path: Path, sheet: str | None, progress: ProgressHook | None
) -> Iterator[tuple[int, Sequence[object]]]:
    import openpyxl  # imported here: ``import autoinformer`` stays light
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, *_BROKEN_XLSX) as exc:
        raise ContactListError(f"{path}: not a readable .xlsx workbook ({_why(exc)})") from None
    try:
        ws = _worksheet(book, path, sheet)
        try:
            total = ws.max_row if isinstance(ws.max_row, int) else None
            # Cell objects are only needed to see zero-padding number formats (a custom format
            # such as 00000000000); without one in the workbook, plain values are ~25% faster.
            formats = getattr(book, "_number_formats", None)
            padded = formats is None or any(_zero_padding(f) for f in formats)
            rows = iter(ws.iter_rows(values_only=not padded))
        except _BROKEN_XLSX as exc:
            raise ContactListError(f"{path}: broken workbook ({_why(exc)})") from None
        number = 0
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                break
            except _BROKEN_XLSX as exc:
                raise ContactListError(
                    f"{path}: broken workbook after row {number} ({_why(exc)})"
                ) from None
            number += 1
            values: list[object]
            if padded:
                values = []
                for cell in cells:
                    value = cell.value
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        value = _padded(value, getattr(cell, "number_format", None))
                    values.append(value)
            else:
                values = list(cells)
            if progress is not None and number % _PROGRESS_EVERY == 0:
                progress(number, total)
            yield number, values
        if progress is not None:
            progress(number, total)
    finally:
        book.close()


def _why(exc: BaseException) -> str:
    """A one-line reason: the library's message, or its exception's name when it has none."""
    text = " ".join(str(exc).split())
    if not text and isinstance(exc, EOFError):
        return "a part of the archive is cut short"
    return text or type(exc).__name__


def _worksheet(book: Workbook, path: Path, sheet: str | None) -> ReadOnlyWorksheet:
    """The sheet to read: ``sheet`` by name, else the first worksheet (not a chart sheet).

    Raises:
        SettingsError: no sheet of that name.
        ContactListError: that sheet is a chart sheet, or the workbook has no worksheet.
    """
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    names: list[str] = list(book.sheetnames)
    if sheet is not None:
        if sheet not in names:
            raise SettingsError("sheet", f"no sheet {sheet!r} in {path.name} ({', '.join(names)})")
        ws = book[sheet]
        if not isinstance(ws, ReadOnlyWorksheet):
            raise ContactListError(
                f"{path}: sheet {sheet!r} is a chart sheet, not a table of contacts"
            )
        return ws
    sheets = [s for s in book.worksheets if isinstance(s, ReadOnlyWorksheet)]
    if not sheets:
        charts = f" (only chart sheets: {', '.join(names)})" if names else ""
        raise ContactListError(f"{path}: the workbook has no worksheet{charts}")
    return sheets[0]


def _zero_padding(number_format: object) -> TypeGuard[str]:
    return isinstance(number_format, str) and len(number_format) > 1 and set(number_format) == {"0"}


def _padded(value: float, number_format: str | None) -> object:
    """A number shown with a zero-padding format (``00000000000``) as the digits shown."""
    if _zero_padding(number_format) and value >= 0 and float(value).is_integer() and value < 10**15:
        return str(int(value)).zfill(len(number_format))
    return value
