"""Phone numbers as people write them: E.164, country codes without +, spreadsheet damage."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoinformer.contacts._validity import is_valid_national
from autoinformer.contacts.phones import (
    PhoneNormalizer,
    PhoneNumberError,
    normalize_phone,
    phone_text,
    split_phones,
)
from autoinformer.errors import InputError, SettingsError


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("79508881234", "RU", "+79508881234"),  # seed 000: Russian, country code without +
        ("89508881234", "RU", "+79508881234"),  # Russian trunk prefix 8
        ("8 (950) 888-12-34", "RU", "+79508881234"),
        ("+7 950 888 12 34", None, "+79508881234"),
        ("87630021323", "ID", "+6287630021323"),  # seed 004: without the country code
        ("087630021323", "ID", "+6287630021323"),
        ("+390612345678", None, "+390612345678"),  # Italian leading zero kept
        ("020 7946 0018", "GB", "+442079460018"),
        ("79508881234", None, "+79508881234"),  # no region: the digits must carry the code
    ],
)
def test_numbers_become_e164(text: str, region: str | None, expected: str) -> None:
    assert normalize_phone(text, region) == expected


@pytest.mark.parametrize(
    ("text", "region", "reason"),
    [
        ("", "RU", "no phone number"),
        ("12345", "RU", "too short for Russia (+7)"),
        ("+7123", None, "too short for Russia"),
        ("hello", "RU", "not a phone number"),
        ("+999123456", None, "unknown country code"),
        ("9508881234", None, "no country code"),
        ("+79008881234999", None, "wrong number of digits for Russia"),
    ],
)
def test_bad_numbers_say_why(text: str, region: str | None, reason: str) -> None:
    with pytest.raises(PhoneNumberError) as exc:
        normalize_phone(text, region)
    assert reason in exc.value.reason
    assert exc.value.value == text
    assert isinstance(exc.value, InputError)


def test_a_valid_length_number_with_no_such_code_is_rejected() -> None:
    # Right length for Russia, but no Russian number starts with 1: invalid, not "possible".
    with pytest.raises(PhoneNumberError, match="not a valid number in Russia"):
        normalize_phone("+71234567890")


def test_unknown_region_is_a_settings_error_naming_the_field() -> None:
    with pytest.raises(SettingsError) as exc:
        PhoneNormalizer(region="XX")
    assert exc.value.field == "region"


def test_region_is_case_insensitive() -> None:
    assert PhoneNormalizer(region="id").region == "ID"


def test_cache_gives_the_same_answers_and_fresh_errors() -> None:
    normalizer = PhoneNormalizer(region="RU")
    assert normalizer.normalize("89508881234") == normalizer.normalize("89508881234")
    errors = []
    for _ in range(2):
        with pytest.raises(PhoneNumberError) as exc:
            normalizer.normalize("12")
        errors.append(exc.value)
    assert errors[0] is not errors[1]
    assert errors[0].reason == errors[1].reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (87630021323.0, "87630021323"),  # a numeric XLSX cell
        (87630021323, "87630021323"),
        ("87630021323.0", "87630021323"),  # a numeric cell exported as text by a script
        ("8.7630021323E+10", "87630021323"),  # scientific, but every digit is written
        ("8,7630021323E+10", "87630021323"),  # the same with a decimal comma
        (" 8 950 888 ", "8 950 888"),
    ],
)
def test_spreadsheet_numbers_come_back_as_typed(value: object, expected: str) -> None:
    assert phone_text(value) == expected


def test_zero_padding_format_restores_leading_zeros() -> None:
    assert phone_text(612345678.0, "0000000000") == "0612345678"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("8.76E+10", "the last 8 digits were lost"),
        (8.5, "fraction"),
        (1e16, "too many digits"),
        ("8.7630021323E+9", "fraction"),
        (True, "TRUE/FALSE"),
    ],
)
def test_lost_digits_are_reported_never_guessed(value: object, reason: str) -> None:
    with pytest.raises(PhoneNumberError, match=reason):
        phone_text(value)


def test_split_keeps_the_order_of_preference() -> None:
    assert split_phones("17605632123; 79508881234") == ["17605632123", "79508881234"]
    assert split_phones("a, b|c\nd;;") == ["a", "b", "c", "d"]


_SLOW = PhoneNormalizer()


@settings(max_examples=300, deadline=None)
@given(
    cc=st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
    rest=st.text(alphabet="0123456789", min_size=2, max_size=13),
)
def test_fast_path_agrees_with_phonenumbers(cc: int, rest: str) -> None:
    text = f"+{cc}{rest}"
    try:
        parsed = phonenumbers.parse(text, None)
        valid = phonenumbers.is_valid_number(parsed)
        expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        valid, expected = False, ""
    fast = PhoneNormalizer()._fast_e164(text)
    if fast is not None:
        assert valid
        assert fast == expected
    try:
        got = PhoneNormalizer().normalize(text)
    except PhoneNumberError:
        assert not valid
    else:
        assert valid
        assert got == expected


def test_fast_path_is_taken_for_common_numbers() -> None:
    # The benchmark relies on it: valid E.164 mobiles skip phonenumbers.parse.
    for text in ("+79508881234", "+6287630021323", "+17605632123", "+447911123456"):
        assert PhoneNormalizer()._fast_e164(text) == text


def _number(cc: int, nsn: str) -> phonenumbers.PhoneNumber:
    number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(nsn))
    zeros = len(nsn) - len(nsn.lstrip("0"))
    if zeros:
        number.italian_leading_zero = True
        number.number_of_leading_zeros = zeros
    return number


@settings(max_examples=300, deadline=None)
@given(
    cc=st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
    nsn=st.from_regex(r"0?[1-9][0-9]{2,12}", fullmatch=True),
)
def test_compiled_validity_is_phonenumbers_validity(cc: int, nsn: str) -> None:
    number = _number(cc, nsn)
    assert is_valid_national(cc, nsn) == phonenumbers.is_valid_number(number)


def test_compiled_validity_on_every_example_number() -> None:
    checked = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None or example.country_code is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            expected = phonenumbers.is_valid_number(example)
            assert is_valid_national(example.country_code, nsn) == expected, (region, kind)
            checked += 1
    assert checked > 1000


_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


@st.composite
def _written_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A region and a number written as people do: national, with a trunk or country code,
    formatted with spaces/brackets/dashes, sometimes a digit off."""
    region = draw(st.sampled_from(_REGIONS))
    examples = [phonenumbers.example_number_for_type(region, kind) for kind in range(12)]
    nsns = [phonenumbers.national_significant_number(e) for e in examples if e is not None]
    if nsns and draw(st.booleans()):
        digits = draw(st.sampled_from(nsns))
        digits = draw(st.sampled_from(["", "0", "8", "1", "00", "810"])) + digits
        if draw(st.booleans()):
            digits = str(phonenumbers.country_code_for_region(region)) + digits
        if draw(st.booleans()):
            digits = digits[:-1] + str(draw(st.integers(0, 9)))
    else:
        digits = draw(st.from_regex(r"[0-9]{3,14}", fullmatch=True))
    if len(digits) > 6 and draw(st.booleans()):
        digits = f"{digits[:1]} ({digits[1:4]}) {digits[4:6]}-{digits[6:]}"
    return region, digits


@settings(max_examples=400, deadline=None)
@given(case=_written_numbers())
def test_fast_paths_agree_with_the_full_parse(case: tuple[str, str]) -> None:
    region, text = case
    reference = PhoneNormalizer(region=region)
    try:
        expected: str | None = reference._slow(text)
    except PhoneNumberError:
        expected = None
    try:
        got: str | None = PhoneNormalizer(region=region).normalize(text)
    except PhoneNumberError:
        got = None
    assert got == expected
