"""A parsed template's pieces: text, variables, pauses, read-as spans, recordings.

Their own module so that the parser (:mod:`autoinformer.speech.template`) and the value checks
(:mod:`autoinformer.speech.checking`) both read them while neither imports the other's back.
"""

from __future__ import annotations

import attrs

__all__ = ["AudioNode", "Node", "PauseNode", "Span", "Text", "Var"]


@attrs.frozen
class Text:
    """Literal template text."""

    text: str
    position: int


@attrs.frozen
class Var:
    """A variable reference ``{NAME|abs}``."""

    name: str
    filters: tuple[str, ...]
    position: int


@attrs.frozen
class PauseNode:
    """``<stop:1s>``."""

    ms: int
    position: int


@attrs.frozen
class Span:
    """A read-as span ``<kind>...</kind>``, with its grammar attributes
    (``(("case", "genitive"),)``)."""

    kind: str
    parts: tuple[Text | Var, ...]
    position: int
    options: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class AudioNode:
    """``<audio:path>``."""

    path: str
    position: int


Node = Text | Var | PauseNode | Span | AudioNode
