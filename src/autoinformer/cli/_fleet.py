"""What ``run --worker`` adds to a run: one process of several on a PostgreSQL campaign.

Several processes run the same command with different ``--worker`` names; the database is the
only thing they share (the leases, the journal, the campaign-wide limits: see
``docs/postgres.md``). Starting one takes two steps no other worker may interleave with, so
they run under the campaign's advisory lock (:func:`~autoinformer.cli._stores.campaign_lock`):

- the contact list is read and written into the store by the first worker; the others find it
  remembered (:mod:`autoinformer.cli._list_memo`) and never import it a second time;
- with ``--speed``, the fast clock is anchored once on the wall clock and kept in the
  campaign's meta (:class:`~autoinformer.clock.ClockAnchor`): every worker reads the same
  model time, so a lease that expired for one has expired for all. While they run, the
  workers say so (:func:`heartbeat`), so a worker (re)started into a live fleet joins its
  clock, and one started after the whole fleet stopped lays a new anchor where the old clock
  had got to (:func:`~autoinformer.clock.shared_anchor`).
"""

from __future__ import annotations

import functools
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import anyio

from autoinformer._assembly import latest_time
from autoinformer.clock import ClockAnchor, ScaledClock, shared_anchor
from autoinformer.errors import InputError
from autoinformer.records import AttemptRecord
from autoinformer.store.base import Store

__all__ = [
    "CLOCK_KEY",
    "DEFAULT_LEASE_TTL",
    "HEARTBEAT_SECONDS",
    "LEASE_CALLS",
    "SEEN_KEY",
    "STALE_SECONDS",
    "LeaseTimings",
    "WorkerTally",
    "check_worker_name",
    "fleet_clock",
    "heartbeat",
]

CLOCK_KEY = "fleet_clock"
"""The campaign meta key of the workers' shared fast clock (:class:`ClockAnchor` as JSON)."""
SEEN_KEY = "fleet_clock_seen"
"""The campaign meta key of the latest heartbeat: the wall time a fast worker last ran."""
HEARTBEAT_SECONDS = 2.0
"""How often (real seconds) a fast worker says it is running."""
STALE_SECONDS = 15.0
"""A fleet with no heartbeat for this long (real seconds) has stopped: a new anchor."""
DEFAULT_LEASE_TTL = 30.0
"""``--lease-ttl``'s default: real seconds before a dead worker's contacts are taken over."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")


def check_worker_name(name: str) -> str:
    """``name`` if it makes a worker name (a lease owner, printed in logs and reports).

    Raises:
        InputError: empty, too long (over 64) or with characters other than letters, digits
            and ``_ . : @ -``.
    """
    if not _NAME.fullmatch(name):
        raise InputError(
            f"--worker {name!r}: a worker name is 1-64 letters, digits and _ . : @ - "
            "(starting with a letter or digit), different for each worker, e.g. w1 or host-2"
        )
    return name


def fleet_clock(
    store: Store, campaign: str, speed: float, *, wall: float | None = None
) -> ScaledClock:
    """The fast clock this worker shares with the campaign's others (see the module).

    Call it under the campaign's lock: it reads the anchor and the latest heartbeat, decides
    (:func:`~autoinformer.clock.shared_anchor`), and writes the anchor it runs on and a
    heartbeat.

    Raises:
        InputError: the live workers run at another speed.
    """
    wall = time.time() if wall is None else wall
    stored = ClockAnchor.from_text(store.get_meta(campaign, CLOCK_KEY))
    seen_text = store.get_meta(campaign, SEEN_KEY)
    try:
        seen = float(seen_text) if seen_text else None
    except ValueError:
        seen = None
    anchor = shared_anchor(
        stored,
        speed=speed,
        wall=wall,
        seen=seen,
        latest=latest_time(store, campaign),
        stale=STALE_SECONDS,
    )
    if anchor != stored:
        store.set_meta(campaign, CLOCK_KEY, anchor.to_text())
    store.set_meta(campaign, SEEN_KEY, repr(wall))
    return anchor.clock()


async def heartbeat(store: Store, campaign: str) -> None:
    """Say every :data:`HEARTBEAT_SECONDS` that this fast worker runs (until cancelled)."""

    def beat() -> None:
        store.set_meta(campaign, SEEN_KEY, repr(time.time()))

    while True:
        await anyio.sleep(HEARTBEAT_SECONDS)
        await anyio.to_thread.run_sync(beat)


class WorkerTally:
    """Counts what this worker finished (an ``on_result`` callback): its attempts by
    outcome and the contacts they were for. The campaign's own summary counts every worker's."""

    def __init__(self, name: str, *, lease_ttl: float, timings: LeaseTimings | None = None) -> None:
        self.name = name
        self.lease_ttl = lease_ttl
        self.timings = timings
        self.outcomes: Counter[str] = Counter()
        self.contacts: set[str] = set()

    def __call__(self, record: AttemptRecord) -> None:
        self.outcomes[record.outcome.value if record.outcome is not None else "unknown"] += 1
        self.contacts.add(record.contact_id)

    def to_dict(self) -> dict[str, Any]:
        """The ``worker`` entry of ``run --json``'s summary."""
        return {
            "name": self.name,
            "lease_ttl_seconds": self.lease_ttl,
            "attempts": sum(self.outcomes.values()),
            "contacts": len(self.contacts),
            "outcomes": dict(sorted(self.outcomes.items())),
            "lease_ms": self.timings.to_dict() if self.timings is not None else {},
        }


LEASE_CALLS = ("take_leases", "begin_leased_attempt", "release_lease", "renew_leases")
"""The store calls a worker makes for its leases, timed by :class:`LeaseTimings`."""


class LeaseTimings:
    """How long this worker's lease calls to the store took (the ``lease_ms`` of its summary:
    p50 and p99 per call, the figure a slow database shows first).

    :meth:`watch` wraps the calls on the store *instance* (its class, and what the runtime
    checks of it, stay as they are); the store is called from the runtime's threads, and a
    list's ``append`` is atomic.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}

    def watch(self, store: Store, names: Iterable[str] = LEASE_CALLS) -> None:
        for name in names:
            method = getattr(store, name, None)
            if callable(method):
                setattr(store, name, self._timed(name, method))

    def _timed(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        spent = self.seconds.setdefault(name, [])

        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)

        return timed

    def to_dict(self) -> dict[str, dict[str, float]]:
        """Per call made at least once: ``count``, ``p50`` and ``p99`` in milliseconds."""
        out: dict[str, dict[str, float]] = {}
        for name, spent in self.seconds.items():
            if spent:
                ordered = sorted(spent)
                out[name] = {
                    "count": len(ordered),
                    "p50": round(_quantile(ordered, 0.50) * 1000, 3),
                    "p99": round(_quantile(ordered, 0.99) * 1000, 3),
                }
        return out


def _quantile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of sorted values (nearest rank)."""
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]
