"""Issue #12's figures on the real Asterisk 22 and FreeSWITCH 1.11 of the test PBX.

Three measurements per switch (``shared/pbx/README.md``: ARI on 127.0.0.1:8088, ESL on
127.0.0.1:8021, callees chosen by the number's last digit):

1. **Outcomes per digit**: a campaign file (recorded greeting, a ``say`` step with the balance,
   a menu "1 = operator, 2 = hang up", the operators of ``autoinformer.testing.realpbx``) run
   by ``autoinformer run`` exactly as a user runs it, ten contacts whose last digits are 0-9;
   each digit's expected outcome against the one the store recorded, with the cause and the
   switch's words. One run.
2. **200 concurrent calls** through :class:`AriSwitch` / :class:`EslSwitch` opened directly:
   200 originates to hold-the-line callees (digit 1), all started at once in a task group, so
   they go as fast as the backend lets them (ARI: ``max_connections`` requests in flight;
   ESL: ``bgapi`` on one socket). Measured: the set-up rate (answered calls per second from
   the first originate to the last ``CallAnswered``), the originate request's round trip
   (p50/p99), originate -> ``CallAnswered`` (p50/p99), and the event-loop lag p99 during the
   burst (a ticker sleeps 5 ms; how late it wakes). Then all are hung up at once and every
   ``CallEnded`` is waited for; missing ones and channels left on the switch are reported.
3. **Answer -> first audio of a ``say`` step**, the whole path a user gets: the
   :class:`~autoinformer.runtime.Runtime` runs a one-contact campaign whose script is
   ``say("Your debt is <currency>{BALANCE|abs} RUB</currency>.")``. The runtime renders the
   speech before it places the call, so two figures: (a) the render before the originate
   (``run()`` -> ``originate``, and the renders' own time), with a cold fragment cache (a new
   empty directory) and a warm one (the same directory, a new runtime and renderer); (b)
   answer -> playback started, from the switch's own timestamps on a side connection (ARI: a
   second WebSocket, another application with ``subscribeAll``: ``ChannelStateChange`` Up and
   ``PlaybackStarted``, millisecond ``timestamp``; ESL: a second socket subscribed to
   ``CHANNEL_ANSWER`` and ``PLAYBACK_START``, microsecond ``Event-Date-Timestamp``).

Parts 2 and 3 give the median of ``--runs`` runs (every run is in the JSON).

Rerun (the servers are shared: hold the lock, as every real-server run does)::

    flock /tmp/pbx.lock python benchmarks/real_switches.py [--runs 3] [--only ari|esl]
        [--calls 200] [--paced-rate 80] [--parts outcomes,burst,say] [--results-dir DIR]

Part 2 runs three times per run: all originates at once and started at ``--paced-rate`` per
second, both with the backend's own limit off (FreeSWITCH refuses what exceeds its
``sessions-per-second``; 0 skips the paced variant), and all at once with the backend's default
``max_calls_per_second`` (ESL 25/s, ARI none): what a user gets out of the box.

The ARI parts use their own application name (``autoinformer-bench``, or
``AUTOINFORMER_BENCH_ARI_APP``) so that a dialer or a test using ``autoinformer`` on the same
server at the same time cannot take the event stream over (ARI gives an application's events to
its latest WebSocket only).

Writes ``benchmarks/results/real_switches.json`` (``real_switches_ari.json`` with ``--only``)
and ``real_switches.png`` (per-call set-up time, originate -> CallAnswered, of the median burst
run of each switch). The servers come from ``AUTOINFORMER_ARI_URL`` / ``AUTOINFORMER_ESL_HOST``
and friends (see ``tests/realpbx``), by default the test PBX on this machine. ``run_all.py``
(``nox -s bench``) runs this one only when named.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from _core_harness import RESULTS, print_table

from autoinformer.backends.base import (
    CallAnswered,
    CallEnded,
    Media,
    PlaybackFinished,
    Switch,
    SwitchEvent,
)
from autoinformer.outcomes import HangupCause

ROOT = Path(__file__).resolve().parents[1]
GREETING = ROOT / "examples" / "campaign" / "greeting.wav"
SAY = "Your debt is <currency>{BALANCE|abs} RUB</currency>."
PREFIX = "+7950888123"
"""Part 1's numbers: this and the party's digit."""
BURST_PREFIX = "+7950777"
"""Part 2's numbers: this, the call's index in five digits, then 1 (answers and holds)."""
LAG_PERIOD = 0.005
ANSWER_PATIENCE = 90.0
END_PATIENCE = 60.0
OBSERVER_APP = "autoinformer-bench-observer"
OUTCOMES_TIMEOUT = 180.0
"""Part 1's campaign takes about 40 s (digit 3 rings for the 20 s ring timeout, digit 8 talks
to an operator for 15 s)."""
OPERATORS = ("anna", "boris", "vera")


# --- the servers ----------------------------------------------------------------------------


def servers() -> dict[str, dict[str, Any]]:
    """Each real switch: its campaign-file ``[backend]`` table and how to reach it directly."""
    ari_url = os.environ.get("AUTOINFORMER_ARI_URL", "http://127.0.0.1:8088")
    esl_host = os.environ.get("AUTOINFORMER_ESL_HOST", "127.0.0.1")
    return {
        "ari": {
            "backend": {
                "kind": "ari",
                "url": ari_url,
                "username": os.environ.get("AUTOINFORMER_ARI_USERNAME", "ari"),
                "password_env": "AUTOINFORMER_ARI_PASSWORD",
                "app": os.environ.get("AUTOINFORMER_BENCH_ARI_APP", "autoinformer-bench"),
                "endpoint": "Local/{digits}@phones",
                "sounds_dir": os.environ.get(
                    "AUTOINFORMER_ARI_SOUNDS_DIR",
                    "/opt/realpbx/asterisk/var/lib/asterisk/sounds/autoinformer",
                ),
            },
            "operator": "Local/{n}@operators",
            "password_env": "AUTOINFORMER_ARI_PASSWORD",
            "password": os.environ.get("AUTOINFORMER_ARI_PASSWORD", "ari"),
        },
        "esl": {
            "backend": {
                "kind": "esl",
                "host": esl_host,
                "port": int(os.environ.get("AUTOINFORMER_ESL_PORT", "8021")),
                "password_env": "AUTOINFORMER_ESL_PASSWORD",
                "dial": "loopback/{digits}/default",
            },
            "operator": "loopback/op{n}/default",
            "password_env": "AUTOINFORMER_ESL_PASSWORD",
            "password": os.environ.get("AUTOINFORMER_ESL_PASSWORD", "ClueCon"),
        },
    }


def open_switch(server: Mapping[str, Any]) -> Switch:
    """The backend's Switch from the ``[backend]`` table (the password from its variable)."""
    from autoinformer.backends import load_backend

    os.environ.setdefault(server["password_env"], server["password"])
    settings = {k: v for k, v in server["backend"].items() if k != "kind"}
    switch: Switch = load_backend(server["backend"]["kind"])(**settings)
    return switch


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in runs if isinstance(r.get(key), int | float) and r[key] == r[key]]
    return statistics.median(values) if values else float("nan")


