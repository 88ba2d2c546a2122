"""``autoinformer export STORE --format csv|xlsx``: the call records of a store.

One row per attempt (the columns of ``CDR_COLUMNS``, see ``docs/statistics.md``), safe to open
in a spreadsheet: no cell is ever executed as a formula (a CSV value starting with ``=``,
``+``, ``-`` or ``@`` gets a leading apostrophe; XLSX cells are text, never formulas).

Without ``--out`` the CSV goes to standard output; an XLSX workbook needs ``--out`` (or a
pipe: it is not written to a terminal). An existing ``--out`` file is kept unless ``--force``.
Every campaign of the store is exported unless ``--campaign`` names one. Exit codes: 0 ok,
1 the file cannot be written, 2 no such store or campaign, or a bad option.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autoinformer.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from autoinformer.cli._stores import (
    choose_campaign,
    open_existing_store,
    store_argument,
    store_campaigns,
)
from autoinformer.errors import ExportError
from autoinformer.records import AttemptRecord
from autoinformer.store.base import Store

__all__ = ["register"]

_SUFFIXES = {"csv": (".csv", ".txt"), "xlsx": (".xlsx",)}


def register(subparsers: Any) -> None:
    """Add the ``export`` command."""
    parser = subparsers.add_parser(
        "export",
        help="call records of a store as CSV or XLSX (safe to open in a spreadsheet)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "store",
        type=store_argument,
        help="the store a run wrote (--store): a SQLite file or a postgresql:// URL",
    )
    parser.add_argument(
        "--format", required=True, choices=("csv", "xlsx"), help="csv (UTF-8 with BOM) or xlsx"
    )
    parser.add_argument(
        "--out", type=Path, metavar="FILE", help="the file to write (CSV default: standard output)"
    )
    parser.add_argument("--campaign", help="only this campaign (default: every campaign)")
    parser.add_argument(
        "--delimiter",
        choices=(",", ";", "tab"),
        default=",",
        help="CSV field separator (';' for a Russian-locale Excel)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from autoinformer.stats import write_cdr_csv, write_cdr_xlsx

    out: Path | None = args.out
    if out is not None:
        if out.suffix.lower() not in _SUFFIXES[args.format]:
            print(
                f"autoinformer export: error: --out {str(out)!r}: a {args.format} export needs "
                f"a {' or '.join(_SUFFIXES[args.format])} name",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if out.exists() and not args.force:
            print(
                f"autoinformer export: error: {str(out)!r} exists; --force overwrites it",
                file=sys.stderr,
            )
            return EXIT_USAGE
    elif args.format == "xlsx" and sys.stdout.isatty():
        print(
            "autoinformer export: error: an XLSX workbook is not for a terminal: give --out FILE",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.campaign is not None:
        campaigns = [choose_campaign(args.store, args.campaign)]
    else:
        campaigns = store_campaigns(args.store)
    delimiter = "\t" if args.delimiter == "tab" else args.delimiter
    with open_existing_store(args.store) as store:
        records = _records(store, campaigns)
        try:
            if args.format == "csv":
                count = write_cdr_csv(
                    records, out if out is not None else sys.stdout, delimiter=delimiter
                )
            else:
                count = write_cdr_xlsx(records, out if out is not None else sys.stdout.buffer)
        except ExportError as exc:
            print(f"autoinformer: error: {exc}", file=sys.stderr)
            return EXIT_PROBLEMS
    if out is not None:
        print(f"wrote {count} call records to {out}", file=sys.stderr)
    return EXIT_OK


def _records(store: Store, campaigns: list[str]) -> Iterator[AttemptRecord]:
    return itertools.chain.from_iterable(store.attempts(name) for name in campaigns)
