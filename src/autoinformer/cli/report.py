"""``autoinformer report STORE``: a campaign's statistics from its store.

Outcomes, rates (answered, contacts reached, transferred, abandoned), attempts per hour, per
caller ID and per operator, why contacts were skipped, SMS sent, talk time, and the cost when
``--rate`` gives the price of a minute. ``--json`` prints the same as JSON (the keys of
``CampaignStats.to_dict()``, see ``docs/statistics.md``, plus ``campaign``,
``contacts_by_state``, ``skipped`` and ``sms_sent``).

The store is the file a run's ``--store`` wrote (``autoinformer demo --store demo.sqlite``),
or its PostgreSQL URL; with several campaigns in it, ``--campaign`` picks one. Exit codes:
0 ok, 2 no such store or campaign, or a bad option.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from autoinformer.cli import EXIT_OK
from autoinformer.cli._stores import choose_campaign, open_existing_store, store_argument

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``report`` command."""
    parser = subparsers.add_parser(
        "report",
        help="a campaign's statistics from its store (outcomes, per hour, caller IDs, cost)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "store",
        type=store_argument,
        help="the store a run wrote (--store): a SQLite file or a postgresql:// URL",
    )
    parser.add_argument("--campaign", help="the campaign (needed when the store has several)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--rate", help="price of a billed minute (e.g. 1.8): adds the cost; default: no cost"
    )
    parser.add_argument(
        "--billing-increment",
        type=int,
        default=60,
        metavar="S",
        help="seconds each answered call is rounded up to (60: per started minute; 1: per second)",
    )
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="IANA time zone of the per-hour counts (default UTC), e.g. Europe/Moscow",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from autoinformer.stats.report import campaign_report

    campaign = choose_campaign(args.store, args.campaign)
    with open_existing_store(args.store) as store:
        report = campaign_report(
            store,
            campaign,
            rate_per_minute=args.rate,
            billing_increment=args.billing_increment,
            timezone=args.timezone,
        )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        for line in report.lines(args.timezone):
            print(line)
    return EXIT_OK
