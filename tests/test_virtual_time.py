"""Virtual time (autoinformer.testing.virtual_time): timers take no real time, but the clock
never jumps past a worker thread's reply or past bytes on their way."""

from __future__ import annotations

import socket
import time

import anyio
import anyio.abc
import pytest

from autoinformer.testing.virtual_fixture import virtual_anyio_backend
from autoinformer.testing.virtual_time import START, LoopClock, wire_is_quiet

anyio_backend = virtual_anyio_backend  # both backends as in tests/conftest.py, each virtual


@pytest.mark.anyio
async def test_an_hour_of_timers_takes_no_real_time() -> None:
    clock = LoopClock()
    assert clock.now() == START
    real = time.monotonic()
    await anyio.sleep(1800)
    await clock.sleep_until(clock.now() + 1800)
    assert clock.now() == pytest.approx(START + 3600)
    assert time.monotonic() - real < 5  # an hour of model time, well under a real second


@pytest.mark.anyio
async def test_time_waits_for_a_worker_thread() -> None:
    order: list[str] = []

    def work() -> None:
        time.sleep(0.05)  # a slow store call: 50 real ms, far longer than a jump takes
        order.append("thread")

    async def timer() -> None:
        await anyio.sleep(10)
        order.append("timer")

    async with anyio.create_task_group() as tg:
        tg.start_soon(timer)
        started = anyio.current_time()
        await anyio.to_thread.run_sync(work)
        assert anyio.current_time() - started < 10
    assert order == ["thread", "timer"]


@pytest.mark.anyio
async def test_time_waits_for_bytes_on_the_wire() -> None:
    async def echo(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            async for data in stream:
                await stream.send(data)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, echo)
        tg.start_soon(anyio.sleep, 3600)  # a timer the clock would jump to if it could
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            for size in (1, 10_000, 1_000_000):
                started = anyio.current_time()
                await client.send(b"x" * size)
                got = 0
                while got < size:
                    got += len(await client.receive())
                assert anyio.current_time() == started  # the clock stood still meanwhile
        tg.cancel_scope.cancel()


def test_wire_is_quiet_only_when_nothing_is_readable_unsent_or_unacknowledged() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    sender = socket.create_connection(server.getsockname())
    receiver, _ = server.accept()
    with server, sender, receiver:
        fds = [sender.fileno(), receiver.fileno()]
        assert wire_is_quiet(fds, [])
        assert not wire_is_quiet(fds, [sender.fileno()])  # a task waits to write
        sender.sendall(b"hello")
        deadline = time.monotonic() + 5
        while wire_is_quiet(fds, []) and time.monotonic() < deadline:
            pass  # (loopback delivers at once; the loop only guards a slow kernel)
        assert not wire_is_quiet(fds, [])  # readable by the receiver
        assert receiver.recv(100) == b"hello"
        deadline = time.monotonic() + 5
        while not wire_is_quiet(fds, []) and time.monotonic() < deadline:
            pass  # the receiver's ACK may be on its way (wire_is_quiet flushes it)
        assert wire_is_quiet(fds, [])
