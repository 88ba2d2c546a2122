"""When the switch lets the dialer place calls: back-off after refusals, probes in an outage.

A part of the sans-IO core. A switch that refuses originates (overloaded) or cannot be reached
at all is not hammered: dialling pauses (1, 2, 4... s, up to :data:`MAX_BACKOFF` after
refusals, :data:`MAX_PROBE_INTERVAL` between probes of a switch that cannot be reached) and
then *probes*: one call at a time, the next only after the switch reported something about the
last one, or reconnected. The same hold keeps dialling back while no caller ID is free.
"""

from __future__ import annotations

import attrs

__all__ = ["MAX_BACKOFF", "MAX_PROBE_INTERVAL", "Throttle"]

MAX_BACKOFF = 60.0
"""Longest pause in dialling after the switch refused originates in a row (1, 2, 4... s)."""
MAX_PROBE_INTERVAL = 30.0
"""Longest pause between two probes of a switch that could not be reached (1, 2, 4... s)."""


@attrs.define
class Throttle:
    """The dialling pause and the probe in flight.

    Attributes:
        hold_until: no call is placed before this time (POSIX seconds).
        probing: after a refusal: one call at a time until the switch takes one.
        probe: the call id of the probe in flight (None: none).
        switch_down: the switch could not be reached (attempts are not placed).
    """

    hold_until: float = 0.0
    probing: bool = False
    probe: str | None = None
    switch_down: bool = False
    _backoff: float = 0.0
    _probe_backoff: float = 0.0

    def reported(self, call_id: str) -> None:
        """The switch reported on call ``call_id``: if it is the probe, the switch is back."""
        if self.probe is not None and call_id == self.probe:
            self.back()

    def back(self) -> None:
        """The switch took a probe (or reconnected): dial as the pacing wants again."""
        if self.probing:
            self.probing = self.switch_down = False
            self.probe = None
            self._probe_backoff = 0.0
            self.hold_until = 0.0

    def answered(self) -> None:
        """A call was answered: the refusals' back-off starts over."""
        self._backoff = 0.0

    def refused(self, now: float, call_id: str) -> None:
        """The switch refused the originate of ``call_id``: back off and probe."""
        self.probing = True
        if self.probe == call_id:
            self.probe = None
        self._backoff = min(MAX_BACKOFF, max(1.0, self._backoff * 2))
        self.hold_until = max(self.hold_until, now + self._backoff)

    def unreachable(self, now: float, call_id: str) -> None:
        """The originate of ``call_id`` never reached the switch: the switch is down; the next
        call is a single probe after a back-off."""
        if self.probe == call_id or not self.switch_down:
            self._probe_backoff = min(MAX_PROBE_INTERVAL, max(1.0, self._probe_backoff * 2))
            self.hold_until = max(self.hold_until, now + self._probe_backoff)
        if self.probe == call_id:
            self.probe = None
        self.switch_down = self.probing = True

    def waiting(self) -> bool:
        """True while a probe is in flight: no other call is placed until the switch reports."""
        return self.probing and self.probe is not None

    def allowed(self, wanted: int) -> int:
        """How many of ``wanted`` calls may go out now (one at a time while probing)."""
        return min(wanted, 1) if self.probing else wanted

    def placed(self, call_id: str) -> None:
        """A call was placed: while probing it is the probe."""
        if self.probing:
            self.probe = call_id
