"""Issue #14, items 3 and 6: the Python API checks contacts as the importer does."""

from __future__ import annotations

import datetime as dt
import decimal
import zoneinfo

import pytest

from autoinformer.contacts import Contact
from autoinformer.errors import SettingsError


def test_a_string_phone_is_one_phone_not_its_characters() -> None:
    assert Contact(id="a", phones="+79508881234").phones == ("+79508881234",)


def test_numbers_are_e164_formatting_removed_repeats_dropped() -> None:
    contact = Contact(id="a", phones=["+7 950 888-12-34", "+79508881234", "+1 (212) 555-0101"])
    assert contact.phones == ("+79508881234", "+12125550101")


@pytest.mark.parametrize(
    ("phones", "field", "words"),
    [
        (["89161234567"], "phones[0]", "no country code"),
        (["+79508881234", "8 916 123-45-67"], "phones[1]", "no country code"),
        (["+7123"], "phones[0]", "too short for Russia"),
        ([79161234567], "phones[0]", "as text"),
        (42, "phones", "a phone number or a list"),
    ],
)
def test_a_national_or_broken_number_is_refused_naming_the_field(
    phones: object, field: str, words: str
) -> None:
    with pytest.raises(SettingsError) as info:
        Contact(id="a", phones=phones)  # type: ignore[arg-type]
    assert info.value.field == field
    assert words in info.value.message


def test_numbers_and_dates_in_variables_read_as_the_importer_reads_cells() -> None:
    contact = Contact(
        id=42,  # type: ignore[arg-type]
        phones="+79508881234",
        variables={
            "BALANCE": -68.27,
            "AMOUNT": 275000.0,
            "EXACT": decimal.Decimal("1E+3"),
            "DUE": dt.date(2026, 1, 16),
            "NOTE": " as given ",
        },
    )
    assert contact.id == "42"
    assert contact.variables == {
        "BALANCE": "-68.27",
        "AMOUNT": "275000",
        "EXACT": "1000",
        "DUE": "2026-01-16",
        "NOTE": " as given ",
    }
    assert str(contact.decimal("BALANCE")) == "-68.27"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"variables": {"BALANCE": None}}, "variables['BALANCE']"),
        ({"variables": {"BALANCE": [1]}}, "variables['BALANCE']"),
        ({"variables": {"BALANCE": float("nan")}}, "variables['BALANCE']"),
        ({"variables": ["BALANCE"]}, "variables"),
        ({"timezone": "Moscow"}, "timezone"),
        ({"id": ""}, "id"),
        ({"name": None}, "name"),
    ],
)
def test_wrong_values_fail_at_construction_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    settings: dict[str, object] = {"id": "a", "phones": "+79508881234", **kwargs}
    with pytest.raises(SettingsError) as info:
        Contact(**settings)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_zoneinfo_is_taken_by_its_name() -> None:
    contact = Contact(id="a", timezone=zoneinfo.ZoneInfo("Asia/Omsk"))  # type: ignore[arg-type]
    assert contact.timezone == "Asia/Omsk"
