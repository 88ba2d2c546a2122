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
import re
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
    "plain",
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
    _plain_help(parser)
    return parser


_LITERAL = re.compile(r"``(.+?)``")
_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc):`~?(?:[\w.]+\.)?([\w]+)`")


def plain(text: str | None) -> str | None:
    """Docstring markup as a terminal shows it: ``code`` -> code, :func:`x.y` -> y."""
    if text is None:
        return None
    return _ROLE.sub(r"\1", _LITERAL.sub(r"\1", text)).replace("::\n", ":\n")


def _plain_help(parser: argparse.ArgumentParser) -> None:
    """Strip reStructuredText markup from every description and help text (the module
    docstrings double as ``--help``), in this parser and all its sub-commands."""
    parser.description = plain(parser.description)
    parser.epilog = plain(parser.epilog)
    for action in parser._actions:
        action.help = plain(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = plain(choice.help)
            for sub in dict.fromkeys(action.choices.values()):
                _plain_help(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    try:
        parser = build_parser()  # imports every command: a Ctrl-C may well land here
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # for "to carry on" hints
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return EXIT_USAGE
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
