"""Real switches for campaign-level tests (the test PBX of ``shared/pbx``).

Each test names the servers it needs through the fixtures below; a missing server skips the
test with a reason that says how to get one. ``.ci/run`` installs and starts both servers and
sets the variables, so in CI these tests run.

- the servers: ``AUTOINFORMER_ARI_URL`` and ``AUTOINFORMER_ESL_HOST`` and friends
  (:mod:`autoinformer.testing.realpbx`);
- ``AUTOINFORMER_PBX_DIR``: the directory with ``start.sh``/``stop.sh`` (for the restart
  tests only).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autoinformer.testing.realpbx import RealPbx, asterisk, freeswitch

GET_A_SERVER = (
    "bash shared/pbx/install.sh && bash shared/pbx/start.sh all (as root, from the "
    "workspace with shared/ beside the checkout), then "
)


@pytest.fixture(params=["ari", "esl"])
def pbx(request: pytest.FixtureRequest) -> RealPbx:
    """Each real switch in turn (skipped when it is not there)."""
    if request.param == "ari":
        server = asterisk()
        hint = "set AUTOINFORMER_ARI_URL=http://127.0.0.1:8088"
    else:
        server = freeswitch()
        hint = "set AUTOINFORMER_ESL_HOST=127.0.0.1"
    if server is None:
        pytest.skip(f"no real {request.param} server: {GET_A_SERVER}{hint}")
    return server


@pytest.fixture
def pbx_dir() -> Path:
    """The test PBX's scripts (start.sh/stop.sh) for the restart tests."""
    path = os.environ.get("AUTOINFORMER_PBX_DIR")
    if not path or not (Path(path) / "start.sh").exists():
        pytest.skip(
            "restart tests need the test PBX's scripts: set AUTOINFORMER_PBX_DIR=shared/pbx "
            "(.ci/run does)"
        )
    return Path(path)
