"""FreeSWITCH over the inbound Event Socket (ESL).

- :mod:`.parser`: the sans-IO framing parser (bytes in, messages and events out).
- :mod:`.client`: one anyio TCP connection: auth, subscriptions, commands and their replies.
- :mod:`.commands`: dial strings, channel variables and media arguments (pure).
- :mod:`.calls`: the call table: events in, SwitchEvents and actions out (no I/O).
- :mod:`.settings`: :class:`~.settings.EslSettings`, the ``[backend]`` settings, checked.
- :mod:`.switch`: :class:`EslSwitch`, the :class:`~autoinformer.backends.base.Switch` on top.
"""

from autoinformer.backends.esl.parser import EslEvent, EslMessage, EslParser, EslProtocolError
from autoinformer.backends.esl.switch import EslSwitch

__all__ = ["EslEvent", "EslMessage", "EslParser", "EslProtocolError", "EslSwitch"]
