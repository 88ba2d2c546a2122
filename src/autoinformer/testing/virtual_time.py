"""Virtual time for tests that run real code on a real event loop, wire included.

A test in virtual time never waits for a timer: when nothing can happen before the next one,
the event loop's clock jumps to it. A campaign of many model minutes then takes a fraction of
a real second, and the outcome does not depend on how quickly a busy machine schedules the
loop (a reaction 30 ms late on a scaled real-time clock is a different call).

"Nothing can happen" is checked, not assumed, because the fakes speak TCP on 127.0.0.1:

- no socket the loop waits on is readable, and no task waits to write or to connect;
- no byte is in flight between two sockets (the kernel's send queue of every TCP socket the
  loop waits on is empty: delivered *and* acknowledged; every delayed ACK the process owes
  is sent first);
- no worker thread (``anyio.to_thread.run_sync``, an executor job) is running: its reply wakes
  the loop, and time must not move while, say, a store call is in progress.

A readable socket or a running thread never lets time move; a wire that stays settling (a
task blocked writing to a peer that does not read) does after :data:`PATIENCE` real seconds.

Use it through the ``anyio_backend`` fixture of a test module::

    from autoinformer.testing.virtual_fixture import virtual_anyio_backend

    anyio_backend = virtual_anyio_backend

(or return :func:`virtual_backend` from a fixture of your own), and give the code under
test a :class:`LoopClock` (model time = the loop's clock). Deadlines (``anyio.fail_after``)
are in virtual seconds too: a hang fails at once instead of after a real wait. Fakes run at
model speed (``time_scale=1``, ``speed=1``: their sleeps are the loop's sleeps).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fcntl
import math
import os
import select
import selectors
import socket
import struct
import termios
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any, Protocol, TypeVar, TypeVarTuple

import anyio
import anyio.to_thread
import attrs

__all__ = [
    "START",
    "LoopClock",
    "VirtualTimeLoop",
    "counted_run_sync",
    "trio_virtual_clock",
    "virtual_backend",
    "wire_is_quiet",
]

_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")

START = 1_767_261_600.0
"""2026-01-01 10:00 UTC (inside a working day): where :class:`LoopClock` starts by default."""

PATIENCE = 2.0
"""Real seconds the wire may stay settling before time moves anyway: a task blocked writing to
a peer that does not read, a byte a gone peer never acknowledges. (On 127.0.0.1 a live peer's
bytes arrive within milliseconds even under load; a readable socket or a running worker thread
never lets time move.)"""

_REAL_WAIT = 0.002
"""Real seconds to wait for the wire while it is busy, before checking again."""

_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
_SIOCOUTQ = termios.TIOCOUTQ  # the same request number for sockets


@attrs.define
class _Workers:
    """Worker threads the loop is waiting for: time must not jump while one runs."""

    in_flight: int = 0


WORKERS = _Workers()
_REAL_RUN_SYNC = anyio.to_thread.run_sync


async def counted_run_sync(func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``anyio.to_thread.run_sync`` that virtual time knows about (patch it in with this)."""
    WORKERS.in_flight += 1
    try:
        return await _REAL_RUN_SYNC(func, *args, **kwargs)
    finally:
        WORKERS.in_flight -= 1