# --- 1. outcomes per digit ------------------------------------------------------------------


def write_campaign(directory: Path, kind: str, server: Mapping[str, Any], digits: str) -> Path:
    """The campaign file of ``tests/realpbx/test_campaign_real.py`` (the same script)."""
    from autoinformer.testing.realpbx import RealPbx
    from autoinformer.testing.realpbx import write_campaign as write

    pbx = RealPbx(
        kind=kind,
        backend=dict(server["backend"]),
        operator=server["operator"].format(n=100),
        password_env=server["password_env"],
        password=server["password"],
    )
    return write(directory, pbx, digits, lines=len(digits), name=f"bench {kind}")


def outcomes(kind: str, server: Mapping[str, Any]) -> dict[str, Any]:
    """Part 1: ``autoinformer run`` on ten contacts, one per last digit; a row per digit."""
    from autoinformer.store.sqlite import SqliteStore
    from autoinformer.testing.parties import PARTIES

    digits = "0123456789"
    with tempfile.TemporaryDirectory(prefix="bench-real-") as tmp:
        directory = Path(tmp)
        path = write_campaign(directory, kind, server, digits)
        store = directory / "campaign.sqlite"
        started = time.perf_counter()
        note = ""
        command = [sys.executable, "-m", "autoinformer", "run", str(path), "--store", str(store)]
        try:
            done = subprocess.run(
                [*command, "--json"],
                capture_output=True,
                text=True,
                timeout=OUTCOMES_TIMEOUT,
                env={**os.environ, server["password_env"]: server["password"]},
                check=False,
            )
        except subprocess.TimeoutExpired:
            note = f"autoinformer run still running after {OUTCOMES_TIMEOUT:g} s: killed"
        else:
            if done.returncode != 0:
                note = f"autoinformer run exit {done.returncode}: {done.stderr[-500:]}"
        wall = time.perf_counter() - started
        if note:
            print(f"  {note}", file=sys.stderr)
        with SqliteStore(store) as opened:
            records = {r.number[-1]: r for r in opened.attempts(f"bench {kind}")}
    rows = []
    for d in digits:
        record = records.get(d)
        want = PARTIES[d].expected.value
        got = record.outcome.value if record is not None and record.outcome else "-"
        cause = record.cause if record is not None else None
        rows.append(
            {
                "backend": kind,
                "digit": d,
                "expected": want,
                "outcome": got,
                "ok": "yes" if got == want else "NO",
                "cause": "" if cause is None else f"{cause} {_cause_name(cause)}",
                "digits": record.digits if record is not None else "",
                "detail": (record.detail if record is not None else "no attempt")[:90],
            }
        )
    return {"wall_s": round(wall, 1), "note": note, "rows": rows}


