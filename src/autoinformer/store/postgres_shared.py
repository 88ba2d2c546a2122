"""Campaign-wide limits several workers hold together in PostgreSQL (issue #17).

Leases (:mod:`autoinformer.store.postgres_leases`) make sure one contact has one owner. The
limits that span contacts need the database too, each checked where the decision is made:

- **Lines** are ``lines`` slot rows per campaign (``autoinformer_lines``), each held by at
  most one worker until a time, like a lease. A worker's core places calls only while its
  calls are fewer than the slots it holds (``LinesGranted``), so the sum over the workers
  never passes the campaign's ``lines``. :func:`hold_lines` renews the slots a worker holds,
  claims more (``FOR UPDATE SKIP LOCKED``: two workers never take the same slot) when its
  pacing wants more calls, and gives back the ones it does not use, in one transaction: the
  lines follow the work. A dead worker's slots run out with its leases.
- **Caller-ID caps** (uses per number per day, the cool-down) are counted from the attempts
  journaled with that caller ID, in the transaction that journals the new attempt
  (:func:`check_caller_id`), after a transaction-scoped advisory lock on the number: two
  workers picking the same number at the same instant are serialised, so four workers never
  pass a cap together.
- **The abandon budget**: :func:`abandon_totals` counts the live answers and abandons the
  other workers journaled (``journaled_by``, a column the attempts gain here, names the
  worker's run that began each attempt), for the guard of each worker to add to its own.

Times are passed in (the workers' clocks), as for leases.
"""

from __future__ import annotations

from typing import Any

import attrs
import psycopg

from autoinformer.errors import StoreError
from autoinformer.records import AttemptRecord

__all__ = [
    "MIGRATION",
    "AbandonTotals",
    "CallerIdCapped",
    "CallerIdRule",
    "LineShare",
    "abandon_totals",
    "cancels_asked",
    "cancels_in_call",
    "check_caller_id",
    "close_cancelled",
    "hold_lines",
    "line_share",
    "lines_held",
    "number_owners",
    "outlook",
    "release_lines",
    "request_cancel",
]

Cursor = psycopg.Cursor[dict[str, Any]]

MIGRATION = """
ALTER TABLE autoinformer_attempts ADD COLUMN journaled_by TEXT;
CREATE INDEX autoinformer_attempts_caller_id
    ON autoinformer_attempts (campaign, caller_id, started_at) WHERE caller_id IS NOT NULL;
CREATE TABLE autoinformer_lines (
    campaign TEXT NOT NULL,
    slot     INTEGER NOT NULL,
    owner    TEXT,
    until    DOUBLE PRECISION,
    PRIMARY KEY (campaign, slot)
);
CREATE TABLE autoinformer_line_wants (
    campaign TEXT NOT NULL,
    worker   TEXT NOT NULL,
    want     INTEGER NOT NULL,
    until    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (campaign, worker)
);
"""
"""Schema version 3: who journaled each attempt, the caller-ID index, the line slots and
what each worker wants of them."""

MIGRATION_4 = """
ALTER TABLE autoinformer_contacts ADD COLUMN cancel_reason TEXT;
CREATE INDEX autoinformer_contacts_phones ON autoinformer_contacts USING GIN ((phones::jsonb));
"""
"""Schema version 4: a cancel recorded for the worker holding the contact to honour
(:func:`request_cancel`), and an index to find the contacts that have a number
(:func:`number_owners`)."""


class CallerIdCapped(StoreError):
    """The attempt's caller ID is at its cap or cooling down across the workers: nothing was
    journaled (the call must not be placed with it)."""


@attrs.frozen
class CallerIdRule:
    """The caller-ID limits to check for one attempt, with times computed by the caller (the
    pool's day in its own zone is pure code's business, not SQL's).

    Attributes:
        daily_cap: most uses of the number from ``day_start`` to ``day_end`` (None: no cap).
        day_start: when the attempt's day (in the pool's ``cap_timezone``) began.
        day_end: when it ends.
        cooldown: least seconds between two uses of the number (0: none).
    """

    daily_cap: int | None
    day_start: float
    day_end: float
    cooldown: float = 0.0


