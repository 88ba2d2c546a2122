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
            if value is not None and not isinstance(value, str):
                raise SettingsError(f"sms.{field}", f"expected a text template, got {value!r}")
            if value is not None and not value.strip():
                raise SettingsError(f"sms.{field}", "is empty (leave it out to send nothing)")


def _operators(value: Iterable[Operator | Mapping[str, object]]) -> tuple[Operator, ...]:
    if isinstance(value, Operator | Mapping | str) or not isinstance(value, Iterable):
        value = [value]  # one operator, checked below
    return tuple(Operator.coerce(item, f"operators[{i}]") for i, item in enumerate(value))


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
        if not isinstance(self.name, str) or not self.name.strip():
            raise SettingsError("queues", f"a queue needs a name, got {self.name!r}")
        field = f"queues.{self.name}"
        for key in ("max_wait", "wrapup", "ring_timeout"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsError(f"{field}.{key}", f"expected seconds, got {value!r}")
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


def _default_window() -> CallWindow:
    """The compliance default, its zone not named yet: the campaign gives it its own."""
    from autoinformer.policy.schedule import CallWindow

    return CallWindow.safe_default(None)


def _table_hint(value: object, example: str) -> str:
    return f"expected {example} (or a table as in the campaign file), got {value!r}"


def _retry(value: object) -> RetryPolicy:
    from autoinformer.policy.retry import RetryPolicy

    if isinstance(value, RetryPolicy):
        return value
    if isinstance(value, Mapping):
        return RetryPolicy.from_config(value, "retry")
    raise SettingsError(
        "retry",
        _table_hint(value, "a RetryPolicy, e.g. RetryPolicy.simple(attempts=3, interval='20m')"),
    )


def _window(value: object) -> CallWindow:
    from autoinformer.policy.schedule import CallWindow

    if isinstance(value, CallWindow) or value is None:  # None is refused with its reason below
        return value  # type: ignore[return-value]
    if isinstance(value, Mapping):
        return CallWindow.from_config(value, "window")
    raise SettingsError(
        "window",
        _table_hint(
            value,
            "a CallWindow, e.g. CallWindow.parse(days='mon-fri', hours='09:00-20:00'), "
            "or CallWindow.any_time()",
        ),
    )


def _limits(value: object) -> ContactLimits | None:
    from autoinformer.policy.limits import ContactLimits

    if value is None or isinstance(value, ContactLimits):
        return value
    if isinstance(value, Mapping):
        return ContactLimits.from_config(value, "limits")
    raise SettingsError(
        "limits", _table_hint(value, "ContactLimits(per_day=..., per_7_days=...) or None")
    )


def _caller_ids(value: object) -> CallerIdPool | None:
    from autoinformer.policy.callerid import CallerIdPool

    if value is None or isinstance(value, CallerIdPool):
        return value
    if isinstance(value, Mapping):
        return CallerIdPool.from_config(value, "caller_ids")
    raise SettingsError("caller_ids", _table_hint(value, "a CallerIdPool(numbers=[...]) or None"))


def _sms(value: object) -> SmsRules:
    if isinstance(value, SmsRules):
        return value
    if isinstance(value, Mapping):
        try:
            return SmsRules(**value)
        except TypeError as exc:
            raise SettingsError("sms", f"unexpected key: {exc}") from None
    raise SettingsError("sms", _table_hint(value, "SmsRules(on_hangup=..., on_missed=...)"))


def _script(value: object) -> Script:
    if isinstance(value, Script):
        return value
    from autoinformer.script.steps import _STEP_TYPES

    if isinstance(value, _STEP_TYPES) or (
        isinstance(value, list | tuple) and all(isinstance(v, _STEP_TYPES) for v in value)
    ):
        return Script(value)
    raise SettingsError(
        "script", f"expected a Script, e.g. Script.of(say('...'), ...), got {value!r}"
    )


def _countries(value: object) -> frozenset[str]:
    from autoinformer.contacts.phones import check_countries

    found = check_countries(value, "countries")  # type: ignore[arg-type]
    if found is None:
        raise SettingsError("countries", "name the countries (a campaign has no 'any')")
    return found


def _region(value: object) -> str | None:
    from autoinformer.contacts.phones import check_region

    if value is not None and not isinstance(value, str):
        raise SettingsError("region", f"expected a region code like 'RU', got {value!r}")
    return check_region(value)


def _zone_name(value: object) -> str | None:
    from autoinformer.policy.zones import to_zone

    if value is None:
        return None
    name = getattr(value, "key", value)  # a ZoneInfo is taken by its name
    if not isinstance(name, str):
        raise SettingsError(
            "timezone", f"expected an IANA time zone like 'Europe/Moscow', got {value!r}"
        )
    to_zone(name, "timezone")
    return name.strip()


def _queue(value: object, field: str) -> QueueSettings:
    if isinstance(value, QueueSettings):
        return value
    if isinstance(value, Mapping):
        try:
            return QueueSettings(**value)
        except TypeError as exc:
            raise SettingsError(field, f"unexpected key: {exc}") from None
    raise SettingsError(field, f"expected QueueSettings(name=..., operators=[...]), got {value!r}")


def _queues(value: object) -> Mapping[str, QueueSettings]:
    if isinstance(value, Mapping):
        return {
            name: _queue(
                {"name": name, **q} if isinstance(q, Mapping) and "name" not in q else q,
                f"queues.{name}",
            )
            for name, q in value.items()
        }
    if isinstance(value, str | QueueSettings) or not isinstance(value, Iterable):
        raise SettingsError(
            "queues", f"expected a list of QueueSettings or a mapping by name, got {value!r}"
        )
    queues = [_queue(q, f"queues[{i}]") for i, q in enumerate(value)]
    return {q.name: q for q in queues}


def _place_window(campaign: Campaign) -> CallWindow:
    """The window with its zone: a window whose zone no one named takes the campaign's (and
    keeps following it through ``attrs.evolve(campaign, timezone=...)``); one the user gave
    a zone is theirs. With no zone to give, a window whose hours depend on the zone is
    refused: calling hours are never judged in an implicit UTC."""
    from autoinformer.policy.zones import region_zone, to_zone

    window = campaign.window
    if window.named_zone or (
        window.campaign_default is not None and window.timezone != window.campaign_default
    ):
        return window
    wanted = campaign.timezone
    if wanted is None and campaign.region is not None:
        wanted = region_zone(campaign.region, *sorted(campaign.countries))
    if wanted is None:
        if window.depends_on_zone or (
            campaign.limits is not None and campaign.limits.per_day is not None
        ):
            raise SettingsError("timezone", _no_zone_message(campaign))
        return window
    zone = to_zone(wanted)
    if window.timezone == zone and window.campaign_default == zone:
        return window
    return attrs.evolve(window, timezone=zone, campaign_default=zone)


def _no_zone_message(campaign: Campaign) -> str:
    import datetime as dt

    from autoinformer.policy.zones import region_zones, to_zone

    if campaign.region is None:
        where = "numbers of any country"
    else:
        regions = [campaign.region, *sorted(campaign.countries)]
        probe = dt.datetime(2100, 1, 15, 12, tzinfo=dt.UTC)
        offsets = {
            probe.astimezone(to_zone(z)).utcoffset() for r in regions for z in region_zones(r)
        }
        where = f"numbers of {'/'.join(regions)} ({len(offsets)} UTC offsets)"
    return (
        f"{where} may be in several time zones, and a mobile number's own zone is often "
        "unknown: name the zone calling hours fall back to, the zone your list is in, e.g. "
        "timezone='Europe/Moscow' (a contact's own TIMEZONE column still wins), or pass a "
        "window with its timezone"
    )


@attrs.frozen(kw_only=True)
class Campaign:
    """A calling campaign.

    Attributes:
        name: the campaign's name (the store keys everything by it).
        script: what a call does once answered.
        lines: the line limit: calls in progress at once (a hard cap over any pacing).
        min_delivered_seconds: an answered call counts as ``delivered`` from this many seconds
            (or when the message was heard to the end); shorter is ``hung_up_early``.
        region: default region for numbers written without a country code (None: every
            number carries its code).
        countries: other countries whose numbers the campaign may call when the list writes
            their country code without ``+`` (``{"KZ"}``); by default only the region's own
            code is read that way, so a typo never becomes a call abroad. A number written
            with ``+`` may be in any country.
        timezone: the campaign's zone: calling hours fall back to it for a number whose own
            zone is not known (a contact's ``timezone`` wins, then the number's zone when
            phonenumbers knows one). None (the default): the zone of ``region`` (and
            ``countries``) when they keep one UTC offset (``GB``: Europe/London); for
            regions that span several (``RU``, ``KZ`` before 2024, ``US``, ``ID``), a
            campaign whose window depends on the zone is refused with a
            :class:`~autoinformer.errors.SettingsError` on ``timezone``: never an implicit
            UTC.
        window: when calls may be placed, in the callee's local time. The default is the
            compliance default :meth:`CallWindow.safe_default <autoinformer.policy.schedule.
            CallWindow.safe_default>`: 09:00-20:00 every day (inside both the US TCPA's
            08:00-21:00 and Russia's 230-FZ debt-collection hours, 08:00-22:00 weekdays and
            09:00-20:00 weekends), with ``timezone`` as the fallback zone (it follows the
            campaign's ``timezone``, also through ``attrs.evolve(campaign, timezone=...)``; a
            window you pass keeps the zone you named for it, and takes the campaign's when
            you named none). Calling at any hour needs the explicit
            ``CallWindow.any_time()``. A table as in the campaign file's
            ``[campaign.window]`` is parsed; a string is refused (which days?).
        retry: the retry policy (default: 3 attempts, 20 minutes apart); its ``ring_timeout``
            (at least 15 s, a compliance default) is how long a call rings. A table as in
            ``[campaign.retry]`` is parsed.
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
    script: Script = attrs.field(converter=_script)
    lines: int = 1
    min_delivered_seconds: float = 10.0
    region: str | None = attrs.field(default="RU", converter=_region)
    timezone: str | None = attrs.field(default=None, converter=_zone_name)
    countries: frozenset[str] = attrs.field(default=frozenset(), converter=_countries)
    window: CallWindow = attrs.field(factory=_default_window, converter=_window)
    retry: RetryPolicy = attrs.field(factory=_default_retry, converter=_retry)
    limits: ContactLimits | None = attrs.field(factory=_default_limits, converter=_limits)
    caller_ids: CallerIdPool | None = attrs.field(default=None, converter=_caller_ids)
    queues: Mapping[str, QueueSettings] = attrs.field(factory=dict, converter=_queues)
    machine_detection: bool = False
    on_machine: Literal["hangup", "leave_message"] = "hangup"
    machine_wait: float = 5.0
    sms: SmsRules = attrs.field(factory=SmsRules, converter=_sms)
    abandon_message: str | None = None
    abandon_cap: float = 0.03
    abandon_window: float | None = 86400.0
    callback_timeout: float = 10.0
    lang: str = "en"
    max_call_seconds: float = 600.0

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SettingsError("name", f"a campaign needs a name, got {self.name!r}")
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
        # last: a wrong value elsewhere is named first; then the zone (never an implicit UTC)
        object.__setattr__(self, "window", _place_window(self))

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
