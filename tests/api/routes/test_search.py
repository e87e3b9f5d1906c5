"""GET /api/search on the project's real index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.support.app import INTERNAL_HEADERS, make_settings

RESULT_FIELDS = {
    "id",
    "form_no",
    "kind",
    "title_en",
    "title_zh",
    "title_zh_unofficial",
    "department_code",
    "department_en",
    "department_zh",
    "topic",
    "url",
    "score",
    "why",
}


def search_log(settings: Settings) -> list[tuple[Any, ...]]:
    import sqlite3

    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as conn:
        return list(
            conn.execute("SELECT query, result_ids, source, sender, filters FROM search_log")
        )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("個別人士報稅表", "ird-bir60"),  # official Chinese title
        ("BIR60", "ird-bir60"),  # form number
        ("tax return individuals", "ird-bir60"),  # English
    ],
)
def test_finds_the_form(client: TestClient, query: str, expected: str) -> None:
    r = client.get("/api/search", params={"q": query, "k": 5})
    assert r.status_code == 200
    body = r.json()
    ids = [x["id"] for x in body["results"]]
    assert expected in ids
    assert set(body["results"][0]) >= RESULT_FIELDS
    assert body["index_version"] and isinstance(body["index_version"], str)
    assert len(ids) <= 5


def test_scores_are_ordered_and_urls_https(client: TestClient) -> None:
    results = client.get("/api/search", params={"q": "renew passport", "k": 10}).json()["results"]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(r["url"].startswith("https://") for r in results)


def test_filters(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "tax", "department": "IRD", "kind": "form", "k": 10})
    results = r.json()["results"]
    assert results
    assert all(x["department_code"] == "IRD" and x["kind"] == "form" for x in results)
    assert client.get("/api/search", params={"q": "tax", "kind": "leaflet"}).status_code == 422


def test_k_bounds(client: TestClient, settings: Settings) -> None:
    assert client.get("/api/search", params={"q": "tax", "k": 0}).status_code == 422
    too_many = client.get("/api/search", params={"q": "tax", "k": settings.search_max_k + 1})
    assert too_many.status_code == 422
    assert str(settings.search_max_k) in too_many.json()["detail"]
    assert client.get("/api/search", params={"q": "tax", "k": "many"}).status_code == 422


def test_empty_query_gets_no_results(client: TestClient) -> None:
    for q in ("", "   "):
        body = client.get("/api/search", params={"q": q}).json()
        assert body["results"] == [] and body["clarify"] is None and body["index_version"]


def test_too_long_query_is_422(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "稅" * 301})
    assert r.status_code == 422
    assert "too long" in r.json()["detail"]


def test_clarify_has_the_contract_shape(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "車牌", "k": 5}).json()
    if body["clarify"] is not None:  # whether 車牌 is ambiguous is the index's call
        assert body["clarify"]["term"]
        for option in body["clarify"]["options"]:
            assert set(option) >= {"key", "label_en", "label_zh", "ids"}


def test_search_log_is_redacted(client: TestClient, settings: Settings) -> None:
    client.get("/api/search", params={"q": "tax return my HKID A123456(7) tel 9123 4567"})
    client.get(
        "/api/search",
        params={"q": "passport", "sender": "w-abc", "department": "TD"},
        headers=INTERNAL_HEADERS,
    )
    rows = search_log(settings)
    assert rows[0][0] == "tax return my HKID [HKID] tel [PHONE]"
    assert rows[0][2] == "public"
    assert rows[1][2:4] == ("bot", "w-abc")
    assert "TD" in rows[1][4]


def test_low_confidence_is_answered_and_logged(client: TestClient, settings: Settings) -> None:
    vague = client.get("/api/search", params={"q": "asdfgh qwerty"}).json()
    clear = client.get("/api/search", params={"q": "renew passport"}).json()
    assert vague["results"] and vague["low_confidence"] is True
    assert clear["low_confidence"] is False
    import sqlite3

    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as conn:
        logged = dict(conn.execute("SELECT query, low_confidence FROM search_log"))
    assert logged == {"asdfgh qwerty": 1, "renew passport": 0}


def test_503_when_no_index(bare_client: TestClient) -> None:
    r = bare_client.get("/api/search", params={"q": "tax"})
    assert r.status_code == 503
    assert "index" in r.json()["detail"]


def test_rate_limit(tmp_path: Path, real_engine: Any) -> None:
    settings = make_settings(tmp_path, rate_limit_per_minute=2)
    with TestClient(create_app(settings, engine=real_engine)) as c:
        answers = [c.get("/api/search", params={"q": "tax"}) for _ in range(3)]
        exempt = c.get("/api/search", params={"q": "tax"}, headers=INTERNAL_HEADERS)
        wrong = c.get("/api/search", params={"q": "tax"}, headers={"X-Internal-Token": "nope"})
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert "detail" in answers[2].json()
    assert exempt.status_code == 200
    assert wrong.status_code == 429
