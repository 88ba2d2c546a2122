"""Phone numbers as people write them, turned into E.164 (``+79508881234``) or a clear reason.

Validation is phonenumbers' own (``parse`` + ``is_valid_number``); this module adds what real
lists need on top of it:

* a default region for numbers written without the country code (seed 004: Indonesian
  ``87630021323`` -> ``+6287630021323``);
* numbers written *with* the country code but without ``+`` (``79508881234`` in a Russian
  list): the region's own code is understood; another country's (``17605632123``, the US) only
  when the list allows that country (``countries=["US"]``), so a typo never becomes a call
  abroad: digits that start with the region's trunk prefix (``8 123 456-78-90`` in Russia)
  stay national and are reported when the national number is invalid, never re-read as
  ``+81...`` (Japan); the same holds for a number dialled with the international prefix
  (``8~10 1 760...``);
* spreadsheet damage: ``87630021323.0``, scientific notation and numeric cells are turned back
  into the digits the person typed, or reported when digits were lost; never guessed;
* speed for million-row lists: a cache by raw text; fast paths for ``+`` and digits and for
  plain (or simply formatted) national digits that follow ``phonenumbers.parse``'s own steps
  with the metadata's regexes compiled once, and give way to the full parse whenever they could
  disagree with it (:mod:`autoinformer.contacts._validity`, checked against phonenumbers by
  the tests).

Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal
from functools import cache

import attrs
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

from autoinformer.contacts._validity import is_valid_national, parse_national
from autoinformer.errors import InputError, SettingsError

__all__ = [
    "PhoneNormalizer",
    "PhoneNumberError",
    "check_countries",
    "check_region",
    "e164_phone",
    "normalize_phone",
    "phone_text",
    "split_phones",
]

_E164 = re.compile(r"\+[1-9][0-9]{3,16}")
_SCIENTIFIC = re.compile(r"([+-]?)([0-9]*)(?:[.,]([0-9]*))?[eE]\+?([0-9]{1,3})")
_FLOAT_TEXT = re.compile(r"([0-9]+)\.0+")
_FORMATTED_DIGITS = re.compile(r"[0-9][0-9 ()\-.]*[0-9]")
_FORMATTING = re.compile(r"[ ()\-.]")
_SPLIT = re.compile(r"[;,|\n\r]+")
_NON_DIGITS = re.compile(r"[^0-9]")
_CACHE_LIMIT = 65_536
_MAX_EXACT_FLOAT = 10**15  # every integer below this is exact in a float; E.164 has <= 15 digits


class PhoneNumberError(InputError, ValueError):
    """A phone number that cannot be used, with a reason a person understands.

    Attributes:
        value: the text as it was given.
        reason: why it was rejected (``"too short for Russia"``).
    """

    def __init__(self, value: str, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"{value!r}: {reason}")


def check_region(region: str | None, field: str = "region") -> str | None:
    """Validate a default region (ISO 3166 alpha-2, any case) and return it upper-cased.

    Raises:
        SettingsError: the region is not one phonenumbers knows.
    """
    if region is None:
        return None
    upper = region.strip().upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(
            field, f"{region!r} is not a country code phonenumbers knows (e.g. RU, US, ID, GB)"
        )
    return upper


def check_countries(
    countries: str | Iterable[str] | None, field: str = "countries"
) -> frozenset[str] | None:
    """The countries a list may call besides its own region, validated and upper-cased.

    Args:
        countries: region codes (``["KZ", "US"]`` or ``"KZ, US"``); ``None`` or ``"any"``:
            every country (numbers written without ``+`` may carry any country code).

    Returns:
        The region codes, or None for any country.

    Raises:
        SettingsError: a code phonenumbers does not know (``field`` names the setting).
    """
    if countries is None:
        return None
    if isinstance(countries, str):
        if countries.strip().lower() in ("any", "*"):
            return None
        countries = [part for part in re.split(r"[,\s]+", countries) if part]
    if not isinstance(countries, Iterable):
        raise SettingsError(
            field, f"expected region codes like ['RU', 'KZ'], got {type(countries).__name__}"
        )
    out: set[str] = set()
    for i, code in enumerate(countries):
        if not isinstance(code, str):
            raise SettingsError(f"{field}[{i}]", f"expected a region code like 'KZ', got {code!r}")
        checked = check_region(code, f"{field}[{i}]")
        assert checked is not None
        out.add(checked)
    return frozenset(out)


@cache
def _country_name(region: str | None, calling_code: int) -> str:
    if region in (None, "001", "ZZ"):
        return f"country code +{calling_code}"
    try:
        from babel import Locale  # local import: babel's locale data is only needed for errors

        name = Locale.parse("en").territories.get(region)
    except Exception:  # babel data missing: still give a usable message
        name = None
    return f"{name or region} (+{calling_code})"


def _country_of(number: PhoneNumber) -> str:
    cc = number.country_code or 0
    return _country_name(phonenumbers.region_code_for_country_code(cc), cc)


def _reason_invalid(number: PhoneNumber) -> str:
    """Why a parsed number is not valid, in words."""
    where = _country_of(number)
    nsn = phonenumbers.national_significant_number(number)
    why = phonenumbers.is_possible_number_with_reason(number)
    if why == ValidationResult.INVALID_COUNTRY_CODE:
        return f"unknown country code +{number.country_code}"
    if why == ValidationResult.TOO_SHORT:
        return f"too short for {where}: {len(nsn)} digits after the country code"
    if why == ValidationResult.TOO_LONG:
        return f"too long for {where}: {len(nsn)} digits after the country code"
    if why == ValidationResult.INVALID_LENGTH:
        return f"wrong number of digits for {where}: {len(nsn)} after the country code"
    if why == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return f"a local number in {where}: the area code is missing"
    return f"not a valid number in {where}: no such area or mobile code ({nsn})"


_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    NumberParseException.TOO_LONG: "too long to be a phone number",
}


def _reason_parse(exc: NumberParseException, region: str | None, text: str) -> str:
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and region is None:
        if text.startswith("+"):
            return "unknown country code"
        return "no country code: write it as +<country code><number>, or give a default region"
    return _PARSE_REASONS.get(exc.error_type, "not a phone number")


def phone_text(value: object, number_format: str | None = None) -> str:
    """The digits a person typed, from a cell that may have been mangled by a spreadsheet.

    Args:
        value: a CSV string, or an XLSX cell value (``int``, ``float``, ``str``).
        number_format: the XLSX cell's number format; a zero-padding format such as
            ``00000000000`` restores the leading zeros the person saw.

    Returns:
        The text to parse as a phone number (unchanged when nothing was wrong with it).

    Raises:
        PhoneNumberError: digits were lost (scientific notation with fewer digits than the
            number has, a fraction, a number too large to be stored exactly).
    """
    if isinstance(value, bool):
        raise PhoneNumberError(str(value), "a TRUE/FALSE cell is not a phone number")
    if isinstance(value, int):
        digits = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer() or value < 0:
            raise PhoneNumberError(repr(value), "a number with a fraction is not a phone number")
        if value >= _MAX_EXACT_FLOAT:
            raise PhoneNumberError(
                repr(value),
                "too many digits to be stored as a spreadsheet number (they get rounded): "
                "format the phone column as Text and type the numbers again",
            )
        digits = str(int(value))
    else:
        return _text_phone(str(value))
    if number_format and set(number_format) == {"0"} and len(number_format) > len(digits):
        digits = digits.zfill(len(number_format))
    return digits


def _text_phone(text: str) -> str:
    stripped = text.strip()
    match = _SCIENTIFIC.fullmatch(stripped)
    if match is not None:
        sign, whole, fraction, exponent = match.groups()
        fraction = fraction or ""
        written = (whole + fraction).lstrip("0")
        amount = Decimal(f"{whole or '0'}.{fraction or '0'}e{exponent}")
        if sign == "-" or amount != amount.to_integral_value():
            raise PhoneNumberError(text, "a number with a fraction is not a phone number")
        digits = str(int(amount))
        if len(written) < len(digits):
            raise PhoneNumberError(
                text,
                "written in scientific notation by a spreadsheet: the last "
                f"{len(digits) - len(written)} digits were lost; format the phone column "
                "as Text and type the numbers again",
            )
        return digits
    match = _FLOAT_TEXT.fullmatch(stripped)
    if match is not None:
        return match.group(1)
    return stripped


def split_phones(text: str) -> list[str]:
    """Split a cell holding several numbers (``"17605632123; 79508881234"``), keeping order.

    Separators are ``;``, ``,``, ``|`` and line breaks; empty parts are dropped.
    """
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


@attrs.define(kw_only=True)
class PhoneNormalizer:
    """Turns phone text into E.164 for one default region, with a cache (pure, not thread-safe).

    Args:
        region: the default region for numbers written without the country code (``"RU"``,
            ``"ID"``); ``None`` means every number must carry its country code.
        countries: other countries whose code may be written without ``+`` (``["KZ"]``);
            the default, empty, allows only the region's own code (a number written with
            ``+`` may be in any country). ``None`` (or ``"any"``) allows every country, as a
            do-not-call list does (blocking a number is never a call abroad). Without a
            region and without ``countries`` the digits may carry any code.

    Raises:
        SettingsError: ``region`` or a country is not a known region code.
    """

    region: str | None = attrs.field(default=None, converter=check_region)
    countries: frozenset[str] | None = attrs.field(default=frozenset(), converter=check_countries)
    _cache: dict[str, str | PhoneNumberError] = attrs.field(init=False, factory=dict)

    def normalize(self, text: str) -> str:
        """The E.164 form of ``text``.

        Raises:
            PhoneNumberError: the text is not a valid phone number (with the reason).
        """
        hit = self._cache.get(text)
        if hit is None:
            hit = self._compute(text)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[text] = hit
        if isinstance(hit, PhoneNumberError):
            raise PhoneNumberError(hit.value, hit.reason)
        return hit

    def _compute(self, text: str) -> str | PhoneNumberError:
        cleaned = text.strip()
        if not cleaned:
            return PhoneNumberError(text, "no phone number")
        if _E164.fullmatch(cleaned) is not None:
            fast = self._fast_e164(cleaned)
            if fast is not None:
                return fast
        elif self.region is not None and _FORMATTED_DIGITS.fullmatch(cleaned) is not None:
            parsed = parse_national(_FORMATTING.sub("", cleaned), self.region)
            if parsed is not None and is_valid_national(*parsed):
                return f"+{parsed[0]}{parsed[1]}"
        try:
            return self._slow(cleaned)
        except PhoneNumberError as exc:
            return PhoneNumberError(text, exc.reason)

    def _fast_e164(self, text: str) -> str | None:
        """Validate ``+digits`` without ``phonenumbers.parse``; None when unsure.

        ``parse`` would split off the country code exactly as below and then only strip a
        national prefix; when the region's national prefix cannot match, the parsed number is
        exactly (country code, the remaining digits), and validity is phonenumbers' rule.
        """
        digits = text[1:]
        cc, nsn = _split_country_code(digits)
        if cc == 0 or len(nsn) < 2:
            return None
        prefix = _national_prefix_pattern(cc)
        if prefix is None or prefix.match(nsn) is not None:
            return None
        if nsn.strip("0") == "":
            return None
        if is_valid_national(cc, nsn):
            return text
        return None

    def _slow(self, text: str) -> str:
        region = self.region
        reason: str
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException as exc:
            reason = _reason_parse(exc, region, text)
        else:
            if _valid(number):
                refused = self._abroad(text, number)
                if refused is None:
                    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                raise PhoneNumberError(text, refused)
            reason = _reason_invalid(number)
        if not text.startswith("+"):
            digits = _NON_DIGITS.sub("", text)
            if digits and digits[0] != "0" and len(digits) <= 17 and not self._trunk(digits):
                try:
                    number = phonenumbers.parse("+" + digits, None)
                except NumberParseException:
                    pass
                else:
                    if _valid(number):
                        refused = self._abroad(text, number)
                        if refused is not None:
                            raise PhoneNumberError(text, refused)
                        return phonenumbers.format_number(
                            number, phonenumbers.PhoneNumberFormat.E164
                        )
        raise PhoneNumberError(text, reason)

    def _trunk(self, digits: str) -> bool:
        """Whether ``digits`` start with the region's trunk (national) prefix: such a number
        is national, and an invalid one is a typo, not another country's code."""
        if self.region is None:
            return False
        prefix = _trunk_prefix(self.region)
        return bool(prefix) and digits.startswith(prefix)

    def _abroad(self, text: str, number: PhoneNumber) -> str | None:
        """Why a valid number written without ``+`` must not be taken (None: it may).

        Its country code must be the region's own, or the number must be in a country the
        list allows: a country code read out of digits that lack ``+`` may be a typo.
        """
        if text.startswith("+") or self.countries is None:
            return None
        if self.region is None and not self.countries:
            return None
        cc = number.country_code or 0
        if self.region is not None and cc == phonenumbers.country_code_for_region(self.region):
            return None
        where = phonenumbers.region_code_for_number(number)
        if where in self.countries:
            return None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        home = (
            f"a number of {_country_name(self.region, _cc(self.region))}"
            if self.region is not None
            else "written with +"
        )
        allowed = ", ".join(sorted(self.countries)) or "none"
        return (
            f"read as {e164}, a call to {_country_of(number)}: a number without + must be "
            f"{home} or in a country the list allows (countries: {allowed}); "
            f"write it with + if it is meant, or allow {where}"
        )


