"""Fuzzing the contact-list readers: damaged CSV, pasted TSV and XLSX only ever raise the
documented errors (``ContactListError``, or ``SettingsError`` for an argument), and the CLI
answers a damaged file with exit 2 and one line, never a traceback (issue #14, item 10)."""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoinformer.cli import main
from autoinformer.contacts import check_contacts, read_contacts
from autoinformer.errors import ContactListError, InputError

from ._budget import fuzz

CORPUS = Path(__file__).parent / "corpus" / "xlsx"
XLSX_CORPUS = sorted(CORPUS.glob("*.xlsx"))


def test_the_corpus_is_there() -> None:
    names = {p.stem for p in XLSX_CORPUS}
    assert {
        "zlib_error",
        "unsupported_method",
        "patched_data",
        "strong_encryption",
        "encrypted_member",
        "eof_error",
        "no_worksheet",
        "chart_sheet_only",
    } <= names


@pytest.mark.parametrize("path", XLSX_CORPUS, ids=lambda p: p.stem)
def test_damaged_workbook_is_a_contact_list_error(path: Path) -> None:
    with pytest.raises(ContactListError, match=str(path.name)):
        check_contacts(path, region="RU")


@pytest.mark.parametrize("path", XLSX_CORPUS, ids=lambda p: p.stem)
def test_cli_answers_a_damaged_workbook_with_exit_2_and_one_line(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contacts", "check", str(path), "--region", "RU"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autoinformer: error: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


def test_a_chart_sheet_by_name_is_refused() -> None:
    with pytest.raises(ContactListError, match="'Chart' is a chart sheet"):
        check_contacts(CORPUS / "chart_sheet_only.xlsx", sheet="Chart")


def test_no_worksheet_says_so() -> None:
    with pytest.raises(ContactListError, match="no worksheet"):
        check_contacts(CORPUS / "no_worksheet.xlsx")


# --- properties -----------------------------------------------------------------------------


def _read_all(source: object, **options: object) -> None:
    try:
        for _ in read_contacts(source, region="RU", **options):  # type: ignore[arg-type]
            pass
    except InputError:  # ContactListError, or SettingsError naming a column
        pass


@fuzz(150)
@given(data=st.binary(max_size=2000), fmt=st.sampled_from([None, "csv", "tsv", "seed"]))
def test_any_bytes_as_a_text_list(data: bytes, fmt: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.csv"
        path.write_bytes(data)
        _read_all(path, format=fmt)


_CELL = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)


@fuzz(150)
@given(
    rows=st.lists(st.lists(_CELL, max_size=5), max_size=8),
    separator=st.sampled_from(["\t", ",", ";"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    header=st.sampled_from([None, False]),
)
def test_any_pasted_text(
    rows: list[list[str]], separator: str, newline: str, header: bool | None
) -> None:
    text = newline.join(separator.join(r) for r in rows)
    _read_all(io.StringIO(text), format="tsv", header=header)
    _read_all(io.StringIO("phone\tname" + newline + text), format="tsv")


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["name", "phone", "BALANCE"])
    for i in range(5):
        ws.append([f"P{i}", 79508880000 + i, -1.5 * i])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_BOOK = _workbook()
_MEMBERS = [info.filename for info in zipfile.ZipFile(io.BytesIO(_BOOK)).infolist()]


def _central(data: bytes, name: str) -> int:
    at = data.find(b"PK\x01\x02")
    while at != -1:
        size = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + size] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise LookupError(name)  # pragma: no cover


@st.composite
def _damaged_workbooks(draw: st.DrawFn) -> bytes:
    """A valid workbook with damage of the kinds a disk, a mailer or a tool does: bytes
    overwritten, the file cut short, a member's XML replaced, zip header fields changed."""
    data = bytearray(_BOOK)
    kind = draw(st.sampled_from(["bytes", "truncate", "member", "header"]))
    if kind == "bytes":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif kind == "member":
        name = draw(st.sampled_from(_MEMBERS))
        body = draw(
            st.one_of(
                st.binary(max_size=200),
                st.sampled_from(
                    [
                        b"",
                        b"<",
                        b"<?xml version='1.0'?><x/>",
                        b"<worksheet><sheetData><row><c r='A1' t='s'><v>99</v></c></row>"
                        b"</sheetData></worksheet>",
                        b"<worksheet xmlns='http://schemas.openxmlformats.org/"
                        b"spreadsheetml/2006/main'><sheetData><row r='x'><c r='??'><v>1e9999"
                        b"</v></c></row></sheetData></worksheet>",
                    ]
                ),
            )
        )
        method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
        src = zipfile.ZipFile(io.BytesIO(_BOOK))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                part = body if info.filename == name else src.read(info)
                dst.writestr(info.filename, part, compress_type=method)
        data = bytearray(out.getvalue())
    else:
        name = draw(st.sampled_from(_MEMBERS))
        at = _central(bytes(data), name)
        field = draw(st.sampled_from([(8, "<H"), (10, "<H"), (20, "<I"), (24, "<I"), (42, "<I")]))
        struct.pack_into(field[1], data, at + field[0], draw(st.integers(0, 2**16 - 1)))
    return bytes(data)


@pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl warns about the damage it sees
@fuzz(200)
@given(data=_damaged_workbooks(), sheet=st.sampled_from([None, "Sheet", "Nope"]))
def test_any_damaged_workbook(data: bytes, sheet: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.xlsx"
        path.write_bytes(data)
        _read_all(path, sheet=sheet)
