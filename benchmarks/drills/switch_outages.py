"""Drill (issue #13, the backends' half): outages, restarts and crashes under load.

For each target (the fake Asterisk and FreeSWITCH in virtual time; the real ones of the test
PBX) and each fault, N calls to hold-the-line callees (last digit 1) are placed and answered
through one :class:`AriSwitch` / :class:`EslSwitch`, then:

- ``drop``: the event link drops (fake: the server kills it; real: we close our side of it);
  the calls are still up and must be adopted.
- ``restart``: the switch is stopped and started again (real: ``stop.sh`` / ``start.sh``);
  every call is gone and must be reported lost (BackendGap.lost, then CallEnded).
- ``outage``: as ``restart``, the switch away ``--away`` seconds (300; in virtual time on the
  fakes, real seconds on the real switches); the backend keeps reconnecting and ``originate``
  fails at once meanwhile.
- ``hang``: the switch goes silent for ``--hang`` seconds (60): the real one is SIGSTOPped
  (its TCP connections stay open, nothing answers), then SIGCONTed; the fakes stop answering
  (:meth:`FakeAri.hang`). The backend must notice (``noticed_s``), refuse originates meanwhile,
  and adopt the calls when the switch carries on.
- ``hang-kill``: as ``hang``, then the silent switch is killed (SIGKILL) and started again: a
  hung switch that never comes back as it was; every call must be reported lost.
- ``resync-fail`` (ARI): as ``restart``, and the first ``GET /channels`` after it answers 500
  (the issue's ghost calls); the real Asterisk is killed (SIGKILL: a stopping one hangs its
  calls up first, and says so) and started. The fake answers the 500 itself; in front of the
  real Asterisk it comes from :class:`FailFirstList`, the switch's HTTP transport (where a
  proxy would sit): only that one reply is replaced.
- ``orphans``: the calls are left up by a "process" that dies (its switch object closes
  without hanging up); a new switch object finds them (``Switch.orphans``) and hangs them up.

While the switch is away (silent: once the backend noticed, or with ``--probe-early`` from the
first second), ``originate`` is tried every 5 s: ``away_attempts``
counts the tries, ``away_placed`` those that did not fail (must be 0), ``away_fast`` those that
failed within 1 s, ``away_max_s`` the slowest failure.

Then every call still ours is hung up and each must end with one CallEnded. Reported per run:
``completion`` (calls resolved / placed), ``unresolved`` (no CallEnded: must be 0),
``ghosts`` (calls the backend said survived although the switch no longer had them; a call
recorded "delivered" with the outage as talk time: must be 0), ``channels_left`` (calls of the
drill still on the switch 10 s after the end: must be 0), the gap, and for ``orphans`` the
orphans found and left. The calls on the switch are counted with a separate switch object's
:meth:`~autoinformer.backends.base.Switch.orphans` (channel variable ``AUTOINFORMER_CAMPAIGN``).

Rerun::

    python benchmarks/drills/switch_outages.py                        # the fakes, 260 calls
    flock /tmp/pbx.lock python benchmarks/drills/switch_outages.py --targets real-ari,real-esl
    # options: --calls N (default 260 on the fakes, 50 on the real switches),
    #          --faults drop,restart,outage,hang,hang-kill,resync-fail,orphans,
    #          --away SECONDS (outage, 300), --hang SECONDS (60), --probe-early,
    #          --esl-heartbeat SECONDS (1e9: none), --results PATH,
    #          --table (print the results as docs/reliability.md's table)

The real targets need the test PBX (``shared/pbx``) and restart it (always started again).
Results: ``benchmarks/results/switch_outages.json`` (merged per target and fault);
``--probe-early``: ``switch_outages_probe_early.json``; ``--esl-heartbeat 1e9``:
``switch_outages_no_heartbeat.json`` (pass them with ``--results``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import httpx

from autoinformer.backends import base
from autoinformer.backends.ari import AriSettings, AriSwitch
from autoinformer.backends.esl import EslSwitch
from autoinformer.errors import BackendError, BackendUnavailable
from autoinformer.testing.ari_spec import bundled_reference_dir
from autoinformer.testing.fake_ari import FakeAri
from autoinformer.testing.fake_esl import FakeEslServer
from autoinformer.testing.virtual_time import VirtualTimeLoop

TARGETS = ("fake-ari", "fake-esl", "real-ari", "real-esl")
FAULTS = ("drop", "restart", "outage", "hang", "hang-kill", "resync-fail", "orphans")
PBX_DIR = Path(os.environ.get("AUTOINFORMER_PBX_DIR", "/work/shared/pbx"))
RESULTS = Path(__file__).resolve().parents[1] / "results" / "switch_outages.json"
OUTAGE_SECONDS = 300.0
HANG_SECONDS = 60.0
SETTLE_SECONDS = 10.0
PROBE_EVERY = 5.0
PID_FILES = {
    "asterisk": Path("/opt/realpbx/asterisk/var/run/asterisk/asterisk.pid"),
    "freeswitch": Path("/opt/realpbx/freeswitch/run/freeswitch.pid"),
}


def applies(target: str, fault: str) -> bool:
    if fault == "resync-fail":
        return target.endswith("-ari")
    return True


class FailFirstList(httpx.AsyncBaseTransport):
    """The real network below; once :attr:`armed`, the next ``GET /ari/channels`` gets a 500
    without reaching Asterisk (what a failing proxy or an overloaded Asterisk answers)."""

    def __init__(self, max_connections: int) -> None:
        self.inner = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        self.armed = False
        self.failed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.armed and request.method == "GET" and request.url.path == "/ari/channels":
            self.armed = False
            self.failed += 1
            return httpx.Response(500, json={"message": "drill: injected"}, request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Target:
    """One switch under test: how to open a switch object, and how to hurt it."""

    name: str

    def switch(self, app: str = "drill13") -> base.Switch:
        """A new switch object; ``app``: its own ARI application (a second client on one
        application takes its events over)."""
        raise NotImplementedError

    def number(self, i: int) -> str:
        return f"+7950{i:06d}1"  # last digit 1: answers and holds

    async def drop(self, switch: base.Switch) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        raise NotImplementedError

    async def fail_next_resync(self) -> None:
        raise NotImplementedError

    async def hang(self) -> None:
        """The switch goes silent (SIGSTOP)."""
        raise NotImplementedError

    async def resume(self) -> None:
        """The silent switch carries on (SIGCONT)."""
        raise NotImplementedError

    async def kill(self) -> None:
        """The (silent) switch dies (SIGKILL); :meth:`start` brings it back."""
        raise NotImplementedError


class FakeAriTarget(Target):
    name = "fake-ari"

    def __init__(self, fake: FakeAri) -> None:
        self.fake = fake

    def switch(self, app: str = "drill13") -> base.Switch:
        fake = self.fake
        return AriSwitch(
            settings=AriSettings(
                url=fake.url,
                username=fake.username,
                password=fake.password,
                app=app,
                endpoint="PJSIP/{digits}@trunk",
                reconnect_max=5.0,
            )
        )

    async def drop(self, switch: base.Switch) -> None:
        await self.fake.drop_websocket()

    async def stop(self) -> None:
        await self.fake.stop()

    async def start(self) -> None:
        self.fake.start()

    async def fail_next_resync(self) -> None:
        self.fake.fail_next("list", 500)

    async def hang(self) -> None:
        self.fake.hang()

    async def resume(self) -> None:
        self.fake.resume()

    async def kill(self) -> None:
        await self.fake.stop()


class FakeEslTarget(Target):
    name = "fake-esl"

    def __init__(self, server: FakeEslServer) -> None:
        self.server = server

    def switch(self, app: str = "drill13") -> base.Switch:
        return EslSwitch(
            port=self.server.port,
            password=self.server.password,
            dial="sofia/gateway/gw1/{digits}",
            max_calls_per_second=None,
        )

    async def drop(self, switch: base.Switch) -> None:
        await self.server.drop_connections()

    async def stop(self) -> None:
        await self.server.stop()

    async def start(self) -> None:
        self.server.start()

    async def hang(self) -> None:
        self.server.hang()

    async def resume(self) -> None:
        self.server.resume()

    async def kill(self) -> None:
        await self.server.stop()


class RealTarget(Target):
    def __init__(self, name: str, heartbeat: float = 10.0) -> None:
        self.name = name
        self.heartbeat = heartbeat  # the drilled EslSwitch's heartbeat_interval
        self.server = "asterisk" if name == "real-ari" else "freeswitch"
        self.transport: FailFirstList | None = None

    def switch(self, app: str = "drill13") -> base.Switch:
        if self.name == "real-ari":
            settings = AriSettings(
                url=os.environ.get("AUTOINFORMER_ARI_URL", "http://127.0.0.1:8088"),
                username="ari",
                password="ari",
                app=app,  # our own application: no one else's events are stolen
                endpoint="Local/{digits}@phones",
            )
            if app != "drill13":
                return AriSwitch(settings=settings)
            self.transport = FailFirstList(settings.max_connections)
            return AriSwitch(settings=settings, transport=self.transport)
        return EslSwitch(
            host=os.environ.get("AUTOINFORMER_ESL_HOST", "127.0.0.1"),
            password="ClueCon",
            dial="loopback/{digits}/default",
            heartbeat_interval=self.heartbeat if app == "drill13" else 10.0,
        )

    async def drop(self, switch: base.Switch) -> None:
        # Our side of the link dies (the real server cannot be told to drop one client).
        if isinstance(switch, AriSwitch):
            await switch._ws.close()
        else:
            assert isinstance(switch, EslSwitch)
            assert switch._conn is not None
            await switch._conn.aclose()

    async def fail_next_resync(self) -> None:
        assert self.transport is not None
        self.transport.armed = True

    async def _script(self, name: str) -> None:
        await anyio.run_process(
            ["bash", str(PBX_DIR / name), self.server], stdout=subprocess.DEVNULL
        )

    async def stop(self) -> None:
        await self._script("stop.sh")

    async def start(self) -> None:
        await self._script("start.sh")

    def _pid(self) -> int | None:
        try:
            pid = int(PID_FILES[self.server].read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def _signal(self, sig: signal.Signals) -> None:
        pid = self._pid()
        if pid is None:
            raise RuntimeError(f"{self.server} is not running (no live pid in its pid file)")
        os.kill(pid, sig)

    async def hang(self) -> None:
        self._signal(signal.SIGSTOP)

    async def resume(self) -> None:
        with contextlib.suppress(RuntimeError):  # nothing to resume once it is gone
            self._signal(signal.SIGCONT)

    async def kill(self) -> None:
        pid = self._pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        with anyio.fail_after(30):
            while True:  # polling the process: no event tells us it is gone
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                await anyio.sleep(0.1)


@asynccontextmanager
async def listening(switch: base.Switch) -> AsyncIterator[dict[str, list[base.SwitchEvent]]]:
    """Record the switch's events per call id (``""`` for BackendGap)."""
    seen: dict[str, list[base.SwitchEvent]] = {}

    async def read() -> None:
        async for event in switch.events():
            seen.setdefault(getattr(event, "call_id", ""), []).append(event)

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        try:
            yield seen
        finally:
            tg.cancel_scope.cancel()


