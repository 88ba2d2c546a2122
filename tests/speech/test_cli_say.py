"""``autoinformer say``: text, SSML and audio previews; exit codes; caret on template errors."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from autoinformer.cli import main

DEBT = "Hello {NAME}, your debt is <currency>{BALANCE|abs} RUB</currency>.<stop:1s> Press 1."


def test_text_in_russian(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["say", "Долг <currency>{B|abs} RUB</currency>", "--var", "B=-525.19", "--lang", "ru"]
    )
    assert code == 0
    assert capsys.readouterr().out == "Долг пятьсот двадцать пять рублей девятнадцать копеек\n"


def test_ssml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "Code <letters>VIP</letters><stop:1s>", "--ssml"]) == 0
    assert capsys.readouterr().out == (
        '<speak version="1.1" xml:lang="en">Code '
        '<say-as interpret-as="characters">VIP</say-as> <break time="1000ms"/></speak>\n'
    )


def test_template_error_exits_2_with_a_caret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "Hello {NAME|bad}"]) == 2
    err = capsys.readouterr().err
    assert "unknown filter 'bad'" in err
    assert "Hello {NAME|bad}\n            ^" in err


def test_missing_variable_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", DEBT, "--var", "NAME=Ilya"]) == 2
    assert "missing variable(s) BALANCE; give --var BALANCE=..." in capsys.readouterr().err


def test_bad_var_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "hi", "--var", "oops"]) == 2
    assert "--var expects KEY=VALUE, got 'oops'" in capsys.readouterr().err


def test_long_template_warns_but_renders(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "a " * 70]) == 0
    assert "140 characters long" in capsys.readouterr().err


def test_out_writes_telephone_audio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "preview.wav"
    args = ["say", DEBT, "--var", "NAME=Ilya", "--var", "BALANCE=-1", "--out", str(out)]
    code = main([*args, "--engine", "tone", "--cache", str(tmp_path / "c")])
    assert code == 0
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        seconds = w.getnframes() / 8000
    assert f"({seconds:.1f} s, 8000 Hz pcm16, tone)" in capsys.readouterr().out


def test_out_into_a_missing_directory_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "nope" / "x.wav"
    assert main(["say", "hi", "--out", str(out), "--engine", "tone", "--cache", str(tmp_path)]) == 2


def test_engine_failure_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["say", "hi", "--out", str(tmp_path / "x.wav"), "--cache", str(tmp_path / "c")]
    # espeak-ng present: the voice does not exist; absent: the binary does not. Both exit 1.
    assert main([*args, "--voice", "xx-no-such-voice"]) == 1
    assert "espeak-ng" in capsys.readouterr().err
    assert main([*args, "--engine", "polly"]) == 2
    assert "unknown engine 'polly'" in capsys.readouterr().err