def _cause_name(cause: int) -> str:
    try:
        return HangupCause(cause).name
    except ValueError:
        return "?"


# --- 2. 200 concurrent calls ----------------------------------------------------------------


async def burst(
    kind: str,
    server: Mapping[str, Any],
    calls: int,
    tag: str,
    rate: float | None,
    backend_limit: bool = False,
) -> dict[str, Any]:
    """Part 2, one run: ``calls`` originates (all at once, or started at ``rate`` per second),
    answered, then all hung up at once. ``backend_limit``: keep the backend's own
    ``max_calls_per_second`` (ESL: 25/s by default); otherwise it is off, so the benchmark's
    own timing is what reaches the switch."""
    sent: dict[str, float] = {}
    rtt: list[float] = []
    answered: dict[str, float] = {}
    ended: dict[str, float] = {}
    early: list[str] = []
    errors: list[str] = []
    lags: list[tuple[float, float]] = []
    all_answered, all_ended = anyio.Event(), anyio.Event()
    ids = [f"{tag}-{i}" for i in range(calls)]
    caller = f"+7499{secrets.randbelow(10**7):07d}"  # this run's channels on the switch
    hanging_up = False

    async def ticker() -> None:
        while True:
            before = time.perf_counter()
            await anyio.sleep(LAG_PERIOD)
            lags.append((before, time.perf_counter() - before - LAG_PERIOD))

    async def consume(switch: Switch) -> None:
        async for event in switch.events():
            now = time.perf_counter()
            if isinstance(event, CallAnswered) and event.call_id in sent:
                answered[event.call_id] = now
            elif isinstance(event, CallEnded) and event.call_id in sent:
                ended[event.call_id] = now
                if not hanging_up:
                    early.append(f"{event.call_id}: {int(event.cause)} {event.detail}")
                if len(ended) == calls:
                    all_ended.set()
            settled()

    def settled() -> None:
        """Every call is answered, or failed (refused, or ended before its answer)."""
        failed = len(errors) + sum(1 for c in ended if c not in answered)
        if len(answered) + failed >= calls:
            all_answered.set()

    async def originate(switch: Switch, i: int) -> None:
        call_id = ids[i]
        sent[call_id] = start = time.perf_counter()
        try:
            await switch.originate(
                call_id, f"{BURST_PREFIX}{i:05d}1", caller_id=caller, ring_timeout=30
            )
        except Exception as exc:  # counted and reported; the run goes on
            errors.append(f"{type(exc).__name__}: {exc}")
            settled()
            return
        rtt.append(time.perf_counter() - start)

    if not backend_limit:
        server = {**server, "backend": {**server["backend"], "max_calls_per_second": False}}
    switch = open_switch(server)
    async with switch, anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        tg.start_soon(consume, switch)
        await anyio.sleep(0.2)  # the ticker's first samples: the quiet loop
        t0 = time.perf_counter()
        async with anyio.create_task_group() as origs:
            for i in range(calls):
                if rate:
                    delay = t0 + i / rate - time.perf_counter()
                    if delay > 0:
                        await anyio.sleep(delay)
                origs.start_soon(originate, switch, i)
        originates_done = time.perf_counter() - t0
        with anyio.move_on_after(ANSWER_PATIENCE):
            await all_answered.wait()
        t_last = max(answered.values(), default=time.perf_counter())
        await anyio.sleep(1.0)  # every call up together for a second
        hanging_up = True
        h0 = time.perf_counter()
        async with anyio.create_task_group() as hangs:
            for call_id in ids:
                hangs.start_soon(_quiet_hangup, switch, call_id)
        with anyio.move_on_after(END_PATIENCE):
            await all_ended.wait()
        t_ended = max(ended.values(), default=time.perf_counter())
        missing = [c for c in ids if c not in ended]
        extra = _switch_extra(switch)
        tg.cancel_scope.cancel()
    leftover = await leftovers(kind, server, tag, caller)
    setup = [answered[c] - sent[c] for c in answered]
    burst_lags = [lag * 1000 for at, lag in lags if t0 <= at <= t_last]
    span = t_last - t0
    return {
        "calls": calls,
        "answered": len(answered),
        "originate_errors": len(errors),
        "ended_before_hangup": len(early),
        "setup_s": round(span, 3),
        "setup_rate_per_s": round(len(answered) / span, 1) if span > 0 else float("nan"),
        "originates_returned_s": round(originates_done, 3),
        "originate_p50_ms": round(pct(rtt, 0.5) * 1000, 1),
        "originate_p99_ms": round(pct(rtt, 0.99) * 1000, 1),
        "answer_p50_ms": round(pct(setup, 0.5) * 1000, 1),
        "answer_p99_ms": round(pct(setup, 0.99) * 1000, 1),
        "lag_p50_ms": round(pct(burst_lags, 0.5), 2),
        "lag_p99_ms": round(pct(burst_lags, 0.99), 2),
        "lag_max_ms": round(max(burst_lags, default=float("nan")), 2),
        "hangup_s": round(t_ended - h0, 3),
        "call_ended": len(ended),
        "call_ended_missing": len(missing),
        "leftover_channels": leftover,
        **extra,
        "errors_sample": errors[:3],
        "early_sample": early[:3],
        "missing_sample": missing[:5],
        "_setup_ms": sorted(round(s * 1000, 1) for s in setup),
    }