async def until(condition: Callable[[], bool], within: float) -> bool:
    """Poll ``condition`` (the drill watches a switch from outside: no event to wait on)."""
    with anyio.move_on_after(within):
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.05)
        return True
    return False


def ended(seen: dict[str, list[base.SwitchEvent]], call_id: str) -> bool:
    return any(isinstance(e, base.CallEnded) for e in seen.get(call_id, ()))


async def on_switch(target: Target, tag: str) -> set[str]:
    """The drill's calls on the switch now, seen by a separate switch object (after 2 s on
    a real FreeSWITCH: its channel list lags the channels by about a second)."""
    if target.name == "real-esl":
        await anyio.sleep(2.0)
    async with target.switch(app="drill13-side") as side:
        return {orphan.call_id for orphan in await side.orphans(tag)}


async def clean(target: Target, tag: str) -> int:
    """Hang up what is left of the drill's calls; how many there were."""
    async with target.switch(app="drill13-side") as side:
        left = await side.orphans(tag)
        for orphan in left:
            await side.hangup_orphan(orphan)
        return len(left)


async def place(switch: base.Switch, target: Target, tag: str, calls: int) -> list[str]:
    ids = [f"{tag}-{i:04d}" for i in range(calls)]
    variables = {"AUTOINFORMER_CAMPAIGN": tag}

    async def originate(call_id: str, number: str) -> None:
        await switch.originate(
            call_id, number, caller_id=None, ring_timeout=30, variables=variables
        )

    async with anyio.create_task_group() as tg:
        for i, call_id in enumerate(ids):
            tg.start_soon(originate, call_id, target.number(i))
    return ids


