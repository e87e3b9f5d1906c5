"""The agent console's api: search with filters, facets, form details, the handoff queue."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.app import INTERNAL_HEADERS
from tests.support.staff import login

AGENT_GETS = [
    "/api/agent/search?q=tax",
    "/api/agent/facets",
    "/api/agent/forms/ird-bir60",
    "/api/agent/handoffs",
    "/api/agent/handoffs/1",
]


def _handoff(client: TestClient, sender: str, text: str, language: str = "en") -> str:
    r = client.post(
        "/api/internal/handoffs",
        headers=INTERNAL_HEADERS,
        json={
            "sender": sender,
            "language": language,
            "reason": "requested",
            "transcript": [
                {"role": "user", "text": text, "ts": 1.0},
                {"role": "bot", "text": "Here is what I found.", "ts": 2.0},
            ],
            "searches": [text],
        },
    )
    assert r.status_code == 201
    return str(r.json()["reference"])


@pytest.mark.parametrize("path", AGENT_GETS)
def test_agent_routes_need_a_session(staff_client: TestClient, path: str) -> None:
    assert staff_client.get(path).status_code == 401
    r = staff_client.post("/api/agent/handoffs/1", json={"status": "taken"})
    assert r.status_code == 401


@pytest.mark.parametrize("user", ["bo", "ada"])  # agents and admins
def test_agents_and_admins_may_use_the_console(staff_client: TestClient, user: str) -> None:
    login(staff_client, user)
    r = staff_client.get("/api/agent/search", params={"q": "individual tax return"})
    assert r.status_code == 200
    assert r.json()["results"][0]["id"] == "ird-bir60"


def test_search_with_filters(staff_client: TestClient) -> None:
    login(staff_client, "bo")
    r = staff_client.get("/api/agent/search", params={"q": "申請", "department": "SWD", "k": 20})
    results = r.json()["results"]
    assert results and {x["department_code"] for x in results} == {"SWD"}
    first = results[0]
    assert {"id", "form_no", "title_en", "title_zh", "department_en", "url", "kind"} <= set(first)
    r = staff_client.get("/api/agent/search", params={"q": "tax", "kind": "e-service"})
    assert {x["kind"] for x in r.json()["results"]} == {"e-service"}
    # no query and a filter: the filtered entries, by title
    r = staff_client.get("/api/agent/search", params={"department": "IRD", "topic": "tax", "k": 50})
    listed = r.json()["results"]
    assert len(listed) > 10 and all(x["department_code"] == "IRD" for x in listed)
    titles = [x["title_en"].casefold() for x in listed]
    assert titles == sorted(titles)
    assert staff_client.get("/api/agent/search").json()["results"] == []


@pytest.mark.parametrize(
    "params", [{"q": "tax", "k": 0}, {"q": "tax", "k": 51}, {"q": "x" * 301}, {"kind": "paper"}]
)
def test_search_refuses_bad_parameters(staff_client: TestClient, params: dict[str, object]) -> None:
    login(staff_client, "bo")
    assert staff_client.get("/api/agent/search", params=params).status_code == 422


def test_facets_and_form_details(staff_client: TestClient) -> None:
    login(staff_client, "bo")
    facets = staff_client.get("/api/agent/facets").json()
    assert {d["code"] for d in facets["departments"]} == {"IRD", "SWD"}
    assert all(t["name_en"] and t["name_zh"] for t in facets["topics"])
    form = staff_client.get("/api/agent/forms/ird-bir60").json()
    assert form["title_en"].startswith("Tax Return") and form["title_zh"]
    assert form["url"].startswith("https://") and isinstance(form["colloquial_aliases"], list)
    assert staff_client.get("/api/agent/forms/no-such-form").status_code == 404


def test_handoff_queue_newest_first_with_transcript(staff_client: TestClient) -> None:
    first = _handoff(staff_client, "w-first", "I need help with my tax")
    second = _handoff(staff_client, "w-second", "我想搵真人", "zh-Hant")
    login(staff_client, "bo")
    body = staff_client.get("/api/agent/handoffs").json()
    refs = [h["reference"] for h in body["handoffs"]]
    assert refs == [second, first]
    newest = body["handoffs"][0]
    assert newest["language"] == "zh-Hant" and newest["status"] == "open"
    assert newest["transcript"][0] == {"role": "user", "text": "我想搵真人", "ts": 1.0}
    assert newest["searches"] == ["我想搵真人"]
    assert body["counts"] == {"open": 2, "taken": 0, "closed": 0}
    one = staff_client.get(f"/api/agent/handoffs/{newest['id']}")
    assert one.json()["reference"] == second
    assert staff_client.get("/api/agent/handoffs/999").status_code == 404
    assert staff_client.get("/api/agent/handoffs", params={"status": "nope"}).status_code == 422


def test_take_and_close_a_case(staff_client: TestClient) -> None:
    _handoff(staff_client, "w-case", "renew passport")
    csrf = login(staff_client, "bo")
    case = staff_client.get("/api/agent/handoffs").json()["handoffs"][0]
    url = f"/api/agent/handoffs/{case['id']}"
    # state-changing calls need the CSRF token
    assert staff_client.post(url, json={"status": "taken"}).status_code == 403
    r = staff_client.post(url, json={"status": "taken"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["assigned_to"]) == ("taken", "bo")
    # another agent cannot take it too
    csrf_cy = login(staff_client, "cy")
    r = staff_client.post(url, json={"status": "taken"}, headers={"X-CSRF-Token": csrf_cy})
    assert r.status_code == 409 and "already taken by bo" in r.json()["detail"]
    csrf = login(staff_client, "bo")
    r = staff_client.post(url, json={"status": "closed"}, headers={"X-CSRF-Token": csrf})
    assert r.json()["status"] == "closed"
    assert staff_client.get("/api/agent/handoffs").json()["handoffs"] == []  # active only
    closed = staff_client.get("/api/agent/handoffs", params={"status": "closed"}).json()
    assert [h["reference"] for h in closed["handoffs"]] == [case["reference"]]
    for bad in ({"status": "lost"}, {}):
        assert staff_client.post(url, json=bad, headers={"X-CSRF-Token": csrf}).status_code == 422
    r = staff_client.post(
        "/api/agent/handoffs/999", json={"status": "closed"}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 404
    login(staff_client, "ada")
    actions = [
        (e["actor"], e["action"], e["target"])
        for e in staff_client.get("/api/admin/audit").json()["entries"]
    ]
    assert ("bo", "handoff_taken", case["reference"]) in actions
    assert ("bo", "handoff_closed", case["reference"]) in actions


def test_agent_pages_are_served_with_the_strict_csp(staff_client: TestClient) -> None:
    for path in ("/agent", "/admin"):
        r = staff_client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "<script>" not in r.text and " on" + "click=" not in r.text
