"""A campaign against the test PBX (``shared/pbx``): the real switches the tests and the
benchmarks run against, described as a campaign file's ``[backend]`` names them.

The test PBX's dialplans pick a callee's behaviour by the last digit of the number dialled
(:mod:`autoinformer.testing.parties` describes the same parties for the fakes). The servers
come from the environment, so the same code runs against any Asterisk or FreeSWITCH with that
dialplan:

- ``AUTOINFORMER_ARI_URL`` (e.g. ``http://127.0.0.1:8088``), ``AUTOINFORMER_ARI_USERNAME`` /
  ``AUTOINFORMER_ARI_PASSWORD`` (default ``ari``/``ari``), ``AUTOINFORMER_ARI_SOUNDS_DIR``
  (default: the test PBX's ``/opt/realpbx/asterisk/var/lib/asterisk/sounds/autoinformer``);
- ``AUTOINFORMER_ESL_HOST`` (e.g. ``127.0.0.1``), ``AUTOINFORMER_ESL_PORT`` (8021),
  ``AUTOINFORMER_ESL_PASSWORD`` (``ClueCon``).

:func:`write_campaign` writes the campaign of issue #12 (a recorded greeting, a ``say`` step with
the balance, a menu "1 = operator, 2 = hang up", five operators) and :func:`run_campaign` runs
it with ``autoinformer run`` exactly as a user does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import attrs

__all__ = [
    "GREETING",
    "OPERATORS",
    "PREFIX",
    "RealPbx",
    "asterisk",
    "freeswitch",
    "live_calls",
    "run_campaign",
    "wait_until",
    "write_campaign",
]

GREETING = Path(__file__).resolve().parent / "media" / "greeting.wav"
"""A 4.6 s recorded greeting (8 kHz mono), the campaign's ``play`` step."""
PREFIX = "+7950888123"
"""The campaign's numbers: this and the party's digit (the dialplans jump on the last digit)."""
OPERATORS = ("anna", "boris", "vera", "gleb", "dina")
"""Five operators: progressive pacing dials as many calls as operators are free, so the ten
parties of one campaign ring in two waves at most."""


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


def asterisk(app: str | None = None) -> RealPbx | None:
    """The Asterisk named by the environment (None when ``AUTOINFORMER_ARI_URL`` is unset);
    ``app``: a Stasis application name of its own (ARI gives an application's events to its
    latest WebSocket only, so two clients must not share one)."""
    url = os.environ.get("AUTOINFORMER_ARI_URL")
    if not url:
        return None
    sounds = os.environ.get(
        "AUTOINFORMER_ARI_SOUNDS_DIR", "/opt/realpbx/asterisk/var/lib/asterisk/sounds/autoinformer"
    )
    backend: dict[str, object] = {
        "kind": "ari",
        "url": url,
        "username": os.environ.get("AUTOINFORMER_ARI_USERNAME", "ari"),
        "password_env": "AUTOINFORMER_ARI_PASSWORD",
        "endpoint": "Local/{digits}@phones",
        "sounds_dir": sounds,
    }
    if app is not None:
        backend["app"] = app
    return RealPbx(
        kind="ari",
        backend=backend,
        operator="Local/100@operators",
        password_env="AUTOINFORMER_ARI_PASSWORD",
        password=os.environ.get("AUTOINFORMER_ARI_PASSWORD", "ari"),
    )


def freeswitch() -> RealPbx | None:
    """The FreeSWITCH named by the environment (None when ``AUTOINFORMER_ESL_HOST`` is unset)."""
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


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    return json.dumps(str(value))


def write_campaign(
    directory: Path,
    pbx: RealPbx,
    digits: str,
    *,
    lines: int = 10,
    numbers: list[str] | None = None,
    menu: bool = True,
    attempts: int = 1,
    name: str | None = None,
) -> Path:
    """A campaign file and its list, as a user writes them, for the given parties (or the
    given ``numbers``); ``menu=False``: a broadcast with no menu and no operators; ``name``:
    the campaign's name (default ``real <kind>``)."""
    contacts = directory / "debtors.csv"
    numbers = numbers or [f"{PREFIX}{d}" for d in digits]
    rows = [f"{number};-{500 + n}.19" for n, number in enumerate(numbers)]
    contacts.write_text("phone;BALANCE\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (directory / "greeting.wav").write_bytes(GREETING.read_bytes())
    backend = "\n".join(f"{k} = {_toml_value(v)}" for k, v in pbx.backend.items())
    # five operators: progressive pacing dials as many calls as operators are free
    operators = "\n".join(
        f'[[operators]]\nid = "{name}"\nendpoint = "{pbx.operator_endpoint(n)}"\n'
        for n, name in enumerate(OPERATORS)
    )
    text = f"""
[campaign]
name = "{name or f"real {pbx.kind}"}"
contacts = "debtors.csv"
region = "RU"
timezone = "Europe/Moscow"
lines = {lines}
min_delivered_seconds = 10

[campaign.window]
days = "mon-sun"
hours = "00:00-24:00"
timezone = "Europe/Moscow"

[campaign.retry]
attempts = {attempts}
interval = "5s"
ring_timeout = 20

[[script]]
play = "greeting.wav"

[[script]]
say = "Your debt is <currency>{{BALANCE|abs}} RUB</currency>."

[[script]]
menu = "Press 1 for an operator, 2 to cancel."
options = {{ "1" = "transfer:operators", "2" = "hangup" }}
timeout = 4

{operators}

[queues.operators]
max_wait = 20
wrapup = 1

[speech]
engine = "espeak"
cache = "speech-cache"

[backend]
{backend}
"""
    if not menu:
        text = text[: text.index("[[script]]\nmenu")] + text[text.index("[speech]") :]
    path = directory / "campaign.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_campaign(path: Path, store: Path, pbx: RealPbx, timeout: float = 240) -> dict[str, object]:
    """``autoinformer run`` as a user runs it; its JSON summary.

    Raises:
        AssertionError: the run exited non-zero (its output is in the message).
    """
    done = subprocess.run(
        [sys.executable, "-m", "autoinformer", "run", str(path), "--store", str(store), "--json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=pbx.environ(),
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    summary: dict[str, object] = json.loads(done.stdout)
    return summary


def live_calls(pbx: RealPbx) -> int:
    """How many channels the switch has now, asked on a connection of its own through the
    backends' clients (ARI ``GET /channels``, ESL ``api show channels count``)."""
    return anyio.run(_count_channels, pbx)


async def _count_channels(pbx: RealPbx) -> int:
    if pbx.kind == "ari":
        from autoinformer.backends.ari.client import AriClient
        from autoinformer.backends.ari.settings import AriSettings

        settings = AriSettings(
            url=str(pbx.backend["url"]),
            username=str(pbx.backend["username"]),
            password=pbx.password,
        )
        client = AriClient(settings=settings)
        client.open()
        try:
            return len(await client.list_channels())
        finally:
            await client.aclose()
    from autoinformer.backends.esl.client import EslConnection

    host, port = str(pbx.backend["host"]), int(str(pbx.backend["port"]))
    conn = await EslConnection.open(host, port, pbx.password)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(conn.read_events, lambda event: None)  # routes the reply to us
            reply = await conn.command("api show channels count")
            tg.cancel_scope.cancel()
    finally:
        await conn.aclose()
    words = reply.body.decode(errors="replace").split()  # "3 total."
    return int(words[words.index("total.") - 1])


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll a real server's state until ``condition()`` holds (every 0.2 s).

    Raises:
        AssertionError: not within ``seconds`` (naming ``what``).
    """
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.2)  # polling a real server's state, with a deadline
