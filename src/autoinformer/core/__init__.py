"""The sans-IO dialer core: ``commands = core.handle(now, event)``.

See :mod:`autoinformer.core.dialer` for the decisions, :mod:`.events` for what goes in and
:mod:`.commands` for what comes out.
"""

from autoinformer.core import commands, events
from autoinformer.core.dialer import DialerCore, DoNotCall, call_id_for

__all__ = ["DialerCore", "DoNotCall", "call_id_for", "commands", "events"]
