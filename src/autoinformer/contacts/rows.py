"""From one row of cells to a Contact or the row's problems: pure code, shared by every format.

A reader (CSV, TSV, XLSX) only produces rows of cell values; :class:`ColumnLayout` decides
which column is which from the header, and :class:`RowBuilder` turns each row into a
:class:`RowResult`. The builder remembers the numbers it has accepted so that a number seen
again is flagged as a duplicate (with the row where it was first seen).
"""

from __future__ import annotations

import enum
import re
import zoneinfo
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

import attrs

from autoinformer.contacts.model import Contact, variable_text
from autoinformer.contacts.phones import (
    PhoneNormalizer,
    PhoneNumberError,
    phone_text,
    split_phones,
)
from autoinformer.errors import ContactListError, SettingsError

__all__ = [
    "ColumnLayout",
    "RowBuilder",
    "RowProblem",
    "RowResult",
    "RowStatus",
    "cell_text",
    "column_letter",
]

_KEY_SQUASH = re.compile(r"[\s_\-.#№]+")
_PHONE_KEYS = frozenset(
    {
        "phone",
        "phones",
        "phonenumber",
        "phonenumbers",
        "number",
        "numbers",
        "tel",
        "telephone",
        "mobile",
        "mobilephone",
        "mobilenumber",
        "cell",
        "cellphone",
        "msisdn",
        "телефон",
        "телефоны",
        "номер",
        "номертелефона",
        "telepon",
        "nomor",
        "nomortelepon",
        "nohp",
        "nomorhp",
        "hp",
    }
)
_PHONE_NUMBERED = re.compile(r"(?:phone|phonenumber|tel|telephone|mobile|cell|number|телефон)\d+")
_NAME_KEYS = frozenset(
    {
        "name",
        "fullname",
        "contactname",
        "customername",
        "clientname",
        "customer",
        "client",
        "имя",
        "фио",
        "nama",
        "namalengkap",
    }
)
_ID_KEYS = frozenset({"id", "contactid", "customerid", "clientid", "externalid"})
_TZ_KEYS = frozenset({"timezone", "tz", "zone"})
_VARS_KEYS = frozenset({"uservars", "variables", "vars"})


class RowStatus(enum.StrEnum):
    """What became of one row."""

    VALID = "valid"
    """A contact was made (it may still carry duplicate notes for numbers it dropped)."""
    INVALID = "invalid"
    """Something in the row is wrong; no contact until it is fixed."""
    DUPLICATE = "duplicate"
    """Every number of the row was already in an earlier row; no second contact."""


@attrs.frozen
class RowProblem:
    """One problem in one cell, said so that a person can find and fix it.

    Attributes:
        row: the row number as a spreadsheet shows it (the header is row 1).
        column: the column's header (or its letter when the list has no header).
        value: the cell's text as given.
        reason: what is wrong and, where it helps, how to fix it.
        kind: ``"invalid"`` (the row is rejected) or ``"duplicate"`` (a number was dropped).
    """

    row: int
    column: str
    value: str
    reason: str
    kind: str = "invalid"

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.value!r}: {self.reason}"


