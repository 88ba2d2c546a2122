"""Several switches behind one campaign: :class:`SwitchSet`, a :class:`Switch` made of switches.

A call centre with three Asterisk servers, or an Asterisk and a FreeSWITCH for failover, runs
one campaign over all of them. The set places each new call on a switch that is up and has
room, sends every later command about the call (play, digits, bridge, hang-up) to the switch
that has it, and merges the switches' events into one stream. Call ids stay unique across the
switches because the core makes them and the set routes each to exactly one switch; an
operator leg (``<call_id>-op<n>``, as the core's operator desk names it) goes to the switch
of its customer's call, so a bridge never spans two switches.

Shares: each member has either ``lines`` (a hard cap of concurrent customer calls on it: a
trunk's capacity) or a ``weight`` (its share of new calls), or both (the weight splits, the
lines cap). With lines only, a new call goes to the member least loaded relative to its
lines; with weights, to the member whose turn it is by smooth weighted round robin (nginx's
algorithm: exact shares over every run of calls while the members are up). Operator legs do
not take a line (as in the campaign's own ``lines``).

When a member goes away (its ``originate`` raises BackendUnavailable, its ``connected`` turns
False, its event stream raises), it takes no new calls and the others carry the campaign; the
set raises BackendUnavailable only when no member can take the call (every one away, or the
rest full), and only then does the core pause and probe as for a single switch. The calls the
member had are reconciled as a single switch's gap does: when it comes back it reports a
:class:`BackendGap` (the calls adopted carry on, the lost ones end with ``CallEnded``), passed
through. A member that stays away ``lost_after`` seconds (or whose event stream ends for good)
has its calls written off by the set in the same words: one ``BackendGap(lost=...)`` from the
start of the outage, then a ``CallEnded`` (NORMAL_TEMPORARY_FAILURE) for each, so the core
records them as lost in an outage and retries by policy, and the campaign can end without the
member. If the member comes back later still holding such a call, the set hangs it up and
drops its events: the core has already decided it.

Why the composite owns this, not the core: the core sees one :class:`Switch` and decides who
to call, when, and how many calls the campaign may have; which switch carries a call, whether
a switch is reachable, and what became of the calls a switch took down with it are facts
about switches, learnt only from their I/O (errors, event streams, reconnects). Kept here,
the core, the runtime and the simulator stay unchanged, a set passes the same contract as
one switch, and "the campaign pauses" keeps its meaning: no switch at all can take a call.

The lines a set has *now*: when members with ``lines`` shares go away or come back, the set
says so in its stream (:class:`~autoinformer.backends.base.LinesAvailable`: the lines of the
members that are up, None while an uncapped member is up), and the core dials within it. So a
campaign of 20 lines over two switches of 10 runs on 10 while one is away, instead of sending
the other 10 calls to a switch that has no room (each journaled "not placed").
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import AsyncIterator, Mapping, Sequence

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from autoinformer.backends._shares import Member, MemberStatus, Slot, choose, slots_for
from autoinformer.backends.base import (
    BackendGap,
    CallAnswered,
    CallEnded,
    LinesAvailable,
    Media,
    Orphan,
    Switch,
    SwitchEvent,
)
from autoinformer.clock import Clock, WallClock
from autoinformer.errors import (
    BackendError,
    BackendUnavailable,
    CallNotFound,
    OriginateError,
    SettingsError,
    WrongCallState,
)
from autoinformer.outcomes import HangupCause

__all__ = ["LOST_AFTER", "Member", "MemberStatus", "SwitchSet"]  # Member*: from _shares

log = logging.getLogger(__name__)

LOST_AFTER = 60.0
"""Seconds a member may stay away before the set writes its calls off (lost)."""
_WATCH = 1.0
"""Seconds between two looks at the members' ``connected``."""
_RETRY_FIRST, _RETRY_MAX = 1.0, 30.0
"""The back-off (seconds) between connects, stream re-reads and after a refused originate."""
_CLOSE_SECONDS = 10.0
"""The longest a member's ``close`` may take when the set closes."""
_LEG = re.compile(r"^(?P<call>.+)-op\d+$")
"""An operator leg's id: the core's desk names it ``<call_id>-op<n>`` (core/operators.py)."""


