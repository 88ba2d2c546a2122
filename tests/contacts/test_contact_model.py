"""Contact variables: strings as given, typed access."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from autoinformer.contacts import Contact
from autoinformer.errors import InputError


def _contact(**variables: str) -> Contact:
    return Contact(id="c1", phones=["+79161234567"], variables=variables)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-68.27", "-68.27"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("275000", "275000"),
    ],
)
def test_decimal_reads_amounts_as_people_write_them(text: str, expected: str) -> None:
    assert _contact(BALANCE=text).decimal("BALANCE") == decimal.Decimal(expected)


@pytest.mark.parametrize(
    "text", ["2026-01-16", "2026-01-16 10:30:00", "2026-01-16T10:30:00", "16.01.2026"]
)
def test_date_reads_iso_and_day_first(text: str) -> None:
    assert _contact(DUE=text).date("DUE") == dt.date(2026, 1, 16)


def test_bad_values_name_the_contact_and_variable() -> None:
    contact = _contact(BALANCE="lots", DUE="soon")
    with pytest.raises(InputError, match=r"'c1'.*'BALANCE'.*not a number"):
        contact.decimal("BALANCE")
    with pytest.raises(InputError, match=r"'DUE'.*not a date"):
        contact.date("DUE")
    with pytest.raises(KeyError, match="no variable 'NAME'"):
        contact.var("NAME")


def test_phones_are_a_tuple_and_variables_are_copied() -> None:
    given = {"A": "1"}
    contact = Contact(id="c1", phones=["+79161234567"], variables=given)
    given["A"] = "2"
    assert contact.phones == ("+79161234567",)
    assert contact.var("A") == "1"
