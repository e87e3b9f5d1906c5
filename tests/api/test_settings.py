"""api.settings: required secrets, placeholders refused, values from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings
from forms_index.settings import IndexSettings
from tests.support.app import TEST_SECRETS


def test_secrets_have_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RASA_TOKEN", "INTERNAL_API_TOKEN", "SESSION_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as info:
        Settings()
    missing = {e["loc"][0] for e in info.value.errors()}
    assert missing == {"rasa_token", "internal_api_token", "session_secret"}


@pytest.mark.parametrize("value", ["changeme", "secret", "short", "CHANGETHIS"])
def test_placeholder_secrets_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(**{**TEST_SECRETS, "internal_api_token": value})


def test_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_TOKEN", "r" * 32)
    monkeypatch.setenv("INTERNAL_API_TOKEN", "i" * 32)
    monkeypatch.setenv("SESSION_SECRET", "s" * 32)
    monkeypatch.setenv("API_PORT", "8123")
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "0")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.gov.hk, https://b.gov.hk/")
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:5999/")
    s = Settings()
    assert s.api_port == 8123
    assert s.rate_limit_per_minute == 0
    assert s.cors_origins == ["https://a.gov.hk", "https://b.gov.hk"]
    assert s.rasa_url == "http://127.0.0.1:5999"
    assert s.internal_api_token.get_secret_value() == "i" * 32
    assert "i" * 32 not in repr(s)  # secrets never printed


def test_defaults_are_local_and_safe() -> None:
    s = Settings(**TEST_SECRETS)
    assert isinstance(s, IndexSettings)  # one home per setting
    assert (s.api_host, s.api_port) == ("127.0.0.1", 8000)
    assert s.rasa_url.startswith("http://127.0.0.1")
    assert s.actions_url.startswith("http://127.0.0.1")
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("var/app.sqlite3")
    assert s.cors_origins == []
    assert s.rate_limit_per_minute > 0


def test_cors_json_list() -> None:
    s = Settings(**TEST_SECRETS, cors_origins='["https://x.gov.hk"]')
    assert s.cors_origins == ["https://x.gov.hk"]
