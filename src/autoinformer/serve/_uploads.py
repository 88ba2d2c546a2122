"""An uploaded contact list: the body of ``POST /api/campaigns/{id}/contacts``.

The body is a CSV, an XLSX workbook or text pasted from a spreadsheet (tab-separated); its
``Content-Type`` says which. It is read by the same importer as ``autoinformer contacts
check`` and answered with the same report (``rows, valid, invalid, duplicates, errors[{row,
column, value, reason}]``...), read with the campaign's region, countries and zone. The body is
spooled to a temporary file first: the readers stream from a file (an XLSX needs one) and
detect the text's encoding (UTF-8, Windows-1251) the way they do for a file on disk.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from autoinformer.campaign import Campaign
from autoinformer.contacts.importer import read_contacts
from autoinformer.contacts.model import Contact
from autoinformer.contacts.report import ImportReport
from autoinformer.contacts.zones import zone_summary
from autoinformer.errors import InputError, SettingsError

__all__ = ["FORMATS", "ListOptions", "Upload", "check_upload"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS: dict[str, tuple[str | None, str]] = {
    "text/csv": ("csv", ".csv"),
    "application/csv": ("csv", ".csv"),
    "text/tab-separated-values": ("tsv", ".tsv"),
    "text/plain": (None, ".txt"),  # pasted: the delimiter (tab, comma, semicolon) is sniffed
    XLSX: ("xlsx", ".xlsx"),
    "application/octet-stream": (None, ""),  # an XLSX is recognised by its content
}
"""Content types a list is accepted as: (the importer's format, the spooled file's suffix)."""


@attrs.frozen(kw_only=True)
class ListOptions:
    """How to read the list's columns (the ``contacts check`` options, as query parameters).

    Attributes:
        phone_column: the phone column(s) by header or letter (default: recognised).
        name_column: the name column.
        id_column: a column of contact ids (the ids ``DELETE .../contacts/{id}`` takes).
        sheet: the XLSX sheet (default: the first).
        encoding: the text's encoding (default: UTF-8, else Windows-1251).
        header: False when the first row is data (default: guessed).
    """

    phone_column: Sequence[str] = ()
    name_column: str | None = None
    id_column: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    header: bool | None = None


@attrs.frozen(kw_only=True)
class Upload:
    """A checked list: its report (``contacts check --json``'s shape) and its valid contacts."""

    report: dict[str, Any]
    contacts: tuple[Contact, ...]


def check_upload(
    body: bytes,
    media_type: str,
    campaign: Campaign,
    *,
    options: ListOptions | None = None,
    id_prefix: str = "",
    spool_dir: Path | None = None,
) -> Upload:
    """Read an uploaded list as the campaign would and report every row.

    Args:
        body: the list's bytes.
        media_type: the request's ``Content-Type`` (see :data:`FORMATS`).
        campaign: whose region, countries and zone the numbers are read with.
        options: column choices.
        id_prefix: put before the ids the importer makes (``row-<n>``) when the list has no id
            column, so a second list's ``row-2`` is not taken for the first list's.
        spool_dir: where the body is spooled (default: the system's temporary directory).

    Raises:
        InputError: an unknown content type, or a list that cannot be read at all (the
            message names what is wrong); row problems are in the report, not raised.
    """
    options = options or ListOptions()
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind not in FORMATS:
        known = ", ".join(FORMATS)
        raise InputError(f"a contact list is sent as one of {known}; got {kind or 'nothing'}")
    fmt, suffix = FORMATS[kind]
    if options.encoding is not None:
        try:
            codecs.lookup(options.encoding)
        except (LookupError, ValueError):
            raise SettingsError(
                "encoding", f"unknown text encoding {options.encoding!r} (e.g. utf-8, cp1251)"
            ) from None
    region = campaign.region
    countries = sorted(campaign.countries)
    with tempfile.NamedTemporaryFile(suffix=suffix, dir=spool_dir) as spooled:
        spooled.write(body)
        spooled.flush()
        report = ImportReport(source="upload", keep_contacts=True, region=region)
        rows = read_contacts(
            spooled.name,
            region=region,
            countries=countries,
            format=fmt,
            phone_column=list(options.phone_column) or None,
            name_column=options.name_column,
            id_column=options.id_column,
            header=options.header,
            encoding=options.encoding,
            sheet=options.sheet,
        )
        for result in rows:
            report.add(result)
    if id_prefix and options.id_column is None:
        report.contacts[:] = [(row, _prefixed(c, row, id_prefix)) for row, c in report.contacts]
    zones = zone_summary(
        report.contacts, timezone=campaign.timezone, region=region, countries=countries
    )
    data = report.to_dict()
    data["zones"] = zones.to_dict()
    return Upload(report=data, contacts=tuple(c for _, c in report.contacts))


def _prefixed(contact: Contact, row: int, prefix: str) -> Contact:
    if contact.id != f"row-{row}":  # the list's own id column
        return contact
    return attrs.evolve(contact, id=f"{prefix}{contact.id}")
