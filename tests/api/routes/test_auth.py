"""Staff accounts and sessions: login, cookie, CSRF, logout, expiry, the slow-down of
failed logins (shared by every worker through the database), and ``python -m api.users``."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.auth.sessions import COOKIE_NAME
from api.db import Database
from api.main import create_app
from api.settings import Settings
from api.storage import AuditEntry, LoginFailure, StaffSession, StaffUser, utcnow
from api.users import main as users_main
from tests.support.app import make_settings
from tests.support.staff import PASSWORD, add_account, login

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def auth_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, login_max_failures=3, login_client_max_failures=6)


@pytest.fixture
def auth_client(auth_settings: Settings) -> TestClient:
    with TestClient(create_app(auth_settings)) as c:
        add_account(auth_settings.database_url, "ada", "admin")
        add_account(auth_settings.database_url, "bo", "agent")
        yield c


def _set_cookie(response) -> str:  # type: ignore[no-untyped-def]
    return response.headers["set-cookie"]


def test_login_sets_a_strict_httponly_cookie_and_returns_the_csrf_token(
    auth_client: TestClient,
) -> None:
    r = auth_client.post("/api/auth/login", json={"username": "Ada", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["username"] == "ada" and body["role"] == "admin"
    assert len(body["csrf_token"]) == 64
    cookie = _set_cookie(r).lower()
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/api" in cookie
    assert "secure" not in cookie  # plain http here; see the https test
    assert PASSWORD not in r.text
    me = auth_client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["csrf_token"] == body["csrf_token"]


def test_cookie_is_secure_over_https(auth_client: TestClient) -> None:
    https = TestClient(auth_client.app, base_url="https://testserver")
    r = https.post("/api/auth/login", json={"username": "ada", "password": PASSWORD})
    assert r.status_code == 200
    assert "secure" in _set_cookie(r).lower()
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_the_database_holds_no_token_and_no_password(
    auth_client: TestClient, auth_settings: Settings
) -> None:
    login(auth_client, "ada")
    token = auth_client.cookies.get(COOKIE_NAME)
    db = Database(auth_settings.database_url)
    with db.session() as s:
        ids = s.scalars(select(StaffSession.id)).all()
        hashes = s.scalars(select(StaffUser.password_hash)).all()
    assert token not in ids and all(len(i) == 64 for i in ids)
    assert all(h.startswith("$argon2id$") for h in hashes)


@pytest.mark.parametrize(
    ("username", "password"),
    [("ada", "wrong password here"), ("nobody", PASSWORD), ("", PASSWORD)],
)
def test_wrong_credentials(auth_client: TestClient, username: str, password: str) -> None:
    r = auth_client.post("/api/auth/login", json={"username": username, "password": password})
    if not username:
        assert r.status_code == 422
        return
    assert r.status_code == 401
    assert r.json() == {"detail": "Wrong username or password."}
    assert COOKIE_NAME not in r.headers.get("set-cookie", "")


def test_malformed_login_is_422(auth_client: TestClient) -> None:
    r = auth_client.post(
        "/api/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert auth_client.post("/api/auth/login", json={"username": "ada"}).status_code == 422


def test_no_session_is_401(auth_client: TestClient) -> None:
    assert auth_client.get("/api/auth/me").status_code == 401
    assert auth_client.post("/api/auth/logout").status_code == 401
    auth_client.cookies.set(COOKIE_NAME, "forged-token", path="/api")
    assert auth_client.get("/api/auth/me").status_code == 401


def test_logout_needs_the_csrf_token_and_ends_the_session(auth_client: TestClient) -> None:
    csrf = login(auth_client, "bo")
    r = auth_client.post("/api/auth/logout")
    assert r.status_code == 403
    assert "X-CSRF-Token" in r.json()["detail"]
    assert (
        auth_client.post("/api/auth/logout", headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    )
    token = auth_client.cookies.get(COOKIE_NAME)
    r = auth_client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    auth_client.cookies.set(COOKIE_NAME, token, path="/api")  # replaying the old cookie
    assert auth_client.get("/api/auth/me").status_code == 401


def test_idle_and_expired_sessions_end(auth_client: TestClient, auth_settings: Settings) -> None:
    login(auth_client, "bo")
    db = Database(auth_settings.database_url)
    with db.session() as s:
        s.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert auth_client.get("/api/auth/me").status_code == 401
    login(auth_client, "bo")
    with db.session() as s:
        s.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert auth_client.get("/api/auth/me").status_code == 401


def test_disabling_an_account_ends_its_sessions(
    auth_client: TestClient, auth_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(auth_client, "bo")
    monkeypatch.setenv("DATABASE_URL", auth_settings.database_url)
    assert users_main(["disable", "bo"]) == 0
    assert auth_client.get("/api/auth/me").status_code == 401
    r = auth_client.post("/api/auth/login", json={"username": "bo", "password": PASSWORD})
    assert r.status_code == 401
    assert users_main(["enable", "bo"]) == 0
    login(auth_client, "bo")


def test_failed_logins_for_a_username_are_slowed_down(
    auth_client: TestClient, auth_settings: Settings
) -> None:
    for _ in range(3):  # login_max_failures = 3: these cost nothing more
        r = auth_client.post("/api/auth/login", json={"username": "ada", "password": "nope" * 4})
        assert r.status_code == 401
    # the next attempt must wait, even with the right password (no guessing oracle)
    r = auth_client.post("/api/auth/login", json={"username": "ada", "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert "wait" in r.json()["detail"]
    # another account from another client is not affected
    other = TestClient(auth_client.app, client=("198.51.100.7", 5000))
    assert other.post("/api/auth/login", json={"username": "bo", "password": PASSWORD}).is_success
    # once the wait is over the right password works, and clears the username's failures
    db = Database(auth_settings.database_url)
    with db.session() as s:
        s.execute(update(LoginFailure).values(created_at=utcnow() - timedelta(seconds=5)))
    assert auth_client.post(
        "/api/auth/login", json={"username": "ada", "password": PASSWORD}
    ).is_success
    with db.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "ada")).all()
    assert actions.count("login_failed") == 3


def test_failed_logins_from_a_client_are_slowed_down(auth_client: TestClient) -> None:
    client = TestClient(auth_client.app, client=("203.0.113.9", 4000))
    for i in range(6):  # login_client_max_failures = 6, spread over usernames
        r = client.post("/api/auth/login", json={"username": f"guess{i}", "password": "x" * 12})
        assert r.status_code == 401
    r = client.post("/api/auth/login", json={"username": "bo", "password": PASSWORD})
    assert r.status_code == 429


def test_every_worker_counts_the_same_failures(
    auth_client: TestClient, auth_settings: Settings
) -> None:
    """Two api processes on one database (as with several workers) share the count."""
    with TestClient(create_app(auth_settings)) as second:
        for c in (auth_client, second, auth_client):
            assert (
                c.post(
                    "/api/auth/login", json={"username": "ada", "password": "n" * 12}
                ).status_code
                == 401
            )
        r = second.post("/api/auth/login", json={"username": "ada", "password": PASSWORD})
        assert r.status_code == 429


# --- python -m api.users --------------------------------------------------------------------


def test_users_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert users_main(["add", "--role", "agent", "Mei"], stdin=io.StringIO(PASSWORD + "\n")) == 0
    assert users_main(["add", "--role", "admin", "mei"], stdin=io.StringIO(PASSWORD + "\n")) == 1
    assert "already exists" in capsys.readouterr().err
    assert users_main(["add", "--role", "admin", "kit"], stdin=io.StringIO("short\n")) == 1
    assert "at least 12" in capsys.readouterr().err
    assert users_main(["add", "--role", "agent", "bad name!"], stdin=io.StringIO(PASSWORD)) == 1
    assert users_main(["disable", "nobody"]) == 1
    assert users_main(["disable", "mei"]) == 0
    capsys.readouterr()
    assert users_main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mei" in out and "agent" in out and "disabled" in out
    assert PASSWORD not in out
    with pytest.raises(SystemExit):  # --role is required; no password option exists
        users_main(["add", "kit"])


def test_users_cli_entry_point_reads_the_password_from_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    run = subprocess.run(
        [sys.executable, "-m", "api.users", "add", "--role", "admin", "root-admin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "added root-admin (admin)" in run.stdout
    db = Database(url)
    with db.session() as s:
        user = s.scalars(select(StaffUser)).one()
        audit = s.scalars(select(AuditEntry)).one()
    assert user.role == "admin" and PASSWORD not in user.password_hash
    assert (audit.actor, audit.action, audit.target) == ("cli", "user_add", "root-admin")