class SwitchSet(Switch):
    """Several switches as one (see the module docstring). Use as an async context manager.

    Args:
        members: the switches and their shares (:class:`Member`), or bare switches (equal
            weights, no cap).
        clock: where the set reads the time (outage lengths, back-offs); give the campaign's
            (a ``ScaledClock`` for the simulated switch). Default: the wall clock.
        lost_after: seconds a member may stay away before its calls are written off.
        event_buffer: events held for a slow consumer (the members' pumps wait beyond it).

    Raises:
        SettingsError: no member, a share that is not a positive number, names used twice,
            weights given to some members only, or members that speak text mixed with ones
            that do not.
    """

    def __init__(
        self,
        members: Sequence[Member | Switch],
        *,
        clock: Clock | None = None,
        lost_after: float = LOST_AFTER,
        event_buffer: int = 10_000,
    ) -> None:
        if not (lost_after > 0 and math.isfinite(lost_after)):
            raise SettingsError("lost_after", f"expected seconds > 0, got {lost_after!r}")
        self._slots, self._by_lines = slots_for(members)
        self._plays_text = type(self._slots[0].switch).plays_text
        self.clock: Clock = clock if clock is not None else WallClock()
        self.lost_after = float(lost_after)
        self._buffer = event_buffer
        self._owner: dict[str, Slot] = {}
        self._orphan_owner: dict[tuple[str, tuple[str, ...]], Slot] = {}
        self._tg: anyio.abc.TaskGroup | None = None
        self._closing = False
        self._watch_scope: anyio.CancelScope | None = None  # made in the loop, at connect
        self._lines_said: int | None = self.lines_now(everyone=True)
        self._send: MemoryObjectSendStream[SwitchEvent]
        self._receive: MemoryObjectReceiveStream[SwitchEvent]
        self._send, self._receive = anyio.create_memory_object_stream[SwitchEvent](event_buffer)

    # --- the set's face -------------------------------------------------------------------

    @property
    def plays_text(self) -> bool:  # type: ignore[override]  # a set's is its members'
        """True when the members speak ``tts:`` text themselves (simulated switches)."""
        return self._plays_text

    @property
    def members(self) -> tuple[Member, ...]:
        """The members, in the order given."""
        return tuple(slot.member for slot in self._slots)

    @property
    def connected(self) -> bool:
        """True while at least one member is reachable."""
        return any(self._reachable(slot) for slot in self._slots)

    def lines_now(self, *, everyone: bool = False) -> int | None:
        """The customer calls the set can carry now: the ``lines`` of the members that are up
        (``everyone``: of all of them), None when an uncapped member is among them."""
        total = 0
        for slot in self._slots:
            if not (everyone or self._reachable(slot)):
                continue
            if slot.member.lines is None:
                return None
            total += slot.member.lines
        return total

    def status(self) -> tuple[MemberStatus, ...]:
        """Each member now: reachable, its calls, its share, calls placed and written off."""
        now = self.clock.now()
        return tuple(
            MemberStatus(
                name=slot.name,
                up=self._reachable(slot),
                calls=len(slot.active),
                lines=slot.member.lines,
                weight=slot.member.weight,
                placed=slot.placed,
                written_off=slot.written_off_total,
                away_for=None if slot.away_since is None else now - slot.away_since,
            )
            for slot in self._slots
        )

    # --- life cycle -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect every member; those that cannot be reached are retried in the background.

        Raises:
            BackendUnavailable: no member could be reached (each one's reason is given).
            SettingsError: a member's own settings are wrong (raised by its ``connect``).
        """
        if self._tg is not None:
            return
        self._send, self._receive = anyio.create_memory_object_stream[SwitchEvent](self._buffer)
        self._lines_said = self.lines_now(everyone=True)
        for slot in self._slots:  # a set connected again after close starts afresh
            slot.connected_once = slot.stream_ok = slot.gone = False
            slot.away_since = slot.stream_failed_at = slot.fatal = None
            slot.why = "not connected yet"
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        firsts = []
        for slot in self._slots:
            first = anyio.Event()
            firsts.append(first)
            tg.start_soon(self._keep, slot, first)
        for first in firsts:
            await first.wait()
        fatal = next((slot.fatal for slot in self._slots if slot.fatal is not None), None)
        if fatal is not None or not self.connected:
            reasons = "; ".join(f"{slot.name}: {slot.why}" for slot in self._slots)
            await self.close()
            if fatal is not None:
                raise fatal
            raise BackendUnavailable(f"no switch of the set can be reached ({reasons})")
        self._watch_scope = anyio.CancelScope()
        tg.start_soon(self._watch)

    async def close(self) -> None:
        """Close every member (calls in progress stay on the switches); the stream ends."""
        tg, self._tg = self._tg, None
        if tg is not None:
            self._closing = True
            for slot in self._slots:
                if slot.scope is not None:
                    slot.scope.cancel()
            if self._watch_scope is not None:
                self._watch_scope.cancel()
            await tg.__aexit__(None, None, None)  # each member closes in its own task
            self._closing = False
        self._send.close()

    def events(self) -> AsyncIterator[SwitchEvent]:
        """Every member's events in one stream (each member's in its own order)."""
        return self._receive

    # --- commands -------------------------------------------------------------------------

    async def originate(
        self,
        call_id: str,
        destination: str,
        *,
        caller_id: str | None,
        ring_timeout: float,
        variables: Mapping[str, str] | None = None,
        operator: bool = False,
        detect_machine: bool = False,
    ) -> None:
        """Place the call on a member that is up and has room (see the module docstring).

        Raises:
            BackendUnavailable: no member can take it (the reasons of each are given).
            OriginateError: the chosen member refused it, or the id is in use.
        """
        if call_id in self._owner:
            raise OriginateError(f"call id {call_id!r} is already in use")
        home = self._leg_home(call_id) if operator else None
        tried: set[int] = set()
        while True:
            now = self.clock.now()
            slot = home if home is not None else self._pick(now, tried)
            if slot is None:
                raise BackendUnavailable(f"no switch can take {call_id}: {self._reasons(now)}")
            (slot.legs if operator else slot.active).add(call_id)
            self._owner[call_id] = slot
            try:
                await slot.switch.originate(
                    call_id,
                    destination,
                    caller_id=caller_id,
                    ring_timeout=ring_timeout,
                    variables=variables,
                    operator=operator,
                    detect_machine=detect_machine,
                )
            except BackendUnavailable as exc:
                self._forget(slot, call_id)
                self._refused(slot, str(exc))
                if home is not None:  # a leg belongs with its call: no other switch will do
                    raise
                tried.add(id(slot))
                log.warning(
                    "switch %s could not take %s (%s): trying another", slot.name, call_id, exc
                )
                continue
            except BackendError:
                # refused, or no clear answer (a timeout): the member deals with any channel
                self._forget(slot, call_id)
                raise
            slot.placed += 1
            slot.refusals = 0
            if call_id in slot.written_off and self._tg is not None:
                # written off while its originate was on the way: the core ended it already
                self._tg.start_soon(self._hang_up_ghost, slot, call_id)
            return

    async def play(self, call_id: str, media: Media, *, playback_id: str) -> None:
        await self._home(call_id).switch.play(call_id, media, playback_id=playback_id)

    async def stop_playback(self, call_id: str, playback_id: str) -> None:
        slot = self._owner.get(call_id)
        if slot is not None:
            await slot.switch.stop_playback(call_id, playback_id)

    async def collect_digits(self, call_id: str) -> None:
        await self._home(call_id).switch.collect_digits(call_id)

    async def bridge(self, bridge_id: str, call_ids: tuple[str, ...]) -> None:
        slots = {id(self._home(c)): self._home(c) for c in call_ids}
        if len(slots) != 1:
            raise WrongCallState(f"bridge {bridge_id}: the calls are on different switches")
        (slot,) = slots.values()
        await slot.switch.bridge(bridge_id, call_ids)

    async def hangup(self, call_id: str, cause: HangupCause = HangupCause.NORMAL_CLEARING) -> None:
        slot = self._owner.get(call_id)
        if slot is not None:
            await slot.switch.hangup(call_id, cause)

    async def orphans(self, campaign: str) -> list[Orphan]:
        """The orphans of every reachable member (a member away now is not asked: its
        orphans, if any, are left to it; a warning says so).

        Raises:
            BackendError: a reachable member could not list its calls.
        """
        found: list[Orphan] = []
        for slot in self._slots:
            if not self._reachable(slot):
                log.warning(
                    "switch %s is away: calls a dead process left on it are not looked for",
                    slot.name,
                )
                continue
            for orphan in await slot.switch.orphans(campaign):
                self._orphan_owner[(orphan.call_id, orphan.channels)] = slot
                found.append(orphan)
        return found

    async def hangup_orphan(self, orphan: Orphan) -> None:
        slot = self._orphan_owner.get((orphan.call_id, orphan.channels))
        if slot is not None:
            await slot.switch.hangup_orphan(orphan)

    # --- choosing a member ----------------------------------------------------------------

    def _reachable(self, slot: Slot) -> bool:
        return slot.connected_once and slot.stream_ok and not slot.gone and slot.switch.connected

    def _room(self, slot: Slot) -> bool:
        lines = slot.member.lines
        return lines is None or len(slot.active) < lines

    def _pick(self, now: float, tried: set[int]) -> Slot | None:
        ready = [
            slot
            for slot in self._slots
            if id(slot) not in tried
            and now >= slot.hold_until
            and self._reachable(slot)
            and self._room(slot)
        ]
        return choose(ready, by_lines=self._by_lines)

    def _reasons(self, now: float) -> str:
        out = []
        for slot in self._slots:
            if not self._reachable(slot):
                away = "" if slot.away_since is None else f" for {now - slot.away_since:.0f} s"
                out.append(f"{slot.name} away{away} ({slot.why})")
            elif now < slot.hold_until:
                out.append(f"{slot.name} refused a moment ago ({slot.why})")
            elif not self._room(slot):
                out.append(f"{slot.name} full ({len(slot.active)} of {slot.member.lines} lines)")
            else:
                out.append(f"{slot.name} could not be reached ({slot.why})")
        return "; ".join(out)

    def _refused(self, slot: Slot, why: str) -> None:
        """An originate could not reach the member: no new call goes to it for a back-off
        (1, 2, 4... 30 s), then one may try again."""
        slot.refusals += 1
        delay = min(_RETRY_MAX, _RETRY_FIRST * 2 ** (slot.refusals - 1))
        slot.hold_until = self.clock.now() + delay
        slot.why = why

    def _leg_home(self, call_id: str) -> Slot | None:
        match = _LEG.match(call_id)
        return self._owner.get(match["call"]) if match else None

    def _home(self, call_id: str) -> Slot:
        slot = self._owner.get(call_id)
        if slot is None:
            raise CallNotFound(f"call {call_id!r} is on none of the switches")
        return slot

    def _forget(self, slot: Slot, call_id: str) -> None:
        self._owner.pop(call_id, None)
        slot.active.discard(call_id)
        slot.legs.discard(call_id)
        slot.answered.discard(call_id)

    # --- the members' events --------------------------------------------------------------

    def _inbound(self, slot: Slot, event: SwitchEvent) -> list[SwitchEvent]:
        """What the set passes on of a member's event, its books updated first."""
        if isinstance(event, BackendGap):
            return self._gap(slot, event)
        if isinstance(event, LinesAvailable):  # a member's own: the set says its total
            return []
        call_id = event.call_id
        if call_id in slot.written_off:  # the core ended it already
            if isinstance(event, CallEnded):
                slot.written_off.discard(call_id)
            return []
        if isinstance(event, CallAnswered):
            slot.answered.add(call_id)
        elif isinstance(event, CallEnded) and self._owner.get(call_id) is slot:
            self._forget(slot, call_id)
        return [event]

    def _gap(self, slot: Slot, gap: BackendGap) -> list[SwitchEvent]:
        """A member reconnected: its own reconciliation passes through, without the calls
        the set wrote off meanwhile (those it still has are hung up: the core ended them)."""
        ghosts = [c for c in gap.adopted if c in slot.written_off]
        for call_id in ghosts:
            log.warning(
                "switch %s came back with %s, written off as lost: hanging it up",
                slot.name,
                call_id,
            )
            if self._tg is not None:
                self._tg.start_soon(self._hang_up_ghost, slot, call_id)
        lost = tuple(c for c in gap.lost if c not in slot.written_off)
        adopted = tuple(c for c in gap.adopted if c not in slot.written_off)
        seconds = gap.seconds
        if slot.stream_failed_at is not None:
            # read late (the pump waited to re-read the stream): the outage began when the
            # stream failed, which is when the core must take the lost calls to have ended
            seconds = max(seconds, self.clock.now() - slot.stream_failed_at)
            slot.stream_failed_at = None
        log.warning(
            "switch %s reconnected after %.1f s: %d calls carried on, %d lost",
            slot.name,
            seconds,
            len(adopted),
            len(lost),
        )
        return [BackendGap(seconds=seconds, adopted=adopted, lost=lost)]

    async def _hang_up_ghost(self, slot: Slot, call_id: str) -> None:
        try:
            await slot.switch.hangup(call_id, HangupCause.NORMAL_TEMPORARY_FAILURE)
        except BackendError as exc:
            log.warning("switch %s: hanging up %s failed: %s", slot.name, call_id, exc)

    async def _write_off(self, slot: Slot, why: str) -> None:
        """End the member's calls as lost since it went away (see the module docstring)."""
        now = self.clock.now()
        since = slot.away_since if slot.away_since is not None else now
        ids = sorted(slot.active | slot.legs)
        if not ids:
            return
        answered = set(slot.answered)
        for call_id in ids:
            self._forget(slot, call_id)
        slot.written_off.update(ids)
        slot.written_off_total += len(ids)
        seconds = max(0.0, now - since)
        log.error(
            "switch %s away for %.0f s (%s): its %d calls are written off as lost",
            slot.name,
            seconds,
            why,
            len(ids),
        )
        await self._send.send(BackendGap(seconds=seconds, lost=tuple(ids)))
        for call_id in ids:
            await self._send.send(
                CallEnded(
                    call_id,
                    HangupCause.NORMAL_TEMPORARY_FAILURE,
                    answered=call_id in answered,
                    detail=f"lost: switch {slot.name} away for {seconds:.0f} s ({why})",
                )
            )

    # --- background tasks -----------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        await self.clock.sleep_until(self.clock.now() + seconds)

    async def _keep(self, slot: Slot, first: anyio.Event) -> None:
        """A member's life in the set: connect (retried while away), pump its events, and
        close it when the set closes, all in this one task.

        A member's ``connect`` enters its own task group in this task and its ``close``
        exits it, so nothing may be left open between the two: the pump runs in a cancel
        scope of its own (cancelled by :meth:`close`), exited before ``close`` is called, and
        ``close`` is not wrapped in a scope (it would be exited out of order).
        """
        delay = _RETRY_FIRST
        try:
            while not self._closing:
                try:
                    await slot.switch.connect()
                    break
                except BackendError as exc:
                    slot.why = f"cannot connect: {exc}"
                    if slot.away_since is None:
                        slot.away_since = self.clock.now()
                    log.warning("switch %s: %s; retrying in %.0f s", slot.name, slot.why, delay)
                except Exception as exc:  # its settings: the set's connect raises it
                    slot.fatal = exc
                    slot.why = str(exc)
                    return
                first.set()
                if self._closing:
                    return
                with anyio.CancelScope() as slot.scope:
                    await self._sleep(delay)
                slot.scope = None
                delay = min(_RETRY_MAX, delay * 2)
            else:
                return  # the set closed before the member was reached
            slot.connected_once = slot.stream_ok = True
            slot.why = ""
            first.set()
            if not self._closing:
                with anyio.CancelScope() as slot.scope:
                    await self._pump(slot)
                slot.scope = None
            try:
                await slot.switch.close()
            except BackendError as exc:
                log.warning("switch %s: close failed: %s", slot.name, exc)
        finally:
            first.set()

    async def _pump(self, slot: Slot) -> None:
        delay = _RETRY_FIRST
        while True:
            try:
                async for event in slot.switch.events():
                    delay = _RETRY_FIRST
                    for out in self._inbound(slot, event):
                        await self._send.send(out)
            except BackendError as exc:
                if slot.stream_ok:
                    log.warning(
                        "switch %s: its event stream failed (%s): no new calls go to it "
                        "until it is back",
                        slot.name,
                        exc,
                    )
                slot.stream_ok = False
                slot.why = f"event stream failed: {exc}"
                if slot.stream_failed_at is None:
                    slot.stream_failed_at = self.clock.now()
                if slot.away_since is None:
                    slot.away_since = self.clock.now()
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return  # nobody reads the set's events any more
            else:
                slot.gone = True
                slot.why = "its event stream ended"
                if slot.away_since is None:
                    slot.away_since = self.clock.now()
                log.error("switch %s: its event stream ended: it takes no more calls", slot.name)
                await self._write_off(slot, slot.why)
                return
            await self._sleep(delay)
            delay = min(_RETRY_MAX, delay * 2)
            while not slot.switch.connected:
                await self._sleep(_WATCH)
            slot.stream_ok = True

    async def _watch(self) -> None:
        """Notice members going away and coming back; write off the calls of one away for
        ``lost_after`` seconds."""
        assert self._watch_scope is not None  # made by connect before it starts this
        with self._watch_scope:
            await self._watching()

    async def _watching(self) -> None:
        while True:
            now = self.clock.now()
            for slot in self._slots:
                up = self._reachable(slot)
                if not up and slot.away_since is None:
                    slot.away_since = now
                    slot.why = slot.why or "not connected"
                    log.warning("switch %s is away: no new calls go to it", slot.name)
                elif up and slot.away_since is not None:
                    log.warning(
                        "switch %s is back after %.0f s: it takes calls again",
                        slot.name,
                        now - slot.away_since,
                    )
                    slot.away_since = None
                    slot.refusals = 0
                    slot.hold_until = -math.inf
                    slot.why = ""
                    for call_id in sorted(slot.written_off):  # any it still has: hung up
                        if self._tg is not None:
                            self._tg.start_soon(self._hang_up_ghost, slot, call_id)
                if (
                    slot.away_since is not None
                    and now - slot.away_since >= (slot.member.lost_after or self.lost_after)
                    and (slot.active or slot.legs)
                ):
                    await self._write_off(slot, slot.why or "away")
            lines = self.lines_now()
            if lines != self._lines_said:
                self._lines_said = lines
                said = "any number of" if lines is None else str(lines)
                log.warning("the switches up can carry %s calls now", said)
                await self._send.send(LinesAvailable(lines))
            await self._sleep(_WATCH)
