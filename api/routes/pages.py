"""Pages: the widget's demo page at ``/`` and the API docs at ``/docs`` (served offline:
Swagger UI's files come from the ``fastapi-offline`` package, not from a CDN)."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from api.middleware import PAGE_CSP

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
DOCS_STATIC_URL = "/docs-static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def demo_page() -> FileResponse:
    return FileResponse(PAGES_DIR / "index.html", media_type="text/html; charset=utf-8")


@lru_cache(maxsize=4)
def _docs_page(openapi_url: str, title: str) -> tuple[bytes, str]:
    html = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{title} – API docs",
        swagger_js_url=f"{DOCS_STATIC_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_STATIC_URL}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_STATIC_URL}/favicon.png",
    ).body
    # Allow exactly the page's one inline script by its hash; Swagger UI styles inline.
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in re.findall(r"<script>(.*?)</script>", html.decode(), flags=re.S)
    )
    csp = PAGE_CSP.replace("script-src 'self'", f"script-src 'self' {hashes}").replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )
    return bytes(html), csp


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    body, csp = _docs_page(request.app.openapi_url or "/openapi.json", request.app.title)
    return HTMLResponse(body, headers={"Content-Security-Policy": csp})
