"""Speech on a switch that cannot speak text: rendered before the call is placed, with a
fallback engine, checked before anyone is called, and never sent to the switch as raw text.

SimSwitch stands in for a real switch here (``plays_text`` off), in virtual time; the switch
records the order of what reaches it, so "rendered before the originate" is checked as the
switch sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import anyio
import pytest

from autoinformer.backends.base import Media
from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.errors import SpeechUnavailable
from autoinformer.outcomes import Outcome
from autoinformer.policy.retry import RetryPolicy
from autoinformer.runtime import Runtime
from autoinformer.script import Script, menu, say
from autoinformer.speech.cache import FragmentCache
from autoinformer.speech.engines.base import Engine
from autoinformer.speech.engines.tone import ToneEngine
from autoinformer.speech.errors import EngineError
from autoinformer.speech.renderer import EngineRenderer
from autoinformer.speech.settings import FallbackRenderer, SpeechSettings
from autoinformer.store.memory import MemoryStore
from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import LoopClock

anyio_backend = virtual_anyio_backend

SCRIPT = Script.of(
    say("Hello {NAME}, your payment is due."),
    menu("Press 1 for an operator, 2 to cancel.", {"2": "hangup"}),
)


class RecordingSwitch(SimSwitch):
    """A SimSwitch that cannot speak text, as a real switch; it logs what reaches it."""

    plays_text: ClassVar[bool] = False

    def __init__(self, log: list[tuple[str, Any]], **kw: Any) -> None:
        super().__init__(**kw)
        self.log = log

    async def originate(
        self,
        call_id: str,
        destination: str,
        *,
        caller_id: str | None,
        ring_timeout: float,
        variables: Mapping[str, str] | None = None,
        operator: bool = False,
        detect_machine: bool = False,
    ) -> None:
        self.log.append(("originate", destination))
        await super().originate(
            call_id,
            destination,
            caller_id=caller_id,
            ring_timeout=ring_timeout,
            variables=variables,
            operator=operator,
            detect_machine=detect_machine,
        )

    async def play(self, call_id: str, media: Media, *, playback_id: str) -> None:
        self.log.append(("play", media))
        await super().play(call_id, media, playback_id=playback_id)


class LoggingEngine(ToneEngine):
    """A tone engine that logs each synthesis in the shared log."""

    def __init__(self, log: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.log = log

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        self.log.append(("synthesize", text))
        return await super().synthesize(text, lang=lang, ssml=ssml)


class BrokenEngine(Engine):
    """An engine that always fails (espeak-ng missing, gTTS with no network)."""

    name: ClassVar[str] = "broken"

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        raise EngineError("the service cannot be reached")


def _campaign(**kw: Any) -> Campaign:
    settings: dict[str, Any] = {
        "name": "sp",
        "timezone": "UTC",
        "script": SCRIPT,
        "lines": 2,
        "retry": RetryPolicy.simple(attempts=1),
    }
    settings.update(kw)
    return Campaign(**settings)


NAMES = {"1": "Ivan", "7": "Olga"}


def _contacts(*digits: str) -> list[Contact]:
    return [
        Contact(id=f"c{d}", phones=(f"+7950000000{d}",), variables={"NAME": NAMES[d]})
        for d in digits
    ]


async def _run(renderer: Any, contacts: list[Contact], log: list[tuple[str, Any]]) -> MemoryStore:
    clock = LoopClock()
    store = MemoryStore()
    async with RecordingSwitch(log, clock=clock) as switch:
        runtime = Runtime(
            campaign=_campaign(), switch=switch, store=store, clock=clock, renderer=renderer
        )
        with anyio.fail_after(3600):
            await runtime.run(contacts)
    return store


@pytest.mark.anyio
async def test_every_message_is_rendered_before_the_call_is_placed(tmp_path: Path) -> None:
    log: list[tuple[str, Any]] = []
    renderer = EngineRenderer(
        engine=LoggingEngine(log), cache=FragmentCache(directory=tmp_path), mode="sentence"
    )
    store = await _run(renderer, _contacts("1", "7"), log)
    for digit in ("1", "7"):
        placed = log.index(("originate", f"+7950000000{digit}"))
        spoken = log.index(("synthesize", f"Hello {NAMES[digit]}, your payment is due."))
        assert spoken < placed, f"contact {digit}: synthesised after the call was placed: {log}"
    plays = [media for kind, media in log if kind == "play"]
    assert plays, "nothing was played"
    assert all(m.path is not None and m.path.suffix == ".wav" for m in plays), plays
    assert all(m.builtin is None for m in plays), "raw text reached the switch"
    assert {r.outcome for r in store.attempts("sp")} == {Outcome.DELIVERED}


@pytest.mark.anyio
async def test_the_fallback_engine_speaks_when_the_first_fails(tmp_path: Path) -> None:
    log: list[tuple[str, Any]] = []
    cache = FragmentCache(directory=tmp_path)
    renderer = FallbackRenderer(
        renderers=(
            EngineRenderer(engine=BrokenEngine(), cache=cache),
            EngineRenderer(engine=LoggingEngine(log), cache=cache),
        )
    )
    store = await _run(renderer, _contacts("1"), log)
    (record,) = store.attempts("sp")
    assert record.outcome is Outcome.DELIVERED
    assert renderer.fallbacks >= 2  # the check before calling, then the call's two messages
    assert any(kind == "synthesize" for kind, _ in log)


@pytest.mark.anyio
async def test_an_engine_that_cannot_work_stops_the_run_before_anyone_is_called(
    tmp_path: Path,
) -> None:
    log: list[tuple[str, Any]] = []
    renderer = EngineRenderer(engine=BrokenEngine(), cache=FragmentCache(directory=tmp_path))
    with pytest.raises(
        SpeechUnavailable, match=r"the service cannot be reached.*nobody was called"
    ):
        await _run(renderer, _contacts("1", "7"), log)
    assert [entry for entry in log if entry[0] == "originate"] == []


class FlakyEngine(ToneEngine):
    """Works for every text but those naming one balance (that contact's message fails)."""

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        if "Olga" in text:
            raise EngineError("voice crashed")
        return await super().synthesize(text, lang=lang, ssml=ssml)


@pytest.mark.anyio
async def test_a_message_that_cannot_be_rendered_fails_its_attempt_without_calling(
    tmp_path: Path,
) -> None:
    log: list[tuple[str, Any]] = []
    renderer = EngineRenderer(
        engine=FlakyEngine(), cache=FragmentCache(directory=tmp_path), mode="sentence"
    )
    store = await _run(renderer, _contacts("1", "7"), log)
    records = {r.contact_id: r for r in store.attempts("sp")}
    assert records["c1"].outcome is Outcome.DELIVERED
    assert records["c7"].outcome is Outcome.FAILED
    assert records["c7"].detail.startswith("speech failed:"), records["c7"]
    assert "voice crashed" in records["c7"].detail
    assert ("originate", "+79500000007") not in log, "a call placed with no message to play"


@pytest.mark.anyio
async def test_a_real_switch_gets_the_default_renderer_and_the_simulated_one_does_not() -> None:
    clock = LoopClock()
    log: list[tuple[str, Any]] = []
    async with RecordingSwitch(log, clock=clock) as real, SimSwitch(clock=clock) as sim:
        on_real = Runtime(campaign=_campaign(), switch=real, store=MemoryStore(), clock=clock)
        on_sim = Runtime(campaign=_campaign(), switch=sim, store=MemoryStore(), clock=clock)
    assert isinstance(on_real.renderer, FallbackRenderer)
    assert on_real.renderer.engine_names == ["espeak-ng"]
    assert on_sim.renderer is None


def test_speech_settings_name_the_key_they_refuse() -> None:
    from autoinformer.errors import SettingsError

    with pytest.raises(SettingsError, match=r"speech\.engine: expected one of espeak, gtts"):
        SpeechSettings(engine="festival")
    with pytest.raises(SettingsError, match=r"speech\.fallback: is the engine itself"):
        SpeechSettings(engine="gtts", fallback="gtts")
    settings = SpeechSettings(engine="gtts", fallback="espeak", voice="co.uk")
    renderer = settings.renderer(cache_dir=Path("/nonexistent-cache"))
    assert renderer.engine_names == ["gtts", "espeak-ng"]
    assert renderer.renderers[0].engine.tld == "co.uk"


class GatedEngine(ToneEngine):
    """A tone engine that waits for the test to open its gate before it speaks Olga's name
    (a slow synthesis)."""

    def __init__(self, gate: anyio.Event, started: anyio.Event) -> None:
        super().__init__()
        self.gate, self.started = gate, started

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        if "Olga" in text:
            self.started.set()
            await self.gate.wait()
        return await super().synthesize(text, lang=lang, ssml=ssml)


@pytest.mark.anyio
async def test_a_call_stopped_while_its_speech_renders_is_never_placed(tmp_path: Path) -> None:
    """stop(hangup=True) while the messages are being rendered: the call is not placed after
    the stop, and its attempt still gets a result."""
    log: list[tuple[str, Any]] = []
    gate, started = anyio.Event(), anyio.Event()
    clock = LoopClock()
    store = MemoryStore()
    async with RecordingSwitch(log, clock=clock) as switch:
        runtime = Runtime(
            campaign=_campaign(),
            switch=switch,
            store=store,
            clock=clock,
            renderer=EngineRenderer(
                engine=GatedEngine(gate, started),
                cache=FragmentCache(directory=tmp_path),
                mode="sentence",
            ),
        )

        async def stop_mid_render() -> None:
            await started.wait()
            runtime.stop(hangup=True)
            await anyio.sleep(1)  # virtual time: the stop is handled before the gate opens
            gate.set()

        with anyio.fail_after(3600):
            async with anyio.create_task_group() as tg:
                tg.start_soon(stop_mid_render)
                await runtime.run(_contacts("1", "7"))
    assert ("originate", "+79500000007") not in log
    records = {r.contact_id: r for r in store.attempts("sp")}
    assert records["c7"].outcome is not None
    assert records["c7"].detail == "hung up before it was placed"
    assert records["c1"].outcome is not None
