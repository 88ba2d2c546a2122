"""The calls' timers: one heap of deadlines, each tied to a call and a kind.

A part of the sans-IO core. Every call has at most one live timer of each kind (``ring``,
``max``, ``gone``, ``queue``, ``playback``, a menu's ``menu:<n>``...): arming a kind again
voids the earlier one, by a token the call keeps per kind (:attr:`Call.tokens`), so nothing is
ever searched for or removed from the heap; void and orphaned entries are dropped as they come
up. Timers armed for the same moment fire in the order they were armed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping

import attrs

from autoinformer.core.calls import Call

__all__ = ["Timers", "disarm"]


def disarm(call: Call, kind: str) -> None:
    """Void the armed timer ``kind`` of ``call`` (a timer whose token is old never fires)."""
    call.tokens[kind] = call.tokens.get(kind, 0) + 1


@attrs.define
class Timers:
    """The armed timers of the calls in progress."""

    _heap: list[tuple[float, int, str, str, int]] = attrs.field(factory=list)
    _seq: int = 0

    def arm(self, at: float, call: Call, kind: str) -> None:
        """Arm timer ``kind`` of ``call`` for ``at`` (an earlier one of that kind is void)."""
        disarm(call, kind)
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, call.call_id, kind, call.tokens[kind]))

    def due(self, now: float, calls: Mapping[str, Call]) -> Iterator[tuple[Call, str]]:
        """The live timers due at ``now``, earliest first, as (call, kind).

        Lazily: each is taken off the heap (and checked against ``calls`` and its token) only
        when the previous one was handled, so a timer armed meanwhile for ``now`` fires too
        and one voided meanwhile does not.
        """
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, call_id, kind, token = heapq.heappop(heap)
            call = calls.get(call_id)
            if call is not None and call.tokens.get(kind) == token:
                yield call, kind

    def next_time(self, calls: Mapping[str, Call]) -> float | None:
        """When the next live timer is due (None: none is armed)."""
        heap = self._heap
        while heap:
            at, _, call_id, kind, token = heap[0]
            call = calls.get(call_id)
            if call is not None and call.tokens.get(kind) == token:
                return at
            heapq.heappop(heap)
        return None
