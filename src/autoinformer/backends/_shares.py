"""The shares of a :class:`~autoinformer.backends.multi.SwitchSet`'s members, and the choice
of the member that takes a new call: pure code over the set's books (no I/O, no clock).

Private to :mod:`autoinformer.backends.multi`, which re-exports :class:`Member` and
:class:`MemberStatus`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import anyio
import attrs

from autoinformer.backends.base import Switch
from autoinformer.errors import SettingsError

__all__ = ["Member", "MemberStatus", "Slot", "choose", "slots_for"]


@attrs.frozen
class Member:
    """One switch of a set and its share.

    Attributes:
        switch: the switch (not connected yet: the set connects and closes it).
        name: how logs, errors and :meth:`SwitchSet.status` call it (default ``switch<i>``).
        lines: the most customer calls it may have at once (None: no cap).
        weight: its share of new calls (None: the lines split, see the module docstring).
        lost_after: seconds it may stay away before its calls are written off (None: the
            set's ``lost_after``).
    """

    switch: Switch
    name: str = ""
    lines: int | None = None
    weight: float | None = None
    lost_after: float | None = None


@attrs.frozen
class MemberStatus:
    """A member as the set sees it now (:meth:`SwitchSet.status`)."""

    name: str
    up: bool
    calls: int
    lines: int | None
    weight: float | None
    placed: int
    written_off: int
    away_for: float | None


@attrs.define(eq=False)
class Slot:
    """A member's books in the set: its calls, its share's state, whether it is up."""

    member: Member
    name: str
    weight: float
    active: set[str] = attrs.field(factory=set)  # customer calls placed here, not ended
    legs: set[str] = attrs.field(factory=set)  # operator legs placed here, not ended
    answered: set[str] = attrs.field(factory=set)
    written_off: set[str] = attrs.field(factory=set)  # ended by the set; the switch may not know
    placed: int = 0
    written_off_total: int = 0
    credit: float = 0.0  # smooth weighted round robin
    connected_once: bool = False
    stream_ok: bool = False
    gone: bool = False
    hold_until: float = -math.inf  # after a refused (unreachable) originate
    refusals: int = 0
    away_since: float | None = None
    stream_failed_at: float | None = None  # its stream raised: the gap it owes starts here
    why: str = "not connected yet"
    fatal: Exception | None = None
    scope: anyio.CancelScope | None = None  # the pump's (or a back-off's): close cancels it

    @property
    def switch(self) -> Switch:
        return self.member.switch


def slots_for(members: Sequence[Member | Switch]) -> tuple[list[Slot], bool]:
    """The members' books, and whether new calls follow their lines (True: each has
    ``lines`` and none a weight) or their weights.

    Raises:
        SettingsError: no member, a share that is not a positive number, names used twice,
            weights given to some members only, lines to some only (without weights), or
            members that speak text mixed with ones that do not.
    """
    given = [m if isinstance(m, Member) else Member(m) for m in members]
    if not given:
        raise SettingsError("backend", "a switch set needs at least one switch")
    weighted = [m.weight is not None for m in given]
    capped = [m.lines is not None for m in given]
    if any(weighted) and not all(weighted):
        i = weighted.index(False)
        raise SettingsError(f"backend[{i}].weight", "give every switch a weight, or none")
    if not any(weighted) and any(capped) and not all(capped):
        i = capped.index(False)
        raise SettingsError(
            f"backend[{i}].lines", "give every switch lines, or every switch a weight"
        )
    names: set[str] = set()
    slots: list[Slot] = []
    for i, member in enumerate(given):
        name = member.name or f"switch{i}"
        if name in names:
            raise SettingsError(f"backend[{i}].name", f"{name!r} is used twice")
        names.add(name)
        if member.lines is not None and not (
            isinstance(member.lines, int)
            and not isinstance(member.lines, bool)
            and member.lines >= 1
        ):
            raise SettingsError(
                f"backend[{i}].lines", f"expected an integer >= 1, got {member.lines!r}"
            )
        if member.weight is not None and not (
            isinstance(member.weight, int | float)
            and not isinstance(member.weight, bool)
            and member.weight > 0
            and math.isfinite(member.weight)
        ):
            raise SettingsError(
                f"backend[{i}].weight", f"expected a number > 0, got {member.weight!r}"
            )
        if member.lost_after is not None and not (
            member.lost_after > 0 and math.isfinite(member.lost_after)
        ):
            raise SettingsError(
                f"backend[{i}].lost_after",
                f"expected seconds > 0, got {member.lost_after!r}",
            )
        weight = float(member.weight if member.weight is not None else member.lines or 1)
        slots.append(Slot(member=member, name=name, weight=weight))
    if len({type(m.switch).plays_text for m in given}) > 1:
        raise SettingsError(
            "backend", "a simulated switch cannot share a campaign with real switches"
        )
    return slots, not any(weighted) and all(capped)


def choose(ready: list[Slot], *, by_lines: bool) -> Slot | None:
    """The member that takes the next call among those ``ready`` (up, with room): by lines,
    the least loaded relative to its lines (ties: the bigger, then the first); by weights,
    smooth weighted round robin (each ready member gains its weight, the richest takes the
    call and pays the total), which gives every member its exact share of any run of calls."""
    if not ready:
        return None
    if by_lines:  # least loaded relative to its lines; ties: the bigger, the first
        return min(ready, key=lambda s: (len(s.active) / s.weight, -s.weight))
    total = 0.0
    for slot in ready:  # smooth weighted round robin
        slot.credit += slot.weight
        total += slot.weight
    chosen = max(ready, key=lambda s: s.credit)
    chosen.credit -= total
    return chosen
