"""The contact: who to call, on which numbers, with which personal variables."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from autoinformer.contacts.phones import e164_phone
from autoinformer.errors import InputError, SettingsError

__all__ = ["Contact", "variable_text"]


@functools.lru_cache(maxsize=1024)
def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _phones_tuple(value: str | Iterable[str]) -> tuple[str, ...]:
    # A named converter: ``converter=tuple`` leaves mypy's attrs plugin with an unsolved
    # ``Iterable[_T_co]`` at every call site. One string is one phone, not its characters.
    if type(value) is list or type(value) is tuple:  # fast: ABC checks cost a microsecond
        return tuple(value)
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise SettingsError("phones", f"expected a phone number or a list of them, got {value!r}")
    return tuple(value)


def _freeze_vars(value: Mapping[str, object]) -> Mapping[str, str]:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise SettingsError(
            "variables", f"expected a mapping of names to values, got {type(value).__name__}"
        )
    out = dict(value)
    for key, item in out.items():  # the importer's rows: text names and values, checked fast
        if type(item) is not str or type(key) is not str or not key:
            return _check_vars(out)
    return out  # type: ignore[return-value]  # every value is text (the loop above)


def _check_vars(value: Mapping[Any, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise SettingsError("variables", f"a variable name must be text, got {key!r}")
        out[key] = variable_text(item, f"variables[{key!r}]")
    return out


def variable_text(value: object, field: str = "variables") -> str:
    """A variable's value as the importer reads the same value from a spreadsheet cell.

    ``-68.27`` -> ``"-68.27"``, ``150000.0`` -> ``"150000"``, ``Decimal("1E+3")`` ->
    ``"1000"``, a date -> ``"2026-01-16"``; text is kept exactly as given.

    Raises:
        SettingsError: a value that is no text, number or date (``None`` included: leave the
            variable out, or give ``""``).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SettingsError(field, f"expected a finite number, got {value!r}")
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        text = repr(value)
        return format(decimal.Decimal(text), "f") if "e" in text else text
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise SettingsError(field, f"expected a finite number, got {value!r}")
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise SettingsError(
        field, f"expected text, a number or a date, got {type(value).__name__} {value!r}"
    )


def _text_id(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value  # type: ignore[return-value]  # checked in __attrs_post_init__


@attrs.frozen
class Contact:
    """One person in a contact list.

    Checked when it is made, as the importer checks a row: a wrong value raises
    :class:`~autoinformer.errors.SettingsError` naming the field (``phones[1]``,
    ``variables['BALANCE']``, ``timezone``).

    Attributes:
        id: stable identifier (from the list, else derived from the row); a whole number is
            taken as its text.
        name: display name (``{name}`` in templates).
        phones: E.164 numbers in order of preference (retries may alternate between them);
            one string is one number. Formatting is removed (``"+7 950 888-12-34"``); a number
            without ``+`` is refused, since its country depends on the list's region: use
            :func:`~autoinformer.contacts.normalize_phone` or
            :func:`~autoinformer.contacts.read_contacts` with the region. A number given twice
            is kept once.
        variables: per-contact variables as text (``BALANCE`` -> ``"-525.19"``); numbers and
            dates are written as the importer reads such cells (``-68.27`` -> ``"-68.27"``).
            Use :meth:`decimal` / :meth:`date` for typed access.
        timezone: IANA zone of the person, when the list says (judges calling hours).
    """

    id: str
    name: str = ""
    phones: tuple[str, ...] = attrs.field(default=(), converter=_phones_tuple)
    variables: Mapping[str, str] = attrs.field(factory=dict, converter=_freeze_vars, hash=False)
    timezone: str | None = None

    def __attrs_post_init__(self) -> None:
        if type(self.id) is not str:
            object.__setattr__(self, "id", _text_id(self.id))
        if not isinstance(self.id, str) or not self.id.strip():
            raise SettingsError("id", f"expected a non-empty text id, got {self.id!r}")
        if not isinstance(self.name, str):
            raise SettingsError("name", f"contact {self.id!r}: expected text, got {self.name!r}")
        given = self.phones
        if given:
            phones: list[str] = []
            for i, phone in enumerate(given):
                try:
                    e164 = e164_phone(phone, f"phones[{i}]")
                except SettingsError as exc:
                    raise SettingsError(exc.field, f"contact {self.id!r}: {exc.message}") from None
                if e164 not in phones:
                    phones.append(e164)
            if phones != list(given):
                object.__setattr__(self, "phones", tuple(phones))
        if self.timezone is not None:
            zone = self.timezone
            name = getattr(zone, "key", zone)  # a ZoneInfo is taken by its name
            if not isinstance(name, str) or not _known_zone(name):
                raise SettingsError(
                    "timezone",
                    f"contact {self.id!r}: expected an IANA zone like 'Europe/Moscow', "
                    f"got {zone!r}",
                )
            if name != zone:
                object.__setattr__(self, "timezone", name)

    @classmethod
    def _checked(
        cls,
        id: str,
        name: str,
        phones: tuple[str, ...],
        variables: dict[str, str],
        timezone: str | None,
    ) -> Contact:
        """A contact from values the importer has already checked (E.164 numbers it has just
        normalised, each once; text variables; a known zone): the checks are not run again,
        so a million-row import pays nothing for them."""
        contact = object.__new__(cls)
        for field, value in (
            ("id", id),
            ("name", name),
            ("phones", phones),
            ("variables", variables),
            ("timezone", timezone),
        ):
            object.__setattr__(contact, field, value)
        return contact

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