def _cc(region: str | None) -> int:
    return phonenumbers.country_code_for_region(region) if region else 0


@cache
def _trunk_prefix(region: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    prefix = getattr(metadata, "national_prefix", None) or ""
    return prefix if prefix.isdigit() else ""


def e164_phone(text: object, field: str = "phones") -> str:
    """A number given to the Python API as E.164: checked, formatting removed.

    ``"+7 916 123-45-67"`` -> ``"+79161234567"``. A number in a known country code with a
    possible length is taken even when phonenumbers does not know its range (the fictional
    ``+1 555`` numbers of the simulator's test convention). A number without ``+`` is
    refused: without
    the list's region it cannot be known which country it is in (``89161234567`` is Russian
    only in Russia); use :func:`normalize_phone` with the region, or :func:`read_contacts`.

    Raises:
        SettingsError: not a string, no ``+``, or not a valid number (``field`` names it).
    """
    if not isinstance(text, str):
        raise SettingsError(field, f"expected a phone number as text, got {text!r}")
    cleaned = text.strip()
    if not cleaned.startswith("+"):
        raise SettingsError(
            field,
            f"{text!r} has no country code: give numbers in E.164 (with +country code), or "
            "normalize_phone(text, region) / read_contacts(path, region=...) for national ones",
        )
    try:
        return _DEFAULT.normalize(cleaned)
    except PhoneNumberError as exc:
        reason = exc.reason
    # E.164 in form though not in a range phonenumbers knows (the fictional +1 555 numbers of
    # the simulator's test convention): a known country code and a possible length.
    try:
        number = phonenumbers.parse(cleaned, None)
    except NumberParseException:
        number = None
    if (
        number is not None
        and _E164.fullmatch(_FORMATTING.sub("", cleaned)) is not None
        and phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE
    ):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise SettingsError(field, f"{text!r}: {reason}")


def _valid(number: PhoneNumber) -> bool:
    cc = number.country_code
    return cc is not None and is_valid_national(
        cc, phonenumbers.national_significant_number(number)
    )


def _split_country_code(digits: str) -> tuple[int, str]:
    """phonenumbers' own rule: the shortest 1-3 digit prefix that is a known calling code."""
    for size in (1, 2, 3):
        if len(digits) > size:
            cc = int(digits[:size])
            if cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return cc, digits[size:]
    return 0, digits


_NEVER = re.compile(r"(?!)")


@cache
def _national_prefix_pattern(cc: int) -> re.Pattern[str] | None:
    """The regex phonenumbers strips as a national prefix for ``cc`` (never-matching if none).

    None when the metadata cannot be found (the caller then takes the full parse).
    """
    region = phonenumbers.region_code_for_country_code(cc)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
    if metadata is None:
        return None
    pattern = metadata.national_prefix_for_parsing or metadata.national_prefix
    if not pattern:
        return _NEVER
    return re.compile(pattern)


_DEFAULT = PhoneNormalizer()


def normalize_phone(
    text: str, region: str | None = None, *, countries: Iterable[str] | str | None = ()
) -> str:
    """E.164 form of one phone number (see :class:`PhoneNormalizer` for lists).

    Args:
        text: the number as written (``"8 (950) 888-12-34"``, ``"+7 950 888 12 34"``).
        region: default region for numbers without the country code.
        countries: other countries whose code may be written without ``+`` (see
            :class:`PhoneNormalizer`).

    Returns:
        The number in E.164 (``"+79508881234"``).

    Raises:
        PhoneNumberError: not a valid number; ``reason`` says why.
        SettingsError: unknown ``region``.
    """
    allowed = check_countries(countries)
    if region is None and allowed == frozenset():
        return _DEFAULT.normalize(text)
    return _normalizer_for(check_region(region), allowed).normalize(text)


@cache
def _normalizer_for(region: str | None, countries: frozenset[str] | None) -> PhoneNormalizer:
    return PhoneNormalizer(region=region, countries=countries)
