"""What ``demo`` and ``run`` share: running a campaign on a store and reporting it."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio

from autoinformer._assembly import latest_time
from autoinformer.backends.base import Switch
from autoinformer.campaign import Campaign
from autoinformer.cli._stores import StoreLocation, open_run_store
from autoinformer.clock import Clock
from autoinformer.contacts.model import Contact
from autoinformer.core.dialer import DoNotCall
from autoinformer.pacing.base import PacingPolicy
from autoinformer.records import AttemptRecord
from autoinformer.runtime import Runtime
from autoinformer.sim.driver import Hook, simulate
from autoinformer.sim.model import CallModel
from autoinformer.store.base import Store
from autoinformer.summary import SMS_SENT_KEY, RunSummary, summarize

__all__ = [
    "add_common_arguments",
    "announce_store",
    "interrupted",
    "latest_time",
    "open_store",
    "print_summary",
    "resume_command",
    "run_realtime",
    "run_virtual",
    "setup_logging",
    "stopped",
]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--store``, ``--json`` and ``--verbose``, shared by ``demo`` and ``run``."""
    parser.add_argument(
        "--store",
        help="SQLite file or postgresql:// URL to write (resumed if it exists; the password "
        "from PGPASSWORD or ~/.pgpass)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every journal write to stderr"
    )


def setup_logging(verbose: bool) -> None:
    """Log to stderr: warnings, or everything (each journal write) with ``--verbose``."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(name)s: %(message)s",
    )
    if verbose:  # only ours: asyncio and friends stay quiet
        for name in ("asyncio", "trio", "httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
    # a run with no call to place for a while says until when, as a plain line
    waiting = logging.getLogger("autoinformer.runtime.wait")
    if not any(isinstance(h, _PlainStderr) for h in waiting.handlers):
        waiting.addHandler(_PlainStderr())
    waiting.setLevel(logging.INFO)
    waiting.propagate = False


class _PlainStderr(logging.Handler):
    """The message alone, on whatever ``sys.stderr`` is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(record.getMessage(), file=sys.stderr, flush=True)
        except (OSError, ValueError):  # pragma: no cover - stderr closed
            self.handleError(record)


