"""Building FreeSWITCH command text: dial strings, channel variables, originate, media (pure).

Everything that goes into a command line is checked here, because a stray space, comma, brace
or line break in a number or a variable would change what the switch does (a newline would even
end the command and start another). Numbers must be numbers; operator endpoints and media names
may not contain the characters that delimit the originate syntax.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import phonenumbers

from autoinformer.errors import MediaError, OriginateError, SettingsError

__all__ = [
    "DIAL_FIELDS",
    "channel_vars",
    "dial_string",
    "media_argument",
    "operator_dial_string",
    "originate_command",
    "validate_dial_template",
]

DIAL_FIELDS = frozenset({"number", "digits", "national"})
"""Fields a dial template may use: ``{number}`` (E.164, ``+79508881234``), ``{digits}``
(``79508881234``) and ``{national}`` (the national form, ``89508881234``)."""

_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENDPOINT_FORBIDDEN = re.compile(r"[\s{},'\"\[\]]")


def validate_dial_template(template: str, field: str = "backend.dial") -> str:
    """Check a dial template once, at construction.

    Raises:
        SettingsError: unknown ``{field}``, a broken brace, no number field at all, or a
            character that would break the originate command.
    """
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise SettingsError(field, f"not a valid template ({exc}): {template!r}") from None
    unknown = sorted(set(names) - DIAL_FIELDS)
    if unknown:
        raise SettingsError(
            field,
            f"unknown field {{{unknown[0]}}} in {template!r}; use {{number}}, {{digits}} "
            "or {national}",
        )
    if not names:
        raise SettingsError(field, f"{template!r} has no {{number}}, {{digits}} or {{national}}")
    if _ENDPOINT_FORBIDDEN.search(template.replace("{", "").replace("}", "")):
        raise SettingsError(field, f"{template!r} contains a space, comma, quote or bracket")
    return template


def _national(number: str, digits: str) -> str:
    try:
        parsed = phonenumbers.parse(number if number.startswith("+") else "+" + number)
    except phonenumbers.NumberParseException:
        return digits
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(c for c in national if c.isdigit()) or digits


def dial_string(template: str, destination: str) -> str:
    """The dial string for a customer number (``sofia/gateway/gw1/{digits}``).

    Raises:
        OriginateError: ``destination`` is not a phone number.
    """
    number = destination
    if not _NUMBER.fullmatch(number):
        raise OriginateError(f"not a phone number: {destination!r}")
    digits = number.lstrip("+")
    national = _national(number, digits) if "{national}" in template else digits
    return template.format(number=number, digits=digits, national=national)


def operator_dial_string(endpoint: str) -> str:
    """An operator endpoint (``user/1001``) used as-is, once checked.

    Raises:
        OriginateError: the endpoint is empty or contains a character of the originate syntax.
    """
    if not endpoint or _ENDPOINT_FORBIDDEN.search(endpoint):
        raise OriginateError(f"not a usable operator endpoint: {endpoint!r}")
    return endpoint


def _var_value(name: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise OriginateError(f"channel variable {name}: a line break is not allowed")
    if "'" in value:
        raise OriginateError(f"channel variable {name}: a single quote is not allowed")
    value = value.replace("\\", "\\\\").replace(",", "\\,")
    if any(c in value for c in " {}"):
        value = f"'{value}'"
    return value


def channel_vars(variables: Mapping[str, str]) -> str:
    """``{a=1,b=x\\,y}``: channel variables for an originate, escaped for FreeSWITCH.

    Raises:
        OriginateError: a name is not an identifier, or a value holds a line break or quote.
    """
    parts = []
    for name, value in variables.items():
        if not _VAR_NAME.fullmatch(name):
            raise OriginateError(f"not a valid channel variable name: {name!r}")
        parts.append(f"{name}={_var_value(name, str(value))}")
    return "{" + ",".join(parts) + "}"


def originate_command(
    *,
    uuid: str,
    dial: str,
    caller_id: str | None,
    ring_timeout: float,
    variables: Mapping[str, str] | None,
    call_id: str,
) -> str:
    """The ``originate`` API command (to be sent with ``bgapi``) that parks the answered call.

    Our own ``origination_uuid`` names the channel before it exists, so no event about it can
    arrive before we know it; ``ignore_early_media`` keeps a ringback tone from counting as an
    answer; ``autoinformer_call_id`` lets a resync recognise our calls.
    """
    if not (ring_timeout > 0 and math.isfinite(ring_timeout)):
        raise OriginateError(f"ring_timeout must be a positive number, got {ring_timeout!r}")
    merged: dict[str, str] = {}
    if variables:
        merged.update(variables)
    merged["origination_uuid"] = uuid
    merged["originate_timeout"] = str(max(1, math.ceil(ring_timeout)))
    merged["ignore_early_media"] = "true"
    merged["autoinformer_call_id"] = call_id
    if caller_id:
        merged["origination_caller_id_number"] = caller_id
    return f"originate {channel_vars(merged)}{dial} &park()"


_TEXT_SCHEMES = ("tts:", "say:", "speak:")
"""Prefixes that make ``playback`` speak text (a TTS engine, ``mod_say``): raw text never goes
to the switch as media (FreeSWITCH 1.11.1 answers ``tts://...`` with FILE NOT FOUND without an
engine, and *says* ``say:hello`` as best it can and reports FILE PLAYED)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_media_text(text: str, what: str) -> str:
    """Refuse what FreeSWITCH would read as something else than a sound's name."""
    if _CONTROL.search(text):
        raise MediaError(f"{what}: a line break or control character in {text!r}")
    if "${" in text:
        raise MediaError(f"{what}: {text!r} has ${{...}}, which the switch expands as a variable")
    return text


