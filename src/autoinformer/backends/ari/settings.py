"""Settings of the Asterisk backend, validated once, and the dial-string template.

Everything here is pure: the settings come from the campaign file's ``[backend]`` table (or
keyword arguments) and are checked at construction, so a typo in ``endpoint`` fails before the
first call instead of on it. The password is read from the environment variable the campaign
names (``password_env``) and never appears in a repr or a log line.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs
import phonenumbers

from autoinformer.backends.pacer import check_rate, rate_or_none
from autoinformer.errors import SettingsError

__all__ = ["AriSettings", "render_endpoint"]

_PLACEHOLDERS = frozenset({"number", "digits", "national"})
_FIELD_PREFIX = "backend"


def _field_name(name: str) -> str:
    return f"{_FIELD_PREFIX}.{name}"


def _check_template(template: str) -> None:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise SettingsError(_field_name("endpoint"), f"bad template {template!r}: {exc}") from None
    names = {name for _, name, _, _ in parsed if name is not None}
    unknown = names - _PLACEHOLDERS
    if unknown:
        raise SettingsError(
            _field_name("endpoint"),
            f"unknown placeholder {{{sorted(unknown)[0]}}} in {template!r}; "
            "expected {number}, {digits} or {national}",
        )
    if not names:
        raise SettingsError(
            _field_name("endpoint"),
            f"{template!r} has no {{number}}, {{digits}} or {{national}} placeholder",
        )
    if "/" not in template:
        raise SettingsError(
            _field_name("endpoint"),
            f"{template!r} is not an Asterisk dial string (expected TECH/resource, "
            "e.g. PJSIP/{digits}@trunk)",
        )


def render_endpoint(template: str, number: str) -> str:
    """The Asterisk dial string for an E.164 ``number``.

    Args:
        template: e.g. ``PJSIP/{digits}@trunk`` or ``Local/{national}@phones``.
        number: E.164 with the plus (``+79508881234``).

    Returns:
        The template with ``{number}`` (E.164 with +), ``{digits}`` (without +) and
        ``{national}`` (the national dialling digits, ``89508881234`` for Russia) filled in.

    Raises:
        ValueError: ``number`` is not E.164 (``{national}`` needs a number phonenumbers can
            parse).
    """
    digits = number.removeprefix("+")
    if not number.startswith("+") or not digits.isdigit():
        raise ValueError(f"expected an E.164 number like +79508881234, got {number!r}")
    national = ""
    if "{national}" in template:
        try:
            parsed = phonenumbers.parse(number)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"cannot read {number!r} as a phone number: {exc}") from None
        formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        national = "".join(c for c in formatted if c.isdigit())
    return template.format(number=number, digits=digits, national=national)


def _check_url(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            _field_name(attribute.name),
            f"expected http(s)://host:port (e.g. http://pbx:8088), got {value!r}",
        )
    if parts.username or parts.password:
        raise SettingsError(
            _field_name(attribute.name),
            "put credentials in username / password_env, not in the URL",
        )


def _check_positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise SettingsError(_field_name(attribute.name), f"must be positive, got {value!r}")


def _check_name(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or any(c in value for c in ",&?/ \t"):
        raise SettingsError(
            _field_name(attribute.name),
            f"expected a plain name without spaces, commas or slashes, got {value!r}",
        )


def _check_subdir(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    parts = value.split("/") if isinstance(value, str) else [""]
    if not all(part and part not in (".", "..") for part in parts) or any(
        c not in _SUBDIR_CHARS for c in value
    ):
        raise SettingsError(
            _field_name(attribute.name),
            f"expected a relative directory of letters, digits, '_', '-' and '/', got {value!r}",
        )


_SUBDIR_CHARS = frozenset(string.ascii_letters + string.digits + "_-/.")


@attrs.frozen
class AriSettings:
    """How to reach one Asterisk and how to dial through it.

    Attributes:
        url: the HTTP server of Asterisk (``http://pbx:8088``); ``/ari`` is added if missing.
        username: the ARI user from ``ari.conf``.
        password: the ARI password (never shown in reprs or logs).
        app: the Stasis application name; one dialer process per name.
        endpoint: dial-string template for customers, with ``{number}``, ``{digits}`` or
            ``{national}``.
        audio: how our audio files reach Asterisk: ``sounds_dir`` (a directory both can see)
            or ``http`` (Asterisk fetches ``media_url`` + file name).
        sounds_dir: for ``sounds_dir``: our path of the directory Asterisk knows as
            ``sounds/<sounds_subdir>`` (on one machine with the test PBX:
            ``/opt/realpbx/asterisk/var/lib/asterisk/sounds/autoinformer``); files are copied
            there under a safe name with their content hash.
        sounds_subdir: the name of that directory under Asterisk's sounds directory; files
            play as ``sound:<sounds_subdir>/<name>``.
        media_url: for ``http``: the base URL Asterisk fetches files from.
        media_dir: for ``http``: the directory served at ``media_url`` (files are copied in).
        amd_context: the dialplan context that runs ``AMD()`` and returns to Stasis.
        request_timeout: seconds to wait for one REST reply.
        reconnect_max: the longest pause between two reconnection attempts.
        hangup_bridge_peers: when one side of a bridge hangs up, hang up the others too.
        event_buffer: how many events may wait for the consumer before the reader slows down.
        max_connections: REST connections kept open (and requests in flight); more only helps
            when the round trip to Asterisk is long, and each costs CPU per request in httpx.
        max_calls_per_second: originates sent per second at most (None, the default: no
            limit; Asterisk has none of its own, a SIP trunk often has one). ``false`` in a
            campaign file: no limit (:mod:`autoinformer.backends.pacer`).
    """

    url: str = attrs.field(validator=_check_url)
    username: str = attrs.field(default="autoinformer")
    password: str = attrs.field(default="", repr=False)
    app: str = attrs.field(default="autoinformer", validator=_check_name)
    endpoint: str = attrs.field(default="PJSIP/{digits}@trunk")
    audio: Literal["sounds_dir", "http"] = "sounds_dir"
    sounds_dir: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    sounds_subdir: str = attrs.field(default="autoinformer", validator=_check_subdir)
    media_url: str | None = None
    media_dir: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    amd_context: str = attrs.field(default="autoinformer-amd", validator=_check_name)
    request_timeout: float = attrs.field(default=10.0, validator=_check_positive)
    reconnect_max: float = attrs.field(default=30.0, validator=_check_positive)
    hangup_bridge_peers: bool = True
    event_buffer: int = attrs.field(default=10_000, validator=_check_positive)
    max_connections: int = attrs.field(default=4, validator=_check_positive)
    max_calls_per_second: float | None = attrs.field(default=None, converter=rate_or_none)

    def __attrs_post_init__(self) -> None:
        _check_template(self.endpoint)
        check_rate(_field_name("max_calls_per_second"), self.max_calls_per_second)
        if self.audio not in ("sounds_dir", "http"):
            raise SettingsError(
                _field_name("audio"), f"expected 'sounds_dir' or 'http', got {self.audio!r}"
            )
        if self.audio == "http":
            if not self.media_url or urlsplit(self.media_url).scheme not in ("http", "https"):
                raise SettingsError(
                    _field_name("media_url"),
                    f"audio = 'http' needs an http(s) base URL, got {self.media_url!r}",
                )
            if self.media_dir is None:
                raise SettingsError(
                    _field_name("media_dir"), "audio = 'http' needs the directory it serves"
                )

    @property
    def base_url(self) -> str:
        """The REST root, always ending in ``/ari``."""
        root = self.url.rstrip("/")
        return root if root.endswith("/ari") else f"{root}/ari"

    @property
    def events_url(self) -> str:
        """The WebSocket URL of the event stream for :attr:`app` (``ws://``/``wss://``)."""
        base = self.base_url
        scheme = "wss" if base.startswith("https") else "ws"
        return f"{scheme}{base.removeprefix('https').removeprefix('http')}/events?app={self.app}"

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
    ) -> AriSettings:
        """Settings from the campaign file's ``[backend]`` table.

        Args:
            settings: the keys ``url``, ``username``, ``password_env``, ``app``, ``endpoint``,
                ``audio``, ``sounds_dir``, ``media_url``, ``media_dir`` and the optional tuning
                keys (``sounds_subdir``...); ``kind`` is ignored.
            environ: where ``password_env`` is looked up (default: ``os.environ``).

        Raises:
            SettingsError: a key is unknown, missing or wrong (the message names it).
        """
        env = os.environ if environ is None else environ
        known = {a.name for a in attrs.fields(cls)} - {"password"}
        values: dict[str, Any] = {}
        for key, value in settings.items():
            if key in ("kind", "password_env"):
                continue
            if key == "password":
                raise SettingsError(
                    _field_name("password"),
                    "do not put the password in the campaign file; set password_env to the "
                    "name of an environment variable that holds it",
                )
            if key not in known:
                raise SettingsError(
                    _field_name(key), f"unknown key; expected one of {sorted(known)}"
                )
            values[key] = value
        if "url" not in values:
            raise SettingsError(_field_name("url"), "missing (e.g. url = 'http://pbx:8088')")
        password_env = settings.get("password_env")
        if password_env is not None:
            if not isinstance(password_env, str) or password_env not in env:
                raise SettingsError(
                    _field_name("password_env"),
                    f"environment variable {password_env!r} is not set",
                )
            values["password"] = env[password_env]
        try:
            return cls(**values)
        except TypeError as exc:
            raise SettingsError(_FIELD_PREFIX, str(exc)) from None
