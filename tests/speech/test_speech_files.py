"""Speech output files: readable by a switch running as another user (the umask's mode, not
0600), no temporary file left behind on failure, directory settings checked at construction
(issue #14, items 10 and 11)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.errors import SettingsError
from autoinformer.speech import EngineRenderer, FragmentCache, Template, ToneEngine
from autoinformer.speech.audio import TELEPHONE, write_wav
from autoinformer.speech.errors import AudioFileError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(params=[0o022, 0o027, 0o077], ids=["022", "027", "077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    mask: int = request.param
    old = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _fragment_modes(directory: Path) -> set[int]:
    return {_mode(p) for p in directory.glob("*/*.raw")}


def test_write_wav_uses_the_umask_mode(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "m.wav"
    write_wav(target, TELEPHONE.silence(100), TELEPHONE)
    assert _mode(target) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["m.wav"]


def test_cached_fragments_use_the_umask_mode(tmp_path: Path, umask: int) -> None:
    cache = FragmentCache(directory=tmp_path)
    cache.put("ab" * 32, b"\0" * 160)
    assert _mode(cache.path("ab" * 32)) == 0o666 & ~umask


@pytest.mark.anyio
async def test_rendered_messages_are_readable_by_the_switch(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        renderer = EngineRenderer(engine=ToneEngine(), cache=FragmentCache(directory=tmp_path))
        path = await renderer.render(Template.parse("Hello {NAME}"), Contact(id="1", name="Ann"))
    finally:
        os.umask(old)
    assert _mode(path) == 0o644
    assert _fragment_modes(tmp_path) == {0o644}


def test_writing_over_a_directory_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.wav"
    target.mkdir()  # `say --out out.wav` where out.wav is a directory
    with pytest.raises(AudioFileError, match=r"out\.wav"):
        write_wav(target, TELEPHONE.silence(100), TELEPHONE)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]
    assert list(target.iterdir()) == []


def test_output_dir_as_a_string_is_a_path(tmp_path: Path) -> None:
    renderer = EngineRenderer(
        engine=ToneEngine(),
        cache=FragmentCache(directory=tmp_path / "c"),
        output_dir=str(tmp_path / "out"),  # type: ignore[arg-type]
        recordings_dir=str(tmp_path),  # type: ignore[arg-type]
    )
    assert renderer.messages_dir == tmp_path / "out"
    assert renderer.recordings_dir == tmp_path


@pytest.mark.anyio
async def test_output_dir_as_a_string_renders(tmp_path: Path) -> None:
    renderer = EngineRenderer(
        engine=ToneEngine(),
        cache=FragmentCache(directory=tmp_path / "c"),
        output_dir=str(tmp_path / "out"),  # type: ignore[arg-type]
    )
    path = await renderer.render(Template.parse("Hi"), Contact(id="1"))
    assert path.parent == tmp_path / "out"


@pytest.mark.parametrize("field", ["output_dir", "recordings_dir"])
def test_a_directory_that_is_not_a_path_is_refused_at_once(tmp_path: Path, field: str) -> None:
    with pytest.raises(SettingsError) as info:
        EngineRenderer(
            engine=ToneEngine(),
            cache=FragmentCache(directory=tmp_path),
            **{field: 42},  # type: ignore[arg-type]
        )
    assert info.value.field == field


def test_engine_and_cache_are_checked(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        EngineRenderer(engine="espeak-ng", cache=FragmentCache(directory=tmp_path))  # type: ignore[arg-type]
    assert info.value.field == "engine"
    with pytest.raises(SettingsError) as info:
        EngineRenderer(engine=ToneEngine(), cache=str(tmp_path))  # type: ignore[arg-type]
    assert info.value.field == "cache"
