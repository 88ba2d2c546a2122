"""Errors of the speech subsystem, placed in the library's one exception tree.

``EngineError`` is a backend-like failure (a binary missing, a service unreachable, audio that
cannot be decoded); ``AudioFileError`` is bad input (an upload that is too long, too big or not
audio); ``CacheError`` is the fragment cache's disk failing.
"""

from __future__ import annotations

from autoinformer.errors import AutoinformerError, InputError

__all__ = ["AudioFileError", "CacheError", "EngineError"]


class EngineError(AutoinformerError):
    """A speech engine failed to synthesise (missing binary, service unreachable, bad audio)."""


class AudioFileError(InputError):
    """A recording cannot be used: wrong format, too long, too big or unreadable.

    Attributes:
        path: the file concerned.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


class CacheError(AutoinformerError):
    """The fragment cache could not read or write its directory."""
