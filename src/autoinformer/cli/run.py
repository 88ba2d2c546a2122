"""``autoinformer run CAMPAIGN.toml``: run a campaign file.

The file says everything (see ``docs/quickstart.md``): the campaign, its contact list, its
script, operators and backend. Every key is checked before anyone is called, and so is every
recording the script plays (exists, decodes, within limits) and every ``{VARIABLE}`` of its
texts (a column of the contact list): a mistake stops the run with its dotted key, exit code 2.
Results are journaled in the embedded SQLite store (a temporary file unless ``--store`` or the
file's ``store`` key names one, whose path is printed at the start; an existing store is
resumed), or in PostgreSQL when that is a ``postgresql://`` URL (the password from PGPASSWORD
or ~/.pgpass, never the URL). Ctrl-C prints the command that carries on.
``autoinformer report`` and ``autoinformer export`` show the results.

With ``kind = "sim"`` the campaign runs against the simulated population of the ``[sim]``
table: in virtual time by default (instant, the same seed gives the same statistics), or with
the async runtime on a scaled clock with ``--speed X``. With ``ari`` or ``esl`` it runs in real
time against the switch; stop it with Ctrl-C and run it again with the same ``--store`` to
carry on. A real switch cannot speak text: every ``say`` step and spoken menu prompt is
rendered to a telephone WAV file with the ``[speech]`` engine (espeak-ng by default) before
the call is placed, its fragments cached beside the store.

Several workers: with ``--worker NAME`` and a PostgreSQL store this process is one of several
running the campaign; each takes contacts by lease, and the line limit, the caller-ID caps and
the abandon cap hold for the campaign as a whole. Three workers, on one host or three::

    autoinformer run campaign.toml --store postgresql://dialer@db/calls --worker w1
    autoinformer run campaign.toml --store postgresql://dialer@db/calls --worker w2
    autoinformer run campaign.toml --store postgresql://dialer@db/calls --worker w3

A worker killed (or its host lost) keeps its contacts for ``--lease-ttl`` seconds (30), then
another takes them over and reconciles the calls it had in flight; restarted under its name,
it takes them back at once. With ``kind = "sim"`` the workers need ``--speed X``: they share
one fast clock, anchored in the campaign's store by the first (docs/postgres.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from autoinformer._assembly import (
    real_switch,
    resumed_clock,
    sim_model,
    sim_switch,
    speech_renderer,
)
from autoinformer.campaign_file import CampaignFile, load_campaign_file, resolve_hooks
from autoinformer.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from autoinformer.cli._fleet import (
    DEFAULT_LEASE_TTL,
    LeaseTimings,
    WorkerTally,
    check_worker_name,
    fleet_clock,
    heartbeat,
)
from autoinformer.cli._list_memo import fingerprint, recall, remember
from autoinformer.cli._running import (
    add_common_arguments,
    announce_store,
    interrupted,
    open_store,
    print_summary,
    run_realtime,
    run_virtual,
    setup_logging,
    stopped,
)
from autoinformer.cli._stores import StoreLocation, campaign_lock
from autoinformer.clock import Clock
from autoinformer.contacts import Contact, DoNotCallList, read_contacts
from autoinformer.errors import BackendError, SpeechUnavailable, StoreError
from autoinformer.preflight import (
    check_backend,
    check_templates,
    list_columns,
    overnight_hours,
)
from autoinformer.store.urls import is_postgres_url

__all__ = ["load_contacts", "register"]


def register(subparsers: Any) -> None:
    """Add the ``run`` command."""
    parser = subparsers.add_parser(
        "run",
        help="run a campaign file (TOML)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("campaign", help="the campaign file (.toml)")
    parser.add_argument("--seed", type=int, help="the simulated population's seed ([sim] seed)")
    parser.add_argument(
        "--speed",
        type=float,
        help="kind = sim: run with the async runtime on a clock this many times faster",
    )
    parser.add_argument(
        "--worker",
        metavar="NAME",
        help="be one of several workers on the campaign (needs a postgresql:// store); a "
        "name of its own for each, e.g. w1, w2, w3",
    )
    parser.add_argument(
        "--lease-ttl",
        type=float,
        metavar="SECONDS",
        help=f"with --worker: real seconds a dead worker's contacts stay leased before another "
        f"worker takes them over (default {DEFAULT_LEASE_TTL:g})",
    )
    add_common_arguments(parser)
    parser.set_defaults(handler=_handle)


def load_contacts(spec: CampaignFile) -> tuple[list[Contact], list[str]]:
    """The valid contacts of the file's list and a line per rejected row."""
    if spec.contacts is None:
        return [], []
    contacts: list[Contact] = []
    problems: list[str] = []
    for row in read_contacts(
        spec.contacts, region=spec.campaign.region, countries=sorted(spec.campaign.countries)
    ):
        if row.contact is not None:
            contacts.append(row.contact)
        else:
            reasons = "; ".join(f"{p.column}: {p.reason} ({p.value!r})" for p in row.problems)
            problems.append(f"{spec.contacts.name} row {row.row}: {reasons}")
    return contacts, problems