async def _quiet_hangup(switch: Switch, call_id: str) -> None:
    with contextlib.suppress(Exception):  # one that never existed or already went
        await switch.hangup(call_id)


def _switch_extra(switch: Switch) -> dict[str, Any]:
    if hasattr(switch, "gaps"):
        return {"event_gaps": switch.gaps}
    if hasattr(switch, "dropped_events"):
        return {"dropped_events": switch.dropped_events}
    return {}


async def leftovers(kind: str, server: Mapping[str, Any], tag: str, caller: str) -> int:
    """Channels of this run still on the switch (after a second's grace): ARI channel ids
    start with the run's tag; FreeSWITCH channels show the run's caller number."""
    await anyio.sleep(1.0)
    if kind == "ari":
        import httpx

        backend = server["backend"]
        auth = httpx.BasicAuth(backend["username"], server["password"])
        async with httpx.AsyncClient(auth=auth, timeout=10) as http:
            listed = await http.get(f"{backend['url'].rstrip('/')}/ari/channels")
            listed.raise_for_status()
            return sum(1 for ch in listed.json() if ch["id"].startswith(f"{tag}-"))
    from autoinformer.backends.esl.client import EslConnection

    backend = server["backend"]
    conn = await EslConnection.open(backend["host"], backend["port"], server["password"])
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_read_quietly, conn, lambda event: None)
            reply = await conn.command("api show channels as json")
            tg.cancel_scope.cancel()
    finally:
        await conn.aclose()
    rows = json.loads(reply.body or b"{}").get("rows", [])
    digits = caller.removeprefix("+")
    return sum(1 for row in rows if row.get("cid_num", "").removeprefix("+") == digits)


