"""``autoinformer say``: text, SSML and audio previews; exit codes; caret on template errors."""

from __future__ import annotations

import struct
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
        '<speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en">'
        'Code V I P <break time="1000ms"/></speak>\n'
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


@pytest.mark.parametrize(
    ("options", "header"),
    [
        ([], (1, 1, 8000, 16000, 2, 16)),  # WAVE_FORMAT_PCM, mono, 8 kHz, 16-bit
        (["--rate", "16000"], (1, 1, 16000, 32000, 2, 16)),
        (["--ulaw"], (7, 1, 8000, 8000, 1, 8)),  # WAVE_FORMAT_MULAW, 8 bits a sample
        (["--rate", "16000", "--ulaw"], (7, 1, 16000, 16000, 1, 8)),
    ],
)
def test_out_writes_the_asked_format(
    tmp_path: Path, options: list[str], header: tuple[int, ...]
) -> None:
    out = tmp_path / "p.wav"
    args = ["say", "Due <time>{T}</time><stop:200ms>", "--var", "T=14:30", "--out", str(out)]
    assert main([*args, *options, "--engine", "tone", "--cache", str(tmp_path / "c")]) == 0
    data = out.read_bytes()
    assert data[:4] == b"RIFF"
    assert data[8:16] == b"WAVEfmt "
    assert struct.unpack_from("<HHIIHH", data, 20) == header
    data_at = data.find(b"data")
    (size,) = struct.unpack_from("<I", data, data_at + 4)
    rate, width = header[2], header[4]
    assert size / (rate * width) > 0.2  # the 200 ms pause alone
    if header[0] == 1:
        with wave.open(str(out)) as w:  # PCM: the wave module agrees with the header
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, rate)
            assert w.getnframes() * 2 == size


def test_a_value_that_does_not_read_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "Debt <number>{B}</number>", "--var", "B=lots"]) == 2
    err = capsys.readouterr().err
    assert "'B'" in err
    assert "expected a number like 525.19, got 'lots'" in err


def test_unknown_language_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "hi", "--lang", "xx"]) == 2
    assert "language 'xx' is not supported" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("template", "caret_at", "message"),
    [
        ("Hi <digits>{P}", 14, "<digits> opened at 3 is never closed: expected </digits>"),
        ("Hi {stop:1s", 11, "expected '}' to close the pause"),
        ("<date><time>1</time></date>", 6, "<time> cannot go inside <date>: expected </date>"),
        ("Hi %VAR:NAME", 12, "expected '%' to close the variable 'NAME'"),
    ],
)
def test_template_errors_print_the_caret_under_the_position(
    capsys: pytest.CaptureFixture[str], template: str, caret_at: int, message: str
) -> None:
    assert main(["say", template]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"autoinformer: template error: {message}"
    assert err[1] == template
    assert err[2] == " " * caret_at + "^"


def test_out_must_be_a_wav_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.mp3"
    assert main(["say", "hi", "--out", str(out), "--engine", "tone", "--cache", str(tmp_path)]) == 2
    assert "--out: expected a .wav file name" in capsys.readouterr().err
    assert not out.exists()
