"""Telling a PostgreSQL URL from a store file, and keeping its password out of files and logs.

Standard library only: the command line and the campaign-file reader check a ``--store`` or
``store =`` value without importing psycopg (an optional extra).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

__all__ = ["PASSWORD_HELP", "has_password", "is_postgres_url", "redacted"]

PASSWORD_HELP = "use PGPASSWORD or ~/.pgpass"
"""What to do instead of writing a password into a URL (libpq reads both by itself)."""

_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(value: str) -> bool:
    """Whether ``value`` names a PostgreSQL database (else it is a SQLite file path)."""
    return value.lower().startswith(_SCHEMES)


def has_password(url: str) -> bool:
    """Whether the URL carries a password (``user:secret@`` or ``?password=``)."""
    parts = urlsplit(url)
    return parts.password is not None or "password" in parse_qs(parts.query)


def redacted(url: str) -> str:
    """The URL with any password replaced by ``***``: safe to print, log or keep.

    Put back together by hand: ``urlunsplit`` drops the ``//`` of an empty host, and
    ``postgresql:///db`` (the local socket) is a different URL without it.
    """
    if not has_password(url):
        return url
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = "&".join(
        "password=***" if item.partition("=")[0] == "password" else item
        for item in parts.query.split("&")
        if item
    )
    text = f"{parts.scheme}://{netloc}{parts.path}"
    if query:
        text += f"?{query}"
    if parts.fragment:
        text += f"#{parts.fragment}"
    return text
