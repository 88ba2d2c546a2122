"""The speech plan: what one contact hears, as a sequence of spoken text, pauses and recordings.

A :class:`SpeechPlan` is the meeting point of the template language and the audio side. It is
made by :meth:`autoinformer.speech.Template.plan` (pure: template + contact + language) and
consumed three ways:

- :meth:`SpeechPlan.text` - plain normalised text, for engines without SSML and for previews;
- :meth:`SpeechPlan.ssml` - SSML with ``<break>`` and the words spelled out, for engines that
  take it;
- :meth:`SpeechPlan.units` - the list of synthesis units (text fragments, silences, files) the
  renderer turns into audio, either one unit per word of personal data ("fragment" mode: the
  cache is shared by every contact) or one unit per sentence ("sentence" mode: more natural,
  one engine call per distinct sentence).

Fragment mode keeps the sentence's breath: where the template (or a value) has a full stop or a
comma between two fragments, :meth:`SpeechPlan.units` with ``breaks=True`` puts a
:class:`Break` there, and the renderer fills it with the pause the engine itself makes at that
boundary in a whole sentence (measured once per engine and language), not the short join gap.
Names cost one fragment per part: a full name is split into its words (surname, first name,
patronymic), which repeat across a list far more than whole names do.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

import attrs

from autoinformer.speech.spelling import speakable_ssml, spell_letters

__all__ = [
    "SSML_NAMESPACE",
    "Boundary",
    "Break",
    "Mode",
    "Pause",
    "Play",
    "Say",
    "Silence",
    "SpeechPlan",
    "Synth",
    "Unit",
    "estimate_plan_seconds",
]

Mode = Literal["fragment", "sentence"]
Boundary = Literal["sentence", "clause"]

SSML_NAMESPACE = "http://www.w3.org/2001/10/synthesis"
"""The SSML namespace; engines that validate SSML (cloud engines) require it on ``<speak>``."""

_PUNCT_EDGES = " \t\n,.;:!?\u2026\u00bb\u00ab\"'()"


@attrs.frozen
class Say:
    """Words to speak.

    Attributes:
        text: the normalised words (numbers already spelled out).
        fixed: True when the words come from the template itself (the same for every contact),
            False when they come from a contact's variables.
        chunks: how the words split into cacheable fragments (one chunk for fixed text and for
            names; one chunk per word for read-as spans and numbers).
        say_as: the read-as kind (``digits``, ``letters``, ``date``, ``currency``, ``number``,
            ``time``) or None for running text.
        raw: the written form before reading (``"VIP"``, ``"2026-01-16"``), for SSML.
    """

    text: str
    fixed: bool = True
    chunks: tuple[str, ...] = ()
    say_as: str | None = None
    raw: str = ""


@attrs.frozen
class Pause:
    """Silence of ``ms`` milliseconds (``<stop:1s>``)."""

    ms: int


@attrs.frozen
class Play:
    """A prerecorded file played at this point (``<audio:greeting.mp3>``)."""

    path: str


Piece = Say | Pause | Play


@attrs.frozen
class Synth:
    """A synthesis unit: text (or an SSML document) an engine turns into one fragment."""

    text: str
    ssml: bool = False


@attrs.frozen
class Silence:
    """A synthesis unit: silence."""

    ms: int


@attrs.frozen
class Break:
    """A synthesis unit: the pause the engine makes at a sentence or clause boundary, between
    two fragments (fragment mode only; sentence mode leaves it inside the engine's text)."""

    kind: Boundary


Unit = Synth | Silence | Play | Break

_SENTENCE_MARKS = ".!?\u2026"
_CLAUSE_MARKS = ",;:"
# A value that reads as a name: 2-4 words of letters (hyphens, apostrophes, initials' dots).
_NAME = re.compile(r"^[^\W\d_][\w'\u2019.-]*(?: [^\W\d_][\w'\u2019.-]*){1,3}$")


def _boundary(marks: str, *, personal: bool = False) -> Boundary | None:
    """The boundary punctuation marks make (a dot in a value is an initial, not a stop)."""
    sentence = "!?\u2026" if personal else _SENTENCE_MARKS
    if any(c in sentence for c in marks):
        return "sentence"
    if any(c in _CLAUSE_MARKS for c in marks):
        return "clause"
    return None


def _stronger(a: Boundary | None, b: Boundary | None) -> Boundary | None:
    return "sentence" if "sentence" in (a, b) else a or b


def _spelled(piece: Say) -> str:
    """A ``<letters>`` reading as engines say letters inside a sentence ("A M" -> "A-M", a
    lone "A" -> "A-", not the article; "Б" -> "бэ", not the particle "бы")."""
    letters = piece.text.split()
    if not letters or not all(len(c) == 1 and c.isalpha() and c.isupper() for c in letters):
        return piece.text
    return spell_letters("".join(letters))


def _name_parts(piece: Say) -> tuple[str, ...]:
    """A plain personal value that reads as a name, split into its parts (one fragment each:
    "Ivanov Ivan Petrovich" shares "Ivan" with every other Ivan)."""
    if piece.fixed or piece.say_as is not None or len(piece.chunks) > 1:
        return piece.chunks
    text = _SPACES.sub(" ", piece.text.strip())
    if _NAME.match(text.strip(_PUNCT_EDGES)):
        return tuple(text.split(" "))
    return piece.chunks


_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?\u2026])")


def _tidy(text: str) -> str:
    return _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", text).strip())


# Template phrases repeat for every contact: tidy each once.
_tidy_phrase = lru_cache(maxsize=4096)(_tidy)


