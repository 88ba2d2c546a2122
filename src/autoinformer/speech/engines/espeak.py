"""espeak-ng: the offline engine that works everywhere (the system package ``espeak-ng``).

It is robotic next to neural voices but needs no network, no account and no GPU, speaks 100+
languages, and takes ~10 ms per fragment, which makes it the default. The binary runs as a
subprocess writing WAV to stdout; text goes in on stdin so it never meets a shell.
"""

from __future__ import annotations

import contextlib
import shutil
import struct
import subprocess
from collections.abc import AsyncIterable
from typing import ClassVar

import anyio
import attrs

from autoinformer.errors import SettingsError
from autoinformer.speech.engines.base import Engine
from autoinformer.speech.errors import EngineError

__all__ = ["EspeakEngine", "espeak_available"]


def espeak_available(binary: str = "espeak-ng") -> bool:
    """True when the espeak-ng binary is on PATH (tests skip audio when it is not)."""
    return shutil.which(binary) is not None


def _voice_for(lang: str) -> str:
    """espeak-ng names voices by language code: ``en``, ``ru``, ``id``, ``pt-br``."""
    return lang.strip().replace("_", "-").lower()


def _check_speed(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 80 <= value <= 450:
        raise SettingsError(attribute.name, f"expected 80..450 words per minute, got {value}")


def _check_pitch(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 99:
        raise SettingsError(attribute.name, f"expected 0..99, got {value}")


def _check_timeout(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise SettingsError(attribute.name, f"expected a positive number of seconds, got {value}")


def _fix_streamed_wav(data: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot seek back, so its RIFF and data sizes are
    placeholders (~2 GiB); set them to the real sizes so every WAV reader agrees."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    at = data.find(b"data", 12)
    if at == -1:
        return data
    payload = len(data) - (at + 8)
    return (
        data[:4]
        + struct.pack("<I", len(data) - 8)
        + data[8 : at + 4]
        + struct.pack("<I", payload)
        + data[at + 8 :]
    )


@attrs.define(kw_only=True)
class EspeakEngine(Engine):
    """The espeak-ng engine.

    Attributes:
        binary: the executable (name on PATH or a path).
        voice: an espeak-ng voice (``en-us``, ``ru``, ``id+f3``); None picks the language's.
        speed: words per minute (80..450; 150 is a calm telephone pace).
        pitch: 0..99 (50 is espeak's default).
        timeout: seconds one synthesis may take before it is killed.
    """

    name: ClassVar[str] = "espeak-ng"
    supports_ssml: ClassVar[bool] = True

    binary: str = "espeak-ng"
    voice: str | None = None
    speed: int = attrs.field(default=150, validator=_check_speed)
    pitch: int = attrs.field(default=50, validator=_check_pitch)
    timeout: float = attrs.field(default=30.0, validator=_check_timeout)

    def cache_id(self, lang: str) -> str:
        """Voice, speed and pitch change the sound, so they are part of the key."""
        return f"espeak-ng/{self.voice or _voice_for(lang)}/s{self.speed}/p{self.pitch}"

    def chars_per_second(self, lang: str) -> float:
        """~6 characters a word: 150 wpm is 15 characters a second."""
        return self.speed * 6 / 60

    async def synthesize(self, text: str, *, lang: str, ssml: bool = False) -> bytes:
        """Run espeak-ng once and return its WAV.

        Raises:
            EngineError: the binary is missing, the voice does not exist, it timed out, or
                it wrote no audio.
        """
        path = shutil.which(self.binary)
        if path is None:
            raise EngineError(
                f"espeak-ng binary {self.binary!r} not found on PATH; install the "
                "'espeak-ng' package (apt install espeak-ng) or choose another engine"
            )
        voice = self.voice or _voice_for(lang)
        cmd = [path, "-v", voice, "-s", str(self.speed), "-p", str(self.pitch), "--stdout"]
        if ssml:
            cmd.append("-m")
        cmd.append("--stdin")
        try:
            with anyio.fail_after(self.timeout):
                code, out, err = await _run(cmd, text.encode("utf-8"))
        except TimeoutError:
            raise EngineError(f"espeak-ng took longer than {self.timeout}s") from None
        except OSError as exc:
            raise EngineError(f"espeak-ng could not run: {exc}") from None
        if code != 0 or out[:4] != b"RIFF":
            detail = err.decode("utf-8", "replace").strip() or "no audio written"
            raise EngineError(f"espeak-ng failed for voice {voice!r}: {detail}")
        return _fix_streamed_wav(out)


async def _run(cmd: list[str], data: bytes) -> tuple[int, bytes, bytes]:
    """Run ``cmd`` with ``data`` on stdin: (exit status, stdout, stderr).

    espeak-ng may exit before it reads its input (an unknown voice): the pipe then breaks
    while the text is written. That is not an error of its own: the text is dropped and the
    exit status and stderr say what went wrong (``anyio.run_process`` would raise
    ``BrokenResourceError``, in an ``ExceptionGroup`` on trio).
    """
    out = bytearray()
    err = bytearray()

    async def drain(stream: AsyncIterable[bytes], into: bytearray) -> None:
        async for chunk in stream:
            into.extend(chunk)

    async with await anyio.open_process(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        stdin, stdout, stderr = process.stdin, process.stdout, process.stderr
        if stdin is None or stdout is None or stderr is None:  # pragma: no cover - PIPEs asked
            raise OSError("no pipes to the process")
        async with anyio.create_task_group() as tg:
            tg.start_soon(drain, stdout, out)
            tg.start_soon(drain, stderr, err)
            # If it exits without reading, its status and stderr tell why.
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                await stdin.send(data)
            with contextlib.suppress(anyio.BrokenResourceError, OSError):
                await stdin.aclose()
            code = await process.wait()
    return code, bytes(out), bytes(err)
