"""The contact: who to call, on which numbers, with which personal variables."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping

import attrs

from autoinformer.errors import InputError

__all__ = ["Contact"]


def _phones_tuple(value: Iterable[str]) -> tuple[str, ...]:
    # A named converter: ``converter=tuple`` leaves mypy's attrs plugin with an unsolved
    # ``Iterable[_T_co]`` at every call site.
    return tuple(value)


def _freeze_vars(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@attrs.frozen
class Contact:
    """One person in a contact list.

    Attributes:
        id: stable identifier (from the list, else derived from the row).
        name: display name (``{name}`` in templates).
        phones: E.164 numbers in order of preference (retries may alternate between them).
        variables: per-contact variables exactly as given (``BALANCE`` -> ``"-525.19"``);
            use :meth:`decimal` / :meth:`date` for typed access.
        timezone: IANA zone of the person, when the list says (judges calling hours).
    """

    id: str
    name: str = ""
    phones: tuple[str, ...] = attrs.field(default=(), converter=_phones_tuple)
    variables: Mapping[str, str] = attrs.field(factory=dict, converter=_freeze_vars, hash=False)
    timezone: str | None = None

    def var(self, key: str) -> str:
        """The variable ``key`` as given; KeyError names the contact and the variable."""
        try:
            return self.variables[key]
        except KeyError:
            raise KeyError(f"contact {self.id!r} has no variable {key!r}") from None

    def decimal(self, key: str) -> decimal.Decimal:
        """The variable as an exact decimal (``"-68.27"``, ``"1 234,50"``, ``"1.234,50"``).

        With both ``.`` and ``,`` in the text, the last one is the decimal separator and the
        other groups thousands (``"1,234.50"`` and ``"1.234,50"`` are both 1234.50).
        """
        raw = self.var(key).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        if "," in raw and "." in raw:
            grouping = "," if raw.rfind(",") < raw.rfind(".") else "."
            raw = raw.replace(grouping, "")
        if raw.count(",") == 1 and "." not in raw:
            raw = raw.replace(",", ".")
        try:
            return decimal.Decimal(raw)
        except decimal.InvalidOperation:
            raise InputError(
                f"contact {self.id!r}: variable {key!r} = {self.var(key)!r} is not a number"
            ) from None

    def date(self, key: str) -> dt.date:
        """The variable as a date (ISO ``2026-01-16``, ``2026-01-16 10:30:00`` as an XLSX date
        cell reads, or ``16.01.2026``)."""
        raw = self.var(key).strip()
        try:
            return dt.datetime.fromisoformat(raw).date()
        except ValueError:
            pass
        for fmt in ("%d.%m.%Y", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(raw, fmt).date()
            except ValueError:
                continue
        raise InputError(
            f"contact {self.id!r}: variable {key!r} = {raw!r} is not a date (YYYY-MM-DD)"
        )
