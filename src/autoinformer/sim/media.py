"""How long a recording plays on a simulated switch, or why it cannot play at all.

Both simulated switches (the async :class:`~autoinformer.backends.sim.SimSwitch` and the
virtual-time driver) read WAV headers with :mod:`wave` and fail a file they cannot read the way
a real switch does: ``PlaybackFinished(completed=False, error=...)``, which the core records as a
``failed`` attempt ("playback failed: ..."), never ``delivered``.
"""

from __future__ import annotations

import wave
from pathlib import Path

__all__ = ["playback_error", "wav_seconds"]


def wav_seconds(path: Path) -> tuple[float | None, str]:
    """``(seconds, "")`` for a readable WAV file, ``(None, why)`` for anything else."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate = wav.getframerate()
            if not rate:
                return None, "no sample rate in its header"
            return wav.getnframes() / rate, ""
    except FileNotFoundError:
        return None, "file not found"
    except IsADirectoryError:
        return None, "a directory, not a file"
    except PermissionError:
        return None, "permission denied"
    except (OSError, EOFError, wave.Error) as exc:
        return None, f"not a playable WAV file: {exc}"


def playback_error(path: Path, why: str) -> str:
    """The ``PlaybackFinished.error`` of a file the simulated switch cannot play."""
    return f"the simulated switch could not play {path} ({why})"