@attrs.frozen
class SpeechPlan:
    """What one contact hears, in order.

    Attributes:
        pieces: spoken text, pauses and prerecorded files, in order.
        lang: the language code the words are in.
    """

    pieces: tuple[Piece, ...]
    lang: str = "en"

    def text(self) -> str:
        """Plain normalised text: the words only (pauses and recordings are left out)."""
        return _tidy(" ".join(p.text for p in self.pieces if isinstance(p, Say)))

    def ssml(self) -> str:
        """SSML 1.1 for engines that take it: ``<break time="..."/>`` for pauses, ``<audio
        src=...>`` for recordings. Well-formed XML in the SSML namespace; the language tag is
        the plan's (``en``, ``ru``, ``pt-BR``).

        Read-as spans are written out in words, as in plain text ("one three eight"), not as
        ``<say-as interpret-as="digits">138</say-as>``: engines differ in which ``say-as``
        values they obey (espeak-ng reads ``digits`` as one number, "thirteen billion..."),
        while every engine reads words as words."""
        out: list[str] = []
        for piece in self.pieces:
            if isinstance(piece, Pause):
                out.append(f'<break time="{piece.ms}ms"/>')
            elif isinstance(piece, Play):
                out.append(f"<audio src={quoteattr(piece.path)}/>")
            else:
                out.append(escape(piece.text))
        body = _tidy(" ".join(out))
        lang = quoteattr(self.lang.replace("_", "-"))  # BCP 47: pt-BR, not pt_BR
        return f'<speak version="1.1" xmlns="{SSML_NAMESPACE}" xml:lang={lang}>{body}</speak>'

    def ssml_units(self) -> list[Unit]:
        """Units for SSML engines: one SSML document per stretch between recordings, with
        the pauses inside it as ``<break>`` (the engine times them, prosody flows across)."""
        units: list[Unit] = []
        group: list[Piece] = []

        def flush() -> None:
            if any(isinstance(p, Say) and p.text.strip(_PUNCT_EDGES) for p in group):
                spelled = tuple(
                    attrs.evolve(p, text=_spelled(p))
                    if isinstance(p, Say) and p.say_as == "letters"
                    else p
                    for p in group
                )
                document = SpeechPlan(spelled, self.lang).ssml()
                units.append(Synth(speakable_ssml(document), ssml=True))
            elif group:  # pauses only
                units.extend(Silence(p.ms) for p in group if isinstance(p, Pause))
            group.clear()

        for piece in self.pieces:
            if isinstance(piece, Play):
                flush()
                units.append(piece)
            else:
                group.append(piece)
        flush()
        return units

    def units(self, mode: Mode = "fragment", *, breaks: bool = False) -> list[Unit]:
        """The synthesis units for the renderer.

        Args:
            mode: ``"fragment"``: fixed text is one unit per template phrase, personal data one
                unit per word (a name one unit per part), so 100,000 different balances share
                a few hundred fragments. ``"sentence"``: every run of words between
                pauses/recordings is one unit (more natural prosody; one engine call per
                distinct sentence).
            breaks: in fragment mode, put a :class:`Break` between two fragments where a full
                stop or a comma separates them (the renderer asks for it; plain listings of
                the fragments leave it out).

        Returns:
            Units in playing order; a :class:`Break` only ever stands between two
            :class:`Synth` units.
        """
        units: list[Unit] = []
        run: list[str] = []
        pending: Boundary | None = None

        def flush() -> None:
            text = _tidy(" ".join(run))
            if text.strip(_PUNCT_EDGES):
                units.append(Synth(text))
            run.clear()

        def say(clean: str) -> None:
            nonlocal pending
            if breaks and pending is not None and units and isinstance(units[-1], Synth):
                units.append(Break(pending))
            pending = None
            units.append(Synth(clean))

        for piece in self.pieces:
            if isinstance(piece, Pause):
                flush()
                pending = None
                units.append(Silence(piece.ms))
            elif isinstance(piece, Play):
                flush()
                pending = None
                units.append(piece)
            elif mode == "sentence":
                run.append(_spelled(piece) if piece.say_as == "letters" else piece.text)
            else:
                for chunk in _name_parts(piece) or (piece.text,):
                    # Template phrases keep their final punctuation (it shapes intonation);
                    # personal words lose it so "roubles," and "roubles" share a fragment.
                    if piece.fixed:
                        tidy = _tidy_phrase(chunk)
                        clean = tidy.lstrip(_PUNCT_EDGES)
                        lead, trail = tidy[: len(tidy) - len(clean)], clean
                    else:  # already single words from a reading
                        clean = chunk.strip(_PUNCT_EDGES)
                        lead = chunk[: len(chunk) - len(chunk.lstrip(_PUNCT_EDGES))]
                        trail = chunk[len(chunk.rstrip(_PUNCT_EDGES)) :]
                    personal = not piece.fixed
                    pending = _stronger(pending, _boundary(lead, personal=personal))
                    if clean.strip(_PUNCT_EDGES):
                        say(clean)
                        end = trail[len(trail.rstrip(_PUNCT_EDGES)) :]
                        pending = _boundary(end, personal=personal)
        flush()
        return units


def estimate_plan_seconds(
    plan: SpeechPlan,
    *,
    chars_per_second: float = 14.0,
    play_seconds: float = 0.0,
) -> float:
    """Roughly how long a plan plays: words at ``chars_per_second`` plus the pauses.

    Telephone TTS speaks about 150 words a minute, ~14 characters a second in English (the
    rate is per language in the renderer). Recordings count ``play_seconds`` each unless the
    caller knows better.
    """
    seconds = len(plan.text()) / chars_per_second
    for piece in plan.pieces:
        if isinstance(piece, Pause):
            seconds += piece.ms / 1000
        elif isinstance(piece, Play):
            seconds += play_seconds
    return seconds
