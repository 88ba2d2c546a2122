"""``autoinformer serve``: the REST API and the web dashboard (extra: ``autoinformer[serve]``).

Campaigns are created, fed their lists, started, paused and stopped over HTTP (``/api``, its
schema at ``/openapi.json``, interactive docs at ``/docs``) or from the dashboard at ``/``. They
and their progress are kept in the ``--store`` (a SQLite file, or a PostgreSQL database:
``--store postgresql://user@host/db``, the password from PGPASSWORD or ~/.pgpass, never in the
URL) and survive a restart of the server: each campaign is resumed as it was, running or
paused. A ``kind = "sim"`` campaign runs on the simulated switch at ``[sim] speed`` (1.0:
real time); ``ari`` and ``esl`` call through the real switch, as ``autoinformer run`` does.
One server per PostgreSQL schema (a second one is refused).

Every ``/api`` request must carry the token held in the environment variable ``--token-env``
names (default ``AUTOINFORMER_TOKEN``): ``Authorization: Bearer TOKEN``. Without a token the
server answers on a loopback address only, and says so.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

from autoinformer.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from autoinformer.errors import StoreError
from autoinformer.store.urls import is_postgres_url

__all__ = ["register"]

DEFAULT_STORE = "autoinformer-serve.sqlite"


def register(subparsers: Any) -> None:
    """Add the ``serve`` command."""
    parser = subparsers.add_parser(
        "serve",
        help="the REST API and web dashboard (needs autoinformer[serve])",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument(
        "--store",
        default=DEFAULT_STORE,
        help=f"the store of the campaigns: a SQLite file (default: ./{DEFAULT_STORE}) or a "
        "postgresql://user@host/db URL (password from PGPASSWORD or ~/.pgpass); resumed",
    )
    parser.add_argument(
        "--token-env",
        default="AUTOINFORMER_TOKEN",
        metavar="NAME",
        help="the environment variable holding the API's bearer token",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=50.0,
        metavar="MB",
        help="the largest request body (a contact list) accepted (default 50 MB)",
    )
    parser.set_defaults(handler=_handle)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _handle(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from autoinformer.serve import ServeSettings, create_app
        from autoinformer.serve.manager import open_store, refuse_password
    except ImportError as exc:
        print(
            f"autoinformer serve: error: {exc.name} is missing; "
            "install the extra: pip install 'autoinformer[serve]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    token = os.environ.get(args.token_env) or None
    if token is None and not _loopback(args.host):
        print(
            f"autoinformer serve: error: ${args.token_env} is not set: without a token the "
            f"API is served on a loopback address only (not {args.host}); set it, or use "
            "--host 127.0.0.1",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.max_upload_mb <= 0:
        print("autoinformer serve: error: --max-upload-mb must be > 0", file=sys.stderr)
        return EXIT_USAGE
    store: Path | str
    if is_postgres_url(args.store):
        refuse_password(args.store, option="--store")  # InputError: run's message, exit 2
        store = shown = args.store  # no password in it: safe to print as given
    else:
        store = Path(args.store)
        shown = str(store.resolve())
    try:  # fail here, in one line, not in a traceback from the server's startup
        opened, _ = open_store(store, option="--store")
        opened.close()
        if isinstance(store, str):  # another server on that schema: refused here too
            from autoinformer.serve._lock import ServerLock

            ServerLock(store).release()
    except StoreError as exc:
        print(f"autoinformer serve: error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    settings = ServeSettings(
        store=store, token=token, max_upload=int(args.max_upload_mb * 1024 * 1024)
    )
    if token is None:
        print(
            f"note: ${args.token_env} is not set: serving on {args.host} (loopback only) "
            "without authentication",
            file=sys.stderr,
        )
    print(
        f"autoinformer serve: http://{args.host}:{args.port}/ (API docs at /docs), store {shown}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_level="info",  # "Uvicorn running on ..." once it listens; no line per request
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return EXIT_OK
