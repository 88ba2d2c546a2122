"""``autoinformer contacts check FILE`` and ``autoinformer contacts template OUT.xlsx``.

``check`` reads a list the way a campaign would and reports every problem (exit 1 when a row
is invalid, 2 when the file cannot be read); ``--json`` prints the machine-readable report.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from autoinformer.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from autoinformer.errors import InputError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``contacts`` command and its ``check`` / ``template`` sub-commands."""
    parser = subparsers.add_parser(
        "contacts", help="check contact lists, write the XLSX template", description=__doc__
    )
    parser.set_defaults(handler=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="contacts_command", metavar="ACTION")

    check = actions.add_parser(
        "check",
        help="validate a contact list (CSV, TSV, XLSX) and report every problem",
        description="Validate a contact list; exit 1 when a row is invalid, 2 when unreadable.",
    )
    check.add_argument("file", help="the list (.csv, .tsv, .txt, .xlsx); - reads stdin")
    check.add_argument(
        "--region", help="default country for numbers without the country code (RU, US, ID)"
    )
    check.add_argument(
        "--countries",
        help="other countries whose numbers may be written without + (e.g. KZ,US)",
    )
    check.add_argument(
        "--timezone",
        help="the campaign's zone: calling hours fall back to it for numbers of several zones",
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument(
        "--format", choices=["csv", "tsv", "xlsx", "seed"], help="default: from name and content"
    )
    check.add_argument(
        "--phone-column",
        action="append",
        metavar="COLUMN",
        help="phone column by header or letter; repeat for more numbers in preference order",
    )
    check.add_argument("--name-column", metavar="COLUMN", help="the name column")
    check.add_argument("--id-column", metavar="COLUMN", help="a column of contact ids")
    check.add_argument("--encoding", help="text encoding of CSV/TSV (default: UTF-8, cp1251)")
    check.add_argument("--sheet", help="XLSX sheet name (default: the first)")
    check.add_argument(
        "--no-header", action="store_true", help="the first row is data (columns A, B, ...)"
    )
    check.set_defaults(handler=_check)

    template = actions.add_parser(
        "template",
        help="write an empty XLSX list to fill in",
        description="Write an XLSX template whose phone column keeps every digit.",
    )
    template.add_argument("out", help="the .xlsx file to write")
    template.add_argument(
        "--variable",
        action="append",
        default=[],
        metavar="NAME",
        help="an extra column for a script variable (repeatable), e.g. BALANCE",
    )
    template.add_argument("--region", help="the country whose numbers go without country code")
    template.add_argument("--force", action="store_true", help="overwrite an existing file")
    template.set_defaults(handler=_template)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


class _Bar:
    """A tqdm progress bar on stderr, fed with absolute (done, total) figures."""

    def __init__(self, unit: str = "B") -> None:
        from tqdm import tqdm

        self._bar = tqdm(file=sys.stderr, unit=unit, unit_scale=True, leave=False)
        self._done = 0

    def __call__(self, done: int, total: int | None) -> None:
        if total is not None and self._bar.total != total:
            self._bar.total = total
        if done > self._done:
            self._bar.update(done - self._done)
            self._done = done

    def close(self) -> None:
        self._bar.close()


def _check(args: argparse.Namespace) -> int:
    import os

    from autoinformer.contacts.importer import read_contacts
    from autoinformer.contacts.phones import check_region
    from autoinformer.contacts.report import ImportReport
    from autoinformer.contacts.zones import zone_summary

    source: Any = sys.stdin if args.file == "-" else args.file
    countries = [c.strip() for c in (args.countries or "").split(",") if c.strip()]
    bar = None
    if sys.stderr.isatty() and args.file != "-":
        xlsx = args.format == "xlsx" or args.file.lower().endswith((".xlsx", ".xlsm"))
        bar = _Bar(" rows" if xlsx else "B")  # XLSX progress counts rows, text counts bytes
    try:
        name = str(source) if isinstance(source, str | os.PathLike) else "<text>"
        report = ImportReport(
            source=name, keep_contacts=args.json, region=check_region(args.region)
        )
        rows = read_contacts(
            source,
            region=args.region,
            countries=countries,
            format=args.format,
            phone_column=args.phone_column,
            name_column=args.name_column,
            id_column=args.id_column,
            encoding=args.encoding,
            sheet=args.sheet,
            header=False if args.no_header else None,
            progress=bar,
        )

        def valid() -> Any:  # one pass: the report and the zones count as the rows stream by
            for result in rows:
                report.add(result)
                if result.contact is not None:
                    yield result.contact

        zones = zone_summary(
            valid(), timezone=args.timezone, region=args.region, countries=countries
        )
    except InputError as exc:
        print(f"autoinformer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        data = report.to_dict()
        data["zones"] = zones.to_dict()
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(report.summary())
        print(zones.describe())
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _template(args: argparse.Namespace) -> int:
    from pathlib import Path

    from autoinformer.contacts.template import write_template

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        print(
            f"autoinformer: error: {args.out!r}: the template is an XLSX workbook; "
            "give it a .xlsx name",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if out.exists() and not args.force:
        print(
            f"autoinformer: error: {args.out!r} exists; --force overwrites it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        path = write_template(args.out, variables=args.variable, region=args.region)
    except InputError as exc:
        print(f"autoinformer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {path}: fill in the Contacts sheet, then run: autoinformer contacts check {path}")
    return EXIT_OK
