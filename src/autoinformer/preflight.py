"""Checks a campaign passes before anyone is called: fail early, fail loud.

- :func:`check_media`: every file the script names (``play`` steps, menu prompts and options,
  the abandon message, hold music) exists, decodes, and is within length and size limits.
  :func:`~autoinformer.campaign_file.load_campaign_file` runs it, so ``autoinformer run``
  stops on ``play = "greting.wav"`` before the first call instead of recording every attempt
  as a failed playback.
- :func:`check_templates`: every ``say`` template's variables are columns of the contact list
  (``{BALANSE|abs}`` against a list with ``BALANCE`` stops the run, naming the step).
- :func:`check_backend`: the switch can reach the audio the script plays: an Asterisk (ARI)
  needs ``sounds_dir`` or ``audio = "http"`` for recordings and synthesised speech; a
  FreeSWITCH (ESL) whose ``audio_dir`` is mapped (``switch_audio_dir``, ``audio_url``) sees
  only the files under it. Found here, not at the first call's first playback. With several
  switches (``[[backend]]``, kind ``multi``) every one of them is checked, its errors naming
  its entry (``backend[1].sounds_dir``).
- :func:`overnight_hours`: calling hours that run past midnight (``20:00-09:00``), which
  the CLI points out, since it is more often a slip than a night shift.

Each check raises :class:`~autoinformer.errors.SettingsError` whose ``field`` is the dotted key
of the campaign file (``script[1].say``, ``queues.operators.hold_music``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from autoinformer.campaign import Campaign
from autoinformer.contacts.model import Contact
from autoinformer.errors import SettingsError, TemplateError
from autoinformer.policy.schedule import CallWindow
from autoinformer.script.steps import Menu, Play, Script, Step

__all__ = [
    "MAX_HOLD_MUSIC_BYTES",
    "MAX_HOLD_MUSIC_SECONDS",
    "MAX_MESSAGE_BYTES",
    "MAX_MESSAGE_SECONDS",
    "check_backend",
    "check_media",
    "check_templates",
    "list_columns",
    "media_files",
    "overnight_hours",
]

MAX_MESSAGE_SECONDS = 300.0
"""The longest recording a script may play (a message, a prompt, the abandon message)."""
MAX_MESSAGE_BYTES = 20_000_000
"""The largest recording file a script may play."""
MAX_HOLD_MUSIC_SECONDS = 3600.0
"""The longest hold music (it loops while the callee waits for an operator)."""
MAX_HOLD_MUSIC_BYTES = 200_000_000
"""The largest hold music file."""

_BUILTIN_PREFIXES = ("sound:", "tone_stream:", "builtin:")


def media_files(campaign: Campaign) -> Iterator[tuple[str, str]]:
    """(dotted key, file) for every recording the campaign plays; switch sounds
    (``sound:...``) are not files and are left out."""
    for i, step in enumerate(campaign.script.steps):
        yield from _step_files(step, f"script[{i}]")
    if campaign.abandon_message is not None:
        yield "campaign.abandon_message", campaign.abandon_message
    for queue in campaign.queues.values():
        if queue.hold_music is not None:
            yield f"queues.{queue.name}.hold_music", queue.hold_music


def _step_files(step: Step, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(step, Play):
        yield f"{where}.play", step.file
    elif isinstance(step, Menu):
        if isinstance(step.prompt, Play):
            yield f"{where}.menu", step.prompt.file
        for digit, steps in step.options.items():
            for option in steps:
                if isinstance(option, Play):
                    yield f"{where}.options.{digit}", option.file


def check_media(campaign: Campaign) -> None:
    """Check every recording the campaign plays (see the module docstring).

    Relative paths are taken from the current directory (the campaign file loader has
    already made them relative to the file).

    Raises:
        SettingsError: a file is missing, not an mp3 or wav file, cannot be decoded, or is
            too long or too big; ``field`` is its key (``script[0].play``), the message names
            the file and what is wrong with it.
    """
    from autoinformer.speech.audio import check_recording
    from autoinformer.speech.errors import AudioFileError

    checked: set[tuple[str, bool]] = set()
    for where, file in media_files(campaign):
        if file.startswith(_BUILTIN_PREFIXES):
            continue
        hold = where.endswith(".hold_music")
        if (file, hold) in checked:
            continue
        try:
            check_recording(
                Path(file),
                max_seconds=MAX_HOLD_MUSIC_SECONDS if hold else MAX_MESSAGE_SECONDS,
                max_bytes=MAX_HOLD_MUSIC_BYTES if hold else MAX_MESSAGE_BYTES,
            )
        except AudioFileError as exc:
            raise SettingsError(where, f"{file}: {exc.message}") from None
        checked.add((file, hold))


def check_backend(
    campaign: Campaign,
    kind: str,
    settings: Mapping[str, Any],
    *,
    speech_dir: Path | None = None,
) -> None:
    """Check that the switch ``kind`` with these ``[backend]`` settings can play what the
    campaign plays (see the module docstring); ``sim`` needs nothing.

    Args:
        campaign: the campaign (its script, abandon message and hold music).
        kind: ``ari``, ``esl``, ``sim``, or ``multi`` for ``[[backend]]`` entries.
        settings: the ``[backend]`` table as the backend's constructor takes it; for
            ``multi``, ``{"switches": entries}`` (:class:`~autoinformer.campaign_file.
            BackendEntry`, as :attr:`CampaignFile.backend_settings
            <autoinformer.campaign_file.CampaignFile.backend_settings>` has them).
        speech_dir: where ``say`` steps are rendered (the speech cache), when the caller knows.

    Raises:
        SettingsError: the field is the backend key to set (``backend.sounds_dir``) or the
            script's key of a file the switch could not see (``script[0].play``).
    """
    if kind == "multi":
        for entry in settings.get("switches", ()):
            try:
                check_backend(campaign, entry.kind, entry.settings, speech_dir=speech_dir)
            except SettingsError as exc:
                field = exc.field
                if field.startswith("backend."):
                    field = entry.key + field.removeprefix("backend")
                raise SettingsError(field, f"{entry.name}: {exc.message}") from None
        return
    files = [
        (where, f) for where, f in media_files(campaign) if not f.startswith(_BUILTIN_PREFIXES)
    ]
    says = list(campaign.script.located_templates())
    if kind == "ari":
        audio = settings.get("audio", "sounds_dir")
        if audio == "sounds_dir" and not settings.get("sounds_dir") and (files or says):
            where, what = files[0] if files else (says[0][0], "synthesised speech")
            raise SettingsError(
                "backend.sounds_dir",
                f"the script plays audio files ({where}: {what}) and Asterisk can only play "
                "files it can see: set sounds_dir (our path of the directory Asterisk knows "
                'as sounds/autoinformer) or audio = "http" with media_url and media_dir',
            )
    elif kind == "esl":
        audio_dir = settings.get("audio_dir")
        mapped = settings.get("switch_audio_dir") or settings.get("audio_url")
        if not (audio_dir and mapped):
            return  # played by their own path: the switch shares our file system
        root = Path(str(audio_dir)).resolve()
        for where, file in files:
            if not Path(file).resolve().is_relative_to(root):
                raise SettingsError(
                    where,
                    f"{file} is not inside backend.audio_dir {audio_dir}, the only directory "
                    "the switch sees (switch_audio_dir / audio_url): move it there",
                )
        if says and speech_dir is not None and not speech_dir.resolve().is_relative_to(root):
            raise SettingsError(
                "speech.cache",
                f"synthesised speech is written to {speech_dir}, outside backend.audio_dir "
                f"{audio_dir}, the only directory the switch sees: set [speech] cache to a "
                "directory inside it",
            )


def list_columns(contacts: Iterable[Contact]) -> list[str]:
    """The variable names (columns) the contacts have between them, in first-seen order."""
    seen: dict[str, None] = {}
    for contact in contacts:
        seen.update(dict.fromkeys(contact.variables))
    return list(seen)


def check_templates(script: Script, columns: Iterable[str]) -> None:
    """Check that every ``say`` template's variables are among ``columns`` (any case;
    ``name`` and ``phone`` always are).

    Raises:
        SettingsError: ``field`` is the template's key (``script[1].say``), the message
            names the unknown variable(s) and the list's columns:
            ``unknown variable BALANSE (the list has: BALANCE, DUE)``.
    """
    from autoinformer.speech import Template

    known = list(columns)
    for where, text in script.located_templates():
        try:
            unknown = Template.parse(text).unknown(known)
        except TemplateError as exc:  # pragma: no cover - the campaign parsed it already
            raise SettingsError(where, str(exc)) from None
        if unknown:
            word = "variable" if len(unknown) == 1 else "variables"
            has = ", ".join(known) if known else "no variable columns"
            raise SettingsError(where, f"unknown {word} {', '.join(unknown)} (the list has: {has})")


def overnight_hours(window: CallWindow) -> list[str]:
    """The calling hours that run past midnight, as ``"mon 20:00-09:00"`` (empty when none).

    A range reaching 24:00 on one day that goes on from 00:00 the next day is one night span
    (how :meth:`CallWindow.parse` stores ``hours = "20:00-09:00"``); a day open around the
    clock is not one.
    """
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    out = []
    for day, ranges in enumerate(window.weekly):
        if not ranges or ranges[-1].end != 24 * 60 or ranges[-1].start == 0:
            continue
        following = window.weekly[(day + 1) % 7]
        if following and following[0].start == 0 and following[0].end != 24 * 60:
            start, end = ranges[-1].start, following[0].end
            out.append(
                f"{names[day]} {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
            )
    return out