def media_argument(
    *,
    path: Path | None,
    builtin: str | None,
    audio_dir: Path | None,
    switch_audio_dir: str | None,
    audio_url: str | None,
) -> str:
    """What ``playback`` should open on the switch for a :class:`~..base.Media`.

    A builtin (``tone_stream://...``, ``ivr/ivr-welcome.wav``: relative names are the switch's
    sounds) goes as-is once checked. A local file must exist; it is mapped into the switch's
    view: below ``audio_dir`` it becomes ``switch_audio_dir/REL`` (a shared directory) or
    ``http_cache://AUDIO_URL/REL`` (served over HTTP); with neither set the switch is assumed
    to see our file system (same machine) and gets the absolute path. The argument travels as a
    ``sendmsg`` header (``execute-app-arg``), so spaces, quotes, ``!`` and ``%`` reach the switch
    unchanged (checked on FreeSWITCH 1.11.1).

    Raises:
        MediaError: a builtin that is text (``tts:``/``say:``, spaces), starts with ``{`` or
            ``[`` (channel variables), holds ``${`` (expanded by the switch) or a line break;
            a file that does not exist or lies outside ``audio_dir``.
    """
    if builtin is not None:
        name = _check_media_text(builtin, "media.builtin")
        if not name.strip():
            raise MediaError("media.builtin: empty")
        if name.lower().startswith(_TEXT_SCHEMES):
            raise MediaError(
                f"media.builtin: {name!r} asks the switch to speak text; FreeSWITCH has no TTS "
                "here: render the text with autoinformer.speech and play the file (Media(path=...))"
            )
        if any(c.isspace() for c in name):
            raise MediaError(
                f"media.builtin: {name!r} has spaces: text is not a sound name (a local file "
                "goes as Media(path=...))"
            )
        if name.startswith(("{", "[")):
            raise MediaError(f"media.builtin: {name!r} starts with channel-variable syntax")
        return name
    assert path is not None
    local = Path(path).absolute()
    _check_media_text(str(local), "media.path")
    if not local.is_file():
        raise MediaError(f"media.path: no such file {str(local)!r}")
    if audio_dir is None or (switch_audio_dir is None and audio_url is None):
        return str(local)
    try:
        rel = PurePosixPath(*local.resolve().relative_to(audio_dir.resolve()).parts)
    except ValueError:
        raise MediaError(
            f"media.path: {local} is not inside backend.audio_dir {audio_dir}, so the switch "
            "cannot reach it"
        ) from None
    if audio_url is not None:
        return f"http_cache://{audio_url.rstrip('/')}/{quote(str(rel))}"
    assert switch_audio_dir is not None
    return _check_media_text(f"{switch_audio_dir.rstrip('/')}/{rel}", "media.path")
