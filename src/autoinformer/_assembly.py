"""Assembling a campaign file's run: its simulated population, its switch, its clock.

``autoinformer run`` and ``autoinformer serve`` run the same campaign files the same way; the
pieces they both build from a :class:`~autoinformer.campaign_file.CampaignFile` live here, so
the two never drift apart (a ``[sim]`` key read one way by the CLI and another by the server).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from autoinformer.backends import load_backend
from autoinformer.backends.base import Switch
from autoinformer.campaign_file import BackendEntry, CampaignFile
from autoinformer.clock import Clock, ScaledClock
from autoinformer.errors import SettingsError
from autoinformer.sim.model import CallModel
from autoinformer.store.base import Store

__all__ = [
    "latest_time",
    "real_switch",
    "resumed_clock",
    "sim_model",
    "sim_switch",
    "speech_renderer",
]


def sim_model(spec: CampaignFile, *, seed: int | None = None) -> CallModel:
    """The simulated population of the file's ``[sim]`` table (``seed`` overrides its own).

    Raises:
        SettingsError: a ``[sim]`` key is wrong (``field`` is ``sim.KEY``).
    """
    from autoinformer.sim.model import PartiesModel, PopulationModel

    settings = dict(spec.sim)
    kind = settings.pop("model", "population")
    if seed is not None:
        settings["seed"] = seed
    try:
        if kind == "population":
            return PopulationModel(**settings)
        if kind == "parties":
            return PartiesModel(**settings)
        raise SettingsError("sim.model", f"expected population or parties, got {kind!r}")
    except TypeError as exc:
        raise SettingsError("sim", f"unexpected key: {exc}") from None
    except SettingsError as exc:
        raise SettingsError(f"sim.{exc.field.removeprefix('sim.')}", exc.message) from None


def latest_time(store: Store, campaign: str) -> float | None:
    """The latest time the store mentions for the campaign (a resumed clock starts there):
    one aggregate (:meth:`~autoinformer.store.base.Store.latest_attempt_time`), not a read of
    every attempt (that was ~20 s at a million contacts)."""
    return store.latest_attempt_time(campaign)


def resumed_clock(store: Store, campaign: str, speed: float) -> ScaledClock:
    """A clock ``speed`` times faster than real time for the simulated switch, starting
    after the latest time the store mentions for the campaign (a resumed run never goes
    back in time, so its retries stay due when they were)."""
    clock = ScaledClock(speed=speed)
    last = latest_time(store, campaign)
    if last is not None:
        clock = ScaledClock(speed=speed, start=max(clock.start, last + 1))
    return clock


def real_switch(spec: CampaignFile) -> Callable[[], Switch]:
    """Makes the file's real switch (``ari``, ``esl``) from its ``[backend]`` table, or the
    :class:`~autoinformer.backends.multi.SwitchSet` of its ``[[backend]]`` entries.

    Raises:
        SettingsError: (when called) a key a backend does not take; ``field`` names the
            entry (``backend[1].url``).
    """
    if spec.backend != "multi":
        cls = load_backend(spec.backend)

        def switch() -> Switch:
            try:
                made: Switch = cls(**spec.backend_settings)
            except TypeError as exc:
                raise SettingsError("backend", f"unexpected key: {exc}") from None
            return made

        return switch

    def switches() -> Switch:
        from autoinformer.backends.multi import Member, SwitchSet

        members = [
            Member(
                _made(entry),
                name=entry.name,
                lines=entry.lines,
                weight=entry.weight,
                lost_after=entry.lost_after,
            )
            for entry in spec.backends
        ]
        return SwitchSet(members)

    return switches


def _made(entry: BackendEntry) -> Switch:
    """One ``[[backend]]`` entry's switch; its errors name the entry (``backend[1].url``)."""
    cls = load_backend(entry.kind)
    try:
        made: Switch = cls(**entry.settings)
    except TypeError as exc:
        raise SettingsError(entry.key, f"unexpected key: {exc}") from None
    except SettingsError as exc:
        field = exc.field
        if field == "backend" or field.startswith("backend."):
            field = entry.key + field.removeprefix("backend")
        raise SettingsError(field, exc.message) from None
    return made


def sim_switch(spec: CampaignFile, model: CallModel, clock: Clock) -> Switch:
    """The simulated switch of a ``kind = "sim"`` file on ``clock`` (``run --speed``).

    Several ``[[backend]]`` entries make a :class:`~autoinformer.backends.multi.SwitchSet` of
    simulated switches with their shares; they share ``model``, one population, so a number
    meets the same fate whichever switch dials it (the population is split between them by
    the calls each places).
    """
    from autoinformer.backends.sim import SimSwitch

    if spec.backend != "sim" or len(spec.backends) < 2:
        return SimSwitch(model=model, clock=clock)
    from autoinformer.backends.multi import Member, SwitchSet

    members = [
        Member(
            SimSwitch(model=model, clock=clock),
            name=entry.name,
            lines=entry.lines,
            weight=entry.weight,
            lost_after=entry.lost_after,
        )
        for entry in spec.backends
    ]
    return SwitchSet(members, clock=clock)


def speech_renderer(spec: CampaignFile, store_dir: Path) -> Any:
    """The ``[speech]`` renderer for a real switch (which cannot speak text), caching its
    fragments beside the store."""
    return spec.speech.renderer(
        cache_dir=store_dir / "speech-cache", recordings_dir=spec.path.parent
    )