async def probe(switch: base.Switch, target: Target, tag: str, until_time: float) -> dict[str, Any]:
    """Try ``originate`` every PROBE_EVERY seconds until ``until_time`` (the switch away)."""
    spent: list[float] = []
    placed = 0
    n = 0
    while anyio.current_time() < until_time:
        t = anyio.current_time()
        n += 1
        try:
            await switch.originate(
                f"{tag}-away-{n}",
                target.number(9000 + n),
                caller_id=None,
                ring_timeout=30,
                variables={"AUTOINFORMER_CAMPAIGN": tag},  # found if it got through anyway
            )
            placed += 1
        except BackendError:
            spent.append(anyio.current_time() - t)
        await anyio.sleep(max(0.0, min(PROBE_EVERY, until_time - anyio.current_time())))
    return {
        "away_attempts": n,
        "away_placed": placed,
        "away_fast": sum(s < 1.0 for s in spent),
        "away_max_s": round(max(spent, default=0.0), 3),
    }


async def drill(
    target: Target,
    fault: str,
    calls: int,
    away: float = OUTAGE_SECONDS,
    hang: float = HANG_SECONDS,
    early: bool = False,
) -> dict[str, Any]:
    tag = f"drill13-{fault}-{os.getpid()}-{int(time.time())}"
    began = anyio.current_time()
    result: dict[str, Any] = {"target": target.name, "fault": fault, "calls": calls}
    if fault in ("hang", "hang-kill"):
        result["probe_early"] = early
    if fault == "orphans":
        return result | await orphans_drill(target, tag, calls)
    switch = target.switch()
    async with switch, listening(switch) as seen:
        ids = await place(switch, target, tag, calls)
        answered = await until(
            lambda: all(
                any(isinstance(e, base.CallAnswered) for e in seen.get(i, ())) for i in ids
            ),
            60,
        )
        result["all_answered"] = answered
        result["answered"] = sum(
            any(isinstance(e, base.CallAnswered) for e in seen.get(i, ())) for i in ids
        )
        fast_fail: float | str | None = None
        probes: dict[str, Any] = {}
        if fault == "drop":
            await target.drop(switch)
        elif fault in ("hang", "hang-kill"):
            await target.hang()
            t = anyio.current_time()

            async def notice() -> None:
                noticed = await until(lambda: not switch.connected, hang)
                result["noticed_s"] = round(anyio.current_time() - t, 1) if noticed else None

            if early:
                # From the first second: the originates sent before the hang is noticed wait
                # for their reply timeout, must fail, and must not leave calls behind either
                # (they reach the switch when it carries on). A timed-out ESL command closes
                # the connection, so then it is the probe, not the heartbeat, that notices.
                async with anyio.create_task_group() as tg:
                    tg.start_soon(notice)
                    probes = await probe(switch, target, tag, t + hang)
            else:  # the backend alone must notice: probe once it has
                await notice()
                probes = await probe(switch, target, tag, t + hang)
            if fault == "hang":
                await target.resume()
            else:
                await target.kill()
                await target.start()
        else:
            if fault == "resync-fail":
                await target.fail_next_resync()
            if fault == "resync-fail" and isinstance(target, RealTarget):
                # A crash: a stopping Asterisk hangs its calls up first (and says so), which
                # would leave the failed resync nothing to get wrong. The fakes' stop is silent.
                await target.kill()
            else:
                await target.stop()
            t = anyio.current_time()
            try:
                await switch.originate(
                    f"{tag}-while-away", target.number(9999), caller_id=None, ring_timeout=30
                )
                fast_fail = "originate succeeded while the switch was away"
            except BackendUnavailable:
                fast_fail = round(anyio.current_time() - t, 3)
            if fault == "outage":
                probes = await probe(switch, target, tag, t + away)
            await target.start()
        result |= probes
        got_gap = await until(lambda: bool(seen.get("")), 120)
        gaps = [e for e in seen.get("", ()) if isinstance(e, base.BackendGap)]
        if fault == "resync-fail" and isinstance(target, RealTarget):
            assert target.transport is not None
            result["injected_500"] = target.transport.failed  # must be 1: it was answered
        present = await on_switch(target, tag) if got_gap else set()
        adopted = {c for g in gaps for c in g.adopted}
        result |= {
            "originate_while_away_s": fast_fail,
            "gap_reported": got_gap,
            "gap_seconds": round(sum(g.seconds for g in gaps), 1),
            "adopted": len(adopted),
            "lost": sum(len(g.lost) for g in gaps),
            "ghosts": len(adopted - present),
        }
        for call_id in ids:  # hang up what is still ours
            if not ended(seen, call_id):
                await switch.hangup(call_id)
        await until(lambda: all(ended(seen, i) for i in ids), 60)
        unresolved = [i for i in ids if not ended(seen, i)]
        multiple = [
            i for i in ids if sum(isinstance(e, base.CallEnded) for e in seen.get(i, ())) > 1
        ]
        result |= {
            "resolved": calls - len(unresolved),
            "completion": round((calls - len(unresolved)) / calls, 3),
            "unresolved": len(unresolved),
            "ended_twice": len(multiple),
        }
    await anyio.sleep(SETTLE_SECONDS)
    result["channels_left"] = await clean(target, tag)
    result["seconds"] = round(anyio.current_time() - began, 1)
    return result