async def _read_quietly(conn: Any, on_event: Callable[[Any], None]) -> None:
    with contextlib.suppress(Exception):
        await conn.read_events(on_event)


# --- 3. answer -> first audio of a say step -------------------------------------------------


class Observed(Switch):
    """A connected switch, passed through, noting when the runtime originates and plays."""

    def __init__(self, inner: Switch) -> None:
        self.inner = inner
        self.marks: dict[str, float] = {}
        self.call_id: str | None = None

    async def connect(self) -> None:
        """The inner switch is already connected."""

    async def close(self) -> None:
        """The inner switch is closed by its owner."""

    async def originate(self, call_id: str, destination: str, **kwargs: Any) -> None:
        self.marks.setdefault("originate", time.perf_counter())
        self.call_id = call_id
        await self.inner.originate(call_id, destination, **kwargs)

    async def play(self, call_id: str, media: Media, *, playback_id: str) -> None:
        self.marks.setdefault("play_called", time.perf_counter())
        await self.inner.play(call_id, media, playback_id=playback_id)
        self.marks.setdefault("play_returned", time.perf_counter())

    async def stop_playback(self, call_id: str, playback_id: str) -> None:
        await self.inner.stop_playback(call_id, playback_id)

    async def collect_digits(self, call_id: str) -> None:
        await self.inner.collect_digits(call_id)

    async def bridge(self, bridge_id: str, call_ids: tuple[str, ...]) -> None:
        await self.inner.bridge(bridge_id, call_ids)

    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        await self.inner.hangup(call_id, cause)

    def events(self) -> AsyncIterator[SwitchEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[SwitchEvent]:
        async for event in self.inner.events():
            if isinstance(event, CallAnswered):
                self.marks.setdefault("answered_seen", time.perf_counter())
                self.marks.setdefault("answered_seen_epoch", time.time())
            elif isinstance(event, PlaybackFinished):
                self.marks.setdefault("playback_finished_seen", time.perf_counter())
            yield event


class TimedRenderer:
    """The default renderer, each render timed (start, seconds)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.renders: list[tuple[float, float]] = []

    async def render(self, template: Any, contact: Any, lang: str) -> Any:
        start = time.perf_counter()
        try:
            return await self.inner.render(template, contact, lang)
        finally:
            self.renders.append((start, time.perf_counter() - start))


class SideObserver:
    """The switch's own answer and playback-start times per call (seconds since the epoch),
    read on a second connection that the dialer does not use."""

    def __init__(self, kind: str, server: Mapping[str, Any]) -> None:
        self.kind, self.server = kind, server
        self.answered: dict[str, float] = {}
        self.playing: dict[str, float] = {}
        self.ready = anyio.Event()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        if self.kind == "ari":
            await self._ari(task_status)
        else:
            await self._esl(task_status)

    async def _ari(self, task_status: anyio.abc.TaskStatus[None]) -> None:
        import httpx
        from httpx_ws import aconnect_ws

        backend = self.server["backend"]
        auth = httpx.BasicAuth(backend["username"], self.server["password"])
        url = f"{backend['url'].rstrip('/')}/ari/events"
        params = {"app": OBSERVER_APP, "subscribeAll": "true"}
        async with (
            httpx.AsyncClient(auth=auth) as http,
            aconnect_ws(url, http, params=params) as ws,  # type: ignore[var-annotated]
        ):
            task_status.started()
            while True:
                event = json.loads(await ws.receive_text())
                kind = event.get("type")
                if kind == "ChannelStateChange" and event["channel"]["state"] == "Up":
                    self.answered.setdefault(event["channel"]["id"], _ari_time(event))
                elif kind == "PlaybackStarted":
                    target = event["playback"].get("target_uri", "")
                    if target.startswith("channel:"):
                        self.playing.setdefault(target.removeprefix("channel:"), _ari_time(event))

    async def _esl(self, task_status: anyio.abc.TaskStatus[None]) -> None:
        from autoinformer.backends.esl.client import EslConnection

        backend = self.server["backend"]
        conn = await EslConnection.open(backend["host"], backend["port"], self.server["password"])

        def on_event(event: Any) -> None:
            call_id = event.get("variable_autoinformer_call_id")
            stamp = event.get("Event-Date-Timestamp")
            if not call_id or not stamp:
                return
            at = int(stamp) / 1e6
            if event.name == "CHANNEL_ANSWER":
                self.answered[call_id] = min(at, self.answered.get(call_id, at))
            elif event.name == "PLAYBACK_START":
                self.playing.setdefault(call_id, at)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_read_quietly, conn, on_event)
                await conn.command("event plain CHANNEL_ANSWER PLAYBACK_START")
                task_status.started()
                await anyio.sleep_forever()
        finally:
            await conn.aclose()


def _ari_time(event: Mapping[str, Any]) -> float:
    """ARI's ``timestamp`` (``2024-05-01T10:00:00.123+0000``) as seconds since the epoch."""
    return dt.datetime.strptime(event["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


async def say_once(
    kind: str, server: Mapping[str, Any], cache: Path, observer: SideObserver, cold: bool
) -> dict[str, Any]:
    """Part 3, one run: a one-contact ``say`` campaign through the Runtime."""
    from autoinformer.campaign import Campaign
    from autoinformer.contacts.model import Contact
    from autoinformer.policy.retry import RetryPolicy
    from autoinformer.policy.schedule import CallWindow
    from autoinformer.runtime import Runtime
    from autoinformer.script import Script, say
    from autoinformer.speech.settings import SpeechSettings
    from autoinformer.store.sqlite import SqliteStore

    campaign = Campaign(
        name=f"bench-say-{secrets.token_hex(3)}",
        script=Script.of(say(SAY)),
        window=CallWindow.any_time(),
        retry=RetryPolicy(attempts=1),
        min_delivered_seconds=1.0,
    )
    contact = Contact(id="c1", phones=(f"{PREFIX}1",), variables={"BALANCE": "-525.19"})
    renderer = TimedRenderer(SpeechSettings().renderer(cache_dir=cache))
    with tempfile.TemporaryDirectory(prefix="bench-say-") as tmp:
        inner = open_switch(server)
        async with inner:
            switch = Observed(inner)
            with SqliteStore(Path(tmp) / "say.sqlite") as store:
                runtime = Runtime(campaign=campaign, switch=switch, store=store, renderer=renderer)
                started = time.perf_counter()
                with anyio.fail_after(60):
                    summary = await runtime.run([contact])
                (record,) = store.attempts(campaign.name)
    await anyio.sleep(0.3)  # the side connection's last events
    marks, call_id = switch.marks, switch.call_id
    originate = marks.get("originate", float("nan"))
    before = [s for at, s in renderer.renders if at < originate]
    answered = observer.answered.get(call_id or "", float("nan"))
    playing = observer.playing.get(call_id or "", float("nan"))
    return {
        "cache": "cold" if cold else "warm",
        "outcome": record.outcome.value if record.outcome else None,
        "attempts": summary["attempts"],
        "start_to_originate_ms": round((originate - started) * 1000, 1),
        "render_ms": round(sum(before) * 1000, 1),
        "renders": len(before),
        "answer_to_playback_ms": round((playing - answered) * 1000, 1),
        "switch_answer_to_call_answered_ms": round(
            (marks.get("answered_seen_epoch", float("nan")) - answered) * 1000, 1
        ),
        "client_answer_to_play_returned_ms": round(
            (marks.get("play_returned", float("nan")) - marks.get("answered_seen", float("nan")))
            * 1000,
            1,
        ),
    }


async def say_runs(kind: str, server: Mapping[str, Any], runs: int) -> list[dict[str, Any]]:
    observer = SideObserver(kind, server)
    out: list[dict[str, Any]] = []
    async with anyio.create_task_group() as tg:
        await tg.start(observer.run)
        for _ in range(runs):
            with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:
                out.append(await say_once(kind, server, Path(cache), observer, cold=True))
                out.append(await say_once(kind, server, Path(cache), observer, cold=False))
        tg.cancel_scope.cancel()
    return out


# --- the report -----------------------------------------------------------------------------


def plot(bursts: dict[str, dict[str, Any]], path: Path, calls: int) -> None:
    """Per-call set-up time (originate -> CallAnswered) of each switch's median run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    names = {"ari": "Asterisk ARI", "esl": "FreeSWITCH ESL"}
    for key, run in bursts.items():
        values = run["_setup_ms"]
        if values:
            kind, mode = key.split(" ", 1)
            ys = [(i + 1) / run["calls"] for i in range(len(values))]
            label = f"{names[kind]}, {mode} ({len(values)} of {run['calls']} answered)"
            ax.step(values, ys, where="post", label=label)
    ax.set_xlabel("originate -> CallAnswered (ms)")
    ax.set_ylabel("share of the calls placed")
    ax.set_title(f"{calls} concurrent originates on the real test PBX (median run)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=3, help="runs of parts 2 and 3")
    options.add_argument("--only", choices=("ari", "esl"), default=None)
    options.add_argument("--calls", type=int, default=200)
    options.add_argument("--parts", default="outcomes,burst,say")
    options.add_argument(
        "--paced-rate",
        type=float,
        default=80.0,
        help="also start the originates at this rate per second (0: only all at once); "
        "FreeSWITCH's sessions-per-second limit (200 on the test PBX) counts both loopback legs",
    )
    options.add_argument("--pause", type=float, default=3.0, help="seconds between burst runs")
    options.add_argument("--results-dir", type=Path, default=RESULTS)
    args = options.parse_args(argv)
    parts = set(args.parts.split(","))
    kinds = [args.only] if args.only else ["ari", "esl"]
    all_servers = servers()
    results: dict[str, Any] = {"outcomes": {}, "burst": {}, "say": {}}
    digit_rows: list[dict[str, Any]] = []
    burst_rows: list[dict[str, Any]] = []
    say_rows: list[dict[str, Any]] = []
    median_bursts: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        server = all_servers[kind]
        if "outcomes" in parts:
            print(f"[{kind}] outcomes per digit...", file=sys.stderr)
            result = outcomes(kind, server)
            results["outcomes"][kind] = result
            digit_rows += result["rows"]
        if "burst" in parts:
            modes: list[tuple[str, float | None]] = [("at once", None)]
            if args.paced_rate:
                modes.append((f"{args.paced_rate:g}/s", args.paced_rate))
            modes.append(("backend default", None))
            by_mode: dict[str, list[dict[str, Any]]] = {mode: [] for mode, _ in modes}
            for n in range(args.runs):
                for mode, rate in modes:
                    tag = f"bench-{kind}-{secrets.token_hex(3)}"
                    print(f"[{kind}] burst {mode} {n + 1}/{args.runs} ({tag})...", file=sys.stderr)
                    own = mode == "backend default"
                    run = anyio.run(burst, kind, server, args.calls, tag, rate, own)
                    by_mode[mode].append(run)
                    print(
                        f"  {run['answered']} answered in {run['setup_s']} s, "
                        f"{run['call_ended']} ended",
                        file=sys.stderr,
                    )
                    time.sleep(args.pause)  # the switch's sessions-per-second counter resets
            results["burst"][kind] = {}
            for mode, runs in by_mode.items():
                keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
                row = {"backend": kind, "mode": mode, **{k: median_of(runs, k) for k in keys}}
                row["worst_answered"] = min(r["answered"] for r in runs)
                row["worst_call_ended_missing"] = max(r["call_ended_missing"] for r in runs)
                row["ended_before_hangup_causes"] = sorted(
                    {e.split(": ", 1)[1] for r in runs for e in r["early_sample"]}
                )
                burst_rows.append(row)
                by_rate = sorted(runs, key=lambda r: r["setup_rate_per_s"])
                median_bursts[f"{kind} {mode}"] = by_rate[len(by_rate) // 2]
                results["burst"][kind][mode] = {
                    "median": row,
                    "runs": [{k: v for k, v in r.items() if not k.startswith("_")} for r in runs],
                }
        if "say" in parts:
            print(f"[{kind}] say step, cold and warm cache...", file=sys.stderr)
            runs = anyio.run(say_runs, kind, server, args.runs)
            for cache in ("cold", "warm"):
                mine = [r for r in runs if r["cache"] == cache]
                say_rows.append(
                    {
                        "backend": kind,
                        "cache": cache,
                        **{
                            k: median_of(mine, k)
                            for k in (
                                "start_to_originate_ms",
                                "render_ms",
                                "answer_to_playback_ms",
                                "switch_answer_to_call_answered_ms",
                                "client_answer_to_play_returned_ms",
                            )
                        },
                        "delivered": sum(r["outcome"] == "delivered" for r in mine),
                        "runs": len(mine),
                    }
                )
            results["say"][kind] = {"runs": runs}

    if digit_rows:
        print("\n### Outcome per last digit (autoinformer run, one run)\n")
        print_table(
            {
                "switch": "backend",
                "digit": "digit",
                "expected": "expected",
                "recorded": "outcome",
                "ok": "ok",
                "cause": "cause",
                "digits": "digits",
                "detail": "detail",
            },
            digit_rows,
            left=8,
        )
    if burst_rows:
        print(f"\n### {args.calls} concurrent calls (median of {args.runs} runs)\n")
        print_table(
            {
                "switch": "backend",
                "originates": "mode",
                "answered": "answered",
                "answered (worst run)": "worst_answered",
                "set-up s": "setup_s",
                "answers/s": "setup_rate_per_s",
                "originate p50/p99 ms": "originate",
                "answer p50/p99 ms": "answer",
                "loop lag p99 ms": "lag_p99_ms",
                "CallEnded": "call_ended",
                "missing (worst run)": "worst_call_ended_missing",
                "left on switch": "leftover_channels",
            },
            [
                {
                    **r,
                    "originate": f"{r['originate_p50_ms']:.0f} / {r['originate_p99_ms']:.0f}",
                    "answer": f"{r['answer_p50_ms']:.0f} / {r['answer_p99_ms']:.0f}",
                }
                for r in burst_rows
            ],
            left=2,
        )
    if say_rows:
        title = "say step: render before the call, answer -> playback"
        print(f"\n### {title} (median of {args.runs} runs)\n")
        print_table(
            {
                "switch": "backend",
                "cache": "cache",
                "run() -> originate ms": "start_to_originate_ms",
                "render ms": "render_ms",
                "answer -> playback started ms (switch clock)": "answer_to_playback_ms",
                "of which: answer -> our CallAnswered ms": "switch_answer_to_call_answered_ms",
                "CallAnswered -> play() returned ms": "client_answer_to_play_returned_ms",
                "delivered": "delivered",
            },
            say_rows,
            left=2,
        )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    name = "real_switches" if not args.only else f"real_switches_{args.only}"
    out = {
        "benchmark": name,
        "runs": args.runs,
        "calls": args.calls,
        "servers": {
            "ari": "Asterisk 22.10.1, Local/{digits}@phones",
            "esl": "FreeSWITCH 1.11.1, loopback/{digits}/default",
        },
        "python": sys.version.split()[0],
        "machine": os.uname().machine,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rows": {"outcomes": digit_rows, "burst": burst_rows, "say": say_rows},
        "detail": results,
    }
    path = args.results_dir / f"{name}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {path}", file=sys.stderr)
    if median_bursts:
        png = args.results_dir / f"{name}.png"
        plot(median_bursts, png, args.calls)
        print(f"wrote {png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
