"""/api/internal/*: the action server's routes, behind X-Internal-Token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api import repository
from api.db import Database
from api.settings import Settings
from tests.support.app import INTERNAL_HEADERS

HANDOFF = {
    "sender": "w-ho",
    "language": "zh-Hant",
    "reason": "requested",
    "transcript": [
        {"role": "user", "text": "我想搵真人，電話 9123 4567", "ts": 1.0},
        {"role": "bot", "text": "好的，我會轉介 1823。", "ts": 2.0},
    ],
    "searches": ["報稅"],
}


def test_handoff_needs_the_token(bare_client: TestClient) -> None:
    assert bare_client.post("/api/internal/handoffs", json=HANDOFF).status_code == 401
    wrong = bare_client.post(
        "/api/internal/handoffs", json=HANDOFF, headers={"X-Internal-Token": "x" * 40}
    )
    assert wrong.status_code == 401
    assert "X-Internal-Token" in wrong.json()["detail"]


def test_handoff_created_with_full_transcript(bare_client: TestClient, settings: Settings) -> None:
    r = bare_client.post("/api/internal/handoffs", json=HANDOFF, headers=INTERNAL_HEADERS)
    assert r.status_code == 201
    reference = r.json()["reference"]
    assert re.fullmatch(r"HO-\d{8}-[A-Z2-9]{6}", reference)
    stored = repository.get_handoff(Database(settings.database_url), reference)
    assert stored is not None
    assert stored.status == "open" and stored.language == "zh-Hant"
    # staff need the number to call back: the handoff transcript is not redacted
    assert stored.transcript[0]["text"] == "我想搵真人，電話 9123 4567"
    assert stored.searches == ["報稅"]


def test_handoff_validation(bare_client: TestClient) -> None:
    bad = {**HANDOFF, "reason": "bored"}
    assert (
        bare_client.post("/api/internal/handoffs", json=bad, headers=INTERNAL_HEADERS).status_code
        == 422
    )
    bad_role = {**HANDOFF, "transcript": [{"role": "agent", "text": "x", "ts": 1}]}
    r = bare_client.post("/api/internal/handoffs", json=bad_role, headers=INTERNAL_HEADERS)
    assert r.status_code == 422


def test_internal_feedback(bare_client: TestClient, settings: Settings) -> None:
    body = {
        "sender": "w-ifb",
        "rating": "good",
        "query": "報稅",
        "result_ids": ["ird-bir60"],
        "language": "zh-Hant",
    }
    assert bare_client.post("/api/internal/feedback", json=body).status_code == 401
    r = bare_client.post("/api/internal/feedback", json=body, headers=INTERNAL_HEADERS)
    assert r.status_code == 201
    assert r.json() == {}
    rows = repository.list_feedback(Database(settings.database_url), "w-ifb")
    assert [(f.source, f.language, f.query) for f in rows] == [("bot", "zh-Hant", "報稅")]
