"""A throwaway PostgreSQL cluster for tests and benchmarks.

The PostgreSQL store is tested against a real server, not a fake: SQL semantics (row locks,
``SKIP LOCKED``, conflicts) are exactly what a fake would get wrong. This module makes one from
the distribution's server binaries (Debian's ``postgresql`` package) in a temporary directory:
``initdb`` with trust auth for the local user only, a server listening on 127.0.0.1 and a
Unix socket inside the directory, nothing shared with a system cluster.

It uses the standard library alone, so ``.ci/run`` runs it as a plain script before the
package is installed::

    python src/autoinformer/testing/postgres.py start /tmp/pg   # prints the URL
    export AUTOINFORMER_TEST_POSTGRES_URL=postgresql://autoinformer@127.0.0.1:PORT/autoinformer
    python src/autoinformer/testing/postgres.py stop /tmp/pg

PostgreSQL refuses to run as root; run as root (as CI does), the cluster belongs to the
``postgres`` system user the package creates, and the server runs as that user.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

__all__ = [
    "ENV",
    "HOW_TO_GET_ONE",
    "USER",
    "find_bindir",
    "free_port",
    "in_schema",
    "start_cluster",
    "stop_cluster",
]

USER = "autoinformer"
"""The cluster's superuser, and its database's name (no password: trust on loopback)."""

_SERVICE_USER = "postgres"

ENV = "AUTOINFORMER_TEST_POSTGRES_URL"
"""The variable that gives tests a PostgreSQL server to use (they skip without it)."""

HOW_TO_GET_ONE = (
    f"no PostgreSQL for tests: set {ENV} (apt-get install postgresql; then "
    f"export {ENV}=$(python src/autoinformer/testing/postgres.py start /tmp/pg), "
    "as .ci/run does)"
)


def in_schema(url: str, schema: str) -> str:
    """``url`` with libpq's ``options`` setting the search path to ``schema`` (a test's own)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def find_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: on PATH, else the newest Debian versioned dir."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    """A TCP port nobody listens on now (several clusters may run on one machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", _SERVICE_USER, "--", *argv]


THROWAWAY_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
"""A test cluster's durability, off: the tests kill clients, never the server, and a commit
that waits for the disk made one paging test alone take 50 s (11,200 commits)."""


def start_cluster(directory: Path, port: int | None = None, *, durable: bool = True) -> str:
    """Create (if new) and start a cluster in ``directory``; return its connection URL.

    ``durable=False`` turns the server's own durability off (:data:`THROWAWAY_SETTINGS`):
    for a test suite; benchmarks keep it on, as a production server would.

    Raises:
        RuntimeError: no PostgreSQL server binaries, or initdb / the server failed (the
            message carries the server's log).
    """
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package"
        )
    directory = directory.resolve()
    data = directory / "data"
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, _SERVICE_USER, _SERVICE_USER)
    port = port or free_port()
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            _as_server_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    log = directory / "server.log"
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " " + THROWAWAY_SETTINGS
    done = subprocess.run(
        _as_server_user(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()}\n{tail}")
    (directory / "port").write_text(str(port))
    createdb = [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, USER]
    created = subprocess.run(createdb, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise RuntimeError(f"createdb failed: {created.stderr.strip()}")
    return f"postgresql://{USER}@127.0.0.1:{port}/{USER}"


def stop_cluster(directory: Path) -> None:
    """Stop the cluster in ``directory`` (fast shutdown) if it runs; keep its files."""
    bindir = find_bindir()
    data = directory.resolve() / "data"
    if bindir is None or not (data / "postmaster.pid").exists():
        return
    subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    """``start DIR [--port N] [--throwaway]`` prints the URL; ``stop DIR`` stops the server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument(
        "--throwaway",
        action="store_true",
        help="durability off (fsync, synchronous_commit): for a test suite, never for figures",
    )
    args = parser.parse_args(argv)
    if args.action == "stop":
        stop_cluster(args.directory)
        return 0
    try:
        print(start_cluster(args.directory, args.port, durable=not args.throwaway))
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        print(f"postgres.py: {exc} {detail}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - run by .ci/run as a script
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
