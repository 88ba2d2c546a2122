"""Which store a server opens: a file path, or a PostgreSQL URL that carries no password."""

from __future__ import annotations

from pathlib import Path

import pytest

from autoinformer.errors import InputError
from autoinformer.serve import CampaignManager
from autoinformer.serve.manager import open_store
from autoinformer.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://dialer:s3cret-pw@db.invalid/calls",
        "postgres://db.invalid/c?password=s3cret-pw",
    ],
)
async def test_a_url_with_a_password_is_refused_before_anything_opens(url: str) -> None:
    with pytest.raises(InputError) as refused:
        async with CampaignManager.open(url):
            pass  # pragma: no cover - refused before it opens
    message = str(refused.value)
    assert message == (
        "store: the PostgreSQL URL carries a password; use PGPASSWORD or ~/.pgpass instead "
        "(libpq reads both)"
    )
    assert "s3cret-pw" not in message


def test_a_path_given_as_text_is_a_sqlite_file(tmp_path: Path) -> None:
    store, folder = open_store(str(tmp_path / "serve.sqlite"))
    try:
        assert isinstance(store, SqliteStore)
        assert folder == tmp_path
    finally:
        store.close()
    assert (tmp_path / "serve.sqlite").exists()
