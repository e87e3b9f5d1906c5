"""The staff pages: ``/agent`` (1823 agent console) and ``/admin`` (content staff).

Static shells (no data in them; everything comes from the staff api after login), served
with the strict page CSP: their scripts and styles are files under ``/static``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(
        PAGES_DIR / name,
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/agent")
def agent_console() -> FileResponse:
    return _page("agent.html")


@router.get("/admin")
def admin_page() -> FileResponse:
    return _page("admin.html")
