"""The pytest fixture that runs a test module's async tests in virtual time.

In a test module (it overrides the ``anyio_backend`` of ``tests/conftest.py`` there only)::

    from autoinformer.testing.virtual_fixture import virtual_anyio_backend

    anyio_backend = virtual_anyio_backend

Every ``@pytest.mark.anyio`` test of the module then runs on asyncio and on trio, each in
virtual time (see :mod:`autoinformer.testing.virtual_time`). Needs pytest (a dev dependency),
which is why it is not part of ``virtual_time``.
"""

from __future__ import annotations

from typing import Any

import pytest

from autoinformer.testing.virtual_time import virtual_backend

__all__ = ["virtual_anyio_backend"]


@pytest.fixture(params=["asyncio", "trio"])
def virtual_anyio_backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, dict[str, Any]]:
    """Both event loops, each in virtual time (worker threads counted while the test runs)."""
    return virtual_backend(str(request.param), monkeypatch)
