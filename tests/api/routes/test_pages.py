"""The demo page, the widget's files, the API docs (offline) and the OpenAPI contract."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_demo_page_embeds_the_widget(bare_client: TestClient) -> None:
    r = bare_client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<script src="/static/widget.js"' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp


def test_widget_files_served(bare_client: TestClient) -> None:
    js = bare_client.get("/static/widget.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    assert ".innerHTML" not in js.text  # text only, never HTML
    assert bare_client.get("/static/widget.css").status_code == 200
    assert bare_client.get("/static/nope.js").status_code == 404


def test_docs_served_without_a_cdn(bare_client: TestClient) -> None:
    r = bare_client.get("/docs")
    assert r.status_code == 200
    assert "cdn.jsdelivr.net" not in r.text
    assert "/docs-static/swagger-ui-bundle.js" in r.text
    assert "'sha256-" in r.headers["content-security-policy"]
    assert bare_client.get("/docs-static/swagger-ui-bundle.js").status_code == 200


def test_openapi_documents_the_contracts(bare_client: TestClient) -> None:
    spec = bare_client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/api/chat", "post"),
        ("/api/search", "get"),
        ("/api/forms/{entry_id}", "get"),
        ("/api/departments", "get"),
        ("/api/feedback", "post"),
        ("/api/internal/handoffs", "post"),
        ("/api/internal/feedback", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ]:
        assert method in paths[path], path
    chat = paths["/api/chat"]["post"]["responses"]
    assert {"200", "413", "422", "429", "503"} <= set(chat)
    search_params = {p["name"] for p in paths["/api/search"]["get"]["parameters"]}
    assert {"q", "k", "lang", "department", "topic", "kind"} <= search_params
    schemas = spec["components"]["schemas"]
    assert set(schemas["Card"]["properties"]) >= {"id", "form_no", "title", "department", "links"}


def test_unknown_path_is_json_404(bare_client: TestClient) -> None:
    r = bare_client.get("/no/such/page")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


def test_wrong_method_is_json_405(bare_client: TestClient) -> None:
    r = bare_client.get("/api/chat")
    assert r.status_code == 405
    assert "detail" in r.json()
