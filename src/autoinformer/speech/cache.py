"""The fragment cache: synthesised audio on disk, keyed by engine, voice, language and text.

A fragment is stored as raw samples already in the telephone format (see
:mod:`autoinformer.speech.audio`), so reading it back needs no decoding. Keys are SHA-256
digests of everything that changes the sound, so two campaigns (or two processes) that ask for
the same words in the same voice share the file. Writes are atomic (temp file + rename): a crash
never leaves half a fragment, and concurrent writers of the same key are harmless.

A small in-memory LRU sits in front of the disk because the same few hundred fragments
("roubles", "twenty-five") are read for every contact.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import attrs

from autoinformer.errors import SettingsError
from autoinformer.speech._files import write_atomic
from autoinformer.speech.audio import AudioFormat
from autoinformer.speech.errors import CacheError

__all__ = ["FragmentCache", "fragment_key"]


def fragment_key(engine_id: str, lang: str, text: str, fmt: AudioFormat) -> str:
    """The cache key: SHA-256 over engine/voice id, language, format and exact text."""
    material = "\x1f".join(("v1", engine_id, lang.lower(), fmt.key, text))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _check_items(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise SettingsError(attribute.name, f"expected 0 or more, got {value}")


@attrs.define(kw_only=True)
class FragmentCache:
    """Synthesised fragments on disk with an in-memory LRU in front.

    Safe to use from worker threads (the renderer reads and writes the disk off the event
    loop); the memory layer is guarded by a lock.

    Attributes:
        directory: where fragments live (created on first write).
        memory_items: how many fragments to keep in memory (0 disables the memory layer).
        hits: lookups answered (memory or disk).
        misses: lookups that found nothing.
    """

    directory: Path = attrs.field(converter=Path)
    memory_items: int = attrs.field(default=4096, validator=_check_items)
    hits: int = attrs.field(default=0, init=False)
    misses: int = attrs.field(default=0, init=False)
    _memory: OrderedDict[str, bytes] = attrs.field(factory=OrderedDict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def path(self, key: str) -> Path:
        """Where the fragment with ``key`` lives on disk (two-level fan-out)."""
        return self.directory / key[:2] / f"{key}.raw"

    def _remember(self, key: str, data: bytes) -> None:
        if self.memory_items == 0:
            return
        with self._lock:
            self._memory[key] = data
            self._memory.move_to_end(key)
            while len(self._memory) > self.memory_items:
                self._memory.popitem(last=False)

    def get_memory(self, key: str) -> bytes | None:
        """The fragment if it is in memory (no disk access; counts no miss)."""
        with self._lock:
            data = self._memory.get(key)
            if data is not None:
                self._memory.move_to_end(key)
                self.hits += 1
        return data

    def get(self, key: str) -> bytes | None:
        """The fragment, or None when it was never stored.

        Raises:
            CacheError: the file exists but cannot be read.
        """
        data = self.get_memory(key)
        if data is not None:
            return data
        try:
            data = self.path(key).read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        except OSError as exc:
            raise CacheError(f"cannot read fragment {key[:12]}: {exc.strerror or exc}") from None
        self.hits += 1
        self._remember(key, data)
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store a fragment atomically.

        Raises:
            CacheError: the directory is not writable.
        """
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
        except OSError as exc:
            raise CacheError(
                f"cannot write the fragment cache in {self.directory}: {exc.strerror or exc}"
            ) from None
        self._remember(key, data)

    def __len__(self) -> int:
        """Fragments on disk (walks the directory: for reports, not hot paths)."""
        if not self.directory.exists():
            return 0
        return sum(1 for _ in self.directory.glob("*/*.raw"))
