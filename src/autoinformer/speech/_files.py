"""Atomic file writes for speech output (messages, cached fragments).

A file is written under a unique temporary name in the target's directory and renamed over the
target, so a switch or a second process never sees half a file. The temporary file is created
with ``os.open(..., 0o666)``, which the kernel masks with the process umask: the result has the
mode any new file would have (0644 under umask 022), so a switch running as another user
(FreeSWITCH, Asterisk) can read it. ``tempfile.mkstemp`` would make it 0600 whatever the umask.
On any failure the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["write_atomic"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, with the umask's mode.

    Raises:
        OSError: the directory is not writable, or ``path`` is a directory; no temporary file
            is left behind.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, _FLAGS, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
