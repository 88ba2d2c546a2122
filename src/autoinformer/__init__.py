"""autoinformer: automated outbound calling for Python applications.

Voice broadcast, reminders and predictive dialing over Asterisk (ARI), FreeSWITCH (ESL) and a
simulated switch that runs whole campaigns in virtual time.

The public API is re-exported here::

    from autoinformer import Campaign, Script, play, say, menu, transfer, Runtime

including what a custom pacing policy needs (:class:`PacingPolicy`, :class:`PacingView`,
:class:`PacingObservation`, :class:`Observation`, :class:`ReleasingPolicy`), the compliance
defaults (:class:`AbandonGuard`, :data:`SAFE_HOURS`, :func:`default_pacing`) and the simulated
switch and its models (:class:`SimSwitch`, :class:`PartiesModel`, :class:`PopulationModel`).
"""

from autoinformer._version import __version__
from autoinformer.backends import Switch, load_backend
from autoinformer.backends.sim import SimSwitch
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
from autoinformer.core.abandon_guard import AbandonGuard, default_pacing
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
    Observation,
    PacingObservation,
    PacingPolicy,
    PacingView,
    PowerPacing,
    PredictivePacing,
    ProgressivePacing,
)
from autoinformer.pacing.base import MIN_RELEASE_AFTER, ReleasingPolicy
from autoinformer.policy import (
    CallerIdCarousel,
    CallerIdPool,
    CallWindow,
    ContactLimits,
    DeliveryRule,
    LineLimit,
    RetryPolicy,
    RetryRule,
    callee_zones,
    next_call_time,
    parse_duration,
)
from autoinformer.policy.schedule import SAFE_HOURS
from autoinformer.queues import Operator, OperatorQueue, strategy_named
from autoinformer.records import AttemptRecord, ContactProgress
from autoinformer.runtime import Runtime
from autoinformer.script import Script, callback, hangup, menu, opt_out, play, say, transfer
from autoinformer.sim.driver import simulate
from autoinformer.sim.model import PartiesModel, PopulationModel
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
    "MIN_RELEASE_AFTER",
    "SAFE_HOURS",
    "AbandonGuard",
    "AttemptRecord",
    "AudioFormat",
    "AutoinformerError",
    "BackendError",
    "BroadcastPacing",
    "CallWindow",
    "CallerIdCarousel",
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
    "Observation",
    "Operator",
    "OperatorQueue",
    "Outcome",
    "PacingObservation",
    "PacingPolicy",
    "PacingView",
    "PartiesModel",
    "PolicyError",
    "PopulationModel",
    "PowerPacing",
    "PredictivePacing",
    "ProgressivePacing",
    "QueueSettings",
    "ReleasingPolicy",
    "RetryPolicy",
    "RetryRule",
    "Runtime",
    "ScaledClock",
    "Script",
    "SettingsError",
    "SimSwitch",
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
    "callee_zones",
    "check_contacts",
    "check_recording",
    "default_pacing",
    "hangup",
    "load_backend",
    "load_campaign_file",
    "menu",
    "next_call_time",
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
