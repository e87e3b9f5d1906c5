"""Security headers, CORS allowlist, errors as JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from tests.support.app import make_settings


def test_security_headers_on_pages_and_api(bare_client: TestClient) -> None:
    for path in ("/", "/healthz", "/static/widget.js", "/api/forms/x"):
        h = bare_client.get(path).headers
        assert h["x-content-type-options"] == "nosniff", path
        assert h["referrer-policy"] == "no-referrer"
        assert h["x-frame-options"] == "DENY"
        assert "content-security-policy" in h
        assert "camera=()" in h["permissions-policy"]
    page = bare_client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in page and "object-src 'none'" in page
    api = bare_client.get("/healthz").headers
    assert api["content-security-policy"].startswith("default-src 'none'")
    assert bare_client.get("/api/forms/x").headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in api  # plain http here


def test_hsts_over_https(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path)), base_url="https://testserver") as c:
        assert "max-age" in c.get("/healthz").headers["strict-transport-security"]


def test_cors_allowlist(bare_client: TestClient) -> None:
    allowed = "https://www.example.gov.hk"
    pre = bare_client.options(
        "/api/chat",
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == allowed
    simple = bare_client.get("/healthz", headers={"Origin": allowed})
    assert simple.headers["access-control-allow-origin"] == allowed
    other = bare_client.options(
        "/api/chat",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert (
        "access-control-allow-origin"
        not in bare_client.get("/healthz", headers={"Origin": "https://evil.example"}).headers
    )


def test_unexpected_error_is_json_without_traceback(tmp_path: Path) -> None:
    app: FastAPI = create_app(make_settings(tmp_path))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "Something went wrong on our side. Please try again later."}
    assert "secret internals" not in r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