def _tcp_socket(fd: int) -> socket.socket | None:
    """A socket object sharing ``fd`` if it is a TCP socket (``detach()`` it, never close)."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return None  # not a socket (a pipe, an eventfd), or closed meanwhile
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        return sock
    sock.detach()
    return None


def _unacked_bytes(fd: int) -> int:
    """Bytes sent on the TCP socket ``fd`` and not yet acknowledged (0 if not a TCP socket)."""
    sock = _tcp_socket(fd)
    if sock is None:
        return 0
    try:
        if _TCP_QUICKACK is not None:  # an ACK this end owes its peer goes out now
            sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
        buffer = fcntl.ioctl(fd, _SIOCOUTQ, b"\0\0\0\0")
        return int(struct.unpack("i", buffer)[0])
    except OSError:
        return 0  # a listening socket, or one that is already closed
    finally:
        sock.detach()


def _flush_every_ack() -> None:
    """Make every TCP socket of this process send the ACK it owes (a delayed ACK would hold
    its peer's bytes "in flight" for up to 40 ms): also those no task waits on, like a
    connection idle in a pool."""
    if _TCP_QUICKACK is None:
        return
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        sock = _tcp_socket(fd)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
            sock.detach()


def _in_flight(fds: list[int]) -> bool:
    """True while a byte sent on one of ``fds`` is not yet acknowledged by its peer."""
    if not any(_unacked_bytes(fd) for fd in fds):
        return False
    _flush_every_ack()
    return any(_unacked_bytes(fd) for fd in fds)


class _Wire(enum.Enum):
    QUIET = "quiet"  # time may jump
    BUSY = "busy"  # something will wake the loop: a readable socket, a worker thread
    SETTLING = "settling"  # bytes on their way or a blocked writer: wait, with patience


def _wire_state(readers: Iterable[int], writers: Iterable[int]) -> _Wire:
    if WORKERS.in_flight:
        return _Wire.BUSY
    fds = list(readers)
    settling = any(True for _ in writers) or _in_flight(fds)
    if fds:
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN | select.POLLPRI)
        if poller.poll(0):
            return _Wire.BUSY
    return _Wire.SETTLING if settling else _Wire.QUIET


def wire_is_quiet(readers: Iterable[int], writers: Iterable[int]) -> bool:
    """True when no I/O can wake the loop: nothing readable, nothing to write, nothing in flight.

    Args:
        readers: file descriptors a task waits to read from.
        writers: file descriptors a task waits to write to (or to finish connecting).

    Returns:
        False as soon as one of the conditions in the module docstring fails.
    """
    return _wire_state(readers, writers) is _Wire.QUIET


@attrs.define(kw_only=True)
class _Patience:
    """Whether time may jump now: at once on a quiet wire; never while something is ready or
    a worker thread runs; after :data:`PATIENCE` real seconds of a wire that stays settling
    (a writer whose peer never reads, a byte a gone peer never acknowledges)."""

    since: float | None = None

    def may_jump(self, state: _Wire) -> bool:
        if state is not _Wire.SETTLING:
            self.since = None
            return state is _Wire.QUIET
        now = time.monotonic()
        if self.since is None:
            self.since = now
        if now - self.since > PATIENCE:
            self.since = None
            return True
        return False


class _JumpingSelector(selectors.BaseSelector):
    """A selector that does not wait for timers: when the wire is quiet it moves its loop's
    clock to the next one instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        self._inner = selectors.DefaultSelector()
        self._loop = loop
        self._patience = _Patience()

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only I/O or a thread's reply can wake us
            return self._inner.select(None)
        keys = self._inner.get_map().values()
        readers = [k.fd for k in keys if k.events & selectors.EVENT_READ]
        writers = [k.fd for k in keys if k.events & selectors.EVENT_WRITE]
        if self._patience.may_jump(_wire_state(readers, writers)):
            self._loop.virtual_now += timeout
            return []
        return self._inner.select(min(timeout, _REAL_WAIT))

    def get_map(self) -> Any:
        return self._inner.get_map()

    def close(self) -> None:
        self._inner.close()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop in virtual time: idle waits for timers take no real time."""

    def __init__(self) -> None:
        self.virtual_now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self.virtual_now

    def run_in_executor(
        self, executor: Executor | None, func: Callable[[*_Ts], _T], *args: *_Ts
    ) -> asyncio.Future[_T]:
        """Count the job as a worker thread (``getaddrinfo`` runs here, for one)."""
        future = super().run_in_executor(executor, func, *args)
        WORKERS.in_flight += 1

        def done(_: object) -> None:
            WORKERS.in_flight -= 1

        future.add_done_callback(done)
        return future


class _TrioClock(Protocol):
    """What trio asks of a clock (``trio.abc.Clock``)."""

    def start_clock(self) -> None: ...
    def current_time(self) -> float: ...
    def deadline_to_sleep_time(self, deadline: float) -> float: ...


def _trio_waiters() -> tuple[list[int], list[int]]:
    """The file descriptors trio's tasks wait to read and to write (trio's epoll manager)."""
    from trio._core._run import GLOBAL_RUN_CONTEXT  # no public API lists them

    registered = getattr(GLOBAL_RUN_CONTEXT.runner.io_manager, "_registered", None)
    if registered is None:
        raise RuntimeError("virtual time on trio needs trio's epoll I/O manager (Linux)")
    readers = [fd for fd, w in registered.items() if w.read_task is not None]
    writers = [fd for fd, w in registered.items() if w.write_task is not None]
    return readers, writers


def trio_virtual_clock() -> _TrioClock:
    """trio's twin of :class:`VirtualTimeLoop`, for ``trio.run(..., clock=...)``.

    trio's own ``MockClock(autojump_threshold=0)`` jumps while a worker thread runs or bytes
    are on their way, which is exactly when the code under test must not fall behind.
    """
    import trio.abc

    class TrioVirtualClock(trio.abc.Clock):
        def __init__(self) -> None:
            self._now = 0.0
            self._patience = _Patience()

        def start_clock(self) -> None:
            pass

        def current_time(self) -> float:
            return self._now

        def deadline_to_sleep_time(self, deadline: float) -> float:
            if deadline <= self._now:
                return 0.0
            if deadline == math.inf:
                return math.inf  # only I/O or a thread's reply can wake trio
            if self._patience.may_jump(_wire_state(*_trio_waiters())):
                self._now = deadline
                return 0.0
            return min(deadline - self._now, _REAL_WAIT)

    return TrioVirtualClock()


class _Patcher(Protocol):
    """The part of ``pytest.MonkeyPatch`` used here."""

    def setattr(self, target: Any, name: str, value: Any) -> None: ...


def virtual_backend(name: str, monkeypatch: _Patcher) -> tuple[str, dict[str, Any]]:
    """The ``anyio_backend`` fixture value running ``name`` ("asyncio" or "trio") virtually.

    Args:
        name: the anyio backend.
        monkeypatch: pytest's fixture; worker threads are counted while the test runs.

    Returns:
        ``(name, options)`` for anyio's pytest plugin.

    Raises:
        ValueError: for another backend name.
    """
    monkeypatch.setattr(anyio.to_thread, "run_sync", counted_run_sync)
    if name == "trio":
        return ("trio", {"clock": trio_virtual_clock()})
    if name == "asyncio":
        return ("asyncio", {"loop_factory": VirtualTimeLoop})
    raise ValueError(f"no virtual time for the {name!r} backend")


@attrs.define(kw_only=True)
class LoopClock:
    """Model time = the event loop's (virtual) clock, from ``start``.

    Implements :class:`autoinformer.clock.Clock`, so a runtime or SimSwitch runs on it.
    """

    start: float = START
    _origin: float = attrs.field(init=False, factory=anyio.current_time)

    def now(self) -> float:
        return self.start + anyio.current_time() - self._origin

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - self.now()
        if delay > 0:
            await anyio.sleep(delay)
