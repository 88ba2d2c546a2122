"""The FreeSWITCH backend's settings from a campaign file: a plain password is refused, as
the ARI backend refuses it (issue #14, item 11)."""

from __future__ import annotations

import pytest

from autoinformer.backends.esl.settings import EslSettings
from autoinformer.errors import SettingsError


def test_a_password_in_the_campaign_file_is_refused_pointing_to_password_env() -> None:
    with pytest.raises(SettingsError) as info:
        EslSettings.from_settings({"kind": "esl", "host": "fs", "password": "s3cret-pw"})
    assert info.value.field == "backend.password"
    assert "password_env" in info.value.message
    assert "s3cret-pw" not in str(info.value)


def test_password_env_is_the_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESL_TEST_PASSWORD", "s3cret-pw")
    settings = EslSettings.from_settings(
        {"kind": "esl", "host": "fs", "password_env": "ESL_TEST_PASSWORD"}
    )
    assert settings._secret == "s3cret-pw"
    assert "s3cret-pw" not in repr(settings)


def test_code_that_holds_the_password_still_passes_it() -> None:
    assert EslSettings(password="s3cret-pw")._secret == "s3cret-pw"
