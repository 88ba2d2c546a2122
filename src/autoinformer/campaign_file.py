"""The campaign file: a whole campaign in one TOML file (``autoinformer run CAMPAIGN.toml``).

Every key is checked before anyone is called; a wrong one raises
:class:`~autoinformer.errors.SettingsError` whose ``field`` is the dotted key path
(``campaign.window.hours``, ``script[2].options.1``) and whose message says what was expected.
Paths (contacts, prerecorded files, the do-not-call list) are relative to the file.

The key names in ``docs/quickstart.md`` are a public contract. The ``[backend]`` table is
passed through to the backend's constructor (``load_backend(kind)(**settings)``), except
``kind``; ``[sim]`` sets the simulated population of ``kind = "sim"``. Several switches behind
one campaign are ``[[backend]]`` entries instead (``docs/backends/several.md``): each a
``kind`` and its own settings, with ``lines = N`` (a hard cap of its concurrent calls) or
``weight = W`` (its share of new calls), and an optional ``name``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from autoinformer import _campaign_values as values
from autoinformer._campaign_backends import (
    BackendEntry,
    both_forms,
    check_lines,
    default_lines,
    parse_backends,
)
from autoinformer.campaign import Campaign, QueueSettings, SmsRules
from autoinformer.core.abandon_guard import default_pacing
from autoinformer.errors import InputError, SettingsError, TemplateError
from autoinformer.pacing.base import BroadcastPacing, PacingPolicy
from autoinformer.policy.callerid import CallerIdPool
from autoinformer.policy.durations import parse_duration
from autoinformer.policy.limits import ContactLimits
from autoinformer.policy.retry import RetryPolicy
from autoinformer.policy.schedule import CallWindow
from autoinformer.queues.base import Operator
from autoinformer.queues.strategies import STRATEGIES
from autoinformer.script.steps import (
    Callback,
    Hangup,
    Menu,
    OptOut,
    Play,
    Say,
    Script,
    Step,
    Transfer,
    parse_action,
)
from autoinformer.speech.settings import SpeechSettings

__all__ = [
    "BackendEntry",
    "CampaignFile",
    "load_campaign_file",
    "parse_campaign",
    "resolve_hooks",
]

_STEP_KEYS = ("play", "say", "menu", "transfer", "callback", "opt_out", "hangup")


@attrs.frozen
class CampaignFile:
    """A loaded campaign file.

    Attributes:
        path: the file.
        campaign: the validated campaign.
        contacts: the contact list (None: contacts come from the store or the app).
        do_not_call: a do-not-call list file (None: none).
        backend: ``kind`` (``sim``, ``ari``, ``esl``); with ``[[backend]]`` entries ``sim``
            when they are all simulated, else ``multi``.
        backend_settings: the rest of the ``[backend]`` table, for the backend's constructor;
            for ``multi``, ``{"switches": backends}`` (what
            :func:`~autoinformer.preflight.check_backend` reads).
        sim: the ``[sim]`` table (population model settings; ``seed``).
        pacing: makes the pacing policy of ``[campaign.pacing]`` (default: progressive when
            the script transfers to operators, else broadcast).
        hooks: ``callback`` hooks by name, as ``"package.module:function"`` import paths
            (``[hooks]``); see :func:`resolve_hooks`.
        speech: the ``[speech]`` table: how ``say`` steps are rendered for a real switch.
        store: ``campaign.store``: a ``postgresql://`` URL (no password in it), or a SQLite
            file (relative to the file); None: ``--store`` or a temporary file.
        backends: every switch (one for a ``[backend]`` table; the ``[[backend]]`` entries,
            in order, each with its share).
    """

    path: Path
    campaign: Campaign
    contacts: Path | None
    do_not_call: Path | None
    backend: str
    backend_settings: Mapping[str, Any]
    sim: Mapping[str, Any]
    pacing: Callable[[], PacingPolicy] = BroadcastPacing
    hooks: Mapping[str, str] = attrs.field(factory=dict)
    speech: SpeechSettings = attrs.field(factory=SpeechSettings)
    store: str | None = None
    backends: tuple[BackendEntry, ...] = ()


def load_campaign_file(path: str | Path) -> CampaignFile:
    """Read and validate a campaign file.

    Raises:
        SettingsError: a key is wrong (``field`` is its dotted path), or a recording the
            script plays is missing, undecodable, too long or too big.
        InputError: the file cannot be read or is not TOML.
    """
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read campaign file {str(target)!r}: {exc}") from None
    if both_forms(text):
        raise SettingsError(
            "backend",
            "give either one [backend] table or [[backend]] entries (several switches), not both",
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{target}: not valid TOML: {exc}") from None
    spec = parse_campaign(data, base=target.parent, path=target)
    from autoinformer.preflight import check_media

    check_media(spec.campaign)  # every recording it plays: exists, decodes, within limits
    return spec


def parse_campaign(
    data: Mapping[str, Any], *, base: Path, path: Path | None = None
) -> CampaignFile:
    """Build the campaign from already-parsed TOML data (paths relative to ``base``)."""
    _only(
        data,
        "",
        {"campaign", "script", "operators", "queues", "backend", "sim", "hooks", "speech"},
    )
    camp = _table(data, "campaign", required=True)
    _only(
        camp,
        "campaign",
        {
            "name",
            "contacts",
            "region",
            "countries",
            "lines",
            "min_delivered_seconds",
            "timezone",
            "window",
            "retry",
            "limits",
            "caller_id",
            "sms",
            "machine_detection",
            "on_machine",
            "machine_wait",
            "abandon_message",
            "abandon_cap",
            "abandon_window",
            "callback_timeout",
            "lang",
            "do_not_call",
            "max_call_seconds",
            "pacing",
            "store",
        },
    )
    # no default zone: a campaign whose numbers span several zones must name one (#14)
    zone_key = _get(camp, "campaign", "timezone", str, None)
    timezone = None if zone_key is None else values.check_zone(zone_key, "campaign.timezone")
    script = _script(data.get("script"), base)
    queues = _queues(data, base)
    entries = parse_backends(data.get("backend"))
    kwargs: dict[str, Any] = {
        "name": _get(camp, "campaign", "name", str, required=True),
        "script": script,
        "lines": _get(camp, "campaign", "lines", int, default_lines(entries)),
        "min_delivered_seconds": float(
            _get(camp, "campaign", "min_delivered_seconds", (int, float), 10)
        ),
        "region": _get(camp, "campaign", "region", str, "RU"),
        "timezone": timezone,
        "countries": _get(camp, "campaign", "countries", list, []),
        "queues": queues,
        "machine_detection": _get(camp, "campaign", "machine_detection", bool, False),
        "on_machine": _get(camp, "campaign", "on_machine", str, "hangup"),
        "machine_wait": float(_get(camp, "campaign", "machine_wait", (int, float), 5.0)),
        "callback_timeout": float(_get(camp, "campaign", "callback_timeout", (int, float), 10.0)),
        "lang": _get(camp, "campaign", "lang", str, "en"),
        "max_call_seconds": float(_get(camp, "campaign", "max_call_seconds", (int, float), 600.0)),
        "abandon_cap": float(_get(camp, "campaign", "abandon_cap", (int, float), 0.03)),
    }
    if "abandon_window" in camp:
        kwargs["abandon_window"] = _abandon_window(camp["abandon_window"])
    abandon = _get(camp, "campaign", "abandon_message", str, None)
    if abandon is not None:
        kwargs["abandon_message"] = _media_path(abandon, base)
    if "window" in camp:
        kwargs["window"] = _window(_table(camp, "window", prefix="campaign"), timezone)
    if "retry" in camp:
        kwargs["retry"] = _retry(_table(camp, "retry", prefix="campaign"))
    if "limits" in camp:
        limits = _table(camp, "limits", prefix="campaign")
        values.check_limits(limits, "campaign.limits")
        kwargs["limits"] = _build("campaign.limits", ContactLimits, limits)
    if "caller_id" in camp:
        caller_id = _table(camp, "caller_id", prefix="campaign")
        values.check_caller_id(caller_id, "campaign.caller_id")
        kwargs["caller_ids"] = _build("campaign.caller_id", CallerIdPool, caller_id)
    if "sms" in camp:
        sms = _table(camp, "sms", prefix="campaign")
        values.check_sms(sms, "campaign.sms")
        kwargs["sms"] = _build("campaign.sms", SmsRules, sms)
    campaign = _build("campaign", Campaign, kwargs)

    contacts = _get(camp, "campaign", "contacts", str, None)
    dnc = _get(camp, "campaign", "do_not_call", str, None)
    store = values.check_store(_get(camp, "campaign", "store", str, None), base)
    if isinstance(data.get("backend"), list):
        check_lines(entries, campaign.lines, given="lines" in camp)
        kind = "sim" if all(e.kind == "sim" for e in entries) else "multi"
        backend: dict[str, Any] = {} if kind == "sim" else {"switches": entries}
    else:
        kind, backend = entries[0].kind, dict(entries[0].settings)
    sim = _table(data, "sim")
    values.check_sim(sim)
    return CampaignFile(
        path=path or base / "campaign.toml",
        campaign=campaign,
        contacts=base / contacts if contacts is not None else None,
        do_not_call=base / dnc if dnc is not None else None,
        backend=kind,
        backend_settings=backend,
        sim=dict(sim),
        pacing=_pacing(_table(camp, "pacing", prefix="campaign"), campaign),
        hooks=_hooks(_table(data, "hooks")),
        speech=_speech(_table(data, "speech"), base),
        store=store,
        backends=entries,
    )


def _speech(table: Mapping[str, Any], base: Path) -> SpeechSettings:
    """The ``[speech]`` table: ``engine``, ``lang``, ``voice``, ``cache`` (a directory,
    relative to the file), ``fallback``, ``mode``, ``engines`` (the ordered list that replaces
    ``engine`` + ``fallback``), ``cooldown`` (seconds a failed engine is skipped)."""
    allowed = {"engine", "lang", "voice", "cache", "fallback", "mode", "engines", "cooldown"}
    _only(table, "speech", allowed)
    kwargs: dict[str, Any] = {}
    for key in ("engine", "lang", "voice", "fallback", "mode"):
        value = _get(table, "speech", key, str, None)
        if value is not None:
            kwargs[key] = value
    engines = _get(table, "speech", "engines", list, None)
    if engines is not None:
        both = [key for key in ("engine", "fallback") if key in table]
        if both:
            raise SettingsError(
                f"speech.{both[0]}", "give either engines = [...] or engine/fallback, not both"
            )
        kwargs["engines"] = engines
    cooldown = _get(table, "speech", "cooldown", (int, float), None)
    if cooldown is not None:
        kwargs["cooldown"] = cooldown
    cache = _get(table, "speech", "cache", str, None)
    if cache is not None:
        kwargs["cache"] = base / cache
    return SpeechSettings(**kwargs)


def resolve_hooks(spec: CampaignFile) -> dict[str, Callable[..., Any]]:
    """Import the ``[hooks]`` functions (``cancel_order = "shop.hooks:cancel_order"``).

    Raises:
        SettingsError: a hook cannot be imported (``field`` is ``hooks.NAME``).
    """
    import importlib

    out: dict[str, Callable[..., Any]] = {}
    for name, target in spec.hooks.items():
        module_name, _, attr = target.partition(":")
        try:
            value = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise SettingsError(f"hooks.{name}", f"cannot import {target!r}: {exc}") from None
        if not callable(value):
            raise SettingsError(f"hooks.{name}", f"{target!r} is not callable")
        out[name] = value
    return out


def _hooks(table: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, target in table.items():
        if not isinstance(target, str) or ":" not in target:
            raise SettingsError(
                f"hooks.{name}", f"expected 'package.module:function', got {target!r}"
            )
        out[name] = target
    return out


# --- helpers --------------------------------------------------------------------------------


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _only(table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
    for name in table:
        if name not in allowed:
            where = f"[{prefix}]" if prefix else "the top level"
            raise SettingsError(
                _key(prefix, name),
                f"unknown key in {where} (expected one of {', '.join(sorted(allowed))})",
            )


def _table(
    data: Mapping[str, Any], name: str, *, prefix: str = "", required: bool = False
) -> Mapping[str, Any]:
    value = data.get(name)
    if value is None:
        if required:
            raise SettingsError(_key(prefix, name), "missing table")
        return {}
    if not isinstance(value, Mapping):
        raise SettingsError(_key(prefix, name), f"expected a table, got {value!r}")
    return value


def _get(
    table: Mapping[str, Any],
    prefix: str,
    name: str,
    kind: type | tuple[type, ...],
    default: Any = None,
    *,
    required: bool = False,
) -> Any:
    if name not in table:
        if required:
            raise SettingsError(_key(prefix, name), "missing")
        return default
    value = table[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise SettingsError(_key(prefix, name), f"expected {_names(kinds)}, got {value!r}")
    if not isinstance(value, kinds):
        raise SettingsError(_key(prefix, name), f"expected {_names(kinds)}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(_key(prefix, name), f"expected a finite number, got {value!r}")
    if isinstance(value, str):
        values.check_text(value, _key(prefix, name))
    return value


def _names(kinds: tuple[type, ...]) -> str:
    words = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}
    return " or ".join(words.get(k, k.__name__) for k in kinds)


def _build(prefix: str, factory: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    """Call ``factory(**kwargs)``, putting ``prefix`` in front of the field of any error."""
    try:
        return factory(**kwargs)
    except SettingsError as exc:
        keep = exc.field.startswith((prefix, "script", "queues", "operators"))
        # a value that names its own table ("pacing.release_after") is not named twice
        own = exc.field.removeprefix(prefix.rsplit(".", 1)[-1] + ".")
        field = exc.field if keep else _key(prefix, own)
        raise SettingsError(field, exc.message) from None
    except TemplateError as exc:
        raise SettingsError(prefix, str(exc)) from None
    except TypeError as exc:  # an unknown keyword
        raise SettingsError(prefix, f"unexpected key: {exc}") from None


def _media_path(value: str, base: Path) -> str:
    if value.startswith(("sound:", "tone_stream:", "builtin:")):
        return value
    return str(base / value)


def _window(table: Mapping[str, Any], timezone: str | None) -> CallWindow:
    prefix = "campaign.window"
    _only(table, prefix, {"days", "hours", "timezone", "holidays", "start", "end", "strict"})
    values.check_window(table, prefix)
    kwargs = dict(table)
    if timezone is not None:  # else the window takes the campaign's zone (or is refused)
        kwargs.setdefault("timezone", timezone)
    try:
        return CallWindow.parse(**kwargs)
    except SettingsError as exc:
        field = exc.field if exc.field.startswith(prefix) else _key(prefix, exc.field)
        raise SettingsError(field, exc.message) from None


def _pacing(table: Mapping[str, Any], campaign: Campaign) -> Callable[[], PacingPolicy]:
    """A factory for the pacing policy (policies learn, so each run gets a fresh one).

    Without a ``kind`` the campaign gets the core's default: progressive when the script can
    transfer to operators, broadcast otherwise (:func:`default_pacing`). TOML has no null, so
    ``release_after = false`` spells "never release a ringing call" (``None``).
    """
    from autoinformer.pacing import PowerPacing, PredictivePacing, ProgressivePacing

    prefix = "campaign.pacing"
    kinds: dict[str, Callable[..., PacingPolicy]] = {
        "broadcast": BroadcastPacing,
        "progressive": ProgressivePacing,
        "power": PowerPacing,
        "predictive": PredictivePacing,
    }
    options = dict(table)
    if "kind" not in options:
        if options:
            raise SettingsError(f"{prefix}.kind", "missing (the options need a pacing kind)")
        return lambda: default_pacing(campaign)
    kind = options.pop("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise SettingsError(f"{prefix}.kind", f"expected one of {', '.join(kinds)}, got {kind!r}")
    factory = kinds[kind]
    if options.get("release_after") is False:
        options["release_after"] = None
    try:
        values.check_options(options, factory, prefix)
        _build(prefix, factory, options)  # validate now, before anyone is called
    except SettingsError as exc:
        if exc.field != f"{prefix}.release_after":
            raise
        # 0 is "off" on the command line (--release-after 0); in TOML, off is false
        hint = "(to never release a ringing call: release_after = false)"
        raise SettingsError(exc.field, f"{exc.message} {hint}") from None
    return lambda: factory(**options)


def _abandon_window(value: Any) -> float | None:
    """Seconds from ``abandon_window``: a duration like ``retry.interval`` (``"24h"``,
    ``"30m"``, ``86400``) or ``false`` for the campaign budget only (TOML has no null)."""
    field = "campaign.abandon_window"
    if value is False:
        return None
    if value is True:
        raise SettingsError(field, "expected a duration like '24h' or seconds, or false, got true")
    return parse_duration(values.check_duration(value, field), field).total_seconds()


def _retry(table: Mapping[str, Any]) -> RetryPolicy:
    prefix = "campaign.retry"
    _only(
        table,
        prefix,
        {
            "attempts",
            "interval",
            "rules",
            "alternate_numbers",
            "abandoned_cooldown",
            "cooldown_unless_operator_guaranteed",
            "min_ring_seconds",
            "ring_timeout",
        },
    )
    values.check_retry(table, prefix)
    kwargs = dict(table)
    if "interval" in kwargs:
        kwargs["default_delay"] = kwargs.pop("interval")
    return _build(prefix, RetryPolicy, kwargs)  # type: ignore[no-any-return]


def _queues(data: Mapping[str, Any], base: Path) -> list[QueueSettings]:
    tables = _table(data, "queues")
    members: dict[str, list[Operator]] = {}
    listed = data.get("operators", [])
    if not isinstance(listed, list):
        raise SettingsError("operators", "expected [[operators]] entries")
    for i, entry in enumerate(listed):
        prefix = f"operators[{i}]"
        if not isinstance(entry, Mapping):
            raise SettingsError(prefix, "expected a table with id and endpoint")
        _only(entry, prefix, {"id", "endpoint", "queue", "weight", "penalty"})
        queue = _get(entry, prefix, "queue", str, "operators")
        operator = Operator(
            id=_get(entry, prefix, "id", str, required=True),
            endpoint=_get(entry, prefix, "endpoint", str, required=True),
            weight=_get(entry, prefix, "weight", int, 1),
            penalty=_get(entry, prefix, "penalty", int, 0),
        )
        members.setdefault(queue, []).append(operator)
    out = []
    for name in sorted(set(tables) | set(members)):
        prefix = f"queues.{name}"
        table = _table(tables, name, prefix="queues")
        _only(table, prefix, {"max_wait", "wrapup", "ring_timeout", "hold_music", "strategy"})
        kwargs: dict[str, Any] = {"name": name, "operators": tuple(members.get(name, ()))}
        for key in ("max_wait", "wrapup", "ring_timeout"):
            if key in table:
                kwargs[key] = float(_get(table, prefix, key, (int, float)))
        strategy = _get(table, prefix, "strategy", str, None)
        if strategy is not None:
            if strategy.strip().lower() not in STRATEGIES:
                known = ", ".join(sorted(STRATEGIES))
                raise SettingsError(f"{prefix}.strategy", f"expected one of {known}")
            kwargs["strategy"] = STRATEGIES[strategy.strip().lower()]
        hold = _get(table, prefix, "hold_music", str, None)
        if hold is not None:
            kwargs["hold_music"] = _media_path(hold, base)
        out.append(_build(prefix, QueueSettings, kwargs))
    return out


def _script(entries: Any, base: Path) -> Script:
    if not isinstance(entries, list) or not entries:
        raise SettingsError("script", "expected one or more [[script]] steps")
    steps = [_step(entry, f"script[{i}]", base) for i, entry in enumerate(entries)]
    return Script(steps)


def _step(entry: Any, prefix: str, base: Path) -> Step:
    if not isinstance(entry, Mapping):
        raise SettingsError(prefix, "expected a table")
    kinds = [k for k in _STEP_KEYS if k in entry]
    if len(kinds) != 1:
        raise SettingsError(prefix, f"expected exactly one of {', '.join(_STEP_KEYS)}")
    kind = kinds[0]
    allowed = {kind, "options", "timeout", "retries"} if kind == "menu" else {kind}
    _only(entry, prefix, allowed)
    value = entry[kind]
    field = f"{prefix}.{kind}"
    try:
        if kind == "play":
            return Play(_media_path(_get(entry, prefix, "play", str), base))
        if kind == "say":
            return Say(_get(entry, prefix, "say", str))
        if kind == "transfer":
            return Transfer(_get(entry, prefix, "transfer", str))
        if kind == "callback":
            return Callback(_get(entry, prefix, "callback", str))
        if value is not True and kind in ("opt_out", "hangup"):
            raise SettingsError(field, "expected true")
        if kind == "opt_out":
            return OptOut()
        if kind == "hangup":
            return Hangup()
        return _menu(entry, prefix, base)
    except SettingsError as exc:
        if exc.field.startswith(prefix):
            raise
        raise SettingsError(field, exc.message) from None


def _menu(entry: Mapping[str, Any], prefix: str, base: Path) -> Menu:
    prompt_text = _get(entry, prefix, "menu", str)
    prompt: Play | Say = Say(prompt_text)
    if prompt_text.startswith("play:"):
        prompt = Play(_media_path(prompt_text.removeprefix("play:").strip(), base))
    options = _table(entry, "options", prefix=prefix, required=True)
    parsed: dict[str, Step] = {}
    for digit, action in options.items():
        field = f"{prefix}.options.{digit}"
        if not isinstance(action, str):
            raise SettingsError(
                field, f"expected a string like 'transfer:operators', got {action!r}"
            )
        step = parse_action(action, field=field)
        if isinstance(step, Play):
            step = Play(_media_path(step.file, base))
        parsed[str(digit)] = step
    try:
        return Menu(
            prompt,
            parsed,
            timeout=float(_get(entry, prefix, "timeout", (int, float), 5.0)),
            retries=_get(entry, prefix, "retries", int, 1),
        )
    except SettingsError as exc:
        raise SettingsError(f"{prefix}.{exc.field.removeprefix('menu.')}", exc.message) from None
