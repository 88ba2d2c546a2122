"""Drill: several worker processes on one PostgreSQL campaign, ``kill -9`` at random points (#17).

``--workers`` processes (default 4) run ``autoinformer run campaign.toml --store URL --worker
wN --speed X`` on one generated campaign (``--contacts``, default 10,000) against the
simulated switch, started a fraction of a second apart; they share the campaign's lines, its
abandon budget and one fast clock through the database. While they run:

- a sampler reads the database every ``--sample-ms`` and counts the calls in flight of the
  live workers (attempts journaled and not finished, whose contact the worker holds, begun
  since that worker's process started): never more than the campaign's lines;
- ``--kills`` times (default 20) a random live worker is killed with SIGKILL: a fifth at a
  random moment of the first seconds (the start: list import, clock, first leases), the
  others when a random share of the contacts is finished (among the calls). A killed worker
  is restarted at once under its name (it takes its leases back), or later under a new name
  (its leases are taken over when they expire), or not at all (at least two stay alive).

Every finished attempt seen at a kill must be in the journal unchanged at the end (``lost``,
``rewritten``). At the end: every contact finished (closed) and reached at most once, no
attempt id or (contact, attempt number) twice, no two attempts of a contact overlapping in
time (``double_calls``), no contact over its retry budget, nothing unfinished, the
campaign's abandon rate under its cap, and the busiest instant of the journal (attempts that
ended normally, swept over time) within the lines.

Run: ``python benchmarks/drills/workers_kill9.py`` (a throwaway PostgreSQL cluster is started
unless ``AUTOINFORMER_TEST_POSTGRES_URL`` names a server; ``--quick``: 2,000 contacts, 10
kills). Writes benchmarks/results/workers_kill9.json. ``tests/workers/test_fleet_processes.py``
runs it small.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

RESULTS = Path(__file__).resolve().parents[1] / "results"
SRC = Path(__file__).resolve().parents[2] / "src"
CAMPAIGN = "fleet"

CAMPAIGN_TOML = """\
[campaign]
name = "fleet"
contacts = "contacts.csv"
region = "RU"
lines = {lines}
min_delivered_seconds = 10

[campaign.window]
days = "mon-sun"
hours = "00:00-24:00"
timezone = "Europe/Moscow"

[campaign.retry]
attempts = 3
interval = "{interval}"
abandoned_cooldown = "{interval}"
{pacing}
[[script]]
play = "sound:greeting"

{ask}
[backend]
kind = "sim"

[sim]
seed = {seed}
ring_median_s = 6.0
listen_median_s = 15.0
talk_median_s = 20.0
digit_rates = {{ "1" = 0.15 }}
"""

ASK = """\
[[script]]
menu = "Your debt is {BALANCE} roubles. Press 1 to talk to an operator."
options = { "1" = "transfer:operators" }
timeout = 5

