"""The content admin's api: every route's guards, uploads checked by line and diffed,
publish through a separate build process with the quality gate and an atomic switch,
rollback, alias edits, the review queue and the audit log.

Each test has its own copy of a small real index (tests/support/staff.py); the build
processes are real (``python -m api.publish``)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import time
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import repository
from api.db import Database
from api.main import create_app
from api.publish import jobs
from api.settings import Settings
from api.storage import PublishJob
from forms_index.artifacts import IndexStore, new_version_name
from forms_index.catalogue import COLUMNS, Entry
from tests.support.app import INTERNAL_HEADERS
from tests.support.staff import SmallIndex, add_account, jsonl, login, wait_job

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/admin/catalogue", {}),
    ("POST", "/api/admin/catalogue", {"files": {"file": ("c.jsonl", b"{}\n")}}),
    ("POST", "/api/admin/publish", {"json": {"upload_id": "x"}}),
    ("GET", "/api/admin/jobs", {}),
    ("GET", "/api/admin/jobs/x", {}),
    ("GET", "/api/admin/versions", {}),
    ("POST", "/api/admin/rollback", {"json": {"version": "x"}}),
    ("GET", "/api/admin/aliases?entry_id=ird-bir60", {}),
    ("POST", "/api/admin/aliases", {"json": {"entry_id": "ird-bir60", "term": "x"}}),
    ("GET", "/api/admin/review", {}),
    ("POST", "/api/admin/review/dismiss", {"json": {"key": "k"}}),
    ("GET", "/api/admin/audit", {}),
]
TARGET = "ird-bir60"


def _post(client: TestClient, csrf: str, path: str, **kw: Any) -> Any:
    return client.post(path, headers={"X-CSRF-Token": csrf}, **kw)


def _upload(client: TestClient, csrf: str, data: bytes, name: str = "catalogue.jsonl") -> Any:
    r = _post(client, csrf, "/api/admin/catalogue", files={"file": (name, data)})
    assert r.status_code == 200, r.text
    return r.json()


def _edited(entries: list[Entry], entry_id: str, **changes: Any) -> list[Entry]:
    return [e.model_copy(update=changes) if e.id == entry_id else e for e in entries]


def _current(settings: Settings) -> str | None:
    return IndexStore(settings.index_dir).current_version()


def _title(client: TestClient, entry_id: str) -> str:
    r = client.get(f"/api/forms/{entry_id}")
    assert r.status_code == 200
    return str(r.json()["title_en"])


# --- guards ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "kw"), ADMIN_ROUTES)
def test_admin_routes_need_an_admin_session(
    staff_client: TestClient, method: str, path: str, kw: dict[str, Any]
) -> None:
    assert staff_client.request(method, path, **kw).status_code == 401
    csrf = login(staff_client, "bo")  # an agent
    r = staff_client.request(method, path, headers={"X-CSRF-Token": csrf}, **kw)
    assert r.status_code == 403
    assert "access" in r.json()["detail"]
    if method == "POST":
        login(staff_client, "ada")
        r = staff_client.request(method, path, **kw)  # admin, but no CSRF token
        assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]


# --- catalogue download and upload ---------------------------------------------------------


def test_download_the_live_catalogue(staff_client: TestClient, staff_settings: Settings) -> None:
    login(staff_client, "ada")
    r = staff_client.get("/api/admin/catalogue")
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    live = IndexStore(staff_settings.index_dir).current_path() / "catalogue.jsonl"
    assert r.content == live.read_bytes()
    assert [json.loads(x)["id"] for x in r.text.splitlines()][:1] == [TARGET]


def test_upload_reports_every_bad_row_by_line_and_leaves_the_live_index(
    staff_client: TestClient, staff_settings: Settings, small_index: SmallIndex
) -> None:
    csrf = login(staff_client, "ada")
    good = small_index.entries[0].to_row()
    lines = [
        json.dumps(good, ensure_ascii=False),  # 1 fine
        json.dumps({**good, "id": "a-2", "url": "http://example.org/x"}),  # 2 not https
        "",  # 3 blank: skipped
        json.dumps({**good, "id": "a-4", "department_code": "NOPE"}),  # 4 unknown department
        '{"id": "a-5", "title_en": ',  # 5 broken JSON
        json.dumps(good),  # 6 duplicate id
        json.dumps({k: v for k, v in good.items() if k != "title_en"} | {"id": "a-7"}),  # 7
    ]
    before = _current(staff_settings)
    result = _upload(staff_client, csrf, ("\n".join(lines) + "\n").encode())
    assert result["valid"] is False
    assert [(e["line"], e["field"]) for e in result["errors"]] == [
        (2, "url"),
        (4, "department_code"),
        (5, "(json)"),
        (6, "id"),
        (7, "title_en"),
    ]
    assert all(e["message"] for e in result["errors"])
    assert result["diff"] == {"added": [], "removed": [], "changed": []}
    assert _current(staff_settings) == before
    assert staff_client.get("/api/search", params={"q": "tax return"}).json()["index_version"] == (
        before
    )
    r = _post(staff_client, csrf, "/api/admin/publish", json={"upload_id": result["upload_id"]})
    assert r.status_code == 422 and "5 error(s)" in r.json()["detail"]


def test_upload_diff_from_jsonl_and_csv(staff_client: TestClient, small_index: SmallIndex) -> None:
    csrf = login(staff_client, "ada")
    entries = _edited(small_index.entries, TARGET, title_en="Tax Return – Individuals (2027)")
    removed = entries.pop()
    added = entries[1].model_copy(update={"id": "ird-new-test-form", "form_no": "IR9999"})
    entries.append(added)
    expected = {
        "added": ["ird-new-test-form"],
        "removed": [removed.id],
        "changed": [(TARGET, ["title_en"])],
    }

    def summary(result: dict[str, Any]) -> dict[str, Any]:
        d = result["diff"]
        return {
            "added": [e["id"] for e in d["added"]],
            "removed": [e["id"] for e in d["removed"]],
            "changed": [(e["id"], [f["field"] for f in e["fields"]]) for e in d["changed"]],
        }

    result = _upload(staff_client, csrf, jsonl(entries))
    assert result["valid"] is True and result["errors"] == []
    assert summary(result) == expected
    change = result["diff"]["changed"][0]["fields"][0]
    assert change == {
        "field": "title_en",
        "old": "Tax Return – Individuals",
        "new": "Tax Return – Individuals (2027)",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for e in entries:
        writer.writerow({**e.to_row(), "aliases": "|".join(e.aliases)})
    result = _upload(staff_client, csrf, out.getvalue().encode(), name="catalogue.csv")
    assert result["valid"] is True, result["errors"][:3]
    assert summary(result) == expected


def test_upload_limits_and_malformed_requests(
    staff_settings: Settings, encoder: Any, small_index: SmallIndex
) -> None:
    settings = staff_settings.model_copy(update={"admin_max_upload_bytes": 4096})
    with TestClient(create_app(settings, encoder=encoder)) as client:
        add_account(settings.database_url, "ada", "admin")
        csrf = login(client, "ada")
        r = _post(client, csrf, "/api/admin/catalogue", files={"file": ("c.jsonl", b"x" * 8000)})
        assert r.status_code == 413
        assert _post(client, csrf, "/api/admin/catalogue").status_code == 422  # no file
        empty = _upload(client, csrf, b"")
        assert empty["valid"] is False and empty["errors"][0]["field"] == "(file)"
        binary = _upload(client, csrf, b"\x00\x01\x02", name="c.bin")
        assert binary["valid"] is False
        r = _post(client, csrf, "/api/admin/publish", json={"upload_id": "no-such-upload"})
        assert r.status_code == 404
        assert _post(client, csrf, "/api/admin/publish", json={}).status_code == 422
        r = _post(client, csrf, "/api/admin/rollback", json={"version": "20990101T000000000Z-0"})
        assert r.status_code == 404
        assert _post(client, csrf, "/api/admin/rollback", json={"version": ""}).status_code == 422
        assert client.get("/api/admin/jobs/nope").status_code == 404


# --- publish, versions, rollback ---------------------------------------------------------------


def test_publish_switches_atomically_and_rollback_restores(
    staff_client: TestClient, staff_settings: Settings, small_index: SmallIndex
) -> None:
    csrf = login(staff_client, "ada")
    old_version = _current(staff_settings)
    new_title = "Tax Return – Individuals (published by a test)"
    upload = _upload(
        staff_client, csrf, jsonl(_edited(small_index.entries, TARGET, title_en=new_title))
    )
    r = _post(staff_client, csrf, "/api/admin/publish", json={"upload_id": upload["upload_id"]})
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    # a second publish while this one runs is refused
    again = _post(staff_client, csrf, "/api/admin/publish", json={"upload_id": upload["upload_id"]})
    assert again.status_code == 409
    states = set()
    while True:  # search keeps answering while the build runs in its own process
        job = staff_client.get(f"/api/admin/jobs/{job_id}").json()
        states.add(job["state"])
        s = staff_client.get("/api/search", params={"q": "individual tax return"})
        assert s.status_code == 200 and s.json()["results"]
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["state"] == "done", job["error"]
    assert job["progress"] == 1.0 and job["version"] and job["version"] != old_version
    assert job["quality"]["passed"] is True
    assert set(job["quality"]["new"]) >= {"recall@1", "recall@5", "mrr"}
    assert job["quality"]["live_version"] == old_version
    assert _current(staff_settings) == job["version"]
    deadline = time.monotonic() + 30
    while _title(staff_client, TARGET) != new_title and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _title(staff_client, TARGET) == new_title
    search = staff_client.get("/api/search", params={"q": "individual tax return"}).json()
    assert search["index_version"] == job["version"]

    versions = staff_client.get("/api/admin/versions").json()
    assert versions["current"] == versions["serving"] == job["version"]
    newest = versions["versions"][0]
    assert newest["version"] == job["version"] and newest["current"] and newest["serving"]
    assert newest["created_by"] == "ada" and newest["entries"] == len(small_index.entries)
    assert newest["quality"]["passed"] is True
    assert old_version in [v["version"] for v in versions["versions"]]

    r = _post(staff_client, csrf, "/api/admin/rollback", json={"version": old_version})
    assert r.status_code == 200
    assert r.json() == {"current": old_version, "previous": job["version"]}
    assert _current(staff_settings) == old_version
    assert _title(staff_client, TARGET) == "Tax Return – Individuals"

    actions = [
        (e["actor"], e["action"]) for e in staff_client.get("/api/admin/audit").json()["entries"]
    ]
    for expected in ("catalogue_upload", "publish_requested", "publish_done", "rollback"):
        assert ("ada", expected) in actions


def test_publish_refuses_a_stale_upload_and_a_busy_slot(
    staff_client: TestClient, staff_settings: Settings, small_index: SmallIndex
) -> None:
    csrf = login(staff_client, "ada")
    upload = _upload(staff_client, csrf, jsonl(small_index.entries))
    # another worker publishes meanwhile: current moves to another (complete) version
    store = IndexStore(staff_settings.index_dir)
    moved = new_version_name("feedbeef" * 8)
    shutil.copytree(store.current_path(), store.root / moved)
    store.set_current(moved)
    r = _post(staff_client, csrf, "/api/admin/publish", json={"upload_id": upload["upload_id"]})
    assert r.status_code == 409 and "changed since" in r.json()["detail"]

    upload = _upload(staff_client, csrf, jsonl(small_index.entries))
    db = Database(staff_settings.database_url)
    busy = jobs.create_job(db, kind="publish", created_by="other-admin")
    r = _post(staff_client, csrf, "/api/admin/publish", json={"upload_id": upload["upload_id"]})
    assert r.status_code == 409 and busy in r.json()["detail"]
    listed = staff_client.get("/api/admin/jobs").json()["jobs"]
    assert [j["job_id"] for j in listed] == [busy] and listed[0]["state"] == "queued"
    # its build process never reported: after the stale limit anyone looking fails it
    with db.session() as s:
        row = s.get(PublishJob, busy)
        assert row is not None
        row.created_at = row.created_at.replace(year=row.created_at.year - 1)
    job = staff_client.get(f"/api/admin/jobs/{busy}").json()
    assert job["state"] == "failed" and "stopped reporting" in job["error"]
    assert jobs.active_job(db) is None


def test_quality_gate_refuses_a_worse_version_with_the_figures(
    staff_client: TestClient, staff_settings: Settings, small_index: SmallIndex
) -> None:
    csrf = login(staff_client, "ada")
    before = _current(staff_settings)
    gold = set()
    for line in small_index.regression_path.read_text(encoding="utf-8").splitlines():
        gold |= set(json.loads(line)["gold"])
    worse = [e for e in small_index.entries if e.id not in gold]  # every answer removed
    upload = _upload(staff_client, csrf, jsonl(worse))
    assert len(upload["diff"]["removed"]) == len(small_index.entries) - len(worse)
    r = _post(staff_client, csrf, "/api/admin/publish", json={"upload_id": upload["upload_id"]})
    job = wait_job(staff_client, r.json()["job_id"])
    assert job["state"] == "failed"
    assert "quality gate" in job["error"]
    q = job["quality"]
    assert q["passed"] is False and q["new"]["recall@5"] < q["live"]["recall@5"]
    assert q["live_version"] == before
    assert _current(staff_settings) == before
    listed = [v["version"] for v in staff_client.get("/api/admin/versions").json()["versions"]]
    assert job["version"] not in listed  # refused versions are not offered for rollback
    assert staff_client.get("/api/search", params={"q": "BIR60"}).json()["results"][0]["id"] == (
        TARGET
    )


def test_killed_build_leaves_the_live_version_and_the_next_publish_succeeds(
    staff_client: TestClient, staff_settings: Settings, small_index: SmallIndex
) -> None:
    csrf = login(staff_client, "ada")
    live = _current(staff_settings)
    nonce = os.urandom(6).hex()
    filler = " ".join(f"revision {nonce} paragraph {i} of the test." for i in range(12))
    fresh = [
        e.model_copy(update={"description_en": f"{e.description_en} {filler}"})
        for e in small_index.entries
    ]  # every passage is new: the build has to embed all of them
    upload = _upload(staff_client, csrf, jsonl(fresh))
    r = _post(staff_client, csrf, "/api/admin/publish", json={"upload_id": upload["upload_id"]})
    job_id = r.json()["job_id"]
    db = Database(staff_settings.database_url)
    deadline = time.monotonic() + 300
    pid = None
    while time.monotonic() < deadline:
        row = jobs.get_job(db, job_id)
        assert row is not None and row.state in ("queued", "running"), row.error
        if row.stage == "embedding" and row.runner_pid:
            pid = row.runner_pid
            break
        time.sleep(0.02)
    assert pid is not None, "the build never reached the embedding stage"
    os.kill(pid, signal.SIGKILL)

    job = wait_job(staff_client, job_id, timeout=60)
    assert job["state"] == "failed" and "SIGKILL" in job["error"]
    assert _current(staff_settings) == live
    s = staff_client.get("/api/search", params={"q": "individual tax return"})
    assert s.status_code == 200 and s.json()["index_version"] == live
    assert not list(staff_settings.index_dir.glob(".building-*"))

    # The next publish: one edited description (the filler above, on every entry, can move
    # the regression queries enough for the quality gate to refuse it, which is not this test).
    edited = [
        e.model_copy(update={"description_en": f"{e.description_en} Revision {nonce}."})
        if e.id == TARGET
        else e
        for e in small_index.entries
    ]
    upload = _upload(staff_client, csrf, jsonl(edited))
    r = _post(staff_client, csrf, "/api/admin/publish", json={"upload_id": upload["upload_id"]})
    assert r.status_code == 202
    job = wait_job(staff_client, r.json()["job_id"])
    assert job["state"] == "done", job["error"]
    assert _current(staff_settings) == job["version"] != live
    assert not list(staff_settings.index_dir.glob(".building-*"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (
            staff_client.get("/api/search", params={"q": "tax"}).json()["index_version"]
            == (job["version"])
        ):
            break
        time.sleep(0.2)
    form = staff_client.get(f"/api/forms/{TARGET}").json()
    assert nonce in form["description_en"]


# --- aliases and the review queue -----------------------------------------------------------


def test_alias_edits_are_checked(staff_client: TestClient) -> None:
    csrf = login(staff_client, "ada")
    info = staff_client.get("/api/admin/aliases", params={"entry_id": TARGET}).json()
    assert info["entry_id"] == TARGET and "BIR60" in info["catalogue"]
    assert staff_client.get("/api/admin/aliases", params={"entry_id": "nope"}).status_code == 404
    assert staff_client.get("/api/admin/aliases").status_code == 422
    cases = [
        ({"entry_id": TARGET, "term": "bir60"}, 422),  # already there (any case)
        ({"entry_id": TARGET, "term": "never an alias", "action": "remove"}, 422),
        ({"entry_id": TARGET, "term": "   "}, 422),
        ({"entry_id": TARGET, "term": "x" * 81}, 422),
        ({"entry_id": TARGET, "term": "ok", "action": "rename"}, 422),
        ({"entry_id": "no-such-entry", "term": "anything"}, 404),
    ]
    for body, expected in cases:
        r = _post(staff_client, csrf, "/api/admin/aliases", json=body)
        assert r.status_code == expected, (body, r.text)


def _seed_failures(client: TestClient, settings: Settings) -> None:
    """What citizens left behind: "didn't help" twice (Traditional and Simplified), a
    handoff whose searches include a phone number, and searches without result."""
    for query in ("老人錢", "老人钱 "):
        r = client.post(
            "/api/feedback",
            json={"sender": "w-rev1", "rating": "bad", "query": query, "result_ids": [TARGET]},
        )
        assert r.status_code == 201
    db = Database(settings.database_url)
    repository.record_search(
        db,
        query="老人錢",
        lang="en",
        filters={},
        results=[],
        clarify=False,
        index_version="v",
        source="bot",
        sender="w-rev2",
    )
    repository.record_search(
        db,
        query="qqq unknown thing",
        lang="en",
        filters={},
        results=[],
        clarify=False,
        index_version="v",
        source="public",
    )
    repository.record_search(  # results shown, but only the nearest of a crowd
        db,
        query="zzkx blorp",
        lang="en",
        filters={},
        results=[SimpleNamespace(id=TARGET, score=0.4)],
        clarify=False,
        index_version="v",
        source="bot",
        low_confidence=True,
    )
    r = client.post(
        "/api/internal/handoffs",
        headers=INTERNAL_HEADERS,
        json={
            "sender": "w-rev2",
            "language": "en",
            "reason": "repeated_failure",
            "transcript": [{"role": "user", "text": "老人錢", "ts": 1.0}],
            "searches": ["老人錢", "call me on 9123 4567"],
        },
    )
    assert r.status_code == 201


def test_review_queue_groups_counts_redacts_and_an_alias_fixes_it(
    staff_client: TestClient, staff_settings: Settings
) -> None:
    _seed_failures(staff_client, staff_settings)
    csrf = login(staff_client, "ada")
    r = staff_client.get("/api/admin/review")
    assert r.status_code == 200
    assert "9123" not in r.text  # the handoff's search was redacted
    rows = {row["query"].casefold(): row for row in r.json()["rows"]}
    top = r.json()["rows"][0]
    assert top["query"] == "老人錢"  # the most frequent spelling of the group
    assert top["count"] == 4
    assert top["reasons"] == {"no_result": 1, "didnt_help": 2, "handed_over": 1}
    assert [(x["id"], x["times"]) for x in top["results_shown"]] == [(TARGET, 2)]
    assert top["results_shown"][0]["title_en"].startswith("Tax Return")
    assert rows["qqq unknown thing"]["reasons"]["no_result"] == 1
    assert rows["zzkx blorp"]["reasons"] == {"no_result": 1, "didnt_help": 0, "handed_over": 0}
    assert [x["id"] for x in rows["zzkx blorp"]["results_shown"]] == [TARGET]
    phone = rows["call me on [phone]"]
    assert phone["reasons"]["handed_over"] == 1
    assert staff_client.get("/api/admin/review", params={"days": 0}).status_code == 422

    # dismiss one row; add an alias from the top row
    assert _post(
        staff_client, csrf, "/api/admin/review/dismiss", json={"key": phone["key"]}
    ).is_success
    r = _post(
        staff_client,
        csrf,
        "/api/admin/aliases",
        json={
            "entry_id": "swd-ssa-application",
            "term": "老人錢",
            "review_key": top["key"],
        },
    )
    assert r.status_code == 202
    keys = {row["key"] for row in staff_client.get("/api/admin/review").json()["rows"]}
    assert top["key"] not in keys and phone["key"] not in keys
    job = wait_job(staff_client, r.json()["job_id"])
    assert job["state"] == "done", job["error"]
    assert job["kind"] == "alias" and job["params"]["term"] == "老人錢"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = staff_client.get("/api/search", params={"q": "點申請老人錢"}).json()
        if found["index_version"] == job["version"]:
            break
        time.sleep(0.2)
    assert found["results"][0]["id"] == "swd-ssa-application"
    info = staff_client.get("/api/admin/aliases", params={"entry_id": "swd-ssa-application"}).json()
    assert "老人錢" in info["colloquial"]
    audit = staff_client.get("/api/admin/audit").json()["entries"]
    assert any(
        e["action"] == "alias_add" and e["target"] == "swd-ssa-application" and e["actor"] == "ada"
        for e in audit
    )
    assert any(e["action"] == "review_dismiss" for e in audit)
    assert "9123" not in json.dumps(audit)


def test_removing_an_alias_publishes_without_it(
    staff_client: TestClient, small_index: SmallIndex
) -> None:
    csrf = login(staff_client, "ada")
    questions = small_index.regression_path.read_text(encoding="utf-8").casefold()
    info = staff_client.get("/api/admin/aliases", params={"entry_id": TARGET}).json()
    term = next(a for a in info["catalogue"] if a.casefold() not in questions)
    r = _post(
        staff_client,
        csrf,
        "/api/admin/aliases",
        json={"entry_id": TARGET, "term": term, "action": "remove"},
    )
    assert r.status_code == 202
    job = wait_job(staff_client, r.json()["job_id"])
    assert job["state"] == "done", job["error"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = staff_client.get("/api/admin/aliases", params={"entry_id": TARGET}).json()
        if term not in after["catalogue"]:
            break
        time.sleep(0.2)
    assert term not in after["catalogue"] and term not in after["colloquial"]
    download = staff_client.get("/api/admin/catalogue").text
    row = next(json.loads(x) for x in download.splitlines() if json.loads(x)["id"] == TARGET)
    assert term not in row["aliases"]


def test_other_malformed_admin_requests_are_422(staff_client: TestClient) -> None:
    csrf = login(staff_client, "ada")
    assert staff_client.get("/api/admin/audit", params={"limit": 0}).status_code == 422
    assert staff_client.get("/api/admin/jobs", params={"limit": 0}).status_code == 422
    assert staff_client.get("/api/admin/review", params={"limit": 0}).status_code == 422
    assert _post(staff_client, csrf, "/api/admin/review/dismiss", json={}).status_code == 422
    r = staff_client.post(
        "/api/admin/aliases",
        content=b"{not json",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert r.status_code == 422


def test_the_build_process_gets_no_secrets(
    staff_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.publish.launcher import launcher_for

    monkeypatch.setenv("SESSION_SECRET", "a-secret-the-build-must-not-see")
    env = launcher_for(staff_client.app)._env()
    assert "SESSION_SECRET" not in env and "INTERNAL_API_TOKEN" not in env
    assert env["DATABASE_URL"].startswith("sqlite:///") and env["INDEX_DIR"]
    assert int(env["PUBLISH_PARENT_PID"]) == os.getpid()
