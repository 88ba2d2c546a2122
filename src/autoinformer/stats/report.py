"""A campaign's report from its store: statistics, contacts, skip reasons, SMS sent.

:func:`campaign_report` reads one campaign of a store (:class:`CampaignStats` over its call
records, contacts per state, why contacts were skipped, the SMS count the runs recorded);
:meth:`CampaignReport.to_dict` is the JSON of ``autoinformer report --json`` and
:meth:`CampaignReport.lines` its text.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from autoinformer.stats.counters import CampaignStats
from autoinformer.store.base import Store
from autoinformer.summary import SMS_SENT_KEY, SkippedContacts, skipped_contacts

__all__ = ["CampaignReport", "campaign_report"]


@attrs.frozen(kw_only=True)
class CampaignReport:
    """One campaign as its store knows it.

    Attributes:
        campaign: the campaign's name.
        stats: the counters of its call records.
        contacts: contacts per state (``done``, ``exhausted``, ``skipped``...).
        skipped: skipped contacts per reason, with example ids.
        sms_sent: SMS the campaign's runs sent (None: no run recorded any).
        priced: whether a rate per minute was given (the cost means something).
    """

    campaign: str
    stats: CampaignStats
    contacts: Mapping[str, int]
    skipped: tuple[SkippedContacts, ...] = ()
    sms_sent: int | None = None
    priced: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``campaign``, ``contacts`` (per state), ``skipped``, ``sms_sent`` and
        the statistics' own keys (``by_outcome``, ``by_hour``, ``rates``, ``by_caller_id``,
        ``by_operator``, ``cost``...; see ``docs/statistics.md``); ``cost`` is None when no
        rate was given."""
        out: dict[str, Any] = {"campaign": self.campaign}
        out.update(self.stats.to_dict())
        out["contacts_by_state"] = dict(self.contacts)
        out["skipped"] = [s.to_dict() for s in self.skipped]
        out["sms_sent"] = self.sms_sent
        if not self.priced:
            out["cost"] = None
        return out

    def lines(self, timezone: str = "UTC") -> Iterator[str]:
        """The report as text lines for a terminal."""
        s = self.stats
        yield (
            f"{self.campaign}: {s.attempts} attempts, {sum(self.contacts.values())} contacts "
            f"({s.contacts_reached} reached)"
            + (f", {s.in_flight} attempts without an outcome" if s.in_flight else "")
        )
        yield "outcomes:"
        for outcome, n in s.by_outcome.items():
            if n:
                yield f"  {outcome.value:<15} {n:>6}"
        yield "contacts: " + ", ".join(f"{k} {v}" for k, v in self.contacts.items())
        yield "rates: " + ", ".join(
            f"{name} {_pct(value)}"
            for name, value in (
                ("answered", s.answer_rate),
                ("contacts reached", s.delivery_rate),
                ("transferred", s.transfer_rate),
                ("abandoned", s.abandon_rate),
            )
        )
        if s.by_hour:
            yield f"per hour ({timezone}):"
            for hour, counts in s.by_hour.items():
                when = dt.datetime.fromisoformat(hour).strftime("%Y-%m-%d %H:00")
                parts = ", ".join(f"{o.value} {n}" for o, n in counts.items())
                yield f"  {when}  {sum(counts.values()):>5} attempts: {parts}"
        if s.by_caller_id:
            yield "per caller ID:"
            for number, figures in s.by_caller_id.items():
                yield (
                    f"  {number or '(none)':<16} {figures['attempts']:>6} attempts, "
                    f"{figures['answered']} answered"
                )
        if s.by_operator:
            yield "per operator (transferred calls):"
            for operator, n in s.by_operator.items():
                yield f"  {operator:<16} {n:>6}"
        if self.skipped:
            yield f"skipped contacts: {sum(x.count for x in self.skipped)}"
            for entry in self.skipped:
                more = ", ..." if entry.count > len(entry.examples) else ""
                yield f"  {entry.count:>6}  {entry.reason} (e.g. {', '.join(entry.examples)}{more})"
        yield f"SMS sent: {self.sms_sent or 0}"
        talk = f"talk: {s.talk_minutes:.1f} min"
        if self.priced:
            money = s.cost.quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_UP)
            talk += (
                f"; billed {s.billed_minutes.quantize(decimal.Decimal('0.01'))} min at "
                f"{s.rate_per_minute} per minute: cost {money}"
            )
        yield talk


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def campaign_report(
    store: Store,
    campaign: str,
    *,
    rate_per_minute: decimal.Decimal | int | float | str | None = None,
    billing_increment: int = 60,
    timezone: str = "UTC",
) -> CampaignReport:
    """Read one campaign's report from ``store``.

    Args:
        store: the campaign's store.
        campaign: its name.
        rate_per_minute: the price of a billed minute (None: no cost is reported).
        billing_increment: seconds each answered call is rounded up to (60: per minute).
        timezone: the zone of the per-hour counts.

    Raises:
        SettingsError: a bad rate, increment or zone (the message names it).
    """
    stats = CampaignStats.from_records(
        store.attempts(campaign),
        rate_per_minute=rate_per_minute if rate_per_minute is not None else 0,
        billing_increment=billing_increment,
        timezone=timezone,
    )
    states = {state.value: n for state, n in store.state_counts(campaign).items() if n}
    sms = store.get_meta(campaign, SMS_SENT_KEY)
    return CampaignReport(
        campaign=campaign,
        stats=stats,
        contacts=dict(sorted(states.items())),
        skipped=skipped_contacts(store, campaign) if states.get("skipped") else (),
        sms_sent=int(sms) if sms is not None and sms.isdigit() else None,
        priced=rate_per_minute is not None,
    )
