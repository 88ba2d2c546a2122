"""Originates are spaced to the switch's calls-per-second limit (FreeSWITCH refuses sessions
beyond its sessions-per-second with cause 27, which would read as ``unreachable``)."""

from __future__ import annotations

import anyio
import pytest

from autoinformer.backends.esl import EslSwitch
from autoinformer.backends.pacer import OriginatePacer
from autoinformer.errors import SettingsError
from autoinformer.testing.fake_esl import FakeEslServer
from autoinformer.testing.virtual_fixture import virtual_anyio_backend

anyio_backend = virtual_anyio_backend


@pytest.mark.anyio
async def test_the_pacer_spaces_a_burst_to_its_rate() -> None:
    pacer = OriginatePacer(4.0)
    start = anyio.current_time()
    times: list[float] = []

    async def one() -> None:
        await pacer.wait()
        times.append(anyio.current_time() - start)

    async with anyio.create_task_group() as tg:
        for _ in range(9):
            tg.start_soon(one)
    assert sorted(times) == pytest.approx([n * 0.25 for n in range(9)])


@pytest.mark.anyio
async def test_no_limit_waits_for_nothing() -> None:
    pacer = OriginatePacer(None)
    start = anyio.current_time()
    for _ in range(100):
        await pacer.wait()
    assert anyio.current_time() == start


@pytest.mark.anyio
async def test_freeswitch_originates_go_out_at_the_configured_rate() -> None:
    async with (
        FakeEslServer(speed=1.0) as server,
        EslSwitch(
            port=server.port,
            password=server.password,
            dial="sofia/gateway/gw1/{digits}",
            max_calls_per_second=5,
        ) as switch,
    ):
        start = anyio.current_time()
        sent: list[float] = []

        async def call(n: int) -> None:
            await switch.originate(f"c{n}", f"+7950000{n:03d}1", caller_id=None, ring_timeout=20)
            sent.append(anyio.current_time() - start)

        async with anyio.create_task_group() as tg:
            for n in range(10):
                tg.start_soon(call, n)
        for n in range(10):
            await switch.hangup(f"c{n}")
    assert sorted(sent) == pytest.approx([n / 5 for n in range(10)], abs=0.05), sent


@pytest.mark.parametrize("value", [0, -1, float("inf"), "fast", True])
def test_a_rate_that_is_no_rate_names_the_key(value: object) -> None:
    with pytest.raises(SettingsError, match=r"backend\.max_calls_per_second"):
        EslSwitch(max_calls_per_second=value)  # type: ignore[arg-type]


def test_false_in_a_campaign_file_means_no_limit() -> None:
    assert EslSwitch(max_calls_per_second=False).max_calls_per_second is None  # type: ignore[arg-type]
    assert EslSwitch().max_calls_per_second == 25.0


def test_asterisk_has_no_limit_by_default_and_takes_one() -> None:
    from autoinformer.backends.ari import AriSettings

    assert AriSettings(url="http://pbx:8088").max_calls_per_second is None
    assert AriSettings(url="http://pbx:8088", max_calls_per_second=10).max_calls_per_second == 10
    with pytest.raises(SettingsError, match="max_calls_per_second"):
        AriSettings(url="http://pbx:8088", max_calls_per_second=0)
