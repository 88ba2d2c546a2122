"""A campaign run's summary: what the store holds for it (``Runtime.run``'s result).

:func:`summarize` counts from a store (attempts, outcomes, contacts per state, skip reasons);
:class:`RunSummary` is the typed result, whose :meth:`RunSummary.to_dict` is the JSON the CLI
prints (``autoinformer demo --json``; its keys are a public contract).
"""

from __future__ import annotations

import collections
import re
from collections.abc import Mapping
from typing import Any

import attrs

from autoinformer.outcomes import Outcome
from autoinformer.store.base import Store

__all__ = [
    "SKIP_EXAMPLES",
    "SMS_SENT_KEY",
    "RunSummary",
    "SkippedContacts",
    "SwitchGapSummary",
    "skipped_contacts",
    "summarize",
]

SMS_SENT_KEY = "sms_sent"
"""The store's meta key counting the campaign's SMS sent (``autoinformer report`` shows it)."""

SKIP_EXAMPLES = 3
"""How many contact ids (and distinct values) :class:`SkippedContacts` keeps per reason."""

_QUOTED_VALUE = re.compile(r"(= |got )'((?:[^'\\]|\\.)*)'")
"""A cell's value quoted in a skip reason (``column 'BALANCE' = '15.00': not a debt``,
``got 'N/A'``): reasons that differ only there are one reason with several values."""


@attrs.frozen(kw_only=True)
class SwitchGapSummary:
    """A time the connection to the switch was lost during the run."""

    seconds: float
    adopted: int
    """Calls that carried on through the gap."""
    lost: int
    """Calls that ended during the gap."""

    def to_dict(self) -> dict[str, Any]:
        """``{"seconds", "adopted", "lost"}``."""
        return {"seconds": self.seconds, "adopted": self.adopted, "lost": self.lost}


@attrs.frozen(kw_only=True)
class SkippedContacts:
    """Contacts skipped for one reason ("missing variable(s): BALANCE"): how many, and the
    first few ids as examples."""

    reason: str
    count: int
    examples: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    """When the reason stands for several (it names a cell's value and the values differ),
    the first few values; the reason then shows ``'…'`` in their place."""

    def to_dict(self) -> dict[str, Any]:
        """``{"reason", "count", "examples"}``, and ``"values"`` when there are several."""
        out: dict[str, Any] = {
            "reason": self.reason,
            "count": self.count,
            "examples": list(self.examples),
        }
        if self.values:
            out["values"] = list(self.values)
        return out


@attrs.frozen(kw_only=True)
class RunSummary:
    """What a run left in the store: :meth:`Runtime.run`'s result (and :func:`summarize`'s).

    Attributes:
        campaign: the campaign's name.
        attempts: finished attempts.
        outcomes: finished attempts per outcome: every outcome name, zeros included; the
            counts add up to ``attempts``.
        contacts: contacts per state (``done``, ``exhausted``, ``skipped``...).
        unfinished: attempts without an outcome (in flight now, or cut off by a crash: the
            next run reconciles them).
        skipped: the skipped contacts per reason, most frequent first.
        switch_gaps: each time the switch connection dropped during the run.
        sms: SMS the campaign's rules sent during this run: handed to the sender, or logged
            when there is none (None: not counted, as for :func:`summarize` of a store).

    ``to_dict()`` is the JSON form (``autoinformer demo --json``); its keys are a public
    contract. ``summary["attempts"]`` reads a key of it, as the dict this class replaced did.
    """

    campaign: str
    attempts: int
    outcomes: Mapping[str, int]
    contacts: Mapping[str, int]
    unfinished: int = 0
    skipped: tuple[SkippedContacts, ...] = ()
    switch_gaps: tuple[SwitchGapSummary, ...] = ()
    sms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form: ``campaign``, ``attempts``, ``outcomes``, ``contacts``,
        ``unfinished``, ``skipped`` (a list of ``{"reason", "count", "examples"}``), and
        ``switch_gaps`` and ``sms`` when there are any."""
        out: dict[str, Any] = {
            "campaign": self.campaign,
            "attempts": self.attempts,
            "outcomes": dict(self.outcomes),
            "contacts": dict(self.contacts),
            "unfinished": self.unfinished,
            "skipped": [s.to_dict() for s in self.skipped],
        }
        if self.switch_gaps:
            out["switch_gaps"] = [g.to_dict() for g in self.switch_gaps]
        if self.sms is not None:
            out["sms"] = self.sms
        return out

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]


def summarize(store: Store, campaign: str) -> RunSummary:
    """Counts from the store: attempts, outcomes (every name, adding up to ``attempts``),
    contacts per state, skip reasons, and unfinished attempts (in flight now, or at a
    crash). Aggregates the store computes (:meth:`Store.state_counts`,
    :meth:`Store.attempt_counts`): no contact or attempt is loaded."""
    outcomes = {o.value: 0 for o in Outcome}
    unfinished = 0
    for key, n in store.attempt_counts(campaign).items():
        if key.outcome is None:
            unfinished += n
        else:
            outcomes[key.outcome.value] += n
    states = {state.value: n for state, n in store.state_counts(campaign).items() if n}
    return RunSummary(
        campaign=campaign,
        attempts=sum(outcomes.values()),
        outcomes=outcomes,
        contacts=dict(sorted(states.items())),
        unfinished=unfinished,
        skipped=skipped_contacts(store, campaign) if states.get("skipped") else (),
    )


def skipped_contacts(store: Store, campaign: str) -> tuple[SkippedContacts, ...]:
    """The campaign's skipped contacts per reason, most frequent first.

    Reasons that differ only in the cell value they quote are one entry: a list of 100,000
    credits under ``|debt`` is one line "column 'BALANCE' = '…': not a debt" with a few of the
    values, not 100,000 lines of one each. A reason whose value is the same for every contact
    keeps its value in the text.
    """
    counts: collections.Counter[str] = collections.Counter()
    examples: dict[str, list[str]] = {}
    values: dict[str, dict[str, None]] = {}
    texts: dict[str, set[str]] = {}
    for reason, n, first in store.skip_reasons(campaign, examples=SKIP_EXAMPLES):
        reason = reason or "no reason recorded"
        found = [m.group(2) for m in _QUOTED_VALUE.finditer(reason)]
        shape = _QUOTED_VALUE.sub(lambda m: f"{m.group(1)}'…'", reason)
        counts[shape] += n
        kept = examples.setdefault(shape, [])
        kept += first[: SKIP_EXAMPLES - len(kept)]
        texts.setdefault(shape, set()).add(reason)
        seen = values.setdefault(shape, {})
        if found and len(seen) < SKIP_EXAMPLES:
            seen[" / ".join(dict.fromkeys(found))] = None
    entries = []
    for shape, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        one_text = len(texts[shape]) == 1
        entries.append(
            SkippedContacts(
                reason=next(iter(texts[shape])) if one_text else shape,
                count=n,
                examples=tuple(examples[shape]),
                values=() if one_text else tuple(values[shape]),
            )
        )
    return tuple(entries)
