"""The store commands of a worker: the core's journals paired with the progress after them.

One process journals an attempt, then saves the contact's progress, in two transactions; a
crash between them is healed at the next start. A worker must not leave that gap: a lease
checked in one transaction may be gone in the next, and a result must end the lease in the
same transaction that writes it. So the runtime of a worker passes the core's commands
through :func:`pair` first, and the store sees one transaction per pair. Pure, and free of
any database driver (the runtime imports it whether or not it is a worker).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from autoinformer.core import commands as c
from autoinformer.records import AttemptRecord, ContactProgress

__all__ = ["Begin", "Close", "Finish", "Save", "WorkerCommand", "pair"]


@attrs.frozen
class Begin:
    """``Journal(begin)`` with the ``in_call`` progress after it: one fenced transaction."""

    record: AttemptRecord
    progress: ContactProgress | None


@attrs.frozen
class Close:
    """A result with the contact's progress after it: one transaction (the lease ends when
    the contact closes or waits for a retry)."""

    record: AttemptRecord
    progress: ContactProgress


@attrs.frozen
class Finish:
    """A result with no progress after it in the batch (written once, whoever tries)."""

    record: AttemptRecord


@attrs.frozen
class Save:
    """A progress with no result before it."""

    progress: ContactProgress


WorkerCommand = Begin | Close | Finish | Save


def pair(commands: Sequence[c.Command]) -> list[c.Command | WorkerCommand]:
    """The core's commands with each journal paired with the progress the core saves after
    it for the same contact (the next ``SaveProgress`` of that contact, with no other journal
    of it between): the pair goes to the store in one transaction, at the journal's place.
    Pure; the order of everything else is kept."""
    out: list[c.Command | WorkerCommand] = []
    taken: set[int] = set()
    for i, cmd in enumerate(commands):
        if i in taken:
            continue
        if isinstance(cmd, c.Journal):
            cid = cmd.record.contact_id
            match: int | None = None
            for j in range(i + 1, len(commands)):
                nxt = commands[j]
                if isinstance(nxt, c.Journal) and nxt.record.contact_id == cid:
                    break
                if isinstance(nxt, c.SaveProgress) and nxt.progress.contact_id == cid:
                    match = j
                    break
            progress = None
            if match is not None:
                taken.add(match)
                saved = commands[match]
                assert isinstance(saved, c.SaveProgress)
                progress = saved.progress
            if cmd.begin:
                out.append(Begin(cmd.record, progress))
            elif progress is not None:
                out.append(Close(cmd.record, progress))
            else:
                out.append(Finish(cmd.record))
        elif isinstance(cmd, c.SaveProgress):
            out.append(Save(cmd.progress))
        else:
            out.append(cmd)
    return out
