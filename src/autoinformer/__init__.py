"""autoinformer: automated outbound calling for Python applications.

Voice broadcast, reminders and predictive dialing over Asterisk (ARI), FreeSWITCH (ESL) and a
simulated switch that runs whole campaigns in virtual time.

The public API is re-exported here::

    from autoinformer import Campaign, Script, play, say, menu, transfer, Runtime
"""

from autoinformer._version import __version__
from autoinformer.backends import Switch, load_backend
from autoinformer.campaign import Campaign, QueueSettings, SmsRules
from autoinformer.campaign_file import load_campaign_file
from autoinformer.clock import ScaledClock, WallClock
from autoinformer.contacts import (
    Contact,
    DoNotCallList,
    ImportReport,
    check_contacts,
    read_contacts,
    write_template,
)
from autoinformer.core import DialerCore
from autoinformer.errors import (
    AutoinformerError,
    BackendError,
    InputError,
    PolicyError,
    SettingsError,
    TemplateError,
)
from autoinformer.outcomes import ContactState, HangupCause, Outcome
from autoinformer.pacing import (
    BroadcastPacing,
    PowerPacing,
    PredictivePacing,
    ProgressivePacing,
)
from autoinformer.policy import (
    CallerIdPool,
    CallWindow,
    ContactLimits,
    DeliveryRule,
    LineLimit,
    RetryPolicy,
    RetryRule,
    parse_duration,
)
from autoinformer.queues import Operator, OperatorQueue, strategy_named
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.runtime import Runtime
from autoinformer.script import Script, callback, hangup, menu, opt_out, play, say, transfer
from autoinformer.sim.driver import simulate
from autoinformer.sms import FileSmsSender, LogSmsSender, SmsSender, WebhookSmsSender
from autoinformer.speech import (
    AudioFormat,
    EngineRenderer,
    EspeakEngine,
    FragmentCache,
    SpeechRenderer,
    Template,
    check_recording,
)
from autoinformer.stats import CampaignStats, write_cdr_csv, write_cdr_xlsx
from autoinformer.store import MemoryStore, SqliteStore, Store

__all__ = [
    "AttemptRecord",
    "AudioFormat",
    "AutoinformerError",
    "BackendError",
    "BroadcastPacing",
    "CallWindow",
    "CallerIdPool",
    "Campaign",
    "CampaignStats",
    "Contact",
    "ContactLimits",
    "ContactProgress",
    "ContactState",
    "DeliveryRule",
    "DialerCore",
    "DoNotCallList",
    "EngineRenderer",
    "EspeakEngine",
    "FileSmsSender",
    "FragmentCache",
    "HangupCause",
    "ImportReport",
    "InputError",
    "LineLimit",
    "LogSmsSender",
    "MemoryStore",
    "Operator",
    "OperatorQueue",
    "Outcome",
    "PolicyError",
    "PowerPacing",
    "PredictivePacing",
    "ProgressivePacing",
    "QueueSettings",
    "RetryPolicy",
    "RetryRule",
    "Runtime",
    "ScaledClock",
    "Script",
    "SettingsError",
    "SmsRules",
    "SmsSender",
    "SpeechRenderer",
    "SqliteStore",
    "Store",
    "Switch",
    "Template",
    "TemplateError",
    "WallClock",
    "WebhookSmsSender",
    "__version__",
    "callback",
    "check_contacts",
    "check_recording",
    "hangup",
    "load_backend",
    "load_campaign_file",
    "menu",
    "opt_out",
    "parse_duration",
    "play",
    "read_contacts",
    "say",
    "simulate",
    "strategy_named",
    "transfer",
    "write_cdr_csv",
    "write_cdr_xlsx",
    "write_template",
]
