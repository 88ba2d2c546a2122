"""#15 item 1: SSML mode says read-as spans the way plain text does, checked by what espeak-ng
actually pronounces (its phoneme output, ``espeak-ng -q -x``), not by the markup."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from autoinformer.contacts.model import Contact
from autoinformer.speech import Template
from autoinformer.speech.readas import read_number

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt install espeak-ng)"
)


def phonemes(text: str, lang: str, *, ssml: bool) -> list[str]:
    """The phoneme words espeak-ng would speak for ``text``."""
    cmd = ["espeak-ng", "-q", "-x", "-v", lang] + (["-m"] if ssml else [])
    out = subprocess.run(cmd, input=text.encode(), capture_output=True, check=True, timeout=30)
    return out.stdout.decode().split()


@needs_espeak
def test_espeak_ignores_say_as_digits_so_markup_alone_would_read_a_number() -> None:
    # Why the words are spelled out: the markup the SSML used to carry reads as one number.
    markup = '<speak>Call <say-as interpret-as="digits">13800138000</say-as></speak>'
    assert any("b'Ili@n" in p for p in phonemes(markup, "en", ssml=True))  # "thirteen billion"


@needs_espeak
@pytest.mark.parametrize(
    ("lang", "source", "number_words"),
    [
        ("en", "Call <digits>{N}</digits> now.", ("b'Ili@n", "m'Ili@n", "T'aUz@nd")),
        ("ru", "Договор <digits>{N}</digits>.", ("ll;i'Ard", "ll;i'on", "t'ys;")),
        ("id", "Nomor <digits>{N}</digits>.", ("mil'iaR", "dZ'uta", "R2'ibu")),
    ],
)
def test_ssml_digits_sound_like_the_plain_text_reading(
    lang: str, source: str, number_words: tuple[str, ...]
) -> None:
    t = Template.parse(source + " Code <letters>VIP</letters>.<stop:500ms> Bye")
    contact = Contact(id="1", variables={"N": "4123456789"})
    spoken_ssml = phonemes(t.render_ssml(contact, lang), lang, ssml=True)
    spoken_text = phonemes(t.render_text(contact, lang), lang, ssml=False)
    assert spoken_ssml == spoken_text
    assert not any(w in p for p in spoken_ssml for w in number_words)
    # ... words the engine does say for the same digits read as one number:
    as_number = phonemes(read_number(4123456789, lang), lang, ssml=False)
    assert all(any(w in p for p in as_number) for w in number_words)
    digit_words = t.plan(contact, lang).pieces[1].text.split()
    assert len(digit_words) >= 10  # one word per digit, as in text mode
