"""The settings of the FreeSWITCH backend: what ``[backend] kind = "esl"`` may say, checked.

Split from :mod:`autoinformer.backends.esl.switch` (the running switch) so the settings, their
validation and the password's resolution read on their own.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

import attrs

from autoinformer.backends.esl import commands
from autoinformer.backends.pacer import check_rate, rate_or_none
from autoinformer.errors import SettingsError

__all__ = ["PASSWORD_IN_FILE", "EslSettings"]

PASSWORD_IN_FILE = (
    "do not put the password in the campaign file; set password_env to the name of an "
    "environment variable that holds it"
)


def _positive(field: str) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
        if not (isinstance(value, int | float) and value > 0 and math.isfinite(value)):
            raise SettingsError(field, f"must be a positive number of seconds, got {value!r}")

    return check


@attrs.define(kw_only=True, eq=False)
class EslSettings:
    """The settings of :class:`~autoinformer.backends.esl.EslSwitch` (its ``[backend]`` table).

    Checked at construction: a wrong one raises :class:`~autoinformer.errors.SettingsError`
    naming the field (``backend.<key>``). The password is resolved here (``password``, else the
    ``password_env`` variable, else FreeSWITCH's default) and kept out of every repr.

    Attributes:
        host: the switch's address.
        port: its Event Socket port (``event_socket.conf.xml``, default 8021).
        password: the Event Socket password; prefer ``password_env``. Never logged or shown.
        password_env: the environment variable that holds the password.
        dial: the dial-string template for customer numbers, with ``{number}``, ``{digits}``
            or ``{national}`` (``sofia/gateway/gw1/{digits}``).
        audio_dir: local directory of the audio we play (synthesised speech, greetings).
        switch_audio_dir: the same directory as the switch sees it (shared storage).
        audio_url: or: the HTTP base URL where ``audio_dir`` is served (``http_cache://``).
        event_format: ``plain`` (default) or ``json`` events.
        machine_detection: ``auto`` (use what the server has), ``amd``, ``avmd`` or ``none``.
        amd_args: arguments for the ``amd`` application (``mod_amd``).
        avmd_timeout: seconds after answer without a beep before ``avmd`` says "person".
        inband_dtmf: start in-band DTMF detection (``start_dtmf``) when digits matter.
        connect_timeout: seconds for connecting and the auth handshake.
        command_timeout: seconds to wait for a command's reply.
        heartbeat_interval: seconds between two ``api status`` on an idle-or-not connection.
            ESL has no ping, and a hung FreeSWITCH (stopped, deadlocked) keeps its TCP
            connection open: without a heartbeat, calls in progress would be held forever.
            No reply within ``command_timeout`` drops the connection (reconnect and resync,
            ``originate`` failing at once meanwhile): a hang is noticed within the sum.
        reconnect_for: seconds away from the switch after which an error is logged, then
            again every that many seconds. The switch never gives up: it reconnects with
            back-off (up to 5 s apart) for as long as it is open. (It used to give up after
            this long; the key keeps its name.)
        event_buffer: SwitchEvents held for a slow consumer before dropping (loudly).
        max_calls_per_second: originates sent per second at most (None: no limit). Stay under
            the switch's ``sessions-per-second`` (30 in the vanilla configuration; a loopback
            call takes two sessions): beyond it FreeSWITCH refuses calls with cause 27, which
            would be recorded ``unreachable`` (:mod:`autoinformer.backends.pacer`). ``false``
            in a campaign file: no limit.
    """

    host: str = "127.0.0.1"
    port: int = 8021
    password: str | None = attrs.field(default=None, repr=False)
    password_env: str | None = None
    dial: str = "sofia/gateway/gw1/{digits}"
    audio_dir: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    switch_audio_dir: str | None = None
    audio_url: str | None = None
    event_format: Literal["plain", "json"] = "plain"
    machine_detection: Literal["auto", "amd", "avmd", "none"] = "auto"
    amd_args: str = ""
    avmd_timeout: float = attrs.field(default=8.0, validator=_positive("backend.avmd_timeout"))
    inband_dtmf: bool = False
    connect_timeout: float = attrs.field(
        default=5.0, validator=_positive("backend.connect_timeout")
    )
    command_timeout: float = attrs.field(
        default=10.0, validator=_positive("backend.command_timeout")
    )
    heartbeat_interval: float = attrs.field(
        default=10.0, validator=_positive("backend.heartbeat_interval")
    )
    reconnect_for: float = 60.0
    event_buffer: int = 10_000
    max_calls_per_second: float | None = attrs.field(default=25.0, converter=rate_or_none)

    _secret: str = attrs.field(init=False, repr=False, default="")

    def __attrs_post_init__(self) -> None:
        if not self.host:
            raise SettingsError("backend.host", "must not be empty")
        if not (isinstance(self.port, int) and 0 < self.port < 65536):
            raise SettingsError("backend.port", f"must be a TCP port 1-65535, got {self.port!r}")
        commands.validate_dial_template(self.dial)
        if self.event_format not in ("plain", "json"):
            raise SettingsError("backend.event_format", "expected 'plain' or 'json'")
        if self.machine_detection not in ("auto", "amd", "avmd", "none"):
            raise SettingsError(
                "backend.machine_detection", "expected 'auto', 'amd', 'avmd' or 'none'"
            )
        if (self.switch_audio_dir or self.audio_url) and self.audio_dir is None:
            raise SettingsError(
                "backend.audio_dir", "needed with switch_audio_dir or audio_url (what to map)"
            )
        if self.switch_audio_dir and self.audio_url:
            raise SettingsError("backend.audio_url", "give switch_audio_dir or audio_url, not both")
        if "\n" in self.amd_args or "\r" in self.amd_args:
            raise SettingsError("backend.amd_args", "must not contain a line break")
        if not (self.reconnect_for >= 0 and math.isfinite(self.reconnect_for)):
            raise SettingsError("backend.reconnect_for", "must be a number of seconds >= 0")
        if not (isinstance(self.event_buffer, int) and self.event_buffer >= 1):
            raise SettingsError("backend.event_buffer", "must be a whole number >= 1")
        check_rate("backend.max_calls_per_second", self.max_calls_per_second)
        if self.password is not None:
            self._secret = self.password
        elif self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise SettingsError(
                    "backend.password_env",
                    f"environment variable {self.password_env} is not set",
                )
            self._secret = value
        else:
            self._secret = "ClueCon"  # FreeSWITCH's out-of-the-box password

    @classmethod
    def from_settings(cls, table: Mapping[str, Any]) -> Self:
        """Build from a campaign file's ``[backend]`` table (``kind = "esl"`` is ignored).

        A plain ``password`` is refused, as by the ARI backend: a campaign file is copied,
        committed and shown; the password belongs in the environment (``password_env``).
        Code that holds the password itself passes ``password=`` to the constructor.

        Raises:
            SettingsError: an unknown key, a ``password`` key or a wrong value, naming
                ``backend.<key>`` (never the password).
        """
        known = {a.alias for a in attrs.fields(cls) if a.init} - {"password"}
        options = {k: v for k, v in table.items() if k != "kind"}
        if "password" in options:
            raise SettingsError("backend.password", PASSWORD_IN_FILE)
        for key in options:
            if key not in known:
                raise SettingsError(
                    f"backend.{key}", f"unknown setting; expected one of {', '.join(sorted(known))}"
                )
        return cls(**options)
