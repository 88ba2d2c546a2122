"""Calls a dead process left on the switch, found and hung up before a new run dials.

A process killed with ``kill -9`` (or a crash, a power cut) never hangs its calls up: ARI
channels stay in our Stasis application, ESL channels stay parked, and a person may still be
on the line. The store knows those calls as unfinished attempts. :func:`clear_orphans` runs at
start (the runtime calls it before the first originate): it asks the switch for the calls of
the campaign it did not place (:meth:`Switch.orphans <autoinformer.backends.base.Switch.
orphans>`), hangs up those whose id is an attempt of *this* store, waits until the switch no
longer has them, and records each unfinished one ``unknown`` with what the switch said. The
retry policy then decides as after any ``unknown`` attempt; a retry is placed only after the
orphan is gone, so it never rings a person still on the orphaned call.

Calls of the campaign whose ids this store does not know (another store running a campaign of
the same name) are left alone, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import attrs

from autoinformer.backends.base import Orphan, Switch
from autoinformer.errors import BackendError, BackendUnavailable
from autoinformer.outcomes import Outcome
from autoinformer.records import AttemptRecord
from autoinformer.store.base import Store

__all__ = ["ORPHAN_DETAIL", "TAKEN_OVER_DETAIL", "clear_orphans", "reconcile_taken_over"]

log = logging.getLogger(__name__)

ORPHAN_DETAIL = "left up by a process that died; hung up at restart"
"""The ``detail`` of an attempt whose call was found up at start and hung up."""

TAKEN_OVER_DETAIL = "in flight when its worker stopped renewing its lease"
"""How the ``detail`` of an attempt a worker reconciled for a dead one starts."""

GONE_WITHIN = 10.0
"""Seconds the hung-up orphans get to leave the switch before the run goes on anyway."""

_TRIES = 5
"""Attempts to list the orphans (1, 2, 4, 8 s apart) before the run gives up."""


async def clear_orphans(
    switch: Switch,
    store: Store,
    campaign: str,
    *,
    now: float,
    store_call: Callable[..., Any] | None = None,
) -> list[AttemptRecord]:
    """Hang up the calls of ``campaign`` a dead process left on ``switch``.

    Args:
        switch: the connected switch, before anything was originated on it.
        store: the campaign's store (its attempts say which calls are ours).
        campaign: the campaign's name.
        now: POSIX seconds (the runtime's clock): the end time of the recorded attempts.
        store_call: how to call the store (default: in a worker thread).

    Returns:
        The attempts finished here (``unknown``, :data:`ORPHAN_DETAIL`), already in the store:
        the runtime notifies them like any result.

    Raises:
        BackendError: the switch could not list its calls (after retries).
        StoreError: the store failed.
    """
    call = store_call or _in_thread
    found = await _list(switch, campaign)
    if not found:
        return []
    ids = [orphan.call_id for orphan in found]
    known: dict[str, AttemptRecord] = await call(_attempts_by_id, store, campaign, ids)
    ours = [orphan for orphan in found if orphan.call_id in known]
    strangers = len(found) - len(ours)
    if strangers:
        log.warning(
            "%d call(s) of campaign %r on the switch are not in this store (another store "
            "running a campaign of the same name?): left alone",
            strangers,
            campaign,
        )
    if not ours:
        return []
    log.warning(
        "%d call(s) left up by a process that died: hanging up %s",
        len(ours),
        ", ".join(orphan.call_id for orphan in ours),
    )
    for orphan in ours:
        await switch.hangup_orphan(orphan)
    await _wait_gone(switch, campaign, {orphan.call_id for orphan in ours})
    finished: list[AttemptRecord] = []
    for orphan in ours:
        record = known[orphan.call_id]
        if record.outcome is not None:
            continue  # finished before the crash; only its call outlived it
        state = "answered" if orphan.answered else "not answered"
        final = attrs.evolve(
            record,
            outcome=Outcome.UNKNOWN,
            ended_at=max(now, record.started_at),
            detail=f"{ORPHAN_DETAIL} ({state} on the switch)",
        )
        await call(store.finish_attempt, final)
        finished.append(final)
    return finished


async def reconcile_taken_over(
    switch: Switch,
    records: list[AttemptRecord],
    *,
    now: float,
    finish: Callable[[AttemptRecord], Any],
) -> list[AttemptRecord]:
    """Reconcile the attempts a dead worker began and never finished, before its contacts
    are called again (several workers on one campaign: the new lease holder does this).

    The switch's own record where it can: each call is looked up by its id among the
    campaign's calls this switch object did not place (:meth:`Switch.orphans`); one still up
    is hung up (and waited gone, so a retry never rings a person still on it) and recorded
    ``unknown`` with what the switch said; one the switch does not have (ended, or on a
    switch this worker does not reach) is ``unknown`` too. Only the ids in ``records`` are
    touched: on a switch shared with live workers, their calls are theirs. The retry policy
    then decides as after any ``unknown`` attempt.

    Args:
        switch: the connected switch.
        records: the unfinished attempts (one campaign's), from the leases taken over.
        now: POSIX seconds: the end time recorded.
        finish: ``await finish(record) -> bool``: journals the result only if the attempt has
            none yet (the store's guard in SQL: two workers never both finish one attempt).

    Returns:
        The attempts this call finished (those another worker finished first left out).

    Raises:
        BackendError: the switch could not list its calls (after retries).
        StoreError: the store failed.
    """
    if not records:
        return []
    campaign = records[0].campaign
    wanted = {r.attempt_id for r in records}
    found = {o.call_id: o for o in await _list(switch, campaign) if o.call_id in wanted}
    if found:
        log.warning(
            "%d call(s) of a worker that stopped renewing its leases are still up: hanging up %s",
            len(found),
            ", ".join(sorted(found)),
        )
        for orphan in found.values():
            await switch.hangup_orphan(orphan)
        await _wait_gone(switch, campaign, set(found))
    finished: list[AttemptRecord] = []
    for record in records:
        up = found.get(record.attempt_id)
        if up is None:
            state = "not on this worker's switch"
        else:
            state = "answered" if up.answered else "not answered"
            state = f"{state} on the switch, hung up"
        final = attrs.evolve(
            record,
            outcome=Outcome.UNKNOWN,
            ended_at=max(now, record.started_at),
            detail=f"{TAKEN_OVER_DETAIL} ({state})",
        )
        if await finish(final):
            finished.append(final)
    return finished


async def _list(switch: Switch, campaign: str) -> list[Orphan]:
    delay = 1.0
    for attempt in range(_TRIES):
        try:
            return await switch.orphans(campaign)
        except BackendError as exc:
            if attempt == _TRIES - 1:
                raise BackendUnavailable(
                    f"cannot list the calls a dead process may have left up: {exc}"
                ) from exc
            log.warning("listing orphan calls failed (%s); retrying in %.0f s", exc, delay)
        await anyio.sleep(delay)
        delay *= 2
    return []  # pragma: no cover - the loop returns or raises


async def _wait_gone(switch: Switch, campaign: str, call_ids: set[str]) -> None:
    with anyio.move_on_after(GONE_WITHIN):
        while True:
            try:
                left = {o.call_id for o in await switch.orphans(campaign)} & call_ids
            except BackendError as exc:
                log.warning("checking that the orphans are gone failed: %s", exc)
                left = call_ids
            if not left:
                return
            await anyio.sleep(0.2)
    log.error("orphan call(s) still up %.0f s after the hang-up: %s", GONE_WITHIN, left)


def _attempts_by_id(store: Store, campaign: str, ids: list[str]) -> dict[str, AttemptRecord]:
    """The attempts among ``ids`` (the calls found up): looked up by id, never a read of
    every attempt of the campaign (a million of them at scale)."""
    return {record.attempt_id: record for record in store.attempts_by_id(campaign, ids)}


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await anyio.to_thread.run_sync(fn, *args)
