"""Checked catalogue uploads in the app database (what a publish builds from)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from api.db import Database
from api.storage import CatalogueUpload, utcnow
from forms_index.catalogue import Entry, RowError, dump_jsonl

#: Uploads older than this are deleted (a publish uses a fresh one anyway).
KEEP_UPLOADS = timedelta(days=7)


def _row_errors(errors: list[RowError]) -> list[dict[str, Any]]:
    return [{"line": e.line, "field": e.field, "message": e.message} for e in errors]


def save_upload(
    db: Database,
    *,
    created_by: str,
    filename: str,
    fmt: str,
    entries: list[Entry],
    errors: list[RowError],
    warnings: list[RowError],
    diff: dict[str, Any],
    base_version: str | None,
) -> CatalogueUpload:
    now = utcnow()
    upload = CatalogueUpload(
        id=secrets.token_hex(12),
        created_by=created_by,
        created_at=now,
        filename=filename[-255:],
        fmt=fmt,
        valid=not errors,
        entries=len(entries),
        content=dump_jsonl(entries) if not errors else "",
        errors=_row_errors(errors),
        warnings=_row_errors(warnings),
        diff=diff,
        base_version=base_version,
    )
    with db.session() as s:
        s.execute(delete(CatalogueUpload).where(CatalogueUpload.created_at < now - KEEP_UPLOADS))
        s.add(upload)
    return upload


def get_upload(db: Database, upload_id: str) -> CatalogueUpload | None:
    with db.session() as s:
        return s.get(CatalogueUpload, upload_id)


def entries_of(upload: CatalogueUpload) -> list[Entry]:
    return [Entry.model_validate_json(line) for line in upload.content.splitlines() if line.strip()]
