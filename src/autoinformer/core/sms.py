"""The campaign's SMS rules (seed 004) as a pure decision: which text, if any, after an attempt.

``on_hangup`` follows a call a person answered; ``on_missed`` a missed call (no answer, busy,
rejected, unreachable). Whether a missed-call text waits for the last attempt
(``missed_when="final"``) and whether the number is on the do-not-call list is for the caller
to check; this module only says which rule applies and renders its text.
"""

from __future__ import annotations

from collections.abc import Mapping

from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.outcomes import MISSED_OUTCOMES, Outcome
from autoinformer.speech import Template

__all__ = ["PERSON_OUTCOMES", "sms_for"]

PERSON_OUTCOMES = frozenset(
    {
        Outcome.DELIVERED,
        Outcome.HUNG_UP_EARLY,
        Outcome.TRANSFERRED,
        Outcome.ABANDONED,
        Outcome.AGENT_ERROR,
    }
)
"""Outcomes after which a person hung up: the "SMS on hang-up" rule applies."""


def sms_for(
    campaign: Campaign,
    templates: Mapping[str, Template],
    contact: Contact,
    number: str,
    outcome: Outcome,
) -> c.SendSms | None:
    """The text the rules send after an attempt with ``outcome`` (None: no rule applies)."""
    rules = campaign.sms
    if outcome in PERSON_OUTCOMES and rules.on_hangup is not None:
        text, rule = rules.on_hangup, "on_hangup"
    elif outcome in MISSED_OUTCOMES and rules.on_missed is not None:
        text, rule = rules.on_missed, "on_missed"
    else:
        return None
    rendered = templates[text].render_text(contact, campaign.lang)
    return c.SendSms(number, rendered, contact.id, rule)
