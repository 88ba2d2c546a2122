"""espeak-ng exiting before it reads its text (an unknown voice) is an ``EngineError`` with
its message, never a broken-pipe ``ExceptionGroup`` (issue #14, item 12).

The race is made deterministic with a stand-in binary that exits at once without reading
stdin: a text larger than any pipe buffer can then never be written whole, so every run
meets the broken pipe that a real espeak-ng hit 3 times in 300.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from autoinformer.speech import EngineError, EspeakEngine

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(os.name != "posix", reason="the stand-in binary is a shell script"),
]

BIG = "word " * 200_000  # 1 MB: more than a pipe holds (64 KiB by default)


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-espeak"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def test_an_early_exit_is_an_engine_error_with_its_message(tmp_path: Path) -> None:
    binary = _script(tmp_path, "echo \"Error: voice 'xx-nope' not found\" >&2\nexit 1\n")
    with pytest.raises(EngineError, match=r"voice 'xx-nope'.*not found"):
        await EspeakEngine(binary=binary, voice="xx-nope").synthesize(BIG, lang="en")


async def test_an_early_exit_with_status_0_and_no_audio(tmp_path: Path) -> None:
    binary = _script(tmp_path, "exit 0\n")
    with pytest.raises(EngineError, match="no audio"):
        await EspeakEngine(binary=binary).synthesize(BIG, lang="en")


async def test_an_early_exit_of_a_short_text_too(tmp_path: Path) -> None:
    binary = _script(tmp_path, 'echo "bad voice" >&2\nexit 1\n')
    with pytest.raises(EngineError, match="bad voice"):
        await EspeakEngine(binary=binary).synthesize("hi", lang="en")


async def test_a_binary_that_reads_everything_still_works(tmp_path: Path) -> None:
    # a stand-in that reads its input, then writes a tiny WAV header and no samples
    binary = _script(
        tmp_path,
        "cat > /dev/null\nprintf 'RIFF\\044\\000\\000\\000WAVEfmt '\n",
    )
    data = await EspeakEngine(binary=binary).synthesize(BIG, lang="en")
    assert data.startswith(b"RIFF")
