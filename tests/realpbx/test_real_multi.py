"""One campaign over the real Asterisk (ARI) and the real FreeSWITCH (ESL) together (#17).

A campaign file as a user writes it, with two ``[[backend]]`` entries (four lines each), is
loaded and run as ``autoinformer run`` assembles it (the switch set of
:func:`autoinformer._assembly.real_switch`, speech rendered by espeak-ng): both switches carry
calls, every contact ends with its party's outcome, and neither switch keeps a channel. The
same through ``autoinformer run`` itself; and with FreeSWITCH stopped mid-campaign
(``stop.sh``, needs ``AUTOINFORMER_PBX_DIR``; started again after), the Asterisk carries the
campaign to its end.
Skipped unless both servers are named (``AUTOINFORMER_ARI_URL``, ``AUTOINFORMER_ESL_HOST``);
run it under ``flock /tmp/pbx.lock`` (the servers are shared).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import anyio
import attrs
import pytest

from autoinformer._assembly import real_switch, speech_renderer
from autoinformer.backends.multi import SwitchSet
from autoinformer.campaign_file import load_campaign_file
from autoinformer.cli.run import load_contacts
from autoinformer.clock import WallClock
from autoinformer.core.dialer import is_not_placed
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.runtime import Runtime
from autoinformer.store.memory import MemoryStore
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.parties import PARTIES
from autoinformer.testing.realpbx import (
    asterisk,
    freeswitch,
    live_calls,
    run_campaign,
    wait_until,
    write_campaign,
)

LINES = 4
"""Each switch's lines; the campaign gets both (8)."""


def _entry(backend: dict[str, object], name: str) -> str:
    keys = [f'kind = "{backend["kind"]}"', f'name = "{name}"', f"lines = {LINES}"]
    for key, value in backend.items():
        if key != "kind":
            keys.append(f'{key} = "{value}"' if isinstance(value, str) else f"{key} = {value}")
    return "[[backend]]\n" + "\n".join(keys) + "\n"


@pytest.mark.real_pbx
@pytest.mark.timeout(300)
@pytest.mark.anyio
async def test_one_campaign_over_a_real_asterisk_and_a_real_freeswitch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ari, esl = asterisk(), freeswitch()
    if ari is None or esl is None:
        pytest.skip(
            "needs both real switches: bash shared/pbx/install.sh && bash shared/pbx/start.sh "
            "all, then set AUTOINFORMER_ARI_URL and AUTOINFORMER_ESL_HOST"
        )
    ari = attrs.evolve(ari, backend={**ari.backend, "app": f"multi-{os.getpid()}"})
    monkeypatch.setenv(ari.password_env, ari.password)
    monkeypatch.setenv(esl.password_env, esl.password)
    # 16 people: 1 answers and hears the broadcast, 2 is busy, 3 never answers (20 s)
    digits = "1121" * 3 + "1311"
    numbers = [f"+7950777{n:03d}{d}" for n, d in enumerate(digits)]
    path = write_campaign(
        tmp_path, ari, "", numbers=numbers, menu=False, lines=2 * LINES, name="real multi"
    )
    text = path.read_text(encoding="utf-8")
    text = text[: text.index("[backend]")] + _entry(ari.backend, "asterisk")
    text += "\n" + _entry(esl.backend, "freeswitch")
    path.write_text(text, encoding="utf-8")

    spec = load_campaign_file(path)
    assert spec.backend == "multi"
    assert spec.campaign.lines == 2 * LINES
    contacts, rejected = load_contacts(spec)
    assert rejected == []
    switch = real_switch(spec)()
    assert isinstance(switch, SwitchSet)
    store = MemoryStore()
    async with switch:
        runtime = Runtime(
            campaign=spec.campaign,
            switch=switch,
            store=store,
            clock=WallClock(),
            pacing=spec.pacing(),
            renderer=speech_renderer(spec, tmp_path),
        )
        with anyio.fail_after(240):
            summary = await runtime.run(contacts)
        status = {s.name: s for s in switch.status()}

    records = {r.number: r for r in store.attempts("real multi")}
    assert summary["attempts"] == len(numbers), summary
    detail = {n[-4:]: (r.outcome, r.cause, r.detail) for n, r in records.items()}
    assert {n: records[n].outcome for n in numbers} == {
        n: PARTIES[n[-1]].expected for n in numbers
    }, detail
    assert not [r for r in records.values() if "failed" in r.detail], detail
    delivered = [r for r in records.values() if r.outcome is Outcome.DELIVERED]
    assert len(delivered) == digits.count("1")
    # both switches carried calls, each within its lines, and both are still up
    assert status["asterisk"].placed >= 4, status
    assert status["freeswitch"].placed >= 4, status
    assert status["asterisk"].placed + status["freeswitch"].placed == len(numbers)
    assert all(s.up and s.written_off == 0 for s in status.values()), status
    # neither switch keeps a channel (each asked on a connection of its own)
    for pbx in (ari, esl):
        await anyio.to_thread.run_sync(
            wait_until, lambda p=pbx: live_calls(p) == 0, 10, f"no channels on {pbx.kind}"
        )


