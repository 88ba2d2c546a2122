"""``autoinformer demo``: seed 000's debt reminder on the simulated switch.

A homeowners' association calls its debtors: a greeting, "your debt is ... roubles", "press 1
to talk to an operator". The callees are a seeded population (answer, busy, unreachable rates,
listening times, some press 1); two operators take the transfers. Results are journaled in the
embedded SQLite store (a temporary file unless ``--store`` is given; an existing store is
resumed, so a run cut short carries on where it stopped), or in PostgreSQL with
``--store postgresql://...``.

The compliance defaults are on: calls only 09:00-20:00 in the callee's local time, and
abandoned calls (a callee who pressed 1 and found no operator) held at or under 3% of the
answered calls. The pacing is the default for a script that transfers, progressive (one call
per idle operator); ``--pacing power``, ``predictive`` or ``broadcast`` show the abandon guard
holding other policies to the same cap.

By default the campaign runs in virtual time (the discrete-event driver: instant, and the same
seed gives the same statistics to the last attempt). ``--speed X`` runs it with the anyio
runtime against the simulated switch on a clock X times faster than real time instead.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from autoinformer.campaign import Campaign, QueueSettings
from autoinformer.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from autoinformer.cli._running import (
    add_common_arguments,
    announce_store,
    interrupted,
    open_store,
    print_summary,
    run_realtime,
    run_virtual,
    setup_logging,
)
from autoinformer.contacts.model import Contact
from autoinformer.errors import BackendError, StoreError
from autoinformer.pacing import (
    BroadcastPacing,
    PacingPolicy,
    PowerPacing,
    PredictivePacing,
    ProgressivePacing,
)
from autoinformer.policy.retry import RetryPolicy
from autoinformer.queues.base import Operator
from autoinformer.script import Script, menu, play, say, transfer
from autoinformer.sim.model import PopulationModel, seeded_random
from autoinformer.store.base import Store

__all__ = ["PACINGS", "demo_campaign", "demo_contacts", "demo_model", "register"]

GREETING_SECONDS = 4.0
_ANSWERED = ("delivered", "hung_up_early", "transferred", "abandoned")

PACINGS: dict[str, type[PacingPolicy]] = {
    "progressive": ProgressivePacing,
    "power": PowerPacing,
    "predictive": PredictivePacing,
    "broadcast": BroadcastPacing,
}
"""The ``--pacing`` choices (each wrapped by the core's abandon guard: the script transfers)."""


def demo_campaign(*, lines: int = 10, retry_interval: str | None = None) -> Campaign:
    """Seed 000's campaign: greeting, the debt, press 1 for an operator.

    Retries come 20 minutes apart, 72 hours after an abandoned call (the compliance default);
    a ``retry_interval`` replaces both (short runs on a scaled clock).
    """
    retry = RetryPolicy.simple(attempts=3, interval="20m")
    if retry_interval is not None:
        retry = RetryPolicy(
            attempts=3, default_delay=retry_interval, abandoned_cooldown=retry_interval
        )
    return Campaign(
        name="HOA debt (demo)",
        script=Script.of(
            play("sound:hoa-greeting"),
            say("Your debt is <currency>{BALANCE|abs} RUB</currency>."),
            menu("Press 1 to talk to an operator.", {"1": transfer("operators")}, timeout=5),
        ),
        lines=lines,
        min_delivered_seconds=10,
        retry=retry,
        queues=[
            QueueSettings(
                name="operators",
                operators=(Operator("anna", "PJSIP/101"), Operator("boris", "PJSIP/102")),
                max_wait=20.0,
                wrapup=10.0,
            )
        ],
        region="RU",
        timezone="Europe/Moscow",
    )


def demo_contacts(count: int, seed: int) -> list[Contact]:
    """``count`` debtors with Russian mobile numbers and balances, the same for a seed."""
    contacts = []
    for i in range(count):
        rng = seeded_random(seed, "demo-contact", i)
        phones = [f"+7950{rng.randrange(10**7):07d}"]
        if rng.random() < 0.2:
            phones.append(f"+7916{rng.randrange(10**7):07d}")
        balance = -round(rng.uniform(50, 9000), 2)
        contacts.append(
            Contact(
                id=f"debtor-{i + 1:05d}",
                name=f"Debtor {i + 1}",
                phones=tuple(phones),
                variables={"BALANCE": f"{balance:.2f}"},
            )
        )
    return contacts


def demo_model(seed: int) -> PopulationModel:
    """The callees: a seeded population where one in five who listen presses 1."""
    return PopulationModel(seed=seed, digit_rates={"1": 0.2}, talk_median_s=60.0)


def register(subparsers: Any) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo",
        help="seed 000's debt reminder on the simulated switch (finishes in seconds)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--contacts", type=int, default=100, help="how many debtors (100)")
    parser.add_argument("--seed", type=int, default=1, help="the population's seed (1)")
    parser.add_argument("--lines", type=int, default=10, help="concurrent calls (10)")
    parser.add_argument(
        "--pacing",
        choices=sorted(PACINGS),
        default="progressive",
        help="how many calls to launch (progressive: one per idle operator, the default for "
        "a script that transfers; power: two per idle operator; predictive: from the answer "
        "rate; broadcast: every free line); every choice is held to the 3%% abandon cap",
    )
    parser.add_argument(
        "--speed",
        type=float,
        help="run with the async runtime on a clock this many times faster than real time",
    )
    parser.add_argument(
        "--retry-interval",
        help="time between attempts to one debtor, also after an abandoned call "
        "(default 20m, and 72h after an abandoned call)",
    )
    add_common_arguments(parser)
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (BackendError, StoreError) as exc:
        print(f"autoinformer: error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS


def _run(args: argparse.Namespace) -> int:
    if args.contacts < 1:
        parser_error = "--contacts: expected a whole number >= 1"
        print(f"autoinformer demo: error: {parser_error}", file=sys.stderr)
        return EXIT_USAGE
    if args.speed is not None and args.speed <= 0:
        print("autoinformer demo: error: --speed: expected a number > 0", file=sys.stderr)
        return EXIT_USAGE
    setup_logging(args.verbose)
    campaign = demo_campaign(lines=args.lines, retry_interval=args.retry_interval)
    pacing = PACINGS[args.pacing]()
    store, path = open_store(args.store)
    contacts: list[Contact] = []
    if args.speed is not None or store.get_meta(campaign.name, DEMO_LIST_KEY) != _list_key(args):
        contacts = demo_contacts(args.contacts, args.seed)  # else: the store has every one
    argv = getattr(args, "argv", ["demo"])
    announce_store(argv, path, temporary=args.store is None)
    try:
        summary = _execute(args, campaign, contacts, pacing, store)
    except KeyboardInterrupt:
        interrupted(argv, path)
        raise
    summary["store"] = str(path)
    summary["seed"] = args.seed
    summary["pacing"] = args.pacing
    answered = sum(summary["outcomes"].get(name, 0) for name in _ANSWERED)
    abandoned = summary["outcomes"].get("abandoned", 0)
    summary["abandon_rate"] = round(abandoned / answered, 4) if answered else 0.0
    summary["window"] = campaign.window.describe()
    print_summary(summary, as_json=args.json)
    if not args.json:
        print(f"calling hours (callee-local): {summary['window']}")
        print(
            f"abandoned: {abandoned} of {answered} answered ({summary['abandon_rate']:.1%}; "
            f"cap {campaign.abandon_cap:.0%}), {args.pacing} pacing"
        )
    return EXIT_OK


DEMO_LIST_KEY = "demo_list"
"""Store meta: ``"COUNT SEED"`` of the demo list the store holds whole. A resumed virtual-time
demo with the same ``--contacts`` and ``--seed`` does not build the list again (12 s and
~650 MB at a million contacts): the driver pages it from the store."""


def _list_key(args: argparse.Namespace) -> str:
    return f"{args.contacts} {args.seed}"


def _import(store: Store, campaign: str, contacts: list[Contact], key: str) -> list[Contact]:
    """Store the demo list (the contacts the store lacks) and note that it holds it whole;
    returns what the driver still needs to be given: nothing, or the whole list when new
    contacts join earlier ones (the driver then checks their numbers against those)."""
    known = store.known_ids(campaign, [contact.id for contact in contacts])
    new = [contact for contact in contacts if contact.id not in known]
    if new and known:
        return contacts
    store.add_contacts(campaign, new)
    store.set_meta(campaign, DEMO_LIST_KEY, key)
    return []


def _execute(
    args: argparse.Namespace,
    campaign: Campaign,
    contacts: list[Contact],
    pacing: PacingPolicy,
    store: Store,
) -> dict[str, Any]:
    with store:
        if args.speed is None:
            if contacts:
                contacts = _import(store, campaign.name, contacts, _list_key(args))
            summary = run_virtual(
                campaign,
                contacts,
                store,
                model=demo_model(args.seed),
                progress=not args.json,
                pacing=pacing,
            )
        else:
            from autoinformer._assembly import resumed_clock
            from autoinformer.backends.sim import SimSwitch

            clock = resumed_clock(store, campaign.name, args.speed)
            model = demo_model(args.seed)

            def switch() -> SimSwitch:
                return SimSwitch(
                    model=model,
                    clock=clock,
                    builtin_seconds={"hoa-greeting": GREETING_SECONDS},
                    default_builtin_seconds=3.0,
                )

            summary = run_realtime(
                campaign,
                contacts,
                store,
                switch=switch,
                clock=clock,
                progress=not args.json,
                pacing=pacing,
            )
    return summary
