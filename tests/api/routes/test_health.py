"""GET /healthz and GET /readyz."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import with_fake_rasa
from tests.support.app import FakeRasa


def test_healthz(bare_client: TestClient) -> None:
    r = bare_client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_not_ready_says_why(bare_client: TestClient) -> None:
    r = bare_client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not ready"
    assert body["checks"]["index"] != "ok"
    assert body["checks"]["rasa"].startswith("unreachable")
    assert body["checks"]["actions"].startswith("unreachable")


def test_readyz_index_loaded_but_rasa_down(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["checks"]["index"] == "ok"
    assert body["index_version"]
    assert body["status"] == "not ready"


def test_readyz_ready(settings: Settings, real_engine: Any) -> None:
    app = create_app(settings, engine=real_engine)
    with_fake_rasa(app, FakeRasa(), settings)
    with TestClient(app) as c:
        r = c.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"
    assert r.json()["checks"] == {"index": "ok", "rasa": "ok", "actions": "ok"}


def test_readyz_rasa_up_but_action_server_down(settings: Settings, real_engine: Any) -> None:
    app = create_app(settings, engine=real_engine)
    with_fake_rasa(app, FakeRasa(actions_up=False), settings)
    with TestClient(app) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert (checks["index"], checks["rasa"]) == ("ok", "ok")
    assert checks["actions"].startswith("unreachable")


def test_readyz_rasa_and_actions_up_but_no_index(settings: Settings) -> None:
    app = create_app(settings)
    with_fake_rasa(app, FakeRasa(), settings)
    with TestClient(app) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert (checks["rasa"], checks["actions"]) == ("ok", "ok")
    assert checks["index"] != "ok"