def resume_command(argv: Sequence[str], path: Path | StoreLocation) -> str:
    """The command line that carries on a run: ``argv`` with ``--store PATH``."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--store":
            skip = True
        elif not arg.startswith("--store="):
            kept.append(arg)
    return shlex.join(["autoinformer", *kept, "--store", str(path)])


def announce_store(argv: Sequence[str], path: Path | StoreLocation, *, temporary: bool) -> None:
    """Say on stderr where a temporary store is, before the first call: a run cut short
    (Ctrl-C, a closed terminal) can be carried on from it."""
    if temporary:
        print(
            f"store: {path} (temporary; to carry on after an interruption: "
            f"{resume_command(argv, path)})",
            file=sys.stderr,
            flush=True,
        )


def interrupted(argv: Sequence[str], path: Path | StoreLocation) -> None:
    """Say on stderr that the run was interrupted, where its results are and how to resume."""
    print(
        f"\ninterrupted: every finished attempt is in {path}; calls in flight are retried "
        f"on the next run. To carry on: {resume_command(argv, path)}",
        file=sys.stderr,
        flush=True,
    )


def stopped(argv: Sequence[str], path: Path | StoreLocation, error: BaseException) -> None:
    """Say on stderr that the run stopped on ``error``, that the calls in progress were hung
    up and recorded, where the results are and how to carry on."""
    print(
        f"\nstopped: {error}\nthe calls in progress were hung up and recorded; every finished "
        f"attempt is in {path}. To carry on: {resume_command(argv, path)}",
        file=sys.stderr,
        flush=True,
    )


def open_store(path: str | None) -> tuple[Store, StoreLocation]:
    """The store at ``path``: a ``postgresql://`` URL, a SQLite file (resumed if it exists),
    or a new temporary SQLite file (see :func:`~autoinformer.cli._stores.open_run_store`)."""
    return open_run_store(path)


def run_virtual(
    campaign: Campaign,
    contacts: Sequence[Contact],
    store: Store,
    *,
    model: CallModel,
    dnc: DoNotCall | None = None,
    hooks: Mapping[str, Hook] | None = None,
    progress: bool = False,
    pacing: PacingPolicy | None = None,
) -> dict[str, Any]:
    """Run the campaign in virtual time against ``model``, journaling into ``store``."""
    started = time.perf_counter()
    bar = _progress_bar(None, unit="attempt") if progress else None
    try:
        result = simulate(
            campaign,
            contacts,
            model=model,
            store=store,
            dnc=dnc,
            hooks=hooks,
            pacing=pacing,
            on_result=(lambda _record: bar.update(1)) if bar is not None else None,
            keep_results=False,  # the store has them: memory follows the open contacts
        )
    finally:
        if bar is not None:
            bar.close()
    if result.sms:
        before = store.get_meta(campaign.name, SMS_SENT_KEY)
        total = len(result.sms) + (int(before) if before and before.isdigit() else 0)
        store.set_meta(campaign.name, SMS_SENT_KEY, str(total))
    summary = summarize(store, campaign.name).to_dict()
    summary["mode"] = "virtual time"
    summary["simulated_seconds"] = round(result.ended_at - result.started_at, 1)
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    summary["sms"] = len(result.sms)
    return summary


def run_realtime(
    campaign: Campaign,
    contacts: Sequence[Contact],
    store: Store,
    *,
    switch: Callable[[], Switch],
    clock: Clock,
    dnc: DoNotCall | None = None,
    progress: bool = False,
    pacing: PacingPolicy | None = None,
    hooks: Mapping[str, Any] | None = None,
    renderer: Any = None,
    worker: str | None = None,
    lease_ttl: float | None = None,
    tally: Any = None,
    beside: Callable[[Store, str], Coroutine[Any, Any, None]] | None = None,
) -> dict[str, Any]:
    """Run the campaign with the anyio runtime on ``switch()`` and ``clock`` (``renderer``:
    how ``say`` steps become audio for a switch that cannot speak text).

    As one of several workers (``worker``, see :mod:`autoinformer.cli._fleet`): the runtime
    leases its contacts for ``lease_ttl`` seconds of ``clock``; ``tally`` (an ``on_result``
    callback with ``to_dict()``) says in the summary's ``worker`` what this process finished;
    ``beside(store, campaign)`` runs alongside the campaign (the shared clock's heartbeat).
    """
    started = time.perf_counter()
    t0 = clock.now()
    options: dict[str, Any] = {}
    if worker is not None:
        options = {"worker": worker, "lease_ttl": lease_ttl}

    async def main() -> RunSummary:
        async with switch() as sw:
            runtime = Runtime(
                campaign=campaign,
                switch=sw,
                store=store,
                clock=clock,
                dnc=dnc,
                pacing=pacing,
                hooks=dict(hooks or {}),
                renderer=renderer,
                **options,
            )
            if tally is not None:
                runtime.on_result(tally)
            # a worker finishes an unknown share of the campaign: no bar
            bar = _progress_bar(len(contacts)) if progress and worker is None else None
            if bar is not None:
                runtime.on_result(_ContactsFinished(runtime, bar, contacts))
            try:
                if beside is None:
                    return await runtime.run(contacts)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(beside, store, campaign.name)
                    try:
                        done = await runtime.run(contacts)
                    finally:
                        tg.cancel_scope.cancel()
                return done
            finally:
                if bar is not None:
                    bar.close()

    summary = anyio.run(main).to_dict()
    if tally is not None:
        summary["worker"] = tally.to_dict()
    summary["mode"] = "real time" if clock.__class__.__name__ == "WallClock" else "scaled time"
    summary["simulated_seconds"] = round(clock.now() - t0, 1)
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    return summary


class _ContactsFinished:
    """Moves a progress bar by one for each of ``contacts`` whose last attempt finished
    (the bar's total is the contacts, not the attempts, which retries make unknowable)."""

    def __init__(self, runtime: Runtime, bar: Any, contacts: Sequence[Contact]) -> None:
        self._runtime = runtime
        self._bar = bar
        self._ids = {contact.id for contact in contacts}
        self._seen: set[str] = set()

    def __call__(self, record: AttemptRecord) -> None:
        cid = record.contact_id
        if cid in self._seen or cid not in self._ids:
            return
        slot = self._runtime.core.book.slots.get(cid)  # None: finished and forgotten
        if slot is None or slot.state.value not in ("pending", "scheduled", "in_call"):
            self._seen.add(cid)
            self._bar.update(1)


def _progress_bar(total: int | None, unit: str = "contact") -> Any:
    """A tqdm bar on stderr when it is a terminal (None otherwise)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, leave=False)


def print_summary(summary: Mapping[str, Any], *, as_json: bool) -> None:
    """Print the run's summary: JSON, or a table a person reads."""
    if as_json:
        print(json.dumps(summary, indent=2, sort_keys=True))
        return
    minutes = summary.get("simulated_seconds", 0) / 60
    print(
        f"{summary['campaign']}: {summary['attempts']} attempts, "
        f"{sum(summary['contacts'].values())} contacts, {minutes:.0f} min of "
        f"{summary.get('mode', 'time')} in {summary.get('wall_seconds', 0):.2f} s"
    )
    print("outcomes:")
    for name, count in summary["outcomes"].items():
        if count:
            print(f"  {name:<15} {count:>6}")
    states = ", ".join(f"{k} {v}" for k, v in summary["contacts"].items())
    print(f"contacts: {states}")
    for gap in summary.get("switch_gaps", ()):
        print(
            f"switch connection lost for {gap['seconds']:.1f} s: {gap['adopted']} calls carried "
            f"on, {gap['lost']} ended during the gap"
        )
    skipped = summary.get("skipped") or ()
    if skipped:
        print(f"skipped contacts: {sum(s['count'] for s in skipped)}")
        for entry in skipped:
            examples = ", ".join(entry["examples"])
            more = ", ..." if entry["count"] > len(entry["examples"]) else ""
            values = ", ".join(repr(v) for v in entry.get("values", ()))
            values = f"; values {values}, ..." if values else ""
            print(f"  {entry['count']:>6}  {entry['reason']} (e.g. {examples}{more}{values})")
    worker = summary.get("worker")
    if worker:
        print(
            f"this worker ({worker['name']}): {worker['attempts']} attempts for "
            f"{worker['contacts']} contacts"
        )
    if summary.get("unfinished"):
        print(f"unfinished attempts: {summary['unfinished']} (reconciled on the next run)")
    if "store" in summary:
        print(f"store: {summary['store']} (run again with --store to resume)")
