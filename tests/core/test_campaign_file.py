"""The campaign file and the ``run`` / ``demo`` commands."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from autoinformer.campaign_file import load_campaign_file, parse_campaign
from autoinformer.cli import main
from autoinformer.errors import InputError, SettingsError
from autoinformer.outcomes import ContactState, Outcome
from autoinformer.script import Menu, Play, Say, Transfer

EXAMPLE = Path(__file__).parents[2] / "examples" / "campaign" / "campaign.toml"


def _data() -> dict[str, object]:
    return tomllib.loads(EXAMPLE.read_text())


def test_example_file_loads_with_paths_relative_to_it() -> None:
    spec = load_campaign_file(EXAMPLE)
    campaign = spec.campaign
    assert campaign.name == "HOA debt"
    assert campaign.lines == 3
    assert spec.contacts == EXAMPLE.parent / "debtors.csv"
    play, say, menu = campaign.script.steps
    assert play == Play(str(EXAMPLE.parent / "greeting.wav"))
    assert isinstance(say, Say)
    assert isinstance(menu, Menu)
    assert menu.options["1"] == (Transfer("operators"),)
    assert [op.id for op in campaign.queues["operators"].operators] == ["anna", "boris"]
    assert campaign.window is not None
    assert campaign.retry.attempts == 3
    assert spec.backend == "sim"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("campaign", "window", "hours"), "9-25", "campaign.window.hours"),
        (("campaign", "lines"), "three", "campaign.lines"),
        (("campaign", "retry", "attempts"), 0, "campaign.retry.attempts"),
        (("campaign", "retry", "interval"), "soon", "campaign.retry"),
        (("campaign", "colour"), "red", "campaign.colour"),
        (("backend", "kind"), "pbx", "backend.kind"),
        (("campaign", "sms", "on_missed"), "{oops", "campaign.sms"),
        (("campaign", "caller_id", "numbers"), ["not a number"], "campaign.caller_id"),
        (("queues", "operators", "max_wait"), "long", "queues.operators.max_wait"),
        (("operators",), [{"id": "x"}], "operators[0].endpoint"),
    ],
)
def test_bad_keys_name_the_dotted_path(path: tuple[str, ...], value: object, field: str) -> None:
    data = _data()
    table = data
    for key in path[:-1]:
        table = table.setdefault(key, {})  # type: ignore[assignment]
    table[path[-1]] = value
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=EXAMPLE.parent)
    assert info.value.field.startswith(field), info.value


def test_bad_script_steps_name_the_step() -> None:
    data = _data()
    data["script"][2]["options"]["1"] = "teleport:now"  # type: ignore[index]
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=EXAMPLE.parent)
    assert info.value.field == "script[2].options.1"
    data = _data()
    data["script"][1]["say"] = "Your debt is {BALANCE"  # type: ignore[index]
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=EXAMPLE.parent)
    assert info.value.field == "script[1].say"
    data = _data()
    data["script"][2]["options"]["1"] = "transfer:nobody"  # type: ignore[index]
    with pytest.raises(SettingsError, match="unknown queue 'nobody'"):
        parse_campaign(data, base=EXAMPLE.parent)


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_campaign_file(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[campaign\nname = 1")
    with pytest.raises(InputError, match="not valid TOML"):
        load_campaign_file(bad)
    assert main(["run", str(bad)]) == 2


def test_run_command_json_summary_adds_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "run.sqlite"
    assert main(["run", str(EXAMPLE), "--store", str(store), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["outcomes"]) == {o.value for o in Outcome}
    assert sum(summary["outcomes"].values()) == summary["attempts"] > 0
    assert sum(summary["contacts"].values()) == 10
    assert set(summary["contacts"]) <= {s.value for s in ContactState}
    # running it again resumes: nothing left to call, nothing called twice
    assert main(["run", str(EXAMPLE), "--store", str(store), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["attempts"] == summary["attempts"]


def test_demo_same_seed_same_statistics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for name in ("a", "b"):
        args = ["demo", "--contacts", "60", "--seed", "4", "--json"]
        assert main([*args, "--store", str(tmp_path / f"{name}.sqlite")]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    for key in ("attempts", "outcomes", "contacts", "simulated_seconds"):
        assert runs[0][key] == runs[1][key]
    assert sum(runs[0]["outcomes"].values()) == runs[0]["attempts"]
    assert runs[0]["outcomes"]["transferred"] > 0
    assert main(["demo", "--contacts", "0"]) == 2


def test_caller_id_pool_from_the_file() -> None:
    data = _data()
    data["campaign"]["caller_id"] = {  # type: ignore[index]
        "numbers": ["+74950000001", "+74950000002"],
        "strategy": "lru",
        "daily_cap": 100,
    }
    pool = parse_campaign(data, base=EXAMPLE.parent).campaign.caller_ids
    assert pool is not None
    assert pool.numbers == ("+74950000001", "+74950000002")
    assert pool.strategy == "lru"


def test_pacing_and_queue_strategy_keys() -> None:
    from autoinformer.pacing import ProgressivePacing
    from autoinformer.queues.strategies import LongestIdle
    from autoinformer.sim.driver import simulate
    from autoinformer.sim.model import PopulationModel

    data = _data()
    data["campaign"]["pacing"] = {"kind": "progressive"}  # type: ignore[index]
    data["queues"]["operators"]["strategy"] = "leastrecent"  # type: ignore[index]
    spec = parse_campaign(data, base=EXAMPLE.parent)
    assert isinstance(spec.pacing(), ProgressivePacing)
    assert isinstance(spec.campaign.queues["operators"].strategy(), LongestIdle)
    from autoinformer.contacts.model import Contact

    contacts = [
        Contact(id=f"c{i}", phones=(f"+7950{i:07d}",), variables={"BALANCE": "1"})
        for i in range(40)
    ]
    result = simulate(
        spec.campaign,
        contacts,
        model=PopulationModel(seed=2, digit_rates={"1": 0.5}),
        pacing=spec.pacing(),
    )
    assert {p.state.value for p in result.progress.values()} <= {"done", "exhausted", "skipped"}
    assert result.outcomes()["transferred"] > 0

    from autoinformer.pacing.base import release_after

    data["campaign"]["pacing"] = {"kind": "predictive"}  # type: ignore[index]
    assert release_after(parse_campaign(data, base=EXAMPLE.parent).pacing()) == 15.0
    data["campaign"]["pacing"] = {"kind": "predictive", "release_after": 20}  # type: ignore[index]
    assert release_after(parse_campaign(data, base=EXAMPLE.parent).pacing()) == 20.0
    data["campaign"]["pacing"] = {"kind": "predictive", "release_after": False}  # type: ignore[index]
    assert release_after(parse_campaign(data, base=EXAMPLE.parent).pacing()) is None
    data["campaign"]["pacing"] = {"kind": "predictive", "release_after": 5}  # type: ignore[index]
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=EXAMPLE.parent)
    assert info.value.field == "campaign.pacing.release_after"
    for wrong in ("20", True, 0, 0.0):  # a string, a bool, "off" as the CLI spells it
        data["campaign"]["pacing"] = {"kind": "predictive", "release_after": wrong}  # type: ignore[index]
        with pytest.raises(SettingsError) as info:
            parse_campaign(data, base=EXAMPLE.parent)
        assert info.value.field == "campaign.pacing.release_after"
        assert "unexpected key" not in info.value.message
        # the message names the key and says how TOML turns the valve off
        assert "release_after = false" in info.value.message
        assert "campaign.pacing.release_after" in str(info.value)

    data["campaign"]["pacing"] = {"kind": "telepathic"}  # type: ignore[index]
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=EXAMPLE.parent)
    assert info.value.field == "campaign.pacing.kind"
    data["campaign"]["pacing"] = {"kind": "power", "ratio": -1}  # type: ignore[index]
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=EXAMPLE.parent)
    assert info.value.field.startswith("campaign.pacing")
    data["campaign"]["pacing"] = {"kind": "progressive"}  # type: ignore[index]
    data["queues"]["operators"]["strategy"] = "loudest"  # type: ignore[index]
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=EXAMPLE.parent)
    assert info.value.field == "queues.operators.strategy"


def test_hooks_table_imports_callbacks_before_anyone_is_called(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autoinformer.campaign_file import resolve_hooks

    (tmp_path / "shophooks.py").write_text(
        "def cancel_order(contact, digits):\n    return 'cancelled ' + contact.id\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    data = _data()
    data["script"][2]["options"]["2"] = "callback:cancel_order"  # type: ignore[index]
    data["hooks"] = {"cancel_order": "shophooks:cancel_order"}
    spec = parse_campaign(data, base=EXAMPLE.parent)
    hooks = resolve_hooks(spec)
    assert hooks["cancel_order"].__name__ == "cancel_order"
    data["hooks"] = {"cancel_order": "shophooks:nope"}
    with pytest.raises(SettingsError) as info:
        resolve_hooks(parse_campaign(data, base=EXAMPLE.parent))
    assert info.value.field == "hooks.cancel_order"
    data["hooks"] = {"cancel_order": "no-colon"}
    with pytest.raises(SettingsError, match=r"package\.module:function"):
        parse_campaign(data, base=EXAMPLE.parent)


def test_speech_table_builds_the_renderer_with_its_fallback() -> None:
    data = _data()
    data["speech"] = {
        "engine": "gtts",
        "lang": "ru",
        "voice": "com",
        "cache": "speech-cache",
        "fallback": "espeak",
    }
    spec = parse_campaign(data, base=Path("/campaigns"))
    speech = spec.speech
    assert (speech.engine, speech.lang, speech.voice, speech.fallback) == (
        "gtts",
        "ru",
        "com",
        "espeak",
    )
    assert speech.cache == Path("/campaigns/speech-cache")  # relative to the file
    renderer = speech.renderer()
    assert renderer.engine_names == ["gtts", "espeak-ng"]
    assert renderer.lang == "ru"
    assert renderer.renderers[0].cache.directory == Path("/campaigns/speech-cache")


def test_no_speech_table_means_espeak_offline() -> None:
    spec = parse_campaign(_data(), base=Path("/campaigns"))
    assert spec.speech.engine == "espeak"
    assert spec.speech.fallback is None


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"engine": "festival"}, "speech.engine"),
        ({"fallback": "polly"}, "speech.fallback"),
        ({"engine": "espeak", "fallback": "espeak"}, "speech.fallback"),
        ({"voices": "ru"}, "speech.voices"),
        ({"mode": "word"}, "speech.mode"),
        ({"lang": 7}, "speech.lang"),
    ],
)
def test_bad_speech_keys_name_the_key(table: dict[str, object], field: str) -> None:
    data = _data()
    data["speech"] = table
    with pytest.raises(SettingsError) as info:
        parse_campaign(data, base=Path("/campaigns"))
    assert info.value.field == field, info.value
