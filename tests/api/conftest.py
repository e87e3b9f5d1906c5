"""Fixtures of the api tests: an app per test on its own SQLite file, run with
``with TestClient(app)`` so the lifespan (migrations, index, HTTP client) runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import get_http, get_rasa
from api.main import create_app
from api.rasa import RasaClient
from api.settings import Settings
from tests.support.app import TEST_SECRETS, FakeRasa, make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def client(settings: Settings, real_engine: Any) -> Iterator[TestClient]:
    """The api serving the project's real index (Rasa not running)."""
    with TestClient(create_app(settings, engine=real_engine)) as c:
        yield c


@pytest.fixture
def bare_client(settings: Settings) -> Iterator[TestClient]:
    """The api with no index loaded and Rasa not running."""
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


def with_fake_rasa(app: FastAPI, fake: FakeRasa, settings: Settings) -> None:
    http = fake.client()
    rasa = RasaClient(http, "http://rasa.test", TEST_SECRETS["rasa_token"], settings.rasa_timeout)
    app.dependency_overrides[get_rasa] = lambda: rasa
    app.dependency_overrides[get_http] = lambda: http


@pytest.fixture
def chat_client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    """The api with Rasa's answers given by ``fake_rasa`` (no index needed)."""
    app = create_app(settings)
    with_fake_rasa(app, fake_rasa, settings)
    with TestClient(app) as c:
        yield c
