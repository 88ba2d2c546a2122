"""A campaign sent to the server: the campaign file's TOML text, or the same as JSON.

The body is parsed and checked exactly as ``autoinformer run`` checks a file (every key, every
recording the script plays, every ``[hooks]`` import), so a mistake is refused when the
campaign is created, with the dotted key, never when it runs. The server adds one key of its
own, ``[sim] speed``: how many times faster than real time a ``sim`` campaign runs.

The contact list a file names (``campaign.contacts``) is not read from the server's disk:
lists are uploaded (``POST /api/campaigns/{id}/contacts``).
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from autoinformer.campaign_file import CampaignFile, parse_campaign, resolve_hooks
from autoinformer.errors import InputError, SettingsError

__all__ = ["JSON", "TOML", "Definition", "parse_definition"]

TOML = "application/toml"
JSON = "application/json"
DEFAULT_SPEED = 1.0


@attrs.frozen(kw_only=True)
class Definition:
    """A checked campaign: the text it came as (kept, so a restarted server rebuilds it) and
    what it says.

    Attributes:
        text: the body as sent.
        media_type: ``application/toml`` or ``application/json``.
        spec: the campaign file it describes.
        speed: ``[sim] speed`` (1.0: real time; only for ``kind = "sim"``).
        hooks: the imported ``[hooks]`` functions.
    """

    text: str
    media_type: str
    spec: CampaignFile
    speed: float
    hooks: Mapping[str, Any]


def parse_definition(body: bytes | str, media_type: str, *, base: Path) -> Definition:
    """Parse and check a campaign body.

    Args:
        body: the TOML or JSON text.
        media_type: the request's ``Content-Type`` (parameters such as ``charset`` ignored).
        base: where relative paths (recordings, the do-not-call list) are taken from.

    Raises:
        SettingsError: a key is wrong (``field`` is its dotted path).
        InputError: the body is not UTF-8, not TOML / JSON, or of another content type.
    """
    kind = media_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise InputError(f"the campaign is not UTF-8 text ({exc.reason})") from None
    if kind in (TOML, "text/toml", "application/x-toml"):
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"the campaign is not valid TOML: {exc}") from None
        kind = TOML
    elif kind == JSON:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"the campaign is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InputError("the campaign must be a JSON object with the campaign file's tables")
    else:
        raise InputError(
            f"a campaign is sent as {TOML} (the campaign file) or {JSON}, not {kind or 'nothing'}"
        )
    data, speed = _speed(data)
    spec = parse_campaign(data, base=base, path=base / "campaign.toml")
    if speed != DEFAULT_SPEED and spec.backend != "sim":
        raise SettingsError("sim.speed", f"only a sim campaign has a speed (kind = {spec.backend})")
    from autoinformer.preflight import check_media

    check_media(spec.campaign)
    hooks = resolve_hooks(spec)
    return Definition(text=text, media_type=kind, spec=spec, speed=speed, hooks=hooks)


def _speed(data: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """Take ``[sim] speed`` out of the data (the population model does not know it)."""
    sim = data.get("sim")
    if not isinstance(sim, Mapping) or "speed" not in sim:
        return data, DEFAULT_SPEED
    speed = sim["speed"]
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise SettingsError("sim.speed", f"expected a number, got {speed!r}")
    if not math.isfinite(speed) or speed <= 0:
        raise SettingsError("sim.speed", f"expected a number > 0, got {speed!r}")
    rest = {key: value for key, value in sim.items() if key != "speed"}
    return {**data, "sim": rest}, float(speed)