def check_caller_id(cur: Cursor, record: AttemptRecord, rule: CallerIdRule) -> None:
    """Serialise on ``record``'s caller ID and check its cap and cool-down in this
    transaction, counting every attempt journaled with it (by any worker).

    Raises:
        CallerIdCapped: the number may not be used at ``record.started_at``.
    """
    number = record.caller_id
    if number is None:
        return
    cur.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))",
        (f"autoinformer.caller_id:{record.campaign}:{number}",),
    )
    row = cur.execute(
        "SELECT count(*) FILTER (WHERE started_at >= %(start)s AND started_at < %(end)s) AS n, "
        "max(started_at) AS last FROM autoinformer_attempts "
        "WHERE campaign = %(c)s AND caller_id = %(n)s AND started_at >= %(since)s",
        {
            "c": record.campaign,
            "n": number,
            "start": rule.day_start,
            "end": rule.day_end,
            "since": min(rule.day_start, record.started_at - rule.cooldown),
        },
    ).fetchone()
    used = int(row["n"]) if row else 0
    if rule.daily_cap is not None and used >= rule.daily_cap:
        raise CallerIdCapped(
            f"caller ID {number} was used {used} times today (cap {rule.daily_cap})"
        )
    last = row["last"] if row else None
    if rule.cooldown > 0 and last is not None and record.started_at < last + rule.cooldown:
        raise CallerIdCapped(f"caller ID {number} is cooling down until {last + rule.cooldown}")


def hold_lines(
    cur: Cursor, campaign: str, worker: str, *, lines: int, want: int, now: float, ttl: float
) -> int:
    """Renew ``worker``'s line slots, then claim or give back slots toward ``want``
    (0..``lines``); returns how many it holds until ``now + ttl``.

    Slots beyond ``lines`` (the campaign's lines were lowered) are never claimed or renewed:
    they run out. A slot whose holder stopped renewing is claimed like a free one.
    """
    if lines < 0 or ttl <= 0:
        raise ValueError("hold_lines: lines must be >= 0 and ttl > 0")
    want = max(0, min(want, lines))
    until = now + ttl
    cur.execute(
        "INSERT INTO autoinformer_line_wants (campaign, worker, want, until) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (campaign, worker) "
        "DO UPDATE SET want = excluded.want, until = excluded.until",
        (campaign, worker, want, until),
    )
    cur.execute(
        "INSERT INTO autoinformer_lines (campaign, slot) SELECT %s, s FROM generate_series(1, %s) "
        "AS s ON CONFLICT DO NOTHING",
        (campaign, lines),
    )
    held = cur.execute(
        "UPDATE autoinformer_lines SET until = %s WHERE campaign = %s AND owner = %s "
        "AND slot <= %s AND until > %s RETURNING slot",
        (until, campaign, worker, lines, now),
    ).fetchall()
    count = len(held)
    if count < want:
        got = cur.execute(
            "WITH free AS (SELECT slot FROM autoinformer_lines WHERE campaign = %(c)s "
            "AND slot <= %(lines)s AND (owner IS NULL OR until <= %(now)s) ORDER BY slot "
            "LIMIT %(n)s FOR UPDATE SKIP LOCKED) "
            "UPDATE autoinformer_lines AS l SET owner = %(w)s, until = %(until)s FROM free "
            "WHERE l.campaign = %(c)s AND l.slot = free.slot RETURNING l.slot",
            {
                "c": campaign,
                "lines": lines,
                "now": now,
                "n": want - count,
                "w": worker,
                "until": until,
            },
        ).fetchall()
        count += len(got)
    elif count > want:
        gone = cur.execute(
            "UPDATE autoinformer_lines SET owner = NULL, until = NULL WHERE campaign = %s "
            "AND owner = %s AND slot = ANY(%s) RETURNING slot",
            (campaign, worker, sorted(r["slot"] for r in held)[want:]),
        ).fetchall()
        count -= len(gone)
    return count


@attrs.frozen
class LineShare:
    """How the campaign's lines stand for one worker.

    Attributes:
        fair: the lines over the workers at work (holding contacts or lines), rounded up.
        free: slots nobody holds.
        short: another worker at work holds fewer than ``fair``.
    """

    fair: int
    free: int
    short: bool