async def orphans_drill(target: Target, tag: str, calls: int) -> dict[str, Any]:
    dead = target.switch()
    async with dead, listening(dead) as seen:
        ids = await place(dead, target, tag, calls)
        await until(
            lambda: all(
                any(isinstance(e, base.CallAnswered) for e in seen.get(i, ())) for i in ids
            ),
            60,
        )
    # "kill -9": the switch object is gone, nothing was hung up. The next process:
    await anyio.sleep(2.0)  # a restart takes a moment (and FreeSWITCH's channel list lags)
    async with target.switch() as fresh:
        t = anyio.current_time()
        found = await fresh.orphans(tag)
        listed = anyio.current_time() - t
        for orphan in found:
            await fresh.hangup_orphan(orphan)

        async def none_left() -> bool:
            return not await fresh.orphans(tag)

        cleared_in: float | None = None
        with anyio.move_on_after(SETTLE_SECONDS):
            while not await none_left():  # noqa: ASYNC110 - polling the switch
                await anyio.sleep(0.2)
            cleared_in = round(anyio.current_time() - t, 2)
        left = len(await fresh.orphans(tag))
    leftover = await clean(target, tag)
    return {
        "orphans_found": len({o.call_id for o in found}),
        "orphans_of_the_drill": len({o.call_id for o in found} & set(ids)),
        "list_seconds": round(listed, 3),
        "cleared_in_s": cleared_in,
        "orphans_left_after_10s": left,
        "channels_left": leftover,
        "unresolved": 0,
        "ghosts": 0,
        "completion": 1.0 if left == 0 else round(1 - left / calls, 3),
    }


