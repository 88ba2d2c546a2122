"""Issue #14, item 2: a typo never becomes a call abroad (DESIGN.md, compliance defaults)."""

from __future__ import annotations

import io

import pytest

from autoinformer.contacts import DoNotCallList, PhoneNumberError, normalize_phone, read_contacts
from autoinformer.contacts.phones import PhoneNormalizer
from autoinformer.errors import SettingsError


@pytest.mark.parametrize(
    "text",
    [
        "8 123 456-78-90",  # trunk 8 + an invalid national number: was +81234567890 (Japan)
        "81234567890",
        "8~10 81 3 1234 5678",  # dialled with the international prefix: Japan
        "81081312345678",
        "17605632123",  # the US, country code without +
    ],
)
def test_digits_without_plus_never_become_another_country(text: str) -> None:
    with pytest.raises(PhoneNumberError) as info:
        normalize_phone(text, "RU")
    assert info.value.value == text
    assert "+81" not in info.value.reason or "Japan" in info.value.reason


def test_a_trunk_prefixed_typo_is_reported_as_a_bad_national_number() -> None:
    with pytest.raises(PhoneNumberError) as info:
        normalize_phone("8 123 456-78-90", "RU")
    assert info.value.reason.startswith("not a valid number in Russia (+7)")


def test_another_country_code_without_plus_is_named_and_can_be_allowed() -> None:
    with pytest.raises(PhoneNumberError) as info:
        normalize_phone("17605632123", "RU")
    assert "United States (+1)" in info.value.reason
    assert "+17605632123" in info.value.reason
    assert normalize_phone("17605632123", "RU", countries=["US"]) == "+17605632123"
    assert normalize_phone("81017605632123", "RU", countries="US") == "+17605632123"
    # allowing one country does not allow another
    with pytest.raises(PhoneNumberError, match="Japan"):
        normalize_phone("81081312345678", "RU", countries=["US"])


def test_the_regions_own_code_and_plus_numbers_are_unchanged() -> None:
    assert normalize_phone("79508881234", "RU") == "+79508881234"
    assert normalize_phone("8 (950) 888-12-34", "RU") == "+79508881234"
    assert normalize_phone("+1 760 563 2123", "RU") == "+17605632123"  # + is explicit
    assert normalize_phone("87012345678", "RU") == "+77012345678"  # +7 is shared with KZ


def test_a_list_reports_the_row_and_a_do_not_call_list_still_blocks() -> None:
    text = '"NAME", "PHONE_NUMBER", "USER_VARS"\n"Igor", "8 123 456-78-90", "B = 1"\n'
    (row,) = read_contacts(io.StringIO(text), region="RU")
    assert not row.ok
    assert row.problems[0].reason.startswith("not a valid number in Russia")
    # blocking is never a call abroad: a do-not-call file keeps reading any country
    assert DoNotCallList.from_numbers(["17605632123"], region="RU").blocks("+17605632123")


def test_unknown_countries_are_settings_errors_naming_the_entry() -> None:
    with pytest.raises(SettingsError) as info:
        PhoneNormalizer(region="RU", countries=["KZ", "XX"])
    assert info.value.field == "countries[1]"
