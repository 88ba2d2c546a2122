"""autoinformer: automated outbound calling for Python applications.

Voice broadcast, reminders and predictive dialing over Asterisk (ARI), FreeSWITCH (ESL) and a
simulated switch that runs whole campaigns in virtual time.
"""

from autoinformer._version import __version__
from autoinformer.errors import (
    AutoinformerError,
    BackendError,
    InputError,
    PolicyError,
    SettingsError,
    TemplateError,
)
from autoinformer.outcomes import ContactState, HangupCause, Outcome

__all__ = [
    "AutoinformerError",
    "BackendError",
    "ContactState",
    "HangupCause",
    "InputError",
    "Outcome",
    "PolicyError",
    "SettingsError",
    "TemplateError",
    "__version__",
]
