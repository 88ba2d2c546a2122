"""Deliver our audio files to Asterisk and name them as ARI media URIs.

Two ways, chosen in the settings (``audio``):

- ``sounds_dir``: a directory both machines see (Asterisk's ``sounds/<sounds_subdir>``,
  mounted or local). A file is copied there once under a safe name (letters, digits, ``_`` and
  ``-`` of its stem, then its content hash) and played as ``sound:<sounds_subdir>/<name>``
  (Asterisk picks the format by extension, so the suffix is kept on disk and left out of the
  URI).
- ``http``: the file is copied into ``media_dir``, which the user serves at ``media_url``;
  Asterisk 18+ fetches and caches ``sound:http://.../<name>.wav`` itself.

A WAV is checked before it is copied: Asterisk's ``format_wav`` reads 16-bit mono PCM at 8 kHz
(``.wav``) or 16 kHz (published as ``.wav16``); anything else would only fail on the call, so
it is refused here with :class:`~autoinformer.errors.MediaError`. So is a builtin Asterisk
cannot play as meant: raw text (``tts:...``; the runtime renders speech to files), a name with
a comma (ARI's ``media`` parameter is a comma-separated list: ``tts:Press 1, 2`` would become
two URIs, the second of which Asterisk 22 starts and never finishes) or an unknown URI scheme
(the same endless playback).

The content hash makes re-plays free and makes two different recordings with the same file
name impossible to confuse. File I/O runs in a worker thread so the event loop never blocks.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import wave
from pathlib import Path

import anyio.to_thread
import attrs

from autoinformer.backends.ari.settings import AriSettings
from autoinformer.backends.base import Media
from autoinformer.errors import BackendError, MediaError, SettingsError

__all__ = ["MediaPublisher", "builtin_uri", "content_name"]

_SCHEMES = ("sound:", "recording:", "number:", "digits:", "characters:", "tone:")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def builtin_uri(name: str) -> str:
    """The ARI media URI for a sound Asterisk already has (``hello-world`` -> ``sound:...``).

    Raises:
        MediaError: raw text (``tts:...``), a comma, a line break or an unknown scheme (see
            the module docstring).
    """
    if name.startswith("tts:"):
        raise MediaError(
            f"Asterisk cannot speak text ({name[:40]!r}): render it to an audio file and "
            "play Media(path=...)"
        )
    if "," in name or any(c in name for c in "\r\n\0") or not name.strip():
        raise MediaError(
            f"{name[:60]!r} cannot be played on Asterisk: ARI reads a comma as a list of "
            "media (and a name needs no line breaks)"
        )
    if name.startswith(_SCHEMES):
        return name
    if _SCHEME.match(name) and not name.startswith(("http:", "https:")):
        raise MediaError(
            f"{name[:60]!r}: Asterisk plays only {', '.join(_SCHEMES)} media (and "
            "sound:http(s)://...)"
        )
    return f"sound:{name}"


def _suffix(path: Path) -> str:
    """The suffix Asterisk needs for ``path``: ``.wav`` for 8 kHz, ``.wav16`` for 16 kHz."""
    suffix = path.suffix.lower() or ".wav"
    if suffix != ".wav":
        return suffix
    try:
        with wave.open(str(path), "rb") as audio:
            channels, width, rate = (
                audio.getnchannels(),
                audio.getsampwidth(),
                audio.getframerate(),
            )
    except (wave.Error, EOFError) as exc:
        raise MediaError(f"{path} is not a WAV file Asterisk can read: {exc}") from None
    if channels == 1 and width == 2 and rate in (8000, 16000):
        return ".wav" if rate == 8000 else ".wav16"
    raise MediaError(
        f"{path}: Asterisk plays 16-bit mono WAV at 8 or 16 kHz, this one is {rate} Hz, "
        f"{8 * width}-bit, {channels} channel(s)"
    )


def content_name(path: Path) -> str:
    """``<safe stem>-<sha256 prefix><suffix>``: the file's name for Asterisk (blocking read).

    Raises:
        MediaError: a WAV in a format Asterisk does not play.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    stem = _UNSAFE.sub("_", path.stem).strip("_-")[:40]
    prefix = f"{stem}-" if stem else ""
    return f"{prefix}{digest.hexdigest()[:20]}{_suffix(path)}"


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
            MediaError: a media Asterisk cannot play (see the module docstring).
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
        return f"sound:{self.settings.sounds_subdir}/{name.rsplit('.', 1)[0]}"