async def run_fake(
    name: str, faults: list[str], calls: int, away: float, hang: float, early: bool
) -> list[dict[str, Any]]:
    rows = []
    for fault in faults:
        if not applies(name, fault):
            continue
        if name == "fake-ari":
            async with FakeAri(
                reference_dir=bundled_reference_dir(), time_scale=1.0, check_events=False
            ) as fake:
                rows.append(await drill(FakeAriTarget(fake), fault, calls, away, hang, early))
        else:
            async with FakeEslServer(speed=1.0, max_backlog=100_000) as server:
                rows.append(await drill(FakeEslTarget(server), fault, calls, away, hang, early))
        print(json.dumps(rows[-1]), flush=True)
    return rows


async def run_real(
    name: str,
    faults: list[str],
    calls: int,
    away: float,
    hang: float,
    early: bool,
    heartbeat: float = 10.0,
) -> list[dict[str, Any]]:
    rows = []
    target = RealTarget(name, heartbeat)
    for fault in faults:
        if not applies(name, fault):
            continue
        try:
            rows.append(await drill(target, fault, calls, away, hang, early))
        finally:
            with anyio.CancelScope(shield=True):
                await target.resume()  # never left stopped (SIGSTOP), whatever happened
                await target.start()  # always running afterwards
        print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown_table(results: dict[str, list[dict[str, Any]]]) -> str:
    """The results as docs/reliability.md shows them."""
    lines = [
        "| target | fault | calls | completion | unresolved | channels left | false delivered "
        "| adopted / lost | noticed (s) | attempts while away (placed; failed < 1 s) | gap (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in TARGETS:
        for row in results.get(name, []):
            if row["fault"] == "orphans":
                away = "-"
                moved = f"{row['orphans_found']} found, {row['orphans_left_after_10s']} left"
            else:
                first = row.get("originate_while_away_s")  # the one try right at the stop
                once = isinstance(first, float | int)
                attempts = row.get("away_attempts", 0) + (first is not None)
                fast = row.get("away_fast", 0) + (once and first < 1.0)
                placed = row.get("away_placed", 0) + (first is not None and not once)
                away = "-" if not attempts else f"{attempts} ({placed}; {fast})"
                moved = f"{row.get('adopted', 0)} / {row.get('lost', 0)}"
            noticed = row.get("noticed_s")
            gap = row.get("gap_seconds")
            lines.append(
                f"| {name} | {row['fault']} | {row['calls']} | {row['completion']:.3f} "
                f"| {row['unresolved']} | {row['channels_left']} | {row['ghosts']} | {moved} "
                f"| {'-' if noticed is None else noticed} | {away} "
                f"| {'-' if gap is None else gap} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="fake-ari,fake-esl")
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--calls", type=int, default=0, help="0: 260 on fakes, 50 on real")
    parser.add_argument("--away", type=float, default=OUTAGE_SECONDS, help="outage: seconds")
    parser.add_argument("--hang", type=float, default=HANG_SECONDS, help="hang: seconds")
    parser.add_argument(
        "--probe-early",
        action="store_true",
        help="hang: originate from the first second, not once the hang is noticed",
    )
    parser.add_argument(
        "--esl-heartbeat",
        type=float,
        default=10.0,
        help="the drilled EslSwitch's heartbeat_interval (1e9: none, the backend before #13)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--table", action="store_true", help="print the results as a Markdown table and exit"
    )
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table(json.loads(args.results.read_text())))
        return 0
    targets = [t for t in args.targets.split(",") if t]
    faults = [f for f in args.faults.split(",") if f]
    for name in targets:
        if name not in TARGETS:
            parser.error(f"unknown target {name!r} (one of {', '.join(TARGETS)})")
    for fault in faults:
        if fault not in FAULTS:
            parser.error(f"unknown fault {fault!r} (one of {', '.join(FAULTS)})")
    results: dict[str, Any] = {}
    if args.results.exists():
        results = json.loads(args.results.read_text())
    bad = 0
    for name in targets:
        calls = args.calls or (260 if name.startswith("fake") else 50)
        if name.startswith("fake"):
            rows = anyio.run(
                run_fake,
                name,
                faults,
                calls,
                args.away,
                args.hang,
                args.probe_early,
                backend="asyncio",
                backend_options={"loop_factory": VirtualTimeLoop},
            )
        else:
            rows = anyio.run(
                run_real,
                name,
                faults,
                calls,
                args.away,
                args.hang,
                args.probe_early,
                args.esl_heartbeat,
            )
        redone = {row["fault"] for row in rows}
        kept = [row for row in results.get(name, []) if row["fault"] not in redone]
        results[name] = sorted(kept + rows, key=lambda row: FAULTS.index(row["fault"]))
        for row in rows:
            bad += bool(
                row.get("unresolved")
                or row.get("ghosts")
                or row.get("channels_left")
                or row.get("orphans_left_after_10s")
                or row.get("ended_twice")
                or row.get("away_placed")
                or (row["fault"].startswith("hang") and row.get("noticed_s") is None)
            )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"{'target':9} {'fault':12} {'calls':>5} {'done':>6} {'unres':>5} {'ghost':>5} "
        f"{'left':>4} {'gap s':>6} {'adopt':>5} {'lost':>5}"
    )
    for name in targets:
        for row in results.get(name, []):
            print(
                f"{row['target']:9} {row['fault']:12} {row['calls']:5d} "
                f"{row.get('completion', math.nan):6.3f} {row.get('unresolved', 0):5d} "
                f"{row.get('ghosts', 0):5d} {row.get('channels_left', 0):4d} "
                f"{row.get('gap_seconds', 0):6.1f} {row.get('adopted', 0):5d} "
                f"{row.get('lost', 0):5d}"
            )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
