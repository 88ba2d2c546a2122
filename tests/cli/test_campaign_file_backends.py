"""``[[backend]]`` entries: several switches behind one campaign in the campaign file (#17).

- the single ``[backend]`` table keeps working as it did;
- ``[[backend]]`` entries: each a kind, its own settings and a share (``lines`` or ``weight``);
  every mistake names its entry's dotted key, a password is never echoed, mixing the two
  forms is refused, and ``campaign.lines`` is held to the switches' lines between them;
- the CLI's assembly builds a :class:`SwitchSet` from them (real or simulated switches) and
  the preflight checks every switch;
- ``autoinformer run --speed`` runs a campaign over two simulated switches to its end.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from autoinformer._assembly import real_switch, sim_model, sim_switch
from autoinformer.backends.ari import AriSwitch
from autoinformer.backends.esl import EslSwitch
from autoinformer.backends.multi import SwitchSet
from autoinformer.backends.sim import SimSwitch
from autoinformer.campaign_file import load_campaign_file, parse_campaign
from autoinformer.cli import main
from autoinformer.clock import ScaledClock
from autoinformer.errors import SettingsError
from autoinformer.preflight import check_backend

HEAD = """
[campaign]
name = "two switches"
timezone = "UTC"
{lines}

[[script]]
play = "sound:hello-world"
"""

ARI = """
[[backend]]
kind = "ari"
name = "asterisk"
url = "http://127.0.0.1:8088"
username = "ari"
password_env = "TEST_ARI_PASSWORD"
endpoint = "PJSIP/{{digits}}@trunk"
{share}
"""

ESL = """
[[backend]]
kind = "esl"
name = "freeswitch"
host = "127.0.0.1"
password_env = "TEST_ESL_PASSWORD"
dial = "sofia/gateway/gw1/{{digits}}"
{share}
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campaign.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _two(lines: str = "", a: str = "lines = 20", b: str = "lines = 10") -> str:
    return HEAD.format(lines=lines) + ARI.format(share=a) + ESL.format(share=b)


def _parse(text: str) -> Any:
    return parse_campaign(tomllib.loads(text), base=Path("."))


def test_the_single_backend_table_is_unchanged() -> None:
    text = HEAD.format(lines="lines = 4") + '[backend]\nkind = "esl"\nhost = "pbx"\n'
    spec = _parse(text)
    assert spec.backend == "esl"
    assert spec.backend_settings == {"host": "pbx"}
    assert spec.campaign.lines == 4
    (entry,) = spec.backends
    assert (entry.kind, entry.key, entry.lines, entry.weight) == ("esl", "backend", None, None)
    assert _parse(HEAD.format(lines="")).backend == "sim"  # no [backend]: the simulated one


def test_entries_with_lines_make_a_set_and_the_campaign_gets_their_lines() -> None:
    spec = _parse(_two())
    assert spec.backend == "multi"
    assert [(e.name, e.kind, e.lines, e.weight) for e in spec.backends] == [
        ("asterisk", "ari", 20, None),
        ("freeswitch", "esl", 10, None),
    ]
    assert spec.backends[1].key == "backend[1]"
    assert spec.backends[1].settings["host"] == "127.0.0.1"
    assert "lines" not in spec.backends[0].settings
    assert spec.campaign.lines == 30  # not given: the switches' lines between them
    assert _parse(_two(lines="lines = 12")).campaign.lines == 12
    weighted = _parse(_two(a="weight = 3", b="weight = 1"))
    assert [e.weight for e in weighted.backends] == [3.0, 1.0]
    assert weighted.campaign.lines == 1  # weights cap nothing: the usual default


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (_two(b="lines = 0"), "backend[1].lines", "expected an integer >= 1, got 0"),
        (_two(b='lines = "ten"'), "backend[1].lines", "expected an integer >= 1"),
        (_two(a="weight = -1"), "backend[0].weight", "expected a number > 0"),
        (_two(a="lines = 2\nlost_after = 0"), "backend[0].lost_after", "expected seconds > 0"),
        (_two(b=""), "backend[1]", "give lines = N"),
        (_two(a="weight = 2", b="lines = 3"), "backend[1].weight", "give every [[backend]]"),
        (_two(lines="lines = 40"), "campaign.lines", "add up to 30 (asterisk 20, freeswitch 10)"),
        (
            _two(b="lines = 3").replace('"freeswitch"', '"asterisk"'),
            "backend[1].name",
            "names another switch",
        ),
        (_two(b="lines = 3").replace('kind = "esl"\n', ""), "backend[1].kind", "missing"),
        (_two(b="lines = 3").replace('"esl"', '"pbx"'), "backend[1].kind", "got 'pbx'"),
        (
            _two(b="lines = 3").replace('kind = "esl"', 'kind = "sim"'),
            "backend[1].kind",
            "cannot share a campaign with real switches",
        ),
        (
            HEAD.format(lines="") + '[[backend]]\nkind = "sim"\nlines = 2\ncolour = "red"\n',
            "backend[0].colour",
            "unknown key",
        ),
    ],
)
def test_mistakes_name_the_entry(text: str, field: str, message: str) -> None:
    with pytest.raises(SettingsError) as info:
        _parse(text)
    assert info.value.field == field, info.value
    assert message in info.value.message, info.value


