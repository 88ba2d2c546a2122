"""The import report: counts, every problem, and (optionally) the contacts, as JSON or text."""

from __future__ import annotations

import functools
from typing import Any

import attrs
import phonenumbers

from autoinformer.contacts.model import Contact
from autoinformer.contacts.rows import RowProblem, RowResult, RowStatus

__all__ = ["ImportReport"]


@functools.cache
def _home_prefix(region: str) -> str:
    return f"+{phonenumbers.country_code_for_region(region)}"


def _calling_code(e164: str) -> str:
    for size in (1, 2, 3):
        if int(e164[1 : 1 + size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return e164[: 1 + size]
    return e164[:4]


@attrs.define(kw_only=True)
class ImportReport:
    """Accumulates :class:`~autoinformer.contacts.rows.RowResult` as an import streams by.

    Args:
        source: what was read (a path), for the summary.
        keep_contacts: keep the valid contacts (off for huge lists when only counts matter).

    Attributes:
        rows: data rows seen (blank rows are not counted).
        valid: rows that gave a contact.
        invalid: rows rejected for a problem.
        duplicates: rows whose every number was already in an earlier row.
        errors: every problem, in file order (invalid cells and dropped duplicate numbers).
        contacts: the valid contacts with their row numbers (when ``keep_contacts``).
        region: the list's region (numbers of other countries are counted in ``abroad``).
        abroad: valid numbers outside ``region`` by calling code (``{"+1": 1}``): written
            with ``+``, or without it for a country the list allows.
    """

    source: str = ""
    keep_contacts: bool = True
    region: str | None = None
    abroad: dict[str, int] = attrs.field(factory=dict)
    _home: str = attrs.field(init=False, default="", repr=False)

    def __attrs_post_init__(self) -> None:
        self._home = _home_prefix(self.region) if self.region is not None else ""

    rows: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    errors: list[RowProblem] = attrs.field(factory=list)
    contacts: list[tuple[int, Contact]] = attrs.field(factory=list)

    def add(self, result: RowResult) -> None:
        """Count one row's result."""
        self.rows += 1
        if result.status is RowStatus.VALID:
            self.valid += 1
            home = self._home
            if home and result.contact is not None:
                for phone in result.contact.phones:
                    if not phone.startswith(home):
                        code = _calling_code(phone)
                        self.abroad[code] = self.abroad.get(code, 0) + 1
            if self.keep_contacts and result.contact is not None:
                self.contacts.append((result.row, result.contact))
        elif result.status is RowStatus.INVALID:
            self.invalid += 1
        else:
            self.duplicates += 1
        self.errors.extend(result.problems)

    @property
    def ok(self) -> bool:
        """True when no row was invalid (duplicates are dropped, not failures)."""
        return self.invalid == 0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the shape ``autoinformer contacts check --json`` prints).

        Returns:
            ``{"rows", "valid", "invalid", "duplicates", "abroad": {"+1": int},
            "errors": [{"row", "column", "value",
            "reason", "kind"}], "contacts": [{"row", "id", "name", "phones", "variables",
            "timezone"}], "source"}``.
        """
        return {
            "source": self.source,
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
            "abroad": dict(sorted(self.abroad.items())),
            "errors": [
                {
                    "row": p.row,
                    "column": p.column,
                    "value": p.value,
                    "reason": p.reason,
                    "kind": p.kind,
                }
                for p in self.errors
            ],
            "contacts": [
                {
                    "row": row,
                    "id": c.id,
                    "name": c.name,
                    "phones": list(c.phones),
                    "variables": dict(c.variables),
                    "timezone": c.timezone,
                }
                for row, c in self.contacts
            ],
        }

    def summary(self, *, max_problems: int = 50) -> str:
        """A readable summary for a terminal: the counts, then the first ``max_problems``."""
        head = self.source + ": " if self.source else ""
        lines = [
            f"{head}{self.rows} rows: {self.valid} valid, {self.invalid} invalid, "
            f"{self.duplicates} duplicate"
        ]
        if self.abroad:
            counts = ", ".join(f"{n} {code}" for code, n in sorted(self.abroad.items()))
            lines.append(f"numbers outside {self.region}: {counts}")
        if self.errors:
            lines.append("")
            lines.append("Problems:")
            lines.extend(f"  {problem}" for problem in self.errors[:max_problems])
            if len(self.errors) > max_problems:
                lines.append(f"  ... and {len(self.errors) - max_problems} more (see --json)")
        return "\n".join(lines)
