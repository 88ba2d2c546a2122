"""Real switches for campaign-level tests (the test PBX of ``shared/pbx``).

Each test names the servers it needs through the fixtures below; a missing server skips the
test with a reason that says how to get one. ``.ci/run`` installs and starts both servers and
sets the variables, so in CI these tests run.

- ``AUTOINFORMER_ARI_URL`` (e.g. ``http://127.0.0.1:8088``), ``AUTOINFORMER_ARI_USERNAME`` /
  ``AUTOINFORMER_ARI_PASSWORD`` (default ``ari``/``ari``), ``AUTOINFORMER_ARI_SOUNDS_DIR``
  (default: the test PBX's ``/opt/realpbx/asterisk/var/lib/asterisk/sounds/autoinformer``).
- ``AUTOINFORMER_ESL_HOST`` (e.g. ``127.0.0.1``), ``AUTOINFORMER_ESL_PORT`` (8021),
  ``AUTOINFORMER_ESL_PASSWORD`` (``ClueCon``).
- ``AUTOINFORMER_PBX_DIR``: the directory with ``start.sh``/``stop.sh`` (for the restart
  tests only).
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import pytest

GET_A_SERVER = (
    "bash shared/pbx/install.sh && bash shared/pbx/start.sh all (as root, from the "
    "workspace with shared/ beside the checkout), then "
)


@attrs.frozen(kw_only=True)
class RealPbx:
    """One real switch as a campaign file names it."""

    kind: str  # "ari" | "esl"
    backend: dict[str, object]
    operator: str
    password_env: str
    password: str

    def operator_endpoint(self, n: int) -> str:
        """The endpoint of the test PBX's operator number ``100 + n``."""
        return self.operator.replace("100", str(100 + n))

    def environ(self) -> dict[str, str]:
        """The environment a run needs (the password comes from a variable, never the file)."""
        return {**os.environ, self.password_env: self.password}


def asterisk() -> RealPbx | None:
    url = os.environ.get("AUTOINFORMER_ARI_URL")
    if not url:
        return None
    sounds = os.environ.get(
        "AUTOINFORMER_ARI_SOUNDS_DIR", "/opt/realpbx/asterisk/var/lib/asterisk/sounds/autoinformer"
    )
    return RealPbx(
        kind="ari",
        backend={
            "kind": "ari",
            "url": url,
            "username": os.environ.get("AUTOINFORMER_ARI_USERNAME", "ari"),
            "password_env": "AUTOINFORMER_ARI_PASSWORD",
            "endpoint": "Local/{digits}@phones",
            "sounds_dir": sounds,
        },
        operator="Local/100@operators",
        password_env="AUTOINFORMER_ARI_PASSWORD",
        password=os.environ.get("AUTOINFORMER_ARI_PASSWORD", "ari"),
    )


def freeswitch() -> RealPbx | None:
    host = os.environ.get("AUTOINFORMER_ESL_HOST")
    if not host:
        return None
    return RealPbx(
        kind="esl",
        backend={
            "kind": "esl",
            "host": host,
            "port": int(os.environ.get("AUTOINFORMER_ESL_PORT", "8021")),
            "password_env": "AUTOINFORMER_ESL_PASSWORD",
            "dial": "loopback/{digits}/default",
        },
        operator="loopback/op100/default",
        password_env="AUTOINFORMER_ESL_PASSWORD",
        password=os.environ.get("AUTOINFORMER_ESL_PASSWORD", "ClueCon"),
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