@pytest.mark.real_pbx
@pytest.mark.timeout(300)
def test_autoinformer_run_over_both_real_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same kind of file through ``autoinformer run`` exactly as a user runs it."""
    ari, esl = asterisk(), freeswitch()
    if ari is None or esl is None:
        pytest.skip("needs both real switches: set AUTOINFORMER_ARI_URL and AUTOINFORMER_ESL_HOST")
    ari = attrs.evolve(ari, backend={**ari.backend, "app": f"multi-cli-{os.getpid()}"})
    monkeypatch.setenv(esl.password_env, esl.password)  # run_campaign adds ari's
    digits = "12131121"
    numbers = [f"+7950666{n:03d}{d}" for n, d in enumerate(digits)]
    path = write_campaign(
        tmp_path, ari, "", numbers=numbers, menu=False, lines=2 * LINES, name="real multi cli"
    )
    text = path.read_text(encoding="utf-8")
    text = text[: text.index("[backend]")] + _entry(ari.backend, "asterisk")
    path.write_text(text + "\n" + _entry(esl.backend, "freeswitch"), encoding="utf-8")
    summary = run_campaign(path, tmp_path / "campaign.sqlite", ari)
    assert summary["attempts"] == len(numbers), summary
    with SqliteStore(tmp_path / "campaign.sqlite") as store:
        records = {r.number: r for r in store.attempts("real multi cli")}
    assert {n: records[n].outcome for n in numbers} == {
        n: PARTIES[n[-1]].expected for n in numbers
    }, {n: (r.outcome, r.detail) for n, r in records.items()}
    for pbx in (ari, esl):
        wait_until(lambda p=pbx: live_calls(p) == 0, 10, f"no channels on {pbx.kind}")


@pytest.mark.real_pbx
@pytest.mark.timeout(400)
@pytest.mark.anyio
async def test_the_real_freeswitch_stopped_mid_campaign_the_asterisk_carries_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pbx_dir: Path, anyio_backend: str
) -> None:
    """FreeSWITCH is stopped (``stop.sh``: its calls are hung up) once it carries calls; the
    Asterisk finishes the campaign, the cut calls are retried there, FreeSWITCH is started
    again at the end (the test PBX is shared)."""
    if anyio_backend != "asyncio":
        pytest.skip("one event loop is enough for a stop and start of the shared FreeSWITCH")
    ari, esl = asterisk(), freeswitch()
    if ari is None or esl is None:
        pytest.skip("needs both real switches: set AUTOINFORMER_ARI_URL and AUTOINFORMER_ESL_HOST")
    ari = attrs.evolve(ari, backend={**ari.backend, "app": f"multi-stop-{os.getpid()}"})
    monkeypatch.setenv(ari.password_env, ari.password)
    monkeypatch.setenv(esl.password_env, esl.password)
    numbers = [f"+7950555{n:03d}1" for n in range(16)]  # party 1: answers, hears it all
    path = write_campaign(
        tmp_path,
        ari,
        "",
        numbers=numbers,
        menu=False,
        lines=2 * LINES,
        attempts=3,
        name="real multi stop",
    )
    text = path.read_text(encoding="utf-8")
    text = text[: text.index("[backend]")] + _entry(ari.backend, "asterisk")
    path.write_text(text + "\n" + _entry(esl.backend, "freeswitch"), encoding="utf-8")
    spec = load_campaign_file(path)
    contacts, _ = load_contacts(spec)
    switch = real_switch(spec)()
    assert isinstance(switch, SwitchSet)
    store = MemoryStore()
    placed_at_stop: dict[str, int] = {}

    async def stop_freeswitch() -> None:
        await anyio.to_thread.run_sync(
            wait_until, lambda: live_calls(esl) >= 2, 60, "two calls up on FreeSWITCH"
        )
        await anyio.to_thread.run_sync(
            lambda: subprocess.run(
                ["bash", str(pbx_dir / "stop.sh"), "freeswitch"], check=True, timeout=60
            )
        )
        placed_at_stop.update({s.name: s.placed for s in switch.status()})  # it is gone now

    try:
        async with switch:
            runtime = Runtime(
                campaign=spec.campaign,
                switch=switch,
                store=store,
                clock=WallClock(),
                pacing=spec.pacing(),
                renderer=speech_renderer(spec, tmp_path),
            )
            async with anyio.create_task_group() as tg:
                tg.start_soon(stop_freeswitch)
                with anyio.fail_after(300):
                    summary = await runtime.run(contacts)
            status = {s.name: s for s in switch.status()}
    finally:  # the test PBX is shared: FreeSWITCH is started again whatever happened
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(
                lambda: subprocess.run(
                    ["bash", str(pbx_dir / "start.sh"), "freeswitch"], check=False, timeout=90
                )
            )
    assert placed_at_stop, "FreeSWITCH was never stopped"
    assert summary["unfinished"] == 0, summary
    final = {c.id: p.state for c, p in store.contacts("real multi stop")}
    assert set(final.values()) == {ContactState.DONE}, final  # everyone heard it in the end
    assert not status["freeswitch"].up
    assert status["asterisk"].up
    assert status["freeswitch"].placed == placed_at_stop["freeswitch"]  # none after the stop
    assert status["asterisk"].placed > placed_at_stop["asterisk"]  # it carried the rest
    # the calls the stop cut were retried on the Asterisk: everyone reached exactly once
    # (attempts journaled "not placed" while the Asterisk alone was full spent nothing)
    placed = [r for r in store.attempts("real multi stop") if not is_not_placed(r)]
    cut = [r for r in placed if r.outcome is not Outcome.DELIVERED]
    assert cut, "no call was cut by the stop: too weak"
    reached = sorted(r.contact_id for r in placed if r.outcome is Outcome.DELIVERED)
    assert reached == sorted(c.id for c in contacts)
