"""Call scripts: the steps (play, say, menu, transfer, callback, opt_out, hangup) and the
per-call state machine that runs them. See ``docs/scripts.md``."""

from autoinformer.script.machine import ScriptRun
from autoinformer.script.steps import (
    Callback,
    Hangup,
    Menu,
    OptOut,
    Play,
    Say,
    Script,
    Step,
    Transfer,
    callback,
    hangup,
    menu,
    opt_out,
    parse_action,
    play,
    say,
    transfer,
)

__all__ = [
    "Callback",
    "Hangup",
    "Menu",
    "OptOut",
    "Play",
    "Say",
    "Script",
    "ScriptRun",
    "Step",
    "Transfer",
    "callback",
    "hangup",
    "menu",
    "opt_out",
    "parse_action",
    "play",
    "say",
    "transfer",
]
