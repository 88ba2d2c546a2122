"""Engines fail over (#15 item 7): an ordered list of engines, a circuit breaker per engine
(pure, time passed in), and errors that name the engine and the network cause."""

from __future__ import annotations

import socket
import threading
import tomllib
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
import requests
import urllib3.exceptions
from requests.adapters import BaseAdapter

from autoinformer.campaign_file import parse_campaign
from autoinformer.contacts.model import Contact
from autoinformer.errors import SettingsError
from autoinformer.speech import (
    Engine,
    EngineError,
    EngineRenderer,
    FragmentCache,
    Template,
    ToneEngine,
)
from autoinformer.speech.breaker import BreakerPolicy, CircuitBreaker
from autoinformer.speech.engines.google import GttsEngine
from autoinformer.speech.settings import FallbackRenderer, SpeechSettings

EXAMPLE = Path(__file__).parents[2] / "examples" / "campaign" / "campaign.toml"
HELLO = Template.parse("Hello {NAME}.")

# ------------------------------------------------------------------ the breaker (pure)


def test_a_failure_opens_the_circuit_until_the_cooldown_is_over() -> None:
    b = CircuitBreaker(policy=BreakerPolicy(cooldown=30))
    assert b.allows(0.0)
    b.failed(1.0, "no network")
    assert (b.state, b.retry_at) == ("open", 31.0)
    assert not b.allows(30.9)
    assert b.describe(11.0) == "no network; skipped, next try in 20 s"
    assert b.allows(31.0)  # the one trial
    assert b.state == "half-open"
    assert not b.allows(31.5)  # others keep skipping while it runs
    b.succeeded(32.0)
    assert (b.state, b.failures, b.retry_at) == ("closed", 0, None)
    assert b.allows(32.0)
    assert b.allows(32.0)


def test_an_engine_that_stays_down_is_tried_once_per_doubling_cooldown() -> None:
    b = CircuitBreaker(policy=BreakerPolicy(cooldown=10, max_cooldown=35))
    b.failed(0.0, "down")
    tries = []
    now = 0.0
    while now < 200:
        if b.allows(now):
            tries.append(now)
            b.failed(now, "down")
        now += 1
    assert tries == [10, 30, 65, 100, 135, 170]  # 20, 35 (capped), 35, ...
    b.succeeded(now)
    b.failed(now, "down")
    assert b.retry_at == now + 10  # success resets the cooldown


def test_the_threshold_counts_consecutive_failures() -> None:
    b = CircuitBreaker(policy=BreakerPolicy(failures=3))
    b.failed(0, "x")
    b.failed(1, "x")
    assert b.allows(2)
    b.succeeded(2)
    b.failed(3, "x")
    b.failed(4, "x")
    assert b.allows(5)
    b.failed(5, "x")
    assert not b.allows(6)


def test_a_released_trial_lets_the_next_message_try() -> None:
    b = CircuitBreaker(policy=BreakerPolicy(cooldown=5))
    b.failed(0, "x")
    assert b.allows(5)
    b.release()  # cancelled: says nothing about the engine
    assert b.allows(5)


def test_policy_is_validated() -> None:
    with pytest.raises(SettingsError, match="cooldown"):
        BreakerPolicy(cooldown=0)
    with pytest.raises(SettingsError, match="failures"):
        BreakerPolicy(failures=0)


# ------------------------------------------------------------------ the renderer


@attrs.define(kw_only=True)
class BrokenEngine(Engine):
    """An engine that fails until told otherwise, counting its calls."""

    name: ClassVar[str] = "broken"
    calls: int = 0
    works: bool = False

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        self.calls += 1
        if not self.works:
            raise EngineError("cannot reach the service: connection refused")
        return await ToneEngine().synthesize(text, lang=lang)


@attrs.define
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def fallback(tmp_path: Path, *engines: Engine, clock: Clock) -> FallbackRenderer:
    renderers = tuple(
        EngineRenderer(engine=e, cache=FragmentCache(directory=tmp_path / str(i)))
        for i, e in enumerate(engines)
    )
    return FallbackRenderer(renderers=renderers, policy=BreakerPolicy(cooldown=60), clock=clock)


