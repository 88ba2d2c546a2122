"""The switches of a campaign file: the ``[backend]`` table or ``[[backend]]`` entries.

One switch is the ``[backend]`` table as it always was. Several switches behind one campaign
(``docs/backends/several.md``) are ``[[backend]]`` entries: each a ``kind`` with its own
settings and a share, ``lines = N`` (a hard cap of its concurrent calls) or ``weight = W``
(its share of new calls), with an optional ``name`` and ``lost_after``. Every mistake names its
entry (``backend[2].lines: expected an integer >= 1, got 0``); a password is refused without
being echoed. Private to :mod:`autoinformer.campaign_file`, which re-exports
:class:`BackendEntry`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import attrs

from autoinformer.errors import SettingsError

__all__ = [
    "BackendEntry",
    "both_forms",
    "check_lines",
    "default_lines",
    "parse_backends",
]

_BACKEND_TABLE = re.compile(r"^\s*\[\s*backend\s*\]", re.MULTILINE)
_BACKEND_ENTRY = re.compile(r"^\s*\[\[\s*backend\s*\]\]", re.MULTILINE)
_KINDS = ("ari", "esl", "sim")
_SHARE_KEYS = ("kind", "name", "lines", "weight", "lost_after")


@attrs.frozen
class BackendEntry:
    """One switch of the campaign: the ``[backend]`` table, or one ``[[backend]]`` entry.

    Attributes:
        kind: ``sim``, ``ari`` or ``esl``.
        settings: the rest of its table, for the backend's constructor.
        key: how errors name it: ``backend`` or ``backend[2]``.
        name: its name in logs and status (``[[backend]]`` entries; default ``KIND<i>``).
        lines: its hard cap of concurrent calls (None: none).
        weight: its share of new calls (None: its lines are its share).
        lost_after: seconds it may stay away before its calls are written off as lost
            (None: the set's default, 60 s).
    """

    kind: str
    settings: Mapping[str, Any]
    key: str = "backend"
    name: str = ""
    lines: int | None = None
    weight: float | None = None
    lost_after: float | None = None


def both_forms(text: str) -> bool:
    """Whether a campaign file's text has a ``[backend]`` table and ``[[backend]]`` entries
    (TOML refuses it with a message about overwriting a value; ours says what to do)."""
    return bool(_BACKEND_TABLE.search(text) and _BACKEND_ENTRY.search(text))


def parse_backends(raw: Any) -> tuple[BackendEntry, ...]:
    """The switches: the ``[backend]`` table (kind ``sim`` by default), or the
    ``[[backend]]`` entries, each checked for its kind, its share and no password."""
    if raw is None or isinstance(raw, Mapping):
        table = dict(raw or {})
        kind = table.pop("kind", "sim")
        _check_kind(kind, "backend")
        _no_password(table, "backend")
        return (BackendEntry(kind=kind, settings=table),)
    if not isinstance(raw, list) or not raw:
        raise SettingsError(
            "backend", "expected a [backend] table or [[backend]] entries (one per switch)"
        )
    entries: list[BackendEntry] = []
    names: set[str] = set()
    for i, item in enumerate(raw):
        key = f"backend[{i}]"
        if not isinstance(item, Mapping):
            raise SettingsError(key, "expected a table with kind and the switch's settings")
        if "kind" not in item:
            raise SettingsError(f"{key}.kind", f"missing (one of {', '.join(_KINDS)})")
        kind = item["kind"]
        _check_kind(kind, key)
        settings = {k: v for k, v in item.items() if k not in _SHARE_KEYS}
        _no_password(settings, key)
        name = item.get("name", f"{kind}{i}")
        if not isinstance(name, str) or not name.strip():
            raise SettingsError(f"{key}.name", f"expected a name, got {name!r}")
        if name in names:
            raise SettingsError(f"{key}.name", f"{name!r} names another switch already")
        names.add(name)
        lines = item.get("lines")
        if lines is not None and (
            isinstance(lines, bool) or not isinstance(lines, int) or lines < 1
        ):
            raise SettingsError(f"{key}.lines", f"expected an integer >= 1, got {lines!r}")
        weight = item.get("weight")
        if weight is not None and (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not (weight > 0 and math.isfinite(weight))
        ):
            raise SettingsError(f"{key}.weight", f"expected a number > 0, got {weight!r}")
        lost_after = item.get("lost_after")
        if lost_after is not None and (
            isinstance(lost_after, bool)
            or not isinstance(lost_after, int | float)
            or not (lost_after > 0 and math.isfinite(lost_after))
        ):
            raise SettingsError(f"{key}.lost_after", f"expected seconds > 0, got {lost_after!r}")
        if lines is None and weight is None:
            raise SettingsError(
                key,
                "give lines = N (the most calls at once on this switch) or weight = W (its "
                "share of new calls)",
            )
        entries.append(
            BackendEntry(
                kind=kind,
                settings=settings,
                key=key,
                name=name,
                lines=lines,
                weight=None if weight is None else float(weight),
                lost_after=None if lost_after is None else float(lost_after),
            )
        )
    weighted = [e.weight is not None for e in entries]
    if any(weighted) and not all(weighted):
        key = entries[weighted.index(False)].key
        raise SettingsError(
            f"{key}.weight", "give every [[backend]] a weight, or none (lines share the calls)"
        )
    simulated = [e.kind == "sim" for e in entries]
    if any(simulated) and not all(simulated):
        key = entries[simulated.index(not simulated[0])].key
        raise SettingsError(
            f"{key}.kind", "a simulated switch cannot share a campaign with real switches"
        )
    for entry in entries:
        if entry.kind == "sim" and entry.settings:
            raise SettingsError(
                f"{entry.key}.{next(iter(entry.settings))}",
                "unknown key: a simulated switch takes kind, name, lines, weight and lost_after "
                "(its population is the [sim] table)",
            )
    return tuple(entries)


def _check_kind(kind: Any, key: str) -> None:
    if not isinstance(kind, str) or kind not in _KINDS:
        raise SettingsError(f"{key}.kind", f"expected one of {', '.join(_KINDS)}, got {kind!r}")


def _no_password(table: Mapping[str, Any], key: str) -> None:
    if "password" in table:  # never echoed: the message does not quote the value
        raise SettingsError(
            f"{key}.password",
            "do not put the password in the campaign file; set password_env to the name of "
            "an environment variable that holds it",
        )


def _capacity(entries: tuple[BackendEntry, ...]) -> int | None:
    """The calls the switches take at once between them (None: one has no cap)."""
    if any(e.lines is None for e in entries):
        return None
    return sum(e.lines or 0 for e in entries)


def default_lines(entries: tuple[BackendEntry, ...]) -> int:
    """``campaign.lines`` when the file does not say: the switches' lines between them."""
    return _capacity(entries) or 1


def check_lines(entries: tuple[BackendEntry, ...], lines: int, *, given: bool) -> None:
    """The campaign cannot have more lines than its switches have between them."""
    capacity = _capacity(entries)
    if capacity is None or not given or lines <= capacity:
        return
    shares = ", ".join(f"{e.name} {e.lines}" for e in entries)
    raise SettingsError(
        "campaign.lines",
        f"{lines} lines, but the [[backend]] lines add up to {capacity} ({shares}): lower "
        "campaign.lines or raise a switch's lines (leave campaign.lines out to use them all)",
    )
