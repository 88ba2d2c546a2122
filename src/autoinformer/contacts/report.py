"""The import report: counts, every problem, and (optionally) the contacts, as JSON or text."""

from __future__ import annotations

from typing import Any

import attrs

from autoinformer.contacts.model import Contact
from autoinformer.contacts.rows import RowProblem, RowResult, RowStatus

__all__ = ["ImportReport"]


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
    """

    source: str = ""
    keep_contacts: bool = True
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
            ``{"rows", "valid", "invalid", "duplicates", "errors": [{"row", "column", "value",
            "reason", "kind"}], "contacts": [{"row", "id", "name", "phones", "variables",
            "timezone"}], "source"}``.
        """
        return {
            "source": self.source,
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "duplicates": self.duplicates,
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
        if self.errors:
            lines.append("")
            lines.append("Problems:")
            lines.extend(f"  {problem}" for problem in self.errors[:max_problems])
            if len(self.errors) > max_problems:
                lines.append(f"  ... and {len(self.errors) - max_problems} more (see --json)")
        return "\n".join(lines)