def test_a_password_in_an_entry_is_refused_and_never_echoed() -> None:
    text = _two(b='lines = 3\npassword = "Secret-Pa55"')
    with pytest.raises(SettingsError) as info:
        _parse(text)
    assert info.value.field == "backend[1].password"
    assert "password_env" in info.value.message
    assert "Secret-Pa55" not in str(info.value)


def test_a_backend_table_and_entries_together_are_refused(tmp_path: Path) -> None:
    text = _two() + '\n[backend]\nkind = "sim"\n'
    with pytest.raises(SettingsError) as info:
        load_campaign_file(_file(tmp_path, text))
    assert info.value.field == "backend"
    assert "not both" in info.value.message


def test_the_assembly_builds_a_switch_set_and_entry_errors_name_the_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_ARI_PASSWORD", "pw-ari")
    monkeypatch.setenv("TEST_ESL_PASSWORD", "pw-esl")
    switch = real_switch(_parse(_two()))()
    assert isinstance(switch, SwitchSet)
    a, b = switch.members
    assert isinstance(a.switch, AriSwitch)
    assert isinstance(b.switch, EslSwitch)
    assert [(m.name, m.lines) for m in switch.members] == [("asterisk", 20), ("freeswitch", 10)]
    patient = real_switch(_parse(_two(a="lines = 20\nlost_after = 300")))()
    assert isinstance(patient, SwitchSet)
    assert [m.lost_after for m in patient.members] == [300.0, None]
    broken = _parse(_two(b="lines = 3\nport = 70000"))
    with pytest.raises(SettingsError) as info:
        real_switch(broken)()
    assert info.value.field == "backend[1].port"
    monkeypatch.delenv("TEST_ESL_PASSWORD")
    with pytest.raises(SettingsError) as info:
        real_switch(_parse(_two()))()
    assert info.value.field.startswith("backend[1]")
    assert "pw-ari" not in str(info.value)


def test_preflight_checks_every_switch(tmp_path: Path) -> None:
    (tmp_path / "hello.wav").write_bytes(b"")  # check_backend looks at paths, not contents
    text = _two().replace('play = "sound:hello-world"', 'play = "hello.wav"')
    spec = parse_campaign(tomllib.loads(text), base=tmp_path)
    with pytest.raises(SettingsError) as info:
        check_backend(spec.campaign, spec.backend, spec.backend_settings)
    assert info.value.field == "backend[0].sounds_dir"  # the Asterisk cannot see the file
    assert info.value.message.startswith("asterisk: ")
    fixed = text.replace('name = "asterisk"', f'name = "asterisk"\nsounds_dir = "{tmp_path}"')
    spec = parse_campaign(tomllib.loads(fixed), base=tmp_path)
    check_backend(spec.campaign, spec.backend, spec.backend_settings)


SIMULATED = """
[campaign]
name = "two sims"
timezone = "UTC"
contacts = "list.csv"
lines = 6

[campaign.retry]
attempts = 2
interval = "1m"

[[script]]
play = "sound:hello-world"

[[backend]]
kind = "sim"
name = "left"
lines = 4

[[backend]]
kind = "sim"
name = "right"
lines = 4

[sim]
model = "parties"
"""


def test_simulated_entries_make_several_simulated_switches(tmp_path: Path) -> None:
    spec = _parse(SIMULATED.replace('contacts = "list.csv"\n', ""))
    assert spec.backend == "sim"
    assert spec.backend_settings == {}
    switch = sim_switch(spec, sim_model(spec), ScaledClock(speed=100))
    assert isinstance(switch, SwitchSet)
    assert [m.lines for m in switch.members] == [4, 4]
    assert all(isinstance(m.switch, SimSwitch) for m in switch.members)
    first, second = (m.switch for m in switch.members)
    assert isinstance(first, SimSwitch)
    assert isinstance(second, SimSwitch)
    assert first.model is second.model  # one population, split by the calls each places
    single = _parse(HEAD.format(lines=""))
    assert isinstance(sim_switch(single, sim_model(single), ScaledClock()), SimSwitch)


def test_run_with_speed_over_two_simulated_switches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "\n".join(f"c{i},+7950000{i:03d}{i % 4}" for i in range(40))
    (tmp_path / "list.csv").write_text(f"id,phone\n{rows}\n", encoding="utf-8")
    path = _file(tmp_path, SIMULATED)
    store = tmp_path / "store.db"
    code = main(["run", str(path), "--speed", "2000", "--store", str(store), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert sum(summary["contacts"].values()) == 40
    assert set(summary["contacts"]) <= {"done", "exhausted"}  # every contact finished
    assert summary["unfinished"] == 0
