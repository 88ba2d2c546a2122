"""Deliver our audio files to Asterisk and name them as ARI media URIs.

Two ways, chosen in the settings (``audio``):

- ``sounds_dir``: a directory both machines see (Asterisk's ``sounds/autoinformer``, mounted
  or local). A file is copied there once under its content hash and played as
  ``sound:autoinformer/<hash>`` (Asterisk picks the format by extension, so the WAV's suffix is
  kept on disk and left out of the URI).
- ``http``: the file is copied into ``media_dir``, which the user serves at ``media_url``;
  Asterisk 18+ fetches and caches ``sound:http://.../<hash>.wav`` itself.

The content hash makes re-plays free and makes two different recordings with the same file
name impossible to confuse. File I/O runs in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import anyio.to_thread
import attrs

from autoinformer.backends.ari.settings import AriSettings
from autoinformer.backends.base import Media
from autoinformer.errors import BackendError, SettingsError

__all__ = ["MediaPublisher", "builtin_uri", "content_name"]

_SCHEMES = ("sound:", "recording:", "number:", "digits:", "characters:", "tone:")


def builtin_uri(name: str) -> str:
    """The ARI media URI for a sound Asterisk already has (``hello-world`` -> ``sound:...``)."""
    return name if name.startswith(_SCHEMES) else f"sound:{name}"


def content_name(path: Path) -> str:
    """``<sha256 prefix><suffix>``: the file's name on the Asterisk side (blocking read)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return f"{digest.hexdigest()[:20]}{path.suffix.lower() or '.wav'}"


def _publish(source: Path, target_dir: Path) -> str:
    """Copy ``source`` into ``target_dir`` under its content name, atomically; the name."""
    name = content_name(source)
    target = target_dir / name
    if not target.exists():
        target_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".part-")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return name


@attrs.define(kw_only=True)
class MediaPublisher:
    """Turns :class:`Media` into ARI media URIs, publishing local files as configured."""

    settings: AriSettings
    _cache: dict[tuple[str, int, int], str] = attrs.field(init=False, factory=dict)

    async def uri(self, media: Media) -> str:
        """The media URI to pass to ``POST /channels/{id}/play``.

        Raises:
            SettingsError: a file is to be played but no sounds_dir/media_dir is configured.
            BackendError: the file cannot be read or copied.
        """
        if media.builtin is not None:
            return builtin_uri(media.builtin)
        assert media.path is not None  # Media guarantees one of the two
        if self.settings.audio == "http":
            target_dir, field = self.settings.media_dir, "media_dir"
        else:
            target_dir, field = self.settings.sounds_dir, "sounds_dir"
        if target_dir is None:
            raise SettingsError(f"backend.{field}", f"needed to play the file {media.path}")
        path = media.path
        try:
            stat = await anyio.to_thread.run_sync(path.stat)
            key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
            name = self._cache.get(key)
            if name is None:
                name = await anyio.to_thread.run_sync(_publish, path, target_dir)
                self._cache[key] = name
        except OSError as exc:
            raise BackendError(
                f"cannot deliver {path} to Asterisk: {exc.strerror or exc}"
            ) from None
        if self.settings.audio == "http":
            assert self.settings.media_url is not None
            return f"sound:{self.settings.media_url.rstrip('/')}/{name}"
        return f"sound:autoinformer/{Path(name).stem}"