@attrs.frozen
class RowResult:
    """The outcome of one row: a contact, or the problems that kept it from being one."""

    row: int
    status: RowStatus
    contact: Contact | None = None
    problems: tuple[RowProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the row gave a contact."""
        return self.status is RowStatus.VALID


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _squash(header: str) -> str:
    return _KEY_SQUASH.sub("", header.strip().lower())


def is_phone_header(header: str) -> bool:
    """Whether a header names a phone column (``PHONE_NUMBER``, ``Phone 2``, ``Телефон``)."""
    key = _squash(header)
    return key in _PHONE_KEYS or _PHONE_NUMBERED.fullmatch(key) is not None


def cell_text(value: object) -> str:
    """A cell as the text a person sees: numbers without ``.0``, dates in ISO form (the same
    rule as a :class:`Contact` variable given from Python, :func:`variable_text`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    try:
        return variable_text(value, "cell")
    except SettingsError:  # inf, nan, or a type no spreadsheet cell has: as Python spells it
        return str(value).strip()


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@attrs.frozen
class ColumnLayout:
    """Which column is which (0-based indexes into a row's cells).

    Attributes:
        headers: every column's name (header text, or letter when there is no header).
        phones: phone columns in order of preference.
        name: the name column, if any.
        id: the id column, if any (otherwise ids are ``row-<n>``).
        timezone: a column of IANA zones, if any.
        user_vars: a ``KEY = VALUE; KEY2 = VALUE2`` column (the seed's ``USER_VARS``), if any.
        variables: every other column; each becomes a variable named after its header.
    """

    headers: tuple[str, ...]
    phones: tuple[int, ...]
    name: int | None = None
    id: int | None = None
    timezone: int | None = None
    user_vars: int | None = None
    variables: tuple[int, ...] = ()

    @classmethod
    def from_header(
        cls,
        header: Sequence[str],
        *,
        phone_columns: Sequence[str] = (),
        name_column: str | None = None,
        id_column: str | None = None,
    ) -> ColumnLayout:
        """Recognise the columns from a header row; named columns override the guesses.

        Args:
            header: the header cells as text.
            phone_columns: phone columns by header text (any case) or letter (``"B"``).
            name_column: the name column, likewise.
            id_column: the id column, likewise.

        Raises:
            SettingsError: a named column is not in the header.
            ContactListError: no phone column can be recognised.
        """
        headers = tuple(h if h else column_letter(i) for i, h in enumerate(header))
        keys = [_squash(h) for h in headers]

        def find(field: str, wanted: str) -> int:
            key = _squash(wanted)
            for i, k in enumerate(keys):
                if k == key:
                    return i
            for i in range(len(headers)):
                if column_letter(i) == wanted.strip().upper():
                    return i
            raise SettingsError(field, f"no column {wanted!r} in the header ({', '.join(headers)})")

        def guess(names: frozenset[str]) -> int | None:
            return next((i for i, k in enumerate(keys) if k in names), None)

        if phone_columns:
            phones = tuple(find("phone_column", c) for c in phone_columns)
        else:
            phones = tuple(i for i, h in enumerate(headers) if is_phone_header(h))
        if not phones:
            raise ContactListError(
                f"no phone column in the header ({', '.join(headers)}): name it 'phone' "
                "or say which column holds the numbers (phone_column=, --phone-column)"
            )
        name = find("name_column", name_column) if name_column else guess(_NAME_KEYS)
        id_ = find("id_column", id_column) if id_column else guess(_ID_KEYS)
        taken = {*phones, name, id_}
        tz = next((i for i, k in enumerate(keys) if k in _TZ_KEYS and i not in taken), None)
        taken.add(tz)
        user_vars = next(
            (i for i, k in enumerate(keys) if k in _VARS_KEYS and i not in taken), None
        )
        taken.add(user_vars)
        variables = tuple(i for i in range(len(headers)) if i not in taken)
        return cls(
            headers=headers,
            phones=phones,
            name=name,
            id=id_,
            timezone=tz,
            user_vars=user_vars,
            variables=variables,
        )

    @classmethod
    def guess_headerless(
        cls, first_row: Sequence[object], normalizer: PhoneNormalizer
    ) -> ColumnLayout | None:
        """A layout for a list without a header (text pasted from a spreadsheet), or None.

        The columns whose first cell is a valid phone number are the phone columns; the first
        other column holding text is the name; the rest become variables named by letter.
        """
        phones: list[int] = []
        for i, value in enumerate(first_row):
            text = cell_text(value)
            parts = split_phones(text) if isinstance(value, str) else [text]
            if not parts:
                continue
            try:
                for part in parts:
                    normalizer.normalize(phone_text(part))
            except PhoneNumberError:
                continue
            phones.append(i)
        if not phones:
            return None
        name = next(
            (
                i
                for i, v in enumerate(first_row)
                if i not in phones and isinstance(v, str) and v.strip() and not _numeric(v)
            ),
            None,
        )
        headers = tuple(column_letter(i) for i in range(len(first_row)))
        variables = tuple(i for i in range(len(headers)) if i not in phones and i != name)
        return cls(headers=headers, phones=tuple(phones), name=name, variables=variables)


def _numeric(text: str) -> bool:
    try:
        Decimal(text.strip().replace(",", "."))
    except ArithmeticError:
        return False
    return True


def _cell(cells: Sequence[object], index: int | None) -> object:
    if index is None or index >= len(cells):
        return None
    return cells[index]


@attrs.define(kw_only=True)
class RowBuilder:
    """Turns rows of cells into :class:`RowResult` (pure; remembers numbers and ids it saw).

    Args:
        layout: which column is which.
        normalizer: phone parsing with the list's default region.
    """

    layout: ColumnLayout
    normalizer: PhoneNormalizer
    _seen_numbers: dict[int, int] = attrs.field(init=False, factory=dict)
    _seen_ids: dict[str, int] = attrs.field(init=False, factory=dict)

    def build(self, row: int, cells: Sequence[object]) -> RowResult | None:
        """The result for one row, or None for a blank row (spreadsheets end with many).

        Args:
            row: the row's number as a spreadsheet shows it (header = 1).
            cells: the row's cell values (``str`` from text files; XLSX values as stored).
        """
        first = cells[0] if cells else None
        if not (isinstance(first, str) and first.strip()) and all(
            c is None or c == "" or (isinstance(c, str) and not c.strip()) for c in cells
        ):
            return None
        layout = self.layout
        headers = layout.headers
        problems: list[RowProblem] = []
        phones = self._phones(row, cells, problems)
        variables: dict[str, str] = {}
        for i in layout.variables:
            variables[headers[i]] = cell_text(_cell(cells, i))
        if layout.user_vars is not None:
            raw = _cell(cells, layout.user_vars)
            if raw is not None:
                self._user_vars(row, cell_text(raw), variables, problems)
        timezone = self._timezone(row, cells, problems)
        contact_id = f"row-{row}"
        if layout.id is not None:
            given = cell_text(_cell(cells, layout.id))
            if given:
                contact_id = given
                earlier = self._seen_ids.get(given)
                if earlier is not None:
                    problems.append(
                        RowProblem(row, headers[layout.id], given, f"the same id as row {earlier}")
                    )
        if problems:
            return RowResult(row, RowStatus.INVALID, None, tuple(problems))
        fresh = self._dedupe(row, phones, problems)
        if not fresh:
            return RowResult(row, RowStatus.DUPLICATE, None, tuple(problems))
        if layout.id is not None:
            self._seen_ids.setdefault(contact_id, row)
        contact = Contact._checked(  # every value checked above: no second check
            id=contact_id,
            name=cell_text(_cell(cells, layout.name)),
            phones=tuple(fresh),
            variables=variables,
            timezone=timezone,
        )
        return RowResult(row, RowStatus.VALID, contact, tuple(problems))

    def _phones(
        self, row: int, cells: Sequence[object], problems: list[RowProblem]
    ) -> list[tuple[str, str, str]]:
        """(E.164, column, text) for every number of the row; problems for the bad ones."""
        found: list[tuple[str, str, str]] = []
        normalize = self.normalizer.normalize
        headers = self.layout.headers
        for i in self.layout.phones:
            value = _cell(cells, i)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            parts: Sequence[object] = split_phones(value) if isinstance(value, str) else (value,)
            for part in parts:
                try:
                    found.append((normalize(phone_text(part)), headers[i], cell_text(part)))
                except PhoneNumberError as exc:
                    problems.append(RowProblem(row, headers[i], cell_text(part), exc.reason))
        if not found and not problems:
            columns = " / ".join(headers[i] for i in self.layout.phones)
            problems.append(RowProblem(row, columns, "", "no phone number"))
        return found

    def _dedupe(
        self, row: int, phones: list[tuple[str, str, str]], problems: list[RowProblem]
    ) -> list[str]:
        fresh: list[str] = []
        seen = self._seen_numbers
        for e164, column, text in phones:
            key = int(e164[1:])
            first = seen.get(key)
            if first is None:
                seen[key] = row
                fresh.append(e164)
                continue
            where = "earlier in this row" if first == row else f"in row {first}"
            problems.append(
                RowProblem(row, column, text, f"duplicate: {e164} is {where}", "duplicate")
            )
        return fresh

    def _user_vars(
        self, row: int, text: str, into: dict[str, str], problems: list[RowProblem]
    ) -> None:
        """``BALANCE = -68.27; DUE = 2026-01-16`` into variables (seed 000's USER_VARS)."""
        assert self.layout.user_vars is not None
        column = self.layout.headers[self.layout.user_vars]
        for part in text.split(";"):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                problems.append(
                    RowProblem(
                        row, column, part.strip(), "expected KEY = VALUE (e.g. BALANCE = 10)"
                    )
                )
                continue
            into[key.strip()] = value.strip()

    def _timezone(
        self, row: int, cells: Sequence[object], problems: list[RowProblem]
    ) -> str | None:
        index = self.layout.timezone
        if index is None:
            return None
        text = cell_text(_cell(cells, index))
        if not text:
            return None
        if text not in _zones():
            problems.append(
                RowProblem(
                    row,
                    self.layout.headers[index],
                    text,
                    "not a time zone name (expected e.g. Europe/Moscow, Asia/Jakarta)",
                )
            )
            return None
        return text
