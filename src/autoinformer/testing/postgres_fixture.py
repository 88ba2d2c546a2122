"""The pytest fixture that gives a test its own empty schema on the test PostgreSQL server.

In a test module::

    from autoinformer.testing.postgres_fixture import postgres_url

A test taking ``postgres_url`` gets a URL whose search path is a fresh schema (dropped after
the test), so tests never see each other's tables. Without ``AUTOINFORMER_TEST_POSTGRES_URL``
or without psycopg the test is skipped with a reason saying how to get them. Needs pytest,
which is why it is not part of :mod:`autoinformer.testing.postgres`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from autoinformer.testing.postgres import ENV, HOW_TO_GET_ONE, in_schema

__all__ = ["postgres_url"]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to an empty schema of its own on the test server."""
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(HOW_TO_GET_ONE)
    psycopg = pytest.importorskip(
        "psycopg", reason="the PostgreSQL store needs psycopg: pip install -e '.[postgres]'"
    )
    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield in_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f'DROP SCHEMA "{schema}" CASCADE')
