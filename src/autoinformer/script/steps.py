"""Call-script steps: what a call does once a person answers.

A script is a short list of steps, values that say *what* happens; the per-call state machine in
:mod:`autoinformer.script.machine` decides *when*. Seed 000's flow is four lines::

    Script.of(
        play("greeting.wav"),
        say("Your debt is <currency>{BALANCE|abs} RUB</currency>."),
        menu("Press 1 to talk to an operator.", {"1": transfer("operators")}),
    )

Menu options are steps too (or a tuple of steps, played in order); after an option that does
not end the call (``play``, ``say``, ``callback``) the script carries on after the menu.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from autoinformer.backends.base import Media
from autoinformer.errors import SettingsError

__all__ = [
    "DIGITS",
    "Callback",
    "Hangup",
    "Menu",
    "OptOut",
    "Play",
    "Say",
    "Script",
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

DIGITS = frozenset("0123456789*#ABCD")
"""The DTMF keys a menu option may use."""

_BUILTIN_PREFIXES = ("sound:", "tone_stream:", "builtin:")


@attrs.frozen
class Play:
    """Play a prerecorded file (or a sound the switch has: ``sound:hello-world``)."""

    file: str

    def __attrs_post_init__(self) -> None:
        if not self.file.strip():
            raise SettingsError("play", "needs a file name")

    def media(self) -> Media:
        """The :class:`Media` a switch plays for this step."""
        if self.file.startswith(_BUILTIN_PREFIXES):
            return Media(builtin=self.file.removeprefix("builtin:"))
        return Media(path=Path(self.file))


@attrs.frozen
class Say:
    """Speak a personalised template (see ``docs/speech.md`` for the template language)."""

    template: str

    def __attrs_post_init__(self) -> None:
        if not self.template.strip():
            raise SettingsError("say", "needs a text template")


@attrs.frozen
class Transfer:
    """Hand the call to an operator of queue ``queue`` (outcome ``transferred``)."""

    queue: str

    def __attrs_post_init__(self) -> None:
        if not self.queue.strip():
            raise SettingsError("transfer", "needs a queue name")


@attrs.frozen
class Callback:
    """Run the application's hook ``name``; its answer is recorded on the attempt.

    The hook runs outside the event path (see the runtime); the script waits for its answer
    (at most the campaign's ``callback_timeout``) and then carries on.
    """

    name: str

    def __attrs_post_init__(self) -> None:
        if not self.name.strip():
            raise SettingsError("callback", "needs a hook name")


@attrs.frozen
class OptOut:
    """The callee asked not to be called again: the number goes to the do-not-call list."""


@attrs.frozen
class Hangup:
    """End the call here (the message counts as heard to the end)."""


Prompt = Play | Say


def _convert_prompt(value: Prompt | str) -> Prompt:
    return Say(value) if isinstance(value, str) else value


def _convert_options(value: Mapping[str, object]) -> Mapping[str, tuple[Step, ...]]:
    out: dict[str, tuple[Step, ...]] = {}
    for digit, action in value.items():
        key = str(digit)
        if key not in DIGITS:
            raise SettingsError("menu.options", f"{key!r} is not a DTMF key (0-9, *, #, A-D)")
        out[key] = _as_steps(action, f"menu.options.{key}")
    return out


def _as_steps(action: object, field: str) -> tuple[Step, ...]:
    if isinstance(action, str):
        return (parse_action(action, field=field),)
    if isinstance(action, _STEP_TYPES):
        if isinstance(action, Menu):
            raise SettingsError(field, "a menu option cannot be another menu")
        return (action,)
    if isinstance(action, Sequence) and action:
        steps: list[Step] = []
        for item in action:
            steps.extend(_as_steps(item, field))
        return tuple(steps)
    raise SettingsError(field, f"expected a step, a step string or a list of steps, got {action!r}")


@attrs.frozen
class Menu:
    """Play ``prompt`` and act on the digit the callee presses.

    Attributes:
        prompt: what to play (a template string is a :class:`Say`).
        options: digit -> step(s). Digits pressed before the menu starts count (type-ahead).
        timeout: seconds to wait for a digit after the prompt ends.
        retries: how many times the prompt is repeated after no input or a wrong key; then the
            script carries on after the menu.
    """

    prompt: Prompt = attrs.field(converter=_convert_prompt)
    options: Mapping[str, tuple[Step, ...]] = attrs.field(converter=_convert_options, hash=False)
    timeout: float = 5.0
    retries: int = 1

    def __attrs_post_init__(self) -> None:
        if not self.options:
            raise SettingsError("menu.options", "needs at least one digit")
        if not 0 < self.timeout <= 120:
            raise SettingsError("menu.timeout", f"expected 0 < seconds <= 120, got {self.timeout}")
        if not 0 <= self.retries <= 10:
            raise SettingsError("menu.retries", f"expected 0..10, got {self.retries}")


Step = Play | Say | Menu | Transfer | Callback | OptOut | Hangup
_STEP_TYPES = (Play, Say, Menu, Transfer, Callback, OptOut, Hangup)


def parse_action(text: str, *, field: str = "action") -> Step:
    """A step from its short form: ``transfer:Q``, ``callback:NAME``, ``play:FILE``,
    ``say:TEXT``, ``opt_out``, ``hangup``.

    Raises:
        SettingsError: the text is none of those (the message names ``field``).
    """
    kind, sep, arg = text.partition(":")
    kind = kind.strip().lower()
    if kind in ("opt_out", "optout") and not arg:
        return OptOut()
    if kind == "hangup" and not arg:
        return Hangup()
    makers: dict[str, Callable[[str], Step]] = {
        "transfer": Transfer,
        "callback": Callback,
        "play": Play,
        "say": Say,
    }
    if sep and kind in makers and arg.strip():
        return makers[kind](arg.strip())
    raise SettingsError(
        field,
        "expected transfer:QUEUE, callback:NAME, play:FILE, say:TEXT, opt_out or hangup, "
        f"got {text!r}",
    )


def _convert_steps(value: Step | Sequence[Step]) -> tuple[Step, ...]:
    # ``Script(say(...))``: one step is a script of one step, not an iterable to unpack
    if isinstance(value, _STEP_TYPES):
        return (value,)
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise SettingsError(
            "script", f"expected steps like Script.of(say('...'), ...), got {value!r}"
        )
    return tuple(value)


@attrs.frozen
class Script:
    """The steps of a call, in order."""

    steps: tuple[Step, ...] = attrs.field(converter=_convert_steps)

    def __attrs_post_init__(self) -> None:
        if not self.steps:
            raise SettingsError("script", "needs at least one step")
        for i, step in enumerate(self.steps):
            if not isinstance(step, _STEP_TYPES):
                raise SettingsError(f"script[{i}]", f"expected a step, got {step!r}")

    @classmethod
    def of(cls, *steps: Step) -> Script:
        """A script from its steps: ``Script.of(play(...), say(...), menu(...))``."""
        return cls(steps)

    def walk(self) -> list[Step]:
        """Every step, menu prompts and options included (for validation)."""
        out: list[Step] = []
        for step in self.steps:
            out.append(step)
            if isinstance(step, Menu):
                out.append(step.prompt)
                for steps in step.options.values():
                    out.extend(steps)
        return out

    def located_templates(self) -> list[tuple[str, str]]:
        """(where, template) for every ``say`` text: ``script[1].say``,
        ``script[2].menu``, ``script[2].options.1``."""
        out: list[tuple[str, str]] = []
        for i, step in enumerate(self.steps):
            where = f"script[{i}]"
            if isinstance(step, Say):
                out.append((f"{where}.say", step.template))
            elif isinstance(step, Menu):
                if isinstance(step.prompt, Say):
                    out.append((f"{where}.menu", step.prompt.template))
                for digit, steps in step.options.items():
                    out += [
                        (f"{where}.options.{digit}", s.template)
                        for s in steps
                        if isinstance(s, Say)
                    ]
        return out

    def templates(self) -> list[str]:
        """The text of every ``say`` step (to check variables before anyone is called)."""
        return [s.template for s in self.walk() if isinstance(s, Say)]

    def queues(self) -> set[str]:
        """The queues the script may transfer to."""
        return {s.queue for s in self.walk() if isinstance(s, Transfer)}

    def callbacks(self) -> set[str]:
        """The application hooks the script may run."""
        return {s.name for s in self.walk() if isinstance(s, Callback)}

    def files(self) -> list[str]:
        """The prerecorded files the script plays."""
        return [s.file for s in self.walk() if isinstance(s, Play)]


def play(file: str | Path) -> Play:
    """Play a prerecorded file (WAV/MP3) or a switch sound (``sound:NAME``)."""
    return Play(str(file))


def say(template: str) -> Say:
    """Speak a template with the contact's variables: ``say("Your debt is {BALANCE|abs}")``."""
    return Say(template)


def menu(
    prompt: Prompt | str,
    options: Mapping[str, Step | Sequence[Step] | str],
    *,
    timeout: float = 5.0,
    retries: int = 1,
) -> Menu:
    """Play ``prompt`` and act on a digit: ``menu("Press 1...", {"1": transfer("ops")})``."""
    return Menu(prompt, options, timeout=timeout, retries=retries)


def transfer(queue: str) -> Transfer:
    """Connect the callee to an operator of ``queue``."""
    return Transfer(queue)


def callback(name: str) -> Callback:
    """Run the app's hook ``name`` and record its answer (seed 003: cancel the order)."""
    return Callback(name)


def opt_out() -> OptOut:
    """Put the number on the do-not-call list and end the call."""
    return OptOut()


def hangup() -> Hangup:
    """End the call."""
    return Hangup()
