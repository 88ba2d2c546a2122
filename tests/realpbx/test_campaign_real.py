"""The main job on real switches: a campaign file speaks, and ends right.

``autoinformer run campaign.toml`` exactly as a user runs it (a subprocess, the embedded
store), against the real Asterisk and the real FreeSWITCH of the test PBX: ten contacts whose
last digit picks the callee's behaviour (``shared/pbx/README.md``), a recorded greeting, a
``say`` step with the balance, a menu "1 = operator, 2 = hang up" (digits pressed during the
messages are type-ahead for the menu), one operator. Every number's outcome is read back from
the store. A ``say`` step is checked as heard: the switch plays our rendered file to its end
(not an instant "done" of a file it could not open).
"""

from __future__ import annotations

import wave
from pathlib import Path

import anyio
import pytest

from autoinformer.backends import load_backend
from autoinformer.backends.base import CallAnswered, CallEnded, Media, PlaybackFinished
from autoinformer.outcomes import Outcome
from autoinformer.store.sqlite import SqliteStore
from autoinformer.testing.parties import PARTIES
from autoinformer.testing.realpbx import (
    OPERATORS,
    PREFIX,
    RealPbx,
    run_campaign,
    write_campaign,
)


@pytest.mark.real_pbx
@pytest.mark.timeout(400)
def test_each_behaviour_through_a_campaign_file(pbx: RealPbx, tmp_path: Path) -> None:
    digits = "0123456789"
    path = write_campaign(tmp_path, pbx, digits)
    summary = run_campaign(path, tmp_path / "campaign.sqlite", pbx)
    with SqliteStore(tmp_path / "campaign.sqlite") as store:
        records = {r.number: r for r in store.attempts(f"real {pbx.kind}")}
    assert summary["attempts"] == len(digits), summary
    got = {d: records[f"{PREFIX}{d}"].outcome for d in digits}
    want = {d: PARTIES[d].expected for d in digits}
    detail = {d: (r.outcome, r.cause, r.detail, r.digits) for d, r in _by_digit(records).items()}
    assert got == want, detail
    # no message went unheard: no playback failed, no speech failed
    assert not [r for r in records.values() if "failed" in r.detail], detail
    # type-ahead: 7 pressed 2 during the messages, 8 pressed 1; the menu took them
    assert records[f"{PREFIX}7"].digits == "2", detail
    assert records[f"{PREFIX}8"].digits == "1", detail
    assert records[f"{PREFIX}8"].operator in OPERATORS, detail
    # 1 holds the line: it heard every message and the menu timed out, then we hung up
    held = records[f"{PREFIX}1"]
    assert held.answered_at is not None
    assert held.ended_at is not None
    assert held.ended_at - held.answered_at >= 10, held
    # the speech was rendered before the calls, into the cache the file names
    assert any((tmp_path / "speech-cache").rglob("*.raw")), "no fragment cache beside the file"


def _by_digit(records: dict[str, object]) -> dict[str, object]:
    return {number[-1]: record for number, record in records.items()}


@pytest.mark.real_pbx
@pytest.mark.anyio
async def test_a_say_step_is_really_heard(
    pbx: RealPbx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our rendered WAV is played by the switch to its end: the PlaybackFinished comes no
    sooner than the file lasts (a file the switch could not open ends at once, or fails)."""
    from autoinformer.contacts.model import Contact
    from autoinformer.speech import Template
    from autoinformer.speech.settings import SpeechSettings

    renderer = SpeechSettings().renderer(cache_dir=tmp_path / "cache")
    template = Template.parse("Your debt is <currency>{BALANCE|abs} RUB</currency>.")
    contact = Contact(id="x", phones=(f"{PREFIX}1",), variables={"BALANCE": "-525.19"})
    wav = Path(await renderer.render(template, contact, "en"))
    with wave.open(str(wav)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert seconds > 2
    settings = {k: v for k, v in pbx.backend.items() if k != "kind"}
    monkeypatch.setenv(pbx.password_env, pbx.password)
    switch = load_backend(pbx.kind)(**settings)
    clock = anyio.current_time
    async with switch:
        events = switch.events()
        await switch.originate("heard-1", f"{PREFIX}1", caller_id=None, ring_timeout=20)
        started = None
        with anyio.fail_after(seconds + 20):
            async for event in events:
                if isinstance(event, CallAnswered) and event.call_id == "heard-1":
                    started = clock()
                    await switch.play("heard-1", Media(path=wav), playback_id="heard-p1")
                elif isinstance(event, PlaybackFinished) and event.playback_id == "heard-p1":
                    assert started is not None
                    elapsed = clock() - started
                    assert event.error == "", event
                    assert event.completed, event
                    assert elapsed >= seconds * 0.9, (elapsed, seconds)
                    await switch.hangup("heard-1")
                elif isinstance(event, CallEnded) and event.call_id == "heard-1":
                    break
        assert started is not None


MISSING = {"ari": "sound:autoinformer/does-not-exist", "esl": "builtin:/tmp/does-not-exist.wav"}


@pytest.mark.real_pbx
def test_a_greeting_the_switch_cannot_play_is_failed_not_delivered(
    pbx: RealPbx, tmp_path: Path
) -> None:
    """A sound the switch does not have: the attempt is ``failed`` with the switch's words,
    never ``delivered`` (before, FreeSWITCH's instant end of the playback counted as heard)."""
    path = write_campaign(tmp_path, pbx, "1")
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('play = "greeting.wav"', f'play = "{MISSING[pbx.kind]}"'), encoding="utf-8"
    )
    run_campaign(path, tmp_path / "campaign.sqlite", pbx)
    with SqliteStore(tmp_path / "campaign.sqlite") as store:
        (record,) = store.attempts(f"real {pbx.kind}")
    assert record.outcome is Outcome.FAILED, record
    assert record.answered_at is not None, record
    assert "does-not-exist" in record.detail or "playback failed" in record.detail, record
