"""The core dials within the lines the switch says it can carry now (``LinesAvailable``: a
switch set with members away), and within a worker's grant and the campaign's lines."""

from __future__ import annotations

from autoinformer.backends.base import CallEnded, LinesAvailable
from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.core import commands as c
from autoinformer.core import events as e
from autoinformer.core.dialer import DialerCore
from autoinformer.outcomes import HangupCause
from autoinformer.policy.retry import RetryPolicy
from autoinformer.script import Script, play

NOW = 1_767_261_600.0  # 2026-01-01 10:00 UTC


def _core() -> DialerCore:
    campaign = Campaign(
        name="lines",
        timezone="UTC",
        script=Script.of(play("sound:message")),
        lines=10,
        retry=RetryPolicy.simple(attempts=2, interval="2m"),
    )
    return DialerCore(campaign=campaign)


def _originates(commands: list[c.Command]) -> list[c.Originate]:
    return [cmd for cmd in commands if isinstance(cmd, c.Originate)]


CONTACTS = [Contact(id=f"c{i}", phones=(f"+7950000{i:04d}",)) for i in range(30)]


def test_the_switch_s_lines_cap_the_calls_and_their_return_lifts_it() -> None:
    core = _core()
    assert core.switch_lines is None
    assert _originates(core.handle(NOW, LinesAvailable(4))) == []
    assert len(_originates(core.handle(NOW, e.ContactsAdded(CONTACTS)))) == 4
    assert core.lines_wanted == 4  # a worker claims no line the switches cannot carry
    # fewer lines now: nothing is hung up, nothing placed until the calls fit under them
    out = core.handle(NOW + 1, LinesAvailable(2))
    assert _originates(out) == []
    assert not [cmd for cmd in out if isinstance(cmd, c.Hangup)]
    for call_id in list(core.calls)[:2]:
        assert _originates(core.handle(NOW + 2, CallEnded(call_id, HangupCause.USER_BUSY))) == []
    assert len(core.calls) == 2
    # every member back: the campaign's own lines again (None: no limit of the switch's)
    assert len(_originates(core.handle(NOW + 3, LinesAvailable(None)))) == 8
    assert len(core.calls) == 10


def test_every_switch_away_places_nothing_and_a_grant_still_caps() -> None:
    core = _core()
    core.handle(NOW, LinesAvailable(0))
    assert _originates(core.handle(NOW, e.ContactsAdded(CONTACTS))) == []
    core.handle(NOW + 1, e.LinesGranted(3))
    assert _originates(core.handle(NOW + 1, LinesAvailable(8))) != []
    assert len(core.calls) == 3  # the smaller of the worker's grant and the switch's lines
