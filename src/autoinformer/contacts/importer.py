"""Import a contact list: stream rows from a file into Contacts or per-row problems.

The two entry points::

    for result in read_contacts("examples/debtors.csv", region="RU"):
        if result.ok:
            dialer.add(result.contact)
        else:
            print(*result.problems, sep="\\n")

    report = check_contacts("examples/debtors.xlsx", region="ID")   # counts + problems

One bad row never stops an import: it becomes a :class:`RowResult` with status ``invalid``.
Only a file that cannot be read at all raises :class:`~autoinformer.errors.ContactListError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from autoinformer.contacts.phones import PhoneNormalizer, check_countries, check_region
from autoinformer.contacts.readers import (
    Format,
    ProgressHook,
    Source,
    detect_format,
    iter_rows,
)
from autoinformer.contacts.report import ImportReport
from autoinformer.contacts.rows import (
    ColumnLayout,
    RowBuilder,
    RowResult,
    cell_text,
    column_letter,
)
from autoinformer.errors import ContactListError

__all__ = ["check_contacts", "read_contacts"]


def _columns(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def read_contacts(
    source: Source,
    *,
    region: str | None = None,
    countries: Sequence[str] | str = (),
    format: str | None = None,
    phone_column: str | Sequence[str] | None = None,
    name_column: str | None = None,
    id_column: str | None = None,
    header: bool | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    progress: ProgressHook | None = None,
) -> Iterator[RowResult]:
    """Stream a contact list, one :class:`RowResult` per non-blank data row.

    Args:
        source: a path (``.csv``, ``.tsv``, ``.txt``, ``.xlsx``) or a text stream (CSV/TSV).
        region: default region (``"RU"``, ``"ID"``) for numbers written without the country
            code; numbers with it (``+7...`` or ``7...``) are understood either way.
        countries: other countries whose code may be written without ``+`` (``["KZ"]``); by
            default a number without ``+`` must be in ``region``, so a typo (``8 123...``)
            is reported, never read as another country's number (``+81...``, Japan).
        format: ``csv``, ``tsv``, ``xlsx`` or ``seed`` (the ``"NAME", "PHONE_NUMBER",
            "USER_VARS"`` CSV); detected from the name and content when omitted.
        phone_column: the phone column(s) by header or letter, in order of preference;
            recognised from the header when omitted (``phone``, ``PHONE_NUMBER``, ``Phone 2``).
        name_column: the name column (recognised from ``name``, ``NAME``, ``ФИО``...).
        id_column: a column of ids (``id``, ``customer_id``...); otherwise ``row-<n>``.
        header: whether the first row is a header; ``None`` guesses (a first row without a
            phone header but with a valid number is data, as text pasted from a spreadsheet).
        encoding: text encoding of CSV/TSV (UTF-8 with or without BOM, else Windows-1251).
        sheet: the XLSX sheet name (default: the first sheet).
        progress: called with (done, total) now and then (bytes for text, rows for XLSX).

    Returns:
        An iterator; the file is opened on the first ``next()`` and closed at the end.

    Raises:
        SettingsError: a bad argument (region, format, a column not in the header); raised
            at once for region and format, on the first ``next()`` for columns.
        ContactListError: the file cannot be read at all (missing, not a workbook, no phone
            column, not decodable); raised while iterating.
    """
    allowed = check_countries(countries)
    if allowed is None:
        allowed = frozenset()  # a list names its countries; "any" is for do-not-call lists
    normalizer = PhoneNormalizer(region=check_region(region), countries=allowed)
    fmt = detect_format(source, format)
    phones = _columns(phone_column)
    return _stream(
        source,
        fmt=fmt,
        normalizer=normalizer,
        phones=phones,
        name_column=name_column,
        id_column=id_column,
        header=header,
        encoding=encoding,
        sheet=sheet,
        progress=progress,
    )


def _stream(
    source: Source,
    *,
    fmt: Format,
    normalizer: PhoneNormalizer,
    phones: tuple[str, ...],
    name_column: str | None,
    id_column: str | None,
    header: bool | None,
    encoding: str | None,
    sheet: str | None,
    progress: ProgressHook | None,
) -> Iterator[RowResult]:
    rows = iter_rows(source, fmt, encoding=encoding, sheet=sheet, progress=progress)
    builder: RowBuilder | None = None
    for number, cells in rows:
        if builder is None:
            if not any(cell_text(c) for c in cells):
                continue  # blank lines above the header
            layout, is_data = _layout(cells, phones, name_column, id_column, header, normalizer)
            builder = RowBuilder(layout=layout, normalizer=normalizer)
            if not is_data:
                continue
        result = builder.build(number, cells)
        if result is not None:
            yield result
    if builder is None:
        name = str(source) if isinstance(source, str | os.PathLike) else "<text>"
        raise ContactListError(f"{name}: the list is empty (no header, no rows)")


def _layout(
    first: Sequence[object],
    phones: tuple[str, ...],
    name_column: str | None,
    id_column: str | None,
    header: bool | None,
    normalizer: PhoneNormalizer,
) -> tuple[ColumnLayout, bool]:
    """The column layout, and whether the first row is data (the list has no header)."""
    if header is False:
        letters = [column_letter(i) for i in range(len(first))]
        layout = ColumnLayout.from_header(
            letters, phone_columns=phones or ("A",), name_column=name_column, id_column=id_column
        )
        return layout, True
    texts = [cell_text(c) for c in first]
    try:
        layout = ColumnLayout.from_header(
            texts, phone_columns=phones, name_column=name_column, id_column=id_column
        )
    except ContactListError:
        if header is None and not phones:
            guessed = ColumnLayout.guess_headerless(first, normalizer)
            if guessed is not None:
                return guessed, True
        raise
    return layout, False


def check_contacts(
    source: Source,
    *,
    region: str | None = None,
    countries: Sequence[str] | str = (),
    keep_contacts: bool = True,
    **options: Any,
) -> ImportReport:
    """Read a whole list and return the report (counts, problems, and the valid contacts).

    Args:
        source: as for :func:`read_contacts`.
        region: as for :func:`read_contacts`.
        countries: as for :func:`read_contacts`.
        keep_contacts: keep the contacts in the report (turn off for huge lists).
        **options: any other :func:`read_contacts` argument (``format``, ``phone_column``...).

    Raises:
        SettingsError, ContactListError: as :func:`read_contacts`.
    """
    name = str(source) if isinstance(source, str | os.PathLike) else "<text>"
    report = ImportReport(source=name, keep_contacts=keep_contacts, region=check_region(region))
    for result in read_contacts(source, region=region, countries=countries, **options):
        report.add(result)
    return report
