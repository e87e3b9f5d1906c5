"""GET /api/forms/{id} and GET /api/departments."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_get_form(client: TestClient) -> None:
    r = client.get("/api/forms/ird-bir60")
    assert r.status_code == 200
    entry = r.json()
    assert entry["id"] == "ird-bir60"
    assert entry["form_no"] == "BIR60"
    assert entry["department_code"] == "IRD"
    assert entry["url"].startswith("https://")


def test_unknown_form_is_404(client: TestClient) -> None:
    r = client.get("/api/forms/no-such-form")
    assert r.status_code == 404
    assert "no-such-form" in r.json()["detail"]


def test_forms_503_without_index(bare_client: TestClient) -> None:
    assert bare_client.get("/api/forms/ird-bir60").status_code == 503
    assert bare_client.get("/api/departments").status_code == 503


def test_departments(client: TestClient) -> None:
    r = client.get("/api/departments")
    assert r.status_code == 200
    body = r.json()
    codes = {d["code"] for d in body["departments"]}
    assert {"IRD", "TD"} <= codes
    ird = next(d for d in body["departments"] if d["code"] == "IRD")
    assert ird["name_en"] == "Inland Revenue Department"
    assert ird["name_zh"] == "稅務局"
    assert ird["entries"] and ird["entries"] > 0
    assert body["index_version"]
