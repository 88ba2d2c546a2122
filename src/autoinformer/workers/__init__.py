"""Several dialer workers on one campaign through PostgreSQL (issue #17).

``Runtime(..., store=PostgresStore(url), worker="w1", lease_ttl=30.0)`` runs one worker; N of
them (in one process or in N) share the campaign with the guarantees of one process: every
contact called by one worker at a time and finished once, the campaign's lines, the calls per
contact, the caller-ID caps and the abandon budget held across all of them, nothing lost when
a worker dies. What a worker does differently from one process lives here, beside the runtime
and outside the core:

- :mod:`.feed`: contacts by lease instead of paging;
- :mod:`.mode`: the fence on each attempt, release with the result, renewals, line slots, the
  other workers' abandon totals, reconciling a dead worker's calls, stopping.

The database side is :mod:`autoinformer.store.postgres_leases` and
:mod:`autoinformer.store.postgres_shared`; the guide is ``docs/postgres.md``, "Several
workers".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autoinformer.workers.commands import pair

if TYPE_CHECKING:
    from autoinformer.workers.feed import LeaseFeed
    from autoinformer.workers.mode import WorkerMode, caller_id_rule

__all__ = ["LeaseFeed", "WorkerMode", "caller_id_rule", "pair"]


def __getattr__(name: str) -> Any:
    """The parts that need PostgreSQL's driver, imported when first asked for."""
    if name == "LeaseFeed":
        from autoinformer.workers.feed import LeaseFeed

        return LeaseFeed
    if name in ("WorkerMode", "caller_id_rule"):
        from autoinformer.workers import mode

        return getattr(mode, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
