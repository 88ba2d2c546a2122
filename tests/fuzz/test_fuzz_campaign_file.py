"""Fuzzing the campaign file: any value at any key raises only ``SettingsError`` /
``InputError`` (as ``load_campaign_file`` documents), and ``autoinformer run`` answers each
file of the corpus with exit 2 and one line naming the key (issue #14, item 10)."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autoinformer.campaign_file import load_campaign_file, parse_campaign
from autoinformer.cli import main
from autoinformer.errors import InputError, SettingsError

from ._budget import fuzz

EXAMPLE = Path(__file__).parents[2] / "examples" / "campaign" / "campaign.toml"
BASE = tomllib.loads(EXAMPLE.read_text())
CORPUS = sorted((Path(__file__).parent / "corpus" / "toml").glob("*.toml"))

# The key each corpus file gets wrong (the file name says how).
EXPECTED_FIELD = {
    "abandon_window_1e300": "campaign.abandon_window",
    "backend_password": "backend.password",
    "contacts_nul_byte": "campaign.contacts",
    "limits_min_interval_1e300": "campaign.limits.min_interval",
    "max_call_seconds_nan": "campaign.max_call_seconds",
    "retry_interval_1e20": "campaign.retry.interval",
    "retry_interval_huge_text": "campaign.retry.interval",
    "say_template_syntax": "script[0].say",
    "sim_digit_rates_string": "sim.digit_rates",
    "sms_on_missed_false": "campaign.sms.on_missed",
    "timezone_300_chars": "campaign.timezone",
    "window_days_float": "campaign.window.days",
    "window_days_int": "campaign.window.days",
    "window_timezone_300_chars": "campaign.window.timezone",
}


def test_every_corpus_file_has_its_key() -> None:
    assert {p.stem for p in CORPUS} == set(EXPECTED_FIELD)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_file_is_a_settings_error_naming_the_key(path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_campaign_file(path)
    assert info.value.field == EXPECTED_FIELD[path.stem]


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_run_answers_a_corpus_file_with_exit_2_and_one_line(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store.sqlite"
    assert main(["run", str(path), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"autoinformer: error: {EXPECTED_FIELD[path.stem]}"), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert "s3cret-pw" not in err  # a password is never echoed
    assert not store.exists()  # nothing ran


# --- properties -----------------------------------------------------------------------------


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*prefix, i))
            out.extend(_paths(value, (*prefix, i)))
    return out


# Keys the example does not use, so the fuzzer also reaches their parsers.
_EXTRA = [
    ("campaign", "timezone"),
    ("campaign", "abandon_window"),
    ("campaign", "window", "holidays"),
    ("campaign", "window", "start"),
    ("campaign", "window", "end"),
    ("campaign", "window", "strict"),
    ("campaign", "retry", "rules"),
    ("campaign", "retry", "abandoned_cooldown"),
    ("campaign", "retry", "ring_timeout"),
    ("campaign", "limits", "min_interval"),
    ("campaign", "limits", "per_day"),
    ("campaign", "caller_id", "numbers"),
    ("campaign", "caller_id", "cooldown"),
    ("campaign", "caller_id", "cap_timezone"),
    ("campaign", "sms", "on_hangup"),
    ("campaign", "sms", "missed_when"),
    ("campaign", "pacing", "kind"),
    ("campaign", "pacing", "ratio"),
    ("campaign", "pacing", "release_after"),
    ("campaign", "pacing", "max_abandon_rate"),
    ("campaign", "pacing", "warmup"),
    ("campaign", "do_not_call"),
    ("campaign", "lang"),
    ("sim", "model"),
    ("sim", "answer_rate"),
    ("sim", "fail_after_s"),
    ("speech", "engine"),
    ("speech", "cache"),
    ("hooks", "x"),
]
_PATHS = _paths(BASE) + _EXTRA

_SCALAR = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.sampled_from([1e20, 1e300, -0.0, 0.02, float("inf"), float("nan")]),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\x00",
            "20m",
            "99999999999999999999h",
            "A" * 300,
            "mon-fri",
            "09:00-20:00",
            "Europe/Moscow",
            "../" * 40,
            "{BALANCE",
            "predictive",
            "power",
            "<currency>1 RUB</currency>",
            "1e999",
        ]
    ),
    st.dates(),
    st.datetimes(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.times(),
)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = data
    for key in path[:-1]:
        if isinstance(node, dict):
            if not isinstance(node.get(key), dict | list):
                node[key] = {}
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return
    last = path[-1]
    if isinstance(node, dict) or (
        isinstance(node, list) and isinstance(last, int) and last < len(node)
    ):
        node[last] = value


@fuzz(400)
@given(
    changes=st.lists(st.tuples(st.sampled_from(_PATHS), _VALUE), min_size=1, max_size=3),
)
def test_any_value_at_any_key(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = copy.deepcopy(BASE)
    for path, value in changes:
        _set(data, path, value)
    try:
        spec = parse_campaign(data, base=EXAMPLE.parent)
    except InputError:
        return
    spec.pacing()  # what was accepted builds


@fuzz(150)
@given(text=st.text(max_size=200))
def test_any_text_as_a_campaign_file(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        with contextlib.suppress(InputError):
            load_campaign_file(path)
