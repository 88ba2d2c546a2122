"""Campaign settings: one frozen, validated value that says everything about a campaign.

Everything that may be wrong is checked here, at construction, with an error that names the
field, so a campaign with a typo fails before anyone is called. The policies it holds
(:mod:`autoinformer.policy`) are values too; the stateful parts (the caller-ID carousel, the
operator queues, the pacing policy) are built from these settings by the dialer core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Literal

import attrs

from autoinformer.errors import SettingsError, TemplateError
from autoinformer.pacing._checks import check_window_seconds
from autoinformer.queues.base import DistributionStrategy, FirstIdle, Operator
from autoinformer.script.steps import Script

if TYPE_CHECKING:
    from autoinformer.policy.callerid import CallerIdPool
    from autoinformer.policy.limits import ContactLimits
    from autoinformer.policy.retry import RetryPolicy
    from autoinformer.policy.schedule import CallWindow

__all__ = ["Campaign", "QueueSettings", "SmsRules"]


@attrs.frozen(kw_only=True)
class SmsRules:
    """When to send a text message (seed 004). Texts are templates like ``say`` steps.

    Attributes:
        on_hangup: sent after a call a person answered, when it ends.
        on_missed: sent after a missed call (no answer, busy, rejected, unreachable).
        missed_when: ``final`` sends ``on_missed`` once, when the last attempt was missed and
            no retry is left; ``every`` after each missed attempt.
    """

    on_hangup: str | None = None
    on_missed: str | None = None
    missed_when: Literal["final", "every"] = "final"

    def __attrs_post_init__(self) -> None:
        if self.missed_when not in ("final", "every"):
            raise SettingsError(
                "sms.missed_when", f"expected 'final' or 'every', got {self.missed_when!r}"
            )
        for field in ("on_hangup", "on_missed"):
            value = getattr(self, field)
            if value is not None and not value.strip():
                raise SettingsError(f"sms.{field}", "is empty (leave it out to send nothing)")


def _operators(value: Iterable[Operator]) -> tuple[Operator, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class QueueSettings:
    """An operator queue the script can ``transfer`` to.

    Attributes:
        name: the queue's name (``transfer("operators")``).
        operators: who answers, in member order.
        max_wait: seconds an answered callee may wait for an operator to connect (ringing
            included) before the call counts as ``abandoned``.
        wrapup: seconds of after-call work before an operator gets the next call.
        ring_timeout: seconds to ring an operator's phone.
        hold_music: a file played while the callee waits (None: silence).
        strategy: a factory for the distribution strategy (default: first idle in order).
    """

    name: str
    operators: tuple[Operator, ...] = attrs.field(converter=_operators)
    max_wait: float = 30.0
    wrapup: float = 10.0
    ring_timeout: float = 20.0
    hold_music: str | None = None
    strategy: Callable[[], DistributionStrategy] = FirstIdle

    def __attrs_post_init__(self) -> None:
        field = f"queues.{self.name}"
        if not self.name.strip():
            raise SettingsError("queues", "a queue needs a name")
        if not self.operators:
            raise SettingsError(f"{field}.operators", "needs at least one operator")
        ids = [op.id for op in self.operators]
        if len(set(ids)) != len(ids):
            raise SettingsError(f"{field}.operators", "operator ids must be unique")
        if self.max_wait < 0:
            raise SettingsError(f"{field}.max_wait", "must be >= 0 seconds")
        if self.wrapup < 0:
            raise SettingsError(f"{field}.wrapup", "must be >= 0 seconds")
        if self.ring_timeout <= 0:
            raise SettingsError(f"{field}.ring_timeout", "must be > 0 seconds")


def _default_retry() -> RetryPolicy:
    from autoinformer.policy.retry import RetryPolicy

    return RetryPolicy()


def _default_limits() -> ContactLimits:
    from autoinformer.policy.limits import ContactLimits

    return ContactLimits()


def _default_window(self: Campaign) -> CallWindow:
    from autoinformer.policy.schedule import CallWindow

    window = CallWindow.safe_default(self.timezone)
    return attrs.evolve(window, campaign_default=window.timezone)


def _follow_zone(window: CallWindow, timezone: str) -> CallWindow:
    """The campaign's own default window in ``timezone``: ``attrs.evolve(campaign,
    timezone=...)`` passes the old window along, which must not keep the old zone. A window
    the user gave (even the safe default, spelled out, or the campaign's own given another
    zone) is theirs and stays as it is."""
    from autoinformer.policy.schedule import CallWindow
    from autoinformer.policy.zones import to_zone

    if window.campaign_default is None or window.timezone != window.campaign_default:
        return window
    try:
        zone = to_zone(timezone)
    except SettingsError as exc:
        raise SettingsError("timezone", str(exc)) from None
    if window.timezone == zone or window != CallWindow.safe_default(window.timezone):
        return window
    moved = CallWindow.safe_default(zone)
    return attrs.evolve(moved, campaign_default=moved.timezone)


def _queues(value: object) -> Mapping[str, QueueSettings]:
    if isinstance(value, Mapping):
        return dict(value)
    return {q.name: q for q in value}  # type: ignore[attr-defined]


@attrs.frozen(kw_only=True)
class Campaign:
    """A calling campaign.

    Attributes:
        name: the campaign's name (the store keys everything by it).
        script: what a call does once answered.
        lines: the line limit: calls in progress at once (a hard cap over any pacing).
        min_delivered_seconds: an answered call counts as ``delivered`` from this many seconds
            (or when the message was heard to the end); shorter is ``hung_up_early``.
        region: default region for numbers written without a country code.
        timezone: the campaign's zone (calling hours fall back to it).
        window: when calls may be placed, in the callee's local time. The default is the
            compliance default :meth:`CallWindow.safe_default <autoinformer.policy.schedule.
            CallWindow.safe_default>`: 09:00-20:00 every day (inside both the US TCPA's
            08:00-21:00 and Russia's 230-FZ debt-collection hours, 08:00-22:00 weekdays and
            09:00-20:00 weekends), with ``timezone`` as the fallback zone (it follows the
            campaign's ``timezone``, also through ``attrs.evolve(campaign, timezone=...)``; a
            window you pass keeps its own zone). Calling at any hour needs the explicit
            ``CallWindow.any_time()``.
        retry: the retry policy (default: 3 attempts, 20 minutes apart); its ``ring_timeout``
            (at least 15 s, a compliance default) is how long a call rings.
        limits: per-contact frequency caps; the default keeps the compliance cap of 7 calls in
            7 days (None turns every cap off: only the retry policy's budget applies).
        caller_ids: the caller-ID pool (None: the switch's default caller ID).
        queues: operator queues by name, for ``transfer`` steps.
        machine_detection: ask the switch for answering-machine detection.
        on_machine: ``hangup`` or ``leave_message`` (after the beep: play/say steps only).
        machine_wait: seconds to wait for detection (then the callee is taken for a person).
        sms: SMS rules.
        abandon_message: a file played to a callee no operator could take (None: hang up).
        abandon_cap: the most abandoned calls allowed, as a fraction of live answers (default
            0.03: the US FCC and UK Ofcom cap). When the script can transfer, the core holds
            any pacing policy to it (:mod:`autoinformer.core.abandon_guard`); 1.0 turns the
            guard off.
        abandon_window: the rolling window, in seconds, the guard also holds ``abandon_cap``
            over (default 86400: UK Ofcom measures the 3% per campaign per 24 hours); None
            holds the cap over the whole campaign only (the US FCC's 30 days, for campaigns
            shorter than that).
        callback_timeout: seconds a ``callback`` hook may take before ``timeout`` is recorded.
        lang: language for speech and SMS templates.
        max_call_seconds: an answered call is hung up after this long (a safety net: nothing
            waits forever, even if a switch never reports an end). Default 600 s: ten
            minutes covers a reminder with a transfer and an operator's talk; raise it for
            campaigns whose operators talk longer (the cut is recorded, not silent).
    """

    name: str
    script: Script
    lines: int = 1
    min_delivered_seconds: float = 10.0
    region: str = "RU"
    timezone: str = "UTC"
    window: CallWindow = attrs.field(default=attrs.Factory(_default_window, takes_self=True))
    retry: RetryPolicy = attrs.field(factory=_default_retry)
    limits: ContactLimits | None = attrs.field(factory=_default_limits)
    caller_ids: CallerIdPool | None = None
    queues: Mapping[str, QueueSettings] = attrs.field(factory=dict, converter=_queues)
    machine_detection: bool = False
    on_machine: Literal["hangup", "leave_message"] = "hangup"
    machine_wait: float = 5.0
    sms: SmsRules = attrs.field(factory=SmsRules)
    abandon_message: str | None = None
    abandon_cap: float = 0.03
    abandon_window: float | None = 86400.0
    callback_timeout: float = 10.0
    lang: str = "en"
    max_call_seconds: float = 600.0

    def __attrs_post_init__(self) -> None:
        if not self.name.strip():
            raise SettingsError("name", "a campaign needs a name")
        if not isinstance(self.script, Script):
            raise SettingsError("script", f"expected a Script, got {type(self.script).__name__}")
        if isinstance(self.lines, bool) or not isinstance(self.lines, int) or self.lines < 1:
            raise SettingsError("lines", f"expected a whole number >= 1, got {self.lines!r}")
        if self.min_delivered_seconds < 0:
            raise SettingsError("min_delivered_seconds", "must be >= 0 seconds")
        if self.on_machine not in ("hangup", "leave_message"):
            raise SettingsError(
                "on_machine", f"expected 'hangup' or 'leave_message', got {self.on_machine!r}"
            )
        if self.machine_wait <= 0:
            raise SettingsError("machine_wait", "must be > 0 seconds")
        if self.window is None:
            raise SettingsError(
                "window", "None does not mean any time: pass CallWindow.any_time() to opt out"
            )
        object.__setattr__(self, "window", _follow_zone(self.window, self.timezone))
        if (
            isinstance(self.abandon_cap, bool)
            or not isinstance(self.abandon_cap, int | float)
            or not 0.0 <= self.abandon_cap <= 1.0
        ):
            raise SettingsError(
                "abandon_cap",
                f"expected a fraction of live answers from 0 to 1, got {self.abandon_cap!r}",
            )
        check_window_seconds("abandon_window", self.abandon_window)
        if self.max_call_seconds <= 0:
            raise SettingsError("max_call_seconds", "must be > 0 seconds")
        if self.callback_timeout <= 0:
            raise SettingsError("callback_timeout", "must be > 0 seconds")
        for name, queue in self.queues.items():
            if name != queue.name:
                raise SettingsError(f"queues.{name}", f"is named {queue.name!r}")
        for queue_name in sorted(self.script.queues()):
            if queue_name not in self.queues:
                known = ", ".join(sorted(self.queues)) or "none"
                raise SettingsError(
                    "script", f"transfer to unknown queue {queue_name!r} (queues: {known})"
                )
        self._check_templates()

    def _check_templates(self) -> None:
        from autoinformer.speech import Template

        texts = list(self.script.located_templates())
        texts += [(f"sms.{f}", getattr(self.sms, f)) for f in ("on_hangup", "on_missed")]
        for field, text in texts:
            if text is None:
                continue
            try:
                Template.parse(text)
            except TemplateError as exc:
                raise SettingsError(field, f"{exc} in {text!r}") from exc

    def required_variables(self) -> frozenset[str]:
        """Every contact variable the script's and SMS templates use."""
        from autoinformer.speech import Template

        names: set[str] = set()
        texts = [*self.script.templates(), self.sms.on_hangup, self.sms.on_missed]
        for text in texts:
            if text is not None:
                names |= Template.parse(text).variables
        return frozenset(names)
