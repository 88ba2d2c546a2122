"""The per-call state machine: steps, menus, barge-in, type-ahead, retries, message-only."""

from __future__ import annotations

import pytest

from autoinformer.errors import SettingsError
from autoinformer.script import (
    Callback,
    Hangup,
    OptOut,
    Play,
    Say,
    Script,
    ScriptRun,
    Transfer,
    callback,
    hangup,
    menu,
    opt_out,
    parse_action,
    play,
    say,
    transfer,
)
from autoinformer.script import machine as m

SEED_000 = Script.of(
    play("greeting.wav"),
    say("Your debt is {BALANCE} RUB."),
    menu("Press 1 for an operator.", {"1": transfer("operators")}, timeout=5, retries=1),
)


def _run(script: Script = SEED_000, **kw: bool) -> ScriptRun:
    return ScriptRun(script=script, call_id="c1", **kw)


def _play_ids(actions: list[m.ScriptAction]) -> list[str]:
    return [a.playback_id for a in actions if isinstance(a, m.StartPlayback)]


def test_seed_000_flow_plays_greeting_debt_then_menu_and_transfers_on_1() -> None:
    run = _run()
    first = run.start(0.0)
    assert [type(a) for a in first] == [m.StartPlayback]
    assert first[0].step == Play("greeting.wav")  # type: ignore[union-attr]
    second = run.playback_finished(_play_ids(first)[0], 3.0)
    assert second[0].step == Say("Your debt is {BALANCE} RUB.")  # type: ignore[union-attr]
    third = run.playback_finished(_play_ids(second)[0], 5.0)
    assert isinstance(third[0], m.WantDigits)
    prompt = _play_ids(third)[0]
    # barge-in: a digit during the prompt stops it and acts at once
    actions = run.digit("1", 6.0)
    assert actions == [m.StopPlayback(prompt), m.DoTransfer("operators")]
    assert run.done
    assert run.digits == "1"


def test_menu_times_out_then_repeats_then_carries_on_to_the_end() -> None:
    run = _run()
    a = run.start(0.0)
    a = run.playback_finished(_play_ids(a)[0], 1.0)
    a = run.playback_finished(_play_ids(a)[0], 2.0)
    prompt = _play_ids(a)[0]
    a = run.playback_finished(prompt, 4.0)
    assert a == [m.SetTimer(at=9.0, token=1)]
    a = run.timer(1, 9.0)  # no input: the prompt again (retries=1)
    replay = _play_ids(a)
    assert replay
    assert replay[0] != prompt
    a = run.playback_finished(replay[0], 11.0)
    (timer,) = a
    assert isinstance(timer, m.SetTimer)
    assert run.timer(timer.token - 1, 16.0) == []  # a stale timer does nothing
    assert run.timer(timer.token, 16.0) == [m.Finish("end")]
    assert run.reached_end


def test_wrong_key_counts_as_a_retry_and_stale_playbacks_are_ignored() -> None:
    run = _run()
    a = run.start(0.0)
    a = run.playback_finished(_play_ids(a)[0], 1.0)
    a = run.playback_finished(_play_ids(a)[0], 2.0)
    prompt = _play_ids(a)[0]
    a = run.digit("7", 3.0)
    assert isinstance(a[0], m.StopPlayback)
    assert isinstance(a[1], m.StartPlayback)  # the prompt again
    assert run.playback_finished(prompt, 3.1) == []  # the stopped one reports late
    a = run.digit("9", 4.0)
    assert a[-1] == m.Finish("end")  # second wrong key: retries used up
    assert run.digits == "79"


def test_type_ahead_digit_pressed_during_greeting_answers_the_menu() -> None:
    run = _run()
    a = run.start(0.0)
    assert run.digit("1", 0.5) == []  # kept for the menu
    a = run.playback_finished(_play_ids(a)[0], 1.0)
    a = run.playback_finished(_play_ids(a)[0], 2.0)
    assert a == [m.DoTransfer("operators")]


def test_option_steps_run_then_the_script_carries_on_after_the_menu() -> None:
    script = Script.of(
        menu("1 to cancel", {"1": [say("Cancelling."), callback("cancel_order")]}),
        say("Goodbye."),
    )
    run = _run(script)
    a = run.start(0.0)
    a = run.digit("1", 0.5)
    assert a[-1].step == Say("Cancelling.")  # type: ignore[union-attr]
    a = run.playback_finished(_play_ids(a)[0], 1.0)
    assert a == [m.DoCallback(name="cancel_order", digits="1")]
    a = run.callback_done(2.0)
    assert a[0].step == Say("Goodbye.")  # type: ignore[union-attr]
    assert run.playback_finished(_play_ids(a)[0], 3.0) == [m.Finish("end")]


def test_opt_out_and_hangup_end_the_call() -> None:
    run = _run(Script.of(menu("3 to stop calls", {"3": opt_out(), "9": hangup()})))
    run.start(0.0)
    assert run.digit("3", 1.0)[-2:] == [m.DoOptOut(), m.Finish("opt_out")]
    assert not run.reached_end
    run = _run(Script.of(menu("3 to stop calls", {"3": opt_out(), "9": hangup()})))
    run.start(0.0)
    assert run.digit("9", 1.0)[-1] == m.Finish("hangup")
    assert run.reached_end


def test_message_only_skips_menus_transfers_and_keeps_no_type_ahead() -> None:
    run = _run(message_only=True)
    a = run.start(0.0)
    assert run.digit("1", 0.1) == []
    a = run.playback_finished(_play_ids(a)[0], 1.0)
    assert run.playback_finished(_play_ids(a)[0], 2.0) == [m.Finish("end")]


def test_short_forms_and_validation_name_the_field() -> None:
    assert parse_action("transfer:operators") == Transfer("operators")
    assert parse_action("callback:cancel_order") == Callback("cancel_order")
    assert parse_action("opt_out") == OptOut()
    assert parse_action("hangup") == Hangup()
    with pytest.raises(SettingsError, match=r"menu\.options\.1"):
        menu("x", {"1": "dance:now"})
    with pytest.raises(SettingsError, match="not a DTMF key"):
        menu("x", {"11": hangup()})
    with pytest.raises(SettingsError, match=r"menu\.timeout"):
        menu("x", {"1": hangup()}, timeout=0)
    with pytest.raises(SettingsError, match="script"):
        Script.of()
    assert SEED_000.queues() == {"operators"}
    assert SEED_000.templates() == ["Your debt is {BALANCE} RUB.", "Press 1 for an operator."]
    assert Play("sound:beep").media().builtin == "sound:beep"
