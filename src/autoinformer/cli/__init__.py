"""The ``autoinformer`` command line.

Each sub-command lives in its own module in this package and exposes
``register(subparsers) -> None``; :func:`main` discovers them, so adding a command never
touches this file. Exit codes: 0 ok, 1 problems found, 2 bad usage or unreadable input,
130 interrupted, 141 the reader of the output went away (``| head``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence

from autoinformer._version import __version__
from autoinformer.errors import InputError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT: interrupted (Ctrl-C)."""
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: whoever read our output stopped reading (``| head``)."""

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every discovered sub-command."""
    parser = argparse.ArgumentParser(
        prog="autoinformer",
        description="Automated outbound calling: voice broadcast, reminders, predictive dialing.",
    )
    parser.add_argument("--version", action="version", version=f"autoinformer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        return code
    except InputError as exc:
        print(f"autoinformer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """The reader of our output left (``autoinformer demo | head -3``): stop quietly.

    The Python docs' idiom (``signal`` module, "Note on SIGPIPE"): point stdout at devnull so
    the interpreter's final flush does not raise again, and exit as a tool killed by SIGPIPE
    looks to a shell (128 + 13), as ``yes | head`` does; a pipeline without ``pipefail``
    sees only the last command's status.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