def _handle(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (BackendError, StoreError, SpeechUnavailable) as exc:
        print(f"autoinformer: error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS


def _run(args: argparse.Namespace) -> int:
    setup_logging(args.verbose)
    spec = load_campaign_file(args.campaign)
    hooks = resolve_hooks(spec)  # before anyone is called
    if args.speed is not None and (args.speed <= 0 or spec.backend != "sim"):
        print("autoinformer run: error: --speed needs a number > 0 and kind = sim", file=sys.stderr)
        return EXIT_USAGE
    target = args.store or spec.store  # --store wins over the file's store key
    problem = _worker_problem(args, spec, target)
    if problem is not None:
        print(f"autoinformer run: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    night = overnight_hours(spec.campaign.window)
    if night:
        print(f"note: {_overnight_note(night)}", file=sys.stderr)
    dnc = None
    if spec.do_not_call is not None:
        dnc = DoNotCallList.from_file(spec.do_not_call, region=spec.campaign.region, create=True)
    clock: Clock | None = None
    if args.worker is not None:
        assert target is not None  # _worker_problem: a postgresql:// store
        store, path = open_store(target)
        try:
            with campaign_lock(target, spec.campaign.name):  # one worker's start at a time
                contacts, rejected = _worker_list(spec, store)
                if args.speed is not None:
                    clock = fleet_clock(store, spec.campaign.name, args.speed)
        except BaseException:  # e.g. another --speed than the live workers': exit 2
            store.close()
            raise
    elif _may_remember(target):
        store, path = open_store(target)
        contacts, rejected = _contact_list(spec, store)
    else:  # a new store: a mistake in the list or its templates leaves no store behind
        contacts, rejected = _read_list(spec)
        store, path = open_store(target)
        _remember(spec, store, contacts, rejected)
    # the switch can reach the audio the script plays (before anyone is called)
    speech_dir = spec.speech.cache or path.folder / "speech-cache"
    check_backend(spec.campaign, spec.backend, spec.backend_settings, speech_dir=speech_dir)
    argv = getattr(args, "argv", ["run", args.campaign])
    announce_store(argv, path, temporary=target is None)
    try:
        summary = _execute(spec, contacts, store, path, args, dnc, hooks, clock)
    except KeyboardInterrupt:
        interrupted(argv, path)
        raise
    except (BackendError, StoreError) as exc:  # the run stopped: say how to carry on
        stopped(argv, path, exc)
        raise
    summary["store"] = str(path)
    summary["rejected_rows"] = rejected
    summary["window"] = spec.campaign.window.describe()
    summary["overnight_hours"] = night
    print_summary(summary, as_json=args.json)
    if not args.json:
        print(f"calling hours (callee-local): {summary['window']}")
        if night:
            print(f"  {_overnight_note(night)}")
    return EXIT_PROBLEMS if rejected else EXIT_OK


def _worker_problem(args: argparse.Namespace, spec: CampaignFile, target: str | None) -> str | None:
    """Why ``--worker`` / ``--lease-ttl`` cannot be used as given, or None."""
    if args.worker is None:
        if args.lease_ttl is not None:
            return "--lease-ttl goes with --worker NAME (one of several workers)"
        return None
    check_worker_name(args.worker)
    if target is None or not is_postgres_url(target):
        where = "a temporary SQLite file" if target is None else f"the SQLite file {target}"
        return (
            f"--worker needs a PostgreSQL store (--store postgresql://...), not {where}: "
            "several workers share a campaign through the database; SQLite keeps one "
            "campaign for one process (run without --worker)"
        )
    if args.lease_ttl is not None and not args.lease_ttl > 0:
        return "--lease-ttl: expected a number of seconds > 0"
    if spec.backend == "sim" and args.speed is None:
        return (
            "--worker with kind = sim needs --speed X: the workers run the async runtime on "
            "one shared fast clock (virtual time is one process's own)"
        )
    return None


def _worker_list(spec: CampaignFile, store: Any) -> tuple[list[Contact], int]:
    """The list's contacts in the store before this worker starts (under the campaign's
    lock): the first worker reads the file and writes them; the others find it remembered."""
    contacts, rejected = _contact_list(spec, store)  # remembered: the first stored one
    name = spec.campaign.name
    known = store.known_ids(name, [contact.id for contact in contacts])
    store.add_contacts(name, (c for c in contacts if c.id not in known))
    return contacts[:1], rejected  # for the speech check; the workers lease the rest


def _may_remember(target: str | None) -> bool:
    """Whether the store already exists, so it may remember the list (a resume)."""
    return target is not None and (is_postgres_url(target) or Path(target).exists())


def _contact_list(spec: CampaignFile, store: Any) -> tuple[list[Contact], int]:
    """The contacts to hand the run and the rows the list rejected: a resume whose list is
    unchanged does not read it again, the store has its contacts (see
    :mod:`autoinformer.cli._list_memo`)."""
    if spec.contacts is None:
        return [], 0
    name = spec.campaign.name
    current = _fingerprint(spec)
    memo = recall(store, name, current)
    if memo is None:  # the file is hashed once: its fingerprint is remembered as computed
        contacts, rejected = _read_list(spec)
        remember(store, name, current, contacts, rejected)
        return contacts, rejected
    print(
        f"note: {spec.contacts.name} is unchanged since the store read it "
        f"({memo.contacts} contacts, {memo.rejected} rows rejected then): not read again",
        file=sys.stderr,
    )
    if memo.contacts:
        check_templates(spec.campaign.script, memo.columns)
    # one contact for the run's speech check before anyone is called; the rest are paged
    first = store.queued_contacts(name, limit=1) or store.timed_contacts(name, limit=1)
    return [stored.contact for stored in first], memo.rejected


def _read_list(spec: CampaignFile) -> tuple[list[Contact], int]:
    """Read and check the list: its valid contacts and the count of rows it rejected."""
    contacts, problems = load_contacts(spec)
    for line in problems:
        print(f"skipped: {line}", file=sys.stderr)
    if contacts:  # a variable no column provides would skip every contact: stop here
        check_templates(spec.campaign.script, list_columns(contacts))
    return contacts, len(problems)


def _remember(spec: CampaignFile, store: Any, contacts: list[Contact], rejected: int) -> None:
    if spec.contacts is not None:
        remember(store, spec.campaign.name, _fingerprint(spec), contacts, rejected)


def _fingerprint(spec: CampaignFile) -> str:
    assert spec.contacts is not None
    return fingerprint(spec.contacts, spec.campaign.region, sorted(spec.campaign.countries))


def _overnight_note(night: list[str]) -> str:
    return (
        f"the calling hours run past midnight ({', '.join(night)}: until the next morning); "
        'for daytime calls write hours = "09:00-20:00"'
    )


def _execute(
    spec: CampaignFile,
    contacts: list[Contact],
    store: Any,
    path: StoreLocation,
    args: argparse.Namespace,
    dnc: DoNotCallList | None,
    hooks: dict[str, Any],
    clock: Clock | None,
) -> dict[str, Any]:
    with store:
        if spec.backend == "sim":
            summary = _run_sim(spec, contacts, store, args, dnc, hooks, clock)
        else:
            from autoinformer.clock import WallClock

            # A real switch cannot speak text: the [speech] engine renders every message
            # before its call is placed, caching fragments beside the store.
            summary = run_realtime(
                spec.campaign,
                contacts,
                store,
                switch=real_switch(spec),
                clock=WallClock(),
                dnc=dnc,
                progress=not args.json,
                pacing=spec.pacing(),
                hooks=hooks,
                renderer=speech_renderer(spec, path.folder),
                **_worker_options(args, store, speed=1.0),
            )
    return summary


def _worker_options(args: argparse.Namespace, store: Any, *, speed: float) -> dict[str, Any]:
    """``run_realtime``'s keywords for a worker (none without ``--worker``): its name, its
    lease in the clock's seconds (``--lease-ttl`` is real seconds: a fast clock's lease is
    ``speed`` times longer in model time, so a worker is not declared dead for a hiccup of a
    few milliseconds), its tally (with its lease calls' timings) and, on a fast clock, the
    heartbeat."""
    if args.worker is None:
        return {}
    ttl = DEFAULT_LEASE_TTL if args.lease_ttl is None else args.lease_ttl
    timings = LeaseTimings()
    timings.watch(store)
    return {
        "worker": args.worker,
        "lease_ttl": ttl * speed,
        "tally": WorkerTally(args.worker, lease_ttl=ttl, timings=timings),
        "beside": heartbeat if args.speed is not None else None,
    }


def _run_sim(
    spec: CampaignFile,
    contacts: list[Contact],
    store: Any,
    args: argparse.Namespace,
    dnc: DoNotCallList | None,
    hooks: dict[str, Any],
    clock: Any,
) -> dict[str, Any]:
    model = sim_model(spec, seed=args.seed)
    if args.speed is None:
        return run_virtual(
            spec.campaign,
            contacts,
            store,
            model=model,
            dnc=dnc,
            progress=not args.json,
            pacing=spec.pacing(),
            hooks=hooks,
        )
    if clock is None:  # one process: its own clock, carrying on after the store's latest time
        clock = resumed_clock(store, spec.campaign.name, args.speed)
    return run_realtime(
        spec.campaign,
        contacts,
        store,
        switch=lambda: sim_switch(spec, model, clock),  # [[backend]] entries: a SwitchSet
        clock=clock,
        dnc=dnc,
        progress=not args.json,
        pacing=spec.pacing(),
        hooks=hooks,
        **_worker_options(args, store, speed=args.speed),
    )