def ann(i: int = 1) -> Contact:
    return Contact(id=str(i), variables={"NAME": f"Ann{i}"})


@pytest.mark.anyio
async def test_a_failed_engine_is_skipped_not_retried_per_message(tmp_path: Path) -> None:
    broken, tone = BrokenEngine(), ToneEngine()
    clock = Clock()
    r = fallback(tmp_path, broken, tone, clock=clock)
    for i in range(20):
        await r.render(HELLO, ann(i))
        clock.now += 1
    assert broken.calls == 1  # tried once, then skipped for the cooldown
    assert r.fallbacks == 20
    clock.now = 61
    broken.works = True
    path = await r.render(HELLO, ann(99))
    assert broken.calls > 1
    assert r.breakers[0].state == "closed"
    assert path.exists()
    calls = len(tone.calls)
    await r.render(HELLO, ann(100))
    assert len(tone.calls) == calls  # back on the first engine


@pytest.mark.anyio
async def test_when_every_engine_fails_the_error_names_each(tmp_path: Path) -> None:
    first, second = BrokenEngine(), BrokenEngine()
    clock = Clock()
    r = fallback(tmp_path, first, second, clock=clock)
    with pytest.raises(EngineError) as failed:
        await r.render(HELLO, ann())
    assert str(failed.value) == (
        "every speech engine failed: broken: cannot reach the service: connection refused; "
        "broken: cannot reach the service: connection refused"
    )
    clock.now = 15
    with pytest.raises(EngineError) as failed:
        await r.render(HELLO, ann())
    # Both skipped: the first is asked anyway (a last resort), the second is named as skipped.
    assert str(failed.value) == (
        "every speech engine failed: broken: cannot reach the service: connection refused; "
        "broken: cannot reach the service: connection refused; skipped, next try in 45 s"
    )
    assert (first.calls, second.calls) == (2, 1)


@pytest.mark.anyio
async def test_a_single_engine_that_failed_once_is_still_asked(tmp_path: Path) -> None:
    only = BrokenEngine()
    clock = Clock()
    r = fallback(tmp_path, only, clock=clock)
    with pytest.raises(EngineError):
        await r.render(HELLO, ann())
    only.works = True  # a passing failure: the next message must not be refused unasked
    clock.now = 1
    assert (await r.render(HELLO, ann(2))).exists()
    assert r.breakers[0].state == "closed"


# ------------------------------------------------------------------ settings


def test_engines_list_sets_the_order_and_replaces_engine_and_fallback(tmp_path: Path) -> None:
    settings = SpeechSettings(engines=["gtts", "tone", "espeak"], voice="co.uk", cooldown=5)
    assert settings.engine_order == ("gtts", "tone", "espeak")
    r = settings.renderer(cache_dir=tmp_path)
    assert r.engine_names == ["gtts", "tone", "espeak-ng"]
    assert r.renderers[0].engine.tld == "co.uk"  # the voice is the first engine's
    assert r.policy == BreakerPolicy(cooldown=5, max_cooldown=100)
    assert SpeechSettings(engine="gtts", fallback="espeak").engine_order == ("gtts", "espeak")
    assert SpeechSettings().engine_order == ("espeak",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engines": []}, r"speech\.engines: expected at least one engine"),
        ({"engines": ["gtts", "polly"]}, r"speech\.engines\[1\]: expected one of"),
        ({"engines": ["gtts", "gtts"]}, r"speech\.engines\[1\]: 'gtts' is listed twice"),
        ({"cooldown": 0}, r"speech\.cooldown: expected a positive number of seconds"),
        ({"cooldown": True}, r"speech\.cooldown"),
        ({"cooldown": float("inf")}, r"speech\.cooldown"),
        ({"engines": "gtts"}, r"speech\.engines: expected a list of engine names, got 'gtts'"),
    ],
)
def test_bad_engine_settings_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        SpeechSettings(**kwargs)