{operators}
[queues.operators]
max_wait = 20
wrapup = 5
"""

SAY = """\
[[script]]
say = "Your debt is {BALANCE} roubles. Please pay it this week."
"""

REACHED = ("delivered", "transferred", "opted_out")
"""Outcomes that finish a contact: a second one for a contact is a second call to a person
already reached."""
LIVE = ("delivered", "hung_up_early", "transferred", "abandoned", "agent_error", "opted_out")
"""Outcomes of an answer by a person (the abandon rate's denominator)."""


def write_campaign(
    workdir: Path,
    contacts: int,
    *,
    seed: int = 7,
    lines: int = 40,
    operators: int = 4,
    interval: str = "10m",
) -> Path:
    """A campaign file and its list of ``contacts`` generated numbers; returns the file.

    With ``operators`` (> 0) the script offers a transfer to them (power pacing, 3 calls per
    idle operator, held to the abandon cap); with 0 it is a broadcast reminder that fills
    the lines (the benchmark's campaign: the workers, not the operators, are the limit).
    ``interval``: between a contact's attempts (3 at most), after an abandoned call too (the
    72 h default would hold the drill three model days). The calling hours are the whole
    day: the drill is about the workers, and a run slower than its clock must not wait for
    the morning.
    """
    rng = random.Random(seed)
    rows = ['"NAME", "PHONE_NUMBER", "USER_VARS"']
    numbers: set[int] = set()
    while len(numbers) < contacts:
        numbers.add(rng.randrange(10**7))
    for i, n in enumerate(sorted(numbers, key=lambda _: rng.random())):
        rows.append(f'"Debtor {i + 1}", "+7950{n:07d}", "BALANCE = {rng.randrange(50, 9000)}"')
    (workdir / "contacts.csv").write_text("\n".join(rows) + "\n")
    ops = "".join(
        f'[[operators]]\nid = "op{i}"\nendpoint = "PJSIP/{200 + i}"\n\n' for i in range(operators)
    )
    path = workdir / "campaign.toml"
    if operators > 0:
        pacing = '\n[campaign.pacing]\nkind = "power"\nratio = 3.0\n'
        ask = ASK.replace("{operators}", ops)
    else:
        pacing, ask = "", SAY
    path.write_text(
        CAMPAIGN_TOML.format(lines=lines, seed=seed, pacing=pacing, ask=ask, interval=interval)
    )
    return path


@attrs.define
class Incarnation:
    """One process of a worker (a worker restarted under its name has several)."""

    name: str
    proc: subprocess.Popen[bytes]
    started_wall: float
    out: Path
    killed: bool = False


@attrs.define
class Fleet:
    """The worker processes of one campaign: start, kill, watch."""

    url: str
    toml: Path
    speed: float
    lease_ttl: float
    workdir: Path
    incarnations: list[Incarnation] = attrs.Factory(list)

    def command(self, name: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "autoinformer",
            "run",
            str(self.toml),
            "--store",
            self.url,
            "--worker",
            name,
            "--speed",
            str(self.speed),
            "--lease-ttl",
            str(self.lease_ttl),
            "--json",
        ]

    def start(self, name: str) -> Incarnation:
        out = self.workdir / f"{name}-{len(self.incarnations)}.out"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
        with out.open("wb") as handle:
            proc = subprocess.Popen(
                self.command(name), stdout=handle, stderr=subprocess.STDOUT, env=env
            )
        inc = Incarnation(name=name, proc=proc, started_wall=time.time(), out=out)
        self.incarnations.append(inc)
        return inc

    def live(self) -> list[Incarnation]:
        return [i for i in self.incarnations if i.proc.poll() is None]

    def kill(self, inc: Incarnation) -> None:
        inc.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(inc.proc.pid, signal.SIGKILL)
        inc.proc.wait()

    def failures(self) -> list[str]:
        """What each process that failed on its own (not killed, exit code not 0) said."""
        return [
            f"{i.name} exited {i.proc.returncode}: {i.out.read_text(errors='replace')[-1500:]}"
            for i in self.incarnations
            if not i.killed and i.proc.returncode not in (None, 0)
        ]

    def stop_all(self) -> None:
        for inc in self.live():
            self.kill(inc)


def _connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _ready(db: Any) -> bool:
    """Whether the first worker has made the store's tables (meta last)."""
    row = db.execute("SELECT to_regclass('autoinformer_meta')").fetchone()
    return row is not None and row[0] is not None


def _anchor(db: Any) -> tuple[float, float, float] | None:
    if not _ready(db):
        return None
    row = db.execute(
        "SELECT value FROM autoinformer_meta WHERE campaign = %s AND key = 'fleet_clock'",
        (CAMPAIGN,),
    ).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    return float(data["speed"]), float(data["start"]), float(data["wall"])


class Sampler(threading.Thread):
    """Counts, every ``interval`` seconds, the calls in flight of the live workers.

    A call in flight is an attempt journaled and not finished that a live worker process
    began: journaled by that worker (the attempts' ``journaled_by``, ``NAME/run``) after the
    process started, on the shared clock. The attempts a killed process left are not calls
    any more (its simulated switch died with it), even while the worker that took their
    contacts over has not reconciled them yet.
    """

    def __init__(self, url: str, fleet: Fleet, interval: float) -> None:
        super().__init__(daemon=True)
        self.url, self.fleet, self.interval = url, fleet, interval
        self.samples = 0
        self.max_in_flight = 0
        self.worst: list[tuple[str, float]] = []
        self.error: str | None = None
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def run(self) -> None:
        try:
            with _connect(self.url) as db:
                while not self._halt.wait(self.interval):
                    self._sample(db)
        except Exception as exc:  # reported by the drill, not lost in a thread
            self.error = repr(exc)

    def _sample(self, db: Any) -> None:
        anchor = _anchor(db)
        if anchor is None:
            return
        speed, start, wall = anchor
        since: dict[str, float] = {}
        for inc in self.fleet.live():  # a name's latest live process
            since[inc.name] = start + (inc.started_wall - wall) * speed
        if not since:
            return
        rows = db.execute(
            "SELECT journaled_by, started_at FROM autoinformer_attempts "
            "WHERE campaign = %s AND outcome IS NULL",
            (CAMPAIGN,),
        ).fetchall()
        flying = []
        for run, at in rows:
            name = str(run).split("/")[0]
            if name in since and at >= since[name] - 1e-6:
                flying.append((str(run), at))
        self.samples += 1
        if len(flying) > self.max_in_flight:
            self.max_in_flight = len(flying)
            self.worst = flying


def journal(db: Any) -> dict[str, tuple[Any, ...]]:
    """attempt id -> (contact, attempt no, started, answered, ended, outcome, detail)."""
    if not _ready(db):
        return {}
    rows = db.execute(
        "SELECT attempt_id, contact_id, attempt_no, started_at, answered_at, ended_at, outcome, "
        "detail FROM autoinformer_attempts WHERE campaign = %s",
        (CAMPAIGN,),
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def closed_share(db: Any, contacts: int) -> float:
    if not _ready(db):
        return 0.0
    row = db.execute(
        "SELECT count(*) FROM autoinformer_contacts WHERE campaign = %s "
        "AND state NOT IN ('pending', 'scheduled', 'in_call')",
        (CAMPAIGN,),
    ).fetchone()
    return int(row[0]) / max(1, contacts)


def busiest_instant(records: Sequence[tuple[Any, ...]]) -> tuple[int, float | None]:
    """The most attempts in progress at one instant of the journal, and that instant (those
    that ended with an outcome of their own: an ``unknown`` one ends when it was reconciled,
    not when its call did)."""
    edges: list[tuple[float, int]] = []
    for _cid, _no, started, _answered, ended, outcome, _detail in records:
        if outcome is None or outcome == "unknown" or ended is None:
            continue
        edges += [(started, 1), (ended, -1)]
    edges.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    most = now = 0
    when = None
    for at, step in edges:
        now += step
        if now > most:
            most, when = now, at
    return most, when


def by_worker_at(db: Any, instant: float) -> dict[str, int]:
    """Who had the calls in progress at ``instant`` (the attempts' ``journaled_by``, if the
    store keeps it): to tell a worker over its share from a checker's mistake."""
    try:
        rows = db.execute(
            "SELECT journaled_by, count(*) FROM autoinformer_attempts WHERE campaign = %s "
            "AND outcome IS NOT NULL AND outcome <> 'unknown' AND started_at <= %s "
            "AND ended_at > %s GROUP BY journaled_by",
            (CAMPAIGN, instant, instant),
        ).fetchall()
    except Exception:  # an older schema without the column
        return {}
    return {str(who): int(n) for who, n in rows}


def check(db: Any, contacts: int, lines: int, retry_budget: int, cap: float) -> dict[str, Any]:
    """The end-of-campaign checks (see the module)."""
    records = journal(db)
    states = dict(
        db.execute(
            "SELECT state, count(*) FROM autoinformer_contacts WHERE campaign = %s GROUP BY state",
            (CAMPAIGN,),
        ).fetchall()
    )
    per_contact: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for record in records.values():
        per_contact[record[0]].append(record)
    double_calls = reached_twice = over_budget = 0
    for attempts in per_contact.values():
        numbers = [r[1] for r in attempts]
        double_calls += len(numbers) - len(set(numbers))
        attempts.sort(key=lambda r: r[2])
        for before, after in itertools.pairwise(attempts):
            end = before[4] if before[4] is not None else before[2]
            if after[2] < end:
                double_calls += 1  # two calls to one person at once
        reached = sum(1 for r in attempts if r[5] in REACHED)
        reached_twice += max(0, reached - 1)
        placed = sum(1 for r in attempts if not _not_placed(r))
        over_budget += placed > retry_budget
    live = sum(1 for r in records.values() if r[5] in LIVE)
    busiest, when = busiest_instant(list(records.values()))
    abandoned = sum(1 for r in records.values() if r[5] == "abandoned")
    open_states = sum(states.get(s, 0) for s in ("pending", "scheduled", "in_call"))
    return {
        "contacts_stored": sum(states.values()),
        "contacts_open": open_states,
        "states": states,
        "attempts": len(records),
        "attempt_rows": db.execute(
            "SELECT count(*), count(DISTINCT attempt_id) FROM autoinformer_attempts "
            "WHERE campaign = %s",
            (CAMPAIGN,),
        ).fetchone(),
        "unfinished": sum(1 for r in records.values() if r[5] is None),
        "unknown": sum(1 for r in records.values() if r[5] == "unknown"),
        "double_calls": double_calls,
        "reached_twice": reached_twice,
        "over_budget": over_budget,
        "live_answers": live,
        "abandoned": abandoned,
        "abandon_rate": round(abandoned / live, 4) if live else 0.0,
        "abandon_cap": cap,
        "busiest_instant": busiest,
        "busiest_at": when,
        "busiest_by_worker": by_worker_at(db, when) if when is not None else {},
        "lines": lines,
        "contacts": contacts,
    }


def _not_placed(record: tuple[Any, ...]) -> bool:
    """An attempt journaled as never placed (``is_not_placed``: not against the budget)."""
    from autoinformer.core.intake import NOT_PLACED

    return record[5] == "failed" and record[3] is None and str(record[6]).startswith(NOT_PLACED)


@attrs.define
class DrillSettings:
    contacts: int = 10_000
    workers: int = 4
    kills: int = 20
    speed: float = 50.0
    lease_ttl: float = 3.0
    lines: int = 40
    operators: int = 4
    interval: str = "10m"
    seed: int = 17
    sample_ms: float = 25.0
    timeout: float = 900.0
    restart_same: float = 0.45
    restart_later: float = 0.35


def drill(url: str, settings: DrillSettings, workdir: Path) -> dict[str, Any]:
    """Run the campaign with ``settings.workers`` processes and the kills; the checks' row."""
    from autoinformer.campaign_file import load_campaign_file

    rng = random.Random(settings.seed)
    toml = write_campaign(
        workdir,
        settings.contacts,
        lines=settings.lines,
        operators=settings.operators,
        interval=settings.interval,
    )
    campaign = load_campaign_file(toml).campaign
    fleet = Fleet(url, toml, settings.speed, settings.lease_ttl, workdir)
    timed = round(settings.kills * 0.2)
    kill_at_seconds = sorted(rng.uniform(0.5, 3.0) for _ in range(timed))
    kill_at_share = sorted(rng.uniform(0.03, 0.85) for _ in range(settings.kills - timed))
    names = [f"w{i + 1}" for i in range(settings.workers)]
    next_name = settings.workers + 1
    sampler = Sampler(url, fleet, settings.sample_ms / 1000)
    seen_finished: dict[str, tuple[Any, ...]] = {}
    lost = rewritten = kills = in_flight_at_kills = 0
    restarts: list[tuple[float, str]] = []
    kill_log: list[dict[str, Any]] = []
    started = time.monotonic()
    for name in names:
        fleet.start(name)
        time.sleep(rng.uniform(0.0, 0.3))  # started apart, as people start them
    sampler.start()
    failures: list[str] = []
    try:
        with _connect(url) as db:
            while True:
                now = time.monotonic()
                if now - started > settings.timeout:
                    failures.append(f"timed out after {settings.timeout:.0f} s")
                    break
                failures = fleet.failures()
                if failures:
                    break
                for due, name in [r for r in restarts if r[0] <= now]:
                    restarts.remove((due, name))
                    fleet.start(name)
                live = fleet.live()
                if not live and not restarts:
                    break
                share = closed_share(db, settings.contacts)
                due_kill = (kill_at_seconds and now - started >= kill_at_seconds[0]) or (
                    kill_at_share and share >= kill_at_share[0]
                )
                if due_kill and live:
                    if kill_at_seconds and now - started >= kill_at_seconds[0]:
                        kill_at_seconds.pop(0)
                    else:
                        kill_at_share.pop(0)
                    victim = rng.choice(live)
                    fleet.kill(victim)
                    kills += 1
                    after = journal(db)
                    flying = sum(1 for r in after.values() if r[5] is None)
                    in_flight_at_kills += flying
                    for aid, old in seen_finished.items():
                        new = after.get(aid)
                        if new is None:
                            lost += 1
                        elif new != old:
                            rewritten += 1
                    seen_finished = {a: r for a, r in after.items() if r[5] is not None}
                    draw = rng.random()
                    alive = len(fleet.live()) + len(restarts)
                    if draw < settings.restart_same:
                        how = "restarted under its name"
                        fleet.start(victim.name)
                    elif draw < settings.restart_same + settings.restart_later or alive < 2:
                        how = "a new worker later"
                        restarts.append((now + rng.uniform(0, settings.lease_ttl), f"w{next_name}"))
                        next_name += 1
                    else:
                        how = "not restarted"
                    kill_log.append(
                        {
                            "worker": victim.name,
                            "seconds": round(now - started, 2),
                            "closed_share": round(share, 3),
                            "in_flight": flying,
                            "then": how,
                        }
                    )
                time.sleep(0.02)
            if failures:  # a defect or a timeout: the rest is not waited for
                fleet.stop_all()
            # a worker still alive finishes; one whose peers all died may leave contacts open
            for inc in fleet.live():
                inc.proc.wait(timeout=max(1.0, settings.timeout - (time.monotonic() - started)))
            failures = failures or fleet.failures()
            finisher = None
            if not failures and closed_share(db, settings.contacts) < 1.0:
                finisher = fleet.start(f"w{next_name}")
                finisher.proc.wait(timeout=settings.timeout)
                failures = fleet.failures()
            wall = time.monotonic() - started
            sampler.stop()
            final = journal(db)
            for aid, old in seen_finished.items():
                new = final.get(aid)
                if new is None:
                    lost += 1
                elif new != old:
                    rewritten += 1
            row = check(
                db,
                settings.contacts,
                settings.lines,
                campaign.retry.attempts,
                campaign.abandon_cap,
            )
    finally:
        fleet.stop_all()
        if sampler.is_alive():
            sampler.stop()
    summaries = []
    for inc in fleet.incarnations:
        if not inc.killed and inc.proc.returncode == 0:
            text = inc.out.read_text(errors="replace")
            with contextlib.suppress(ValueError):
                summaries.append(json.loads(text[text.index("{") :]).get("worker"))
    row.update(
        {
            "workers": settings.workers,
            "speed": settings.speed,
            "lease_ttl": settings.lease_ttl,
            "kills": kills,
            "kills_planned": settings.kills,
            "in_flight_at_kills": in_flight_at_kills,
            "processes": len(fleet.incarnations),
            "finisher_needed": finisher is not None,
            "lost": lost,
            "rewritten": rewritten,
            "samples": sampler.samples,
            "max_in_flight_sampled": sampler.max_in_flight,
            "max_in_flight_by_run": dict(Counter(run for run, _ in sampler.worst)),
            "sampler_error": sampler.error,
            "failures": failures,
            "wall_seconds": round(wall, 1),
            "contacts_per_second": round(settings.contacts / wall, 1),
            "kill_log": kill_log,
            "worker_summaries": summaries,
        }
    )
    return row


BAD = (
    "lost",
    "rewritten",
    "double_calls",
    "reached_twice",
    "over_budget",
    "unfinished",
    "contacts_open",
)


def problems(row: dict[str, Any]) -> list[str]:
    """What the row shows went wrong (empty: the drill passed)."""
    found = [f"{key} = {row[key]}" for key in BAD if row[key]]
    if row["failures"]:
        found.append(f"processes failed: {row['failures']}")
    if row["sampler_error"]:
        found.append(f"sampler: {row['sampler_error']}")
    total, distinct = row["attempt_rows"]
    if total != distinct:
        found.append(f"attempt ids twice: {total - distinct}")
    if row["contacts_stored"] != row["contacts"]:
        found.append(f"contacts stored {row['contacts_stored']} of {row['contacts']}")
    if row["max_in_flight_sampled"] > row["lines"]:
        found.append(f"{row['max_in_flight_sampled']} calls in flight > {row['lines']} lines")
    if row["busiest_instant"] > row["lines"]:
        found.append(f"{row['busiest_instant']} calls at one instant > {row['lines']} lines")
    if row["abandon_rate"] > row["abandon_cap"]:
        found.append(f"abandon rate {row['abandon_rate']} > cap {row['abandon_cap']}")
    if row["kills"] != row["kills_planned"]:
        found.append(f"{row['kills']} of {row['kills_planned']} kills landed")
    return found


@contextlib.contextmanager
def postgres(url: str | None, *, keep: bool = False) -> Iterator[str]:
    """A fresh schema on ``url`` (or on a throwaway cluster), dropped afterwards (unless
    ``keep``: it is printed, to look into)."""
    sys.path.insert(0, str(SRC))
    from autoinformer.testing.postgres import ENV, in_schema, start_cluster, stop_cluster

    url = url or os.environ.get(ENV)
    with contextlib.ExitStack() as stack:
        if not url:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fleet-pg-")))
            url = start_cluster(tmp)
            stack.callback(stop_cluster, tmp)
        schema = f"drill_{uuid.uuid4().hex[:12]}"
        with _connect(url) as db:
            db.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield in_schema(url, schema)
        finally:
            if keep:
                print(f"kept: {in_schema(url, schema)}", file=sys.stderr)
            else:
                with _connect(url) as db:
                    db.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    for field in attrs.fields(DrillSettings):
        parser.add_argument(
            f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default
        )
    parser.add_argument("--url", help="a PostgreSQL server (default: a throwaway cluster)")
    parser.add_argument("--quick", action="store_true", help="2,000 contacts, 10 kills")
    parser.add_argument("--out", type=Path, default=RESULTS / "workers_kill9.json")
    parser.add_argument(
        "--keep", type=Path, help="keep the workers' output in this folder, and the schema"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.contacts, args.kills = 2000, 10
    settings = DrillSettings(**{f.name: getattr(args, f.name) for f in attrs.fields(DrillSettings)})
    with postgres(args.url, keep=args.keep is not None) as url:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            row = drill(url, settings, args.keep)
        else:
            with tempfile.TemporaryDirectory(prefix="fleet-") as tmp:
                row = drill(url, settings, Path(tmp))
    found = problems(row)
    row["problems"] = found
    print(json.dumps({k: v for k, v in row.items() if k != "kill_log"}, indent=2, default=str))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"args": attrs.asdict(settings), "row": row}, indent=2, default=str) + "\n"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
