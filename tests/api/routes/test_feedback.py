"""POST /api/feedback (widget thumbs)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from api import repository
from api.db import Database
from api.main import create_app
from api.settings import Settings
from tests.support.app import make_settings


def test_feedback_recorded_redacted(bare_client: TestClient, settings: Settings) -> None:
    r = bare_client.post(
        "/api/feedback",
        json={
            "sender": "w-fb",
            "rating": "bad",
            "query": "tax form, mail me at a.b@example.com",
            "result_ids": ["ird-bir60", "ird-bir57"],
        },
    )
    assert r.status_code == 201
    assert r.json() == {}
    rows = repository.list_feedback(Database(settings.database_url), "w-fb")
    assert [(f.rating, f.query, f.result_ids, f.source) for f in rows] == [
        ("bad", "tax form, mail me at [EMAIL]", ["ird-bir60", "ird-bir57"], "widget")
    ]


def test_feedback_validation(bare_client: TestClient) -> None:
    assert (
        bare_client.post("/api/feedback", json={"sender": "w-1", "rating": "meh"}).status_code
        == 422
    )
    assert bare_client.post("/api/feedback", json={"rating": "good"}).status_code == 422
    ok = bare_client.post("/api/feedback", json={"sender": "w-1", "rating": "good", "query": None})
    assert ok.status_code == 201


def test_feedback_rate_limited(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path, rate_limit_per_minute=1))) as c:
        body = {"sender": "w-1", "rating": "good"}
        assert c.post("/api/feedback", json=body).status_code == 201
        assert c.post("/api/feedback", json=body).status_code == 429


def test_feedback_503_when_the_database_is_down(
    bare_client: TestClient, settings: Settings
) -> None:
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP TABLE feedback")
    r = bare_client.post("/api/feedback", json={"sender": "w-1", "rating": "good"})
    assert r.status_code == 503
    assert "database" in r.json()["detail"]
    assert r.headers["Retry-After"]