def test_the_campaign_file_takes_engines_and_cooldown() -> None:
    data = tomllib.loads(EXAMPLE.read_text())
    data["speech"] = {"engines": ["gtts", "espeak"], "cooldown": 120}
    speech = parse_campaign(data, base=Path("/c")).speech
    assert (speech.engine_order, speech.cooldown) == (("gtts", "espeak"), 120)
    data["speech"] = {"engines": ["gtts"], "fallback": "espeak"}
    with pytest.raises(SettingsError, match=r"speech\.fallback: give either engines"):
        parse_campaign(data, base=Path("/c"))
    data["speech"] = {"engines": "gtts"}
    with pytest.raises(SettingsError, match=r"speech\.engines"):
        parse_campaign(data, base=Path("/c"))


# ------------------------------------------------------------------ gTTS without a network


class Unreachable(BaseAdapter):
    """A requests transport failing the way requests does without a network (the same
    exception chain: ConnectionError -> MaxRetryError -> urllib3's reason)."""

    def __init__(self, reason: Exception | None = None, *, hang: bool = False) -> None:
        super().__init__()
        self.reason = reason
        self.hang = hang
        self.released = threading.Event()
        self.timeouts: list[object] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.timeouts.append(kwargs.get("timeout"))
        if self.hang:
            self.released.wait(30)
        url = request.url or ""
        raise requests.exceptions.ConnectionError(
            urllib3.exceptions.MaxRetryError(None, url, self.reason), request=request
        )

    def close(self) -> None:
        pass


def unreachable(monkeypatch: pytest.MonkeyPatch, adapter: Unreachable) -> Unreachable:
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    return adapter


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("reason", "said"),
    [
        (
            urllib3.exceptions.NameResolutionError(
                "translate.google.com", None, socket.gaierror(-2, "Name or service not known")
            ),
            r"cannot reach translate\.google\.com: the host name could not be resolved "
            r"\(no DNS or no network: \[Errno -2\] Name or service not known\)",
        ),
        (
            urllib3.exceptions.ConnectTimeoutError(None, "timed out"),
            r"cannot reach translate\.google\.com: connecting timed out",
        ),
        (
            urllib3.exceptions.NewConnectionError(None, "refused"),
            r"cannot reach translate\.google\.com: connection failed",
        ),
    ],
)
async def test_gtts_says_the_network_cause(
    monkeypatch: pytest.MonkeyPatch, reason: Exception, said: str
) -> None:
    adapter = unreachable(monkeypatch, Unreachable(reason))
    with pytest.raises(EngineError, match=r"^gTTS failed: " + said):
        await GttsEngine().synthesize("hello", lang="en")
    assert adapter.timeouts == [(3.0, 15.0)]  # connecting is bounded apart from reading


@pytest.mark.anyio
async def test_a_refused_connection_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    reason = urllib3.exceptions.NewConnectionError(None, "refused")
    reason.__cause__ = refused
    unreachable(monkeypatch, Unreachable(reason))
    with pytest.raises(EngineError, match=r"the connection was refused"):
        await GttsEngine(tld="co.uk").synthesize("hello", lang="en")


@pytest.mark.anyio
async def test_a_service_that_never_answers_fails_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter = unreachable(monkeypatch, Unreachable(hang=True))
    try:
        with pytest.raises(
            EngineError, match=r"no answer from translate\.google\.com within 0.2 s"
        ):
            await GttsEngine(timeout=0.2).synthesize("hello", lang="en")
    finally:
        adapter.released.set()


@pytest.mark.anyio
async def test_gtts_without_network_falls_back_and_is_then_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    adapter = unreachable(
        monkeypatch,
        Unreachable(
            urllib3.exceptions.NameResolutionError(
                "translate.google.com", None, socket.gaierror(-3, "Temporary failure")
            )
        ),
    )
    clock = Clock()
    r = fallback(tmp_path, GttsEngine(), ToneEngine(), clock=clock)
    for i in range(5):
        await r.render(HELLO, ann(i))
    assert len(adapter.timeouts) == 1
    assert "could not be resolved" in r.breakers[0].last_error
