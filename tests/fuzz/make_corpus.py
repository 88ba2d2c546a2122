"""Regenerate the malformed XLSX files of ``tests/fuzz/corpus/xlsx`` (python make_corpus.py).

Each file is a small valid workbook with one defect that once made the reader raise a raw
library exception (issue #14, item 10); the file name says which. The files are committed, so
the tests do not depend on this script, but it documents how each defect was made.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent / "corpus" / "xlsx"
SHEET = "xl/worksheets/sheet1.xml"


def _book() -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["name", "phone"])
    for i in range(40):
        ws.append([f"Person {i}", f"+7950888{i:04d}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rezip(data: bytes, change: Callable[[str, bytes], bytes | None], stored: str = "") -> bytes:
    """A copy of the archive with each member passed through ``change`` (None drops it)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = change(info.filename, src.read(info))
            if body is None:
                continue
            method = zipfile.ZIP_STORED if info.filename == stored else zipfile.ZIP_DEFLATED
            dst.writestr(info.filename, body, compress_type=method)
    return out.getvalue()


def _central(data: bytes, name: str) -> int:
    """Offset of ``name``'s central-directory record."""
    at = data.find(b"PK\x01\x02" + b"", 0)
    while at != -1:
        size = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + size] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise LookupError(name)


def _local(data: bytes, name: str) -> int:
    return struct.unpack_from("<I", data, _central(data, name) + 42)[0]


def _set_flags(data: bytes, name: str, flags: int) -> bytes:
    buf = bytearray(data)
    at = _central(data, name)
    struct.pack_into("<H", buf, at + 8, struct.unpack_from("<H", buf, at + 8)[0] | flags)
    return bytes(buf)


def _set_method(data: bytes, name: str, method: int) -> bytes:
    buf = bytearray(data)
    struct.pack_into("<H", buf, _central(data, name) + 10, method)
    struct.pack_into("<H", buf, _local(data, name) + 8, method)
    return bytes(buf)


def _corrupt_deflate(data: bytes, name: str) -> bytes:
    """Garbage in the member's deflate stream (its sizes and CRC left as they were)."""
    buf = bytearray(data)
    local = _local(data, name)
    name_len, extra_len = struct.unpack_from("<HH", buf, local + 26)
    start = local + 30 + name_len + extra_len
    buf[start : start + 16] = b"\xff" * 16
    return bytes(buf)


def _past_the_end(data: bytes, name: str) -> bytes:
    """A stored member whose size runs past the end of the file."""
    buf = bytearray(data)
    at = _central(data, name)
    struct.pack_into("<II", buf, at + 20, 10_000_000, 10_000_000)
    local = _local(data, name)
    struct.pack_into("<II", buf, local + 18, 10_000_000, 10_000_000)
    return bytes(buf)


def _no_sheets(name: str, body: bytes) -> bytes | None:
    if name == "xl/workbook.xml":
        start, end = body.index(b"<sheets>"), body.index(b"</sheets>") + len(b"</sheets>")
        return body[:start] + b"<sheets/>" + body[end:]
    return body


def _chart_only() -> bytes:
    from openpyxl.chart import BarChart, Reference

    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    for i in range(5):
        ws.append([i])
    chart_sheet = book.create_chartsheet("Chart")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=1, min_row=1, max_row=5))
    chart_sheet.add_chart(chart)
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()

    def drop_worksheet(name: str, body: bytes) -> bytes | None:
        if name == "xl/workbook.xml":
            start = body.index(b"<sheet ")
            end = body.index(b"/>", start) + 2
            return body[:start] + body[end:]
        return body

    return _rezip(data, drop_worksheet)


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    base = _book()
    stored = _rezip(base, lambda _n, b: b, stored=SHEET)
    files = {
        "zlib_error.xlsx": _corrupt_deflate(base, SHEET),
        "unsupported_method.xlsx": _set_method(base, SHEET, 99),
        "patched_data.xlsx": _set_flags(base, SHEET, 0x20),
        "strong_encryption.xlsx": _set_flags(base, SHEET, 0x40),
        "encrypted_member.xlsx": _set_flags(base, SHEET, 0x01),
        "eof_error.xlsx": _past_the_end(stored, SHEET),
        "no_worksheet.xlsx": _rezip(base, _no_sheets),
        "chart_sheet_only.xlsx": _chart_only(),
    }
    for name, data in files.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