def line_share(cur: Cursor, campaign: str, worker: str, *, lines: int, now: float) -> LineShare:
    """Where ``worker`` stands among the workers that want lines (their last
    :func:`hold_lines`, still live): the fair share is the lines over them, rounded up; one is
    short when it wants more than it holds and holds less than a share. A worker over its
    share gives lines back while another is short (the lines follow the work, and the worker
    that came first does not keep them all); with nobody short, it may use every free line."""
    rows = cur.execute(
        "SELECT w.worker, w.want, (SELECT count(*) FROM autoinformer_lines l "
        "  WHERE l.campaign = w.campaign AND l.owner = w.worker AND l.until > %(now)s "
        "  AND l.slot <= %(lines)s) AS n "
        "FROM autoinformer_line_wants w WHERE w.campaign = %(c)s AND w.until > %(now)s "
        "AND w.want > 0",
        {"c": campaign, "now": now, "lines": lines},
    ).fetchall()
    wanting = len({r["worker"] for r in rows} | {worker})
    fair = -(-lines // wanting)
    held = cur.execute(
        "SELECT count(*) AS n FROM autoinformer_lines WHERE campaign = %s AND until > %s "
        "AND slot <= %s AND owner IS NOT NULL",
        (campaign, now, lines),
    ).fetchone()
    free = max(0, lines - (int(held["n"]) if held else 0))
    short = any(r["worker"] != worker and int(r["n"]) < min(fair, int(r["want"])) for r in rows)
    return LineShare(fair, free, short)


def release_lines(cur: Cursor, campaign: str, worker: str) -> int:
    """Give back every slot ``worker`` holds (it stops), and its want; returns how many."""
    cur.execute(
        "DELETE FROM autoinformer_line_wants WHERE campaign = %s AND worker = %s",
        (campaign, worker),
    )
    rows = cur.execute(
        "UPDATE autoinformer_lines SET owner = NULL, until = NULL WHERE campaign = %s "
        "AND owner = %s RETURNING slot",
        (campaign, worker),
    ).fetchall()
    return len(rows)


def lines_held(cur: Cursor, campaign: str, now: float) -> dict[str, int]:
    """Live slots per worker at ``now`` (expired ones left out): for tests and dashboards."""
    rows = cur.execute(
        "SELECT owner, count(*) AS n FROM autoinformer_lines WHERE campaign = %s "
        "AND owner IS NOT NULL AND until > %s GROUP BY owner",
        (campaign, now),
    ).fetchall()
    return {r["owner"]: int(r["n"]) for r in rows}


@attrs.frozen
class AbandonTotals:
    """Live answers and abandons journaled by other workers' runs, over the campaign and
    since a time (the guard's rolling window)."""

    answers: int
    abandons: int
    window_answers: int
    window_abandons: int


_LIVE = ("delivered", "hung_up_early", "transferred", "abandoned", "agent_error", "opted_out")


def abandon_totals(cur: Cursor, campaign: str, run: str, *, since: float) -> AbandonTotals:
    """The finished attempts not journaled by ``run``: live answers (a person, not a machine:
    the outcomes :class:`~autoinformer.core.intake.GuardHistory` counts) and abandons, all
    and those of the window from ``since`` (answers by their answer, abandons by their end)."""
    row = cur.execute(
        "SELECT count(*) FILTER (WHERE outcome = ANY(%(live)s) AND NOT machine) AS answers, "
        "count(*) FILTER (WHERE outcome = 'abandoned') AS abandons, "
        "count(*) FILTER (WHERE outcome = ANY(%(live)s) AND NOT machine "
        "  AND answered_at >= %(since)s) AS window_answers, "
        "count(*) FILTER (WHERE outcome = 'abandoned' "
        "  AND COALESCE(ended_at, answered_at, started_at) >= %(since)s) AS window_abandons "
        "FROM autoinformer_attempts WHERE campaign = %(c)s AND outcome IS NOT NULL "
        "AND journaled_by IS DISTINCT FROM %(run)s",
        {"c": campaign, "run": run, "since": since, "live": list(_LIVE)},
    ).fetchone()
    if row is None:  # pragma: no cover - an aggregate always has a row
        return AbandonTotals(0, 0, 0, 0)
    return AbandonTotals(
        int(row["answers"]),
        int(row["abandons"]),
        int(row["window_answers"]),
        int(row["window_abandons"]),
    )


def outlook(cur: Cursor, campaign: str, worker: str) -> tuple[int, float | None]:
    """What the campaign holds for ``worker`` beyond its own leases: (open contacts it does
    not hold, the earliest time one of them may be takeable: a retry's due time, a lease's
    end; None when there are none)."""
    row = cur.execute(
        "SELECT count(*) AS n, min(GREATEST("
        "  CASE WHEN state = 'in_call' THEN 0 ELSE COALESCE(next_at, 0) END, "
        "  COALESCE(lease_until, 0))) AS at "
        "FROM autoinformer_contacts WHERE campaign = %s "
        "AND state IN ('pending', 'scheduled', 'in_call') AND lease_owner IS DISTINCT FROM %s",
        (campaign, worker),
    ).fetchone()
    if row is None or not row["n"]:
        return 0, None
    return int(row["n"]), float(row["at"])


# --- a cancel from any worker -----------------------------------------------------------------

_OPEN = ("pending", "scheduled", "in_call")


def request_cancel(cur: Cursor, campaign: str, contact_id: str, reason: str, *, now: float) -> str:
    """Cancel ``contact_id`` for the campaign, whoever holds it: what was done.

    - ``"cancelled"``: nobody held a live lease and the contact was open: closed now.
    - ``"recorded"``: a worker holds it: the cancel is recorded (``cancel_reason``) for the
      holder to honour; from this commit on its fence refuses any further attempt
      (:class:`~autoinformer.store.postgres_leases.CancelAsked`), and at its next renewal
      it closes the contact (a call in progress ends normally first).
    - ``"closed"``: the contact was already final; ``"unknown"``: no such contact.
    """
    row = cur.execute(
        "SELECT state, lease_owner, lease_until FROM autoinformer_contacts "
        "WHERE campaign = %s AND contact_id = %s FOR UPDATE",
        (campaign, contact_id),
    ).fetchone()
    if row is None:
        return "unknown"
    if row["state"] not in _OPEN:
        return "closed"
    held = row["lease_owner"] is not None and (row["lease_until"] or 0.0) > now
    if held or row["state"] == "in_call":
        cur.execute(
            "UPDATE autoinformer_contacts SET cancel_reason = %s "
            "WHERE campaign = %s AND contact_id = %s",
            (reason, campaign, contact_id),
        )
        return "recorded"
    cur.execute(
        "UPDATE autoinformer_contacts SET state = 'cancelled', reason = %s, next_at = NULL, "
        "cancel_reason = %s, lease_owner = NULL, lease_until = NULL "
        "WHERE campaign = %s AND contact_id = %s",
        (reason, reason, campaign, contact_id),
    )
    return "cancelled"


def cancels_asked(cur: Cursor, campaign: str, worker: str, contact_ids: list[str]) -> list[str]:
    """The contacts among ``contact_ids`` that ``worker`` holds with a cancel recorded."""
    rows = cur.execute(
        "SELECT contact_id FROM autoinformer_contacts WHERE campaign = %s "
        "AND contact_id = ANY(%s) AND lease_owner = %s AND cancel_reason IS NOT NULL "
        "ORDER BY contact_id",
        (campaign, contact_ids, worker),
    ).fetchall()
    return [r["contact_id"] for r in rows]


def close_cancelled(cur: Cursor, campaign: str, worker: str, contact_ids: list[str]) -> list[str]:
    """Close as cancelled the contacts among ``contact_ids`` that ``worker`` holds, that have a
    cancel recorded and are not in a call, ending their leases: the ids closed."""
    rows = cur.execute(
        "UPDATE autoinformer_contacts SET state = 'cancelled', reason = cancel_reason, "
        "next_at = NULL, lease_owner = NULL, lease_until = NULL "
        "WHERE campaign = %s AND contact_id = ANY(%s) AND lease_owner = %s "
        "AND cancel_reason IS NOT NULL AND state IN ('pending', 'scheduled') "
        "RETURNING contact_id",
        (campaign, sorted(contact_ids), worker),
    ).fetchall()
    return [r["contact_id"] for r in rows]


def cancels_in_call(
    cur: Cursor, campaign: str, worker: str, contact_ids: list[str]
) -> dict[str, str]:
    """The contacts among ``contact_ids`` that ``worker`` holds in a call with a cancel
    recorded: id -> reason (the holder cancels them when the call ends)."""
    rows = cur.execute(
        "SELECT contact_id, cancel_reason FROM autoinformer_contacts WHERE campaign = %s "
        "AND contact_id = ANY(%s) AND lease_owner = %s AND cancel_reason IS NOT NULL "
        "AND state = 'in_call'",
        (campaign, sorted(contact_ids), worker),
    ).fetchall()
    return {r["contact_id"]: r["cancel_reason"] for r in rows}


# --- one number, one contact, across workers ----------------------------------------------------


def number_owners(cur: Cursor, campaign: str, phones: list[str]) -> dict[str, str]:
    """Each of ``phones`` -> the contact added first that has it (in the order added): the
    owner one process's intake would have recorded, for a worker's core to trim or skip a
    later contact with the same number as one process does (``DUPLICATE_REASON``)."""
    if not phones:
        return {}
    rows = cur.execute(
        "SELECT DISTINCT ON (p.phone) p.phone, c.contact_id FROM autoinformer_contacts c, "
        "json_array_elements_text(c.phones) AS p(phone) "
        "WHERE c.campaign = %s AND c.phones::jsonb ?| %s::text[] AND p.phone = ANY(%s) "
        "ORDER BY p.phone, c.seq",
        (campaign, sorted(set(phones)), sorted(set(phones))),
    ).fetchall()
    return {r["phone"]: r["contact_id"] for r in rows}
