"""One exception tree for the whole library.

Every error the library raises derives from :class:`AutoinformerError`, so an application can
catch everything of ours with one ``except`` clause and nothing of ours escapes as a raw
``httpx``, ``OSError`` or ``openpyxl`` exception::

    AutoinformerError
    ├── InputError                 bad input from the user: files, settings, templates
    │   ├── ContactListError       a contact list that cannot be read at all
    │   ├── SettingsError          a settings value or campaign-file key that is wrong
    │   └── TemplateError          a speech template with a syntax error (has a position)
    ├── PolicyError                a call the compliance rules forbid
    ├── StoreError                 the durable store failed
    ├── ExportError                a call-record export (CSV, XLSX) could not be written
    ├── SpeechUnavailable          the campaign's messages cannot be rendered (no engine)
    └── BackendError               talking to a switch (or an SMS gateway) failed
        ├── BackendUnavailable     cannot connect / connection lost
        ├── OriginateError         the switch refused to place the call
        ├── CallNotFound           the call no longer exists on the switch (ARI 404)
        ├── WrongCallState         the call is not in a state that allows this (ARI 409/412)
        ├── BackendTimeout         a reply or event did not arrive before its deadline
        ├── MediaError             a media the switch cannot be given (raw text, unsafe name)
        └── SmsError               a text message could not be handed to the SMS gateway
            ├── SmsRejected        the gateway refused it (HTTP 4xx): retrying will not help
            └── SmsUnavailable     unreachable or failing after retries (also BackendUnavailable)

The SMS errors are importable from :mod:`autoinformer.sms` and ExportError from
:mod:`autoinformer.stats` as well, where they are raised.
"""

from __future__ import annotations

__all__ = [
    "AutoinformerError",
    "BackendError",
    "BackendTimeout",
    "BackendUnavailable",
    "CallNotFound",
    "ContactListError",
    "ExportError",
    "InputError",
    "MediaError",
    "OriginateError",
    "PolicyError",
    "SettingsError",
    "SmsError",
    "SmsRejected",
    "SmsUnavailable",
    "SpeechUnavailable",
    "StoreError",
    "TemplateError",
    "WrongCallState",
]


class AutoinformerError(Exception):
    """The root of every exception this library raises."""


class InputError(AutoinformerError):
    """Input from the user (a file, a setting, a template) is wrong."""


class ContactListError(InputError):
    """A contact list cannot be read at all (row-level problems are reported, not raised)."""


class SettingsError(InputError, ValueError):
    """A settings value is wrong; the message names the field (or campaign-file key)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class TemplateError(InputError, ValueError):
    """A speech template has a syntax error at ``position`` (0-based character offset)."""

    def __init__(self, message: str, *, template: str, position: int) -> None:
        self.message = message
        self.template = template
        self.position = position
        super().__init__(f"{message} at position {position}")

    def pointer(self) -> str:
        """The template with a caret under the offending character, for terminals."""
        return f"{self.template}\n{' ' * self.position}^"


class PolicyError(AutoinformerError):
    """A call the compliance rules forbid (outside hours, do-not-call, caps)."""


class StoreError(AutoinformerError):
    """The durable store could not read or write."""


class ExportError(AutoinformerError):
    """An export could not be written (the message names the file)."""


class SpeechUnavailable(AutoinformerError):
    """The campaign's ``say`` steps cannot be rendered by any of its engines (espeak-ng not
    installed, gTTS without network): checked before anyone is called."""


class BackendError(AutoinformerError):
    """Talking to a telephone switch (or another outside service, an SMS gateway) failed."""


class BackendUnavailable(BackendError):
    """The switch cannot be reached or the connection to it was lost."""


class OriginateError(BackendError):
    """The switch refused to place a call."""


class CallNotFound(BackendError):
    """The call does not exist (any more) on the switch."""


class WrongCallState(BackendError):
    """The call exists but is not in a state that allows the operation."""


class BackendTimeout(BackendError):
    """A reply or an event did not arrive before its deadline."""


class SmsError(BackendError):
    """An SMS could not be delivered to the gateway."""


class SmsRejected(SmsError):
    """The gateway refused the message (HTTP 4xx other than 429); retrying will not help.

    ``status`` is the HTTP status; ``reason`` the start of the gateway's answer.
    """

    def __init__(self, message: str, *, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class SmsUnavailable(SmsError, BackendUnavailable):
    """The gateway could not be reached or kept failing (5xx, 429, network) after retries."""


class MediaError(BackendError):
    """A media cannot be handed to the switch as it is: raw text or a TTS name where a sound is
    expected (``tts:...``, which the switch cannot play), a name with characters of the
    switch's command syntax (line breaks, quotes, ``{...}`` variables), or a local file the
    switch cannot reach. Nothing was sent; fix the media or the backend's audio settings."""
