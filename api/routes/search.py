"""``GET /api/search``, ``GET /api/forms/{id}``, ``GET /api/departments`` (contracts §4).

Plain ``def`` routes: FastAPI runs them in its threadpool, so encoding the query (CPU work)
never blocks the event loop. Each takes the serving engine once (see ``api.index``).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request, status

from api import repository
from api.deps import DatabaseDep, EngineDep, SettingsDep, has_internal_token, rate_limit
from api.schemas import (
    SENDER_PATTERN,
    Department,
    DepartmentsResponse,
    ErrorResponse,
    FormEntry,
    Lang,
    SearchResponse,
)

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["search"])

_UNAVAILABLE = {503: {"model": ErrorResponse, "description": "The index is not loaded."}}


def _dump(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return dict(obj)
    return dict(vars(obj))


@router.get(
    "/search",
    response_model=SearchResponse,
    summary="Search the forms and e-services catalogue",
    dependencies=[Depends(rate_limit)],
    responses={
        422: {"description": "A parameter is out of range (e.g. k) or the query too long."},
        429: {"model": ErrorResponse, "description": "Rate limit; see Retry-After."},
        **_UNAVAILABLE,
    },
)
def search(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    db: DatabaseDep,
    background: BackgroundTasks,
    q: Annotated[str, Query(description="What the citizen is looking for, any language.")] = "",
    k: Annotated[int, Query(ge=1, description="How many results (at most SEARCH_MAX_K).")] = 5,
    lang: Annotated[Lang | None, Query(description="Language of the asker (analytics).")] = None,
    department: Annotated[str | None, Query(max_length=16, description="Department code.")] = None,
    topic: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[Literal["form", "e-service"] | None, Query()] = None,
    sender: Annotated[
        str | None,
        Query(pattern=SENDER_PATTERN, description="Conversation id, when the bot searches."),
    ] = None,
) -> SearchResponse:
    """Hybrid search (contracts §2): results with scores and the signals that matched,
    a clarifying question when the top results are distinct services with close scores,
    and the version of the index that answered. An empty ``q`` gets no results."""
    if k > settings.search_max_k:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"k must be between 1 and {settings.search_max_k}.",
        )
    if len(q) > settings.max_query_chars:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"The query is too long; the limit is {settings.max_query_chars} characters.",
        )
    version = str(engine.version)
    if not q.strip():
        return SearchResponse(results=[], clarify=None, index_version=version)
    resp = engine.search(q, k=k, department=department, topic=topic, kind=kind)
    out = SearchResponse.model_validate(
        {
            "results": [_dump(r) for r in resp.results],
            "clarify": _dump(resp.clarify) if resp.clarify is not None else None,
            "low_confidence": resp.low_confidence,
            "index_version": version,
        }
    )
    filters = {
        key: value
        for key, value in (("department", department), ("topic", topic), ("kind", kind))
        if value
    }
    background.add_task(
        repository.record_search,
        db,
        query=q,
        lang=lang,
        filters=filters,
        results=out.results,
        clarify=out.clarify is not None,
        low_confidence=out.low_confidence,
        index_version=version,
        source="bot" if has_internal_token(request, settings) else "public",
        sender=sender,
    )
    return out


@router.get(
    "/forms/{entry_id}",
    response_model=FormEntry,
    summary="One catalogue entry",
    responses={404: {"model": ErrorResponse, "description": "No such entry."}, **_UNAVAILABLE},
)
def get_form(entry_id: str, engine: EngineDep) -> FormEntry:
    try:
        entry = engine.get(entry_id)
    except (KeyError, LookupError):
        entry = None
    if entry is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"No form or e-service with id {entry_id!r}."
        )
    return FormEntry.model_validate(_dump(entry))


def _department(obj: Any) -> Department:
    d = _dump(obj)
    return Department(
        code=str(d.get("code") or d.get("department_code") or ""),
        name_en=str(d.get("name_en") or d.get("department_en") or d.get("en") or ""),
        name_zh=str(d.get("name_zh") or d.get("department_zh") or d.get("zh") or ""),
        entries=d.get("entries", d.get("count")),
    )


@router.get(
    "/departments",
    response_model=DepartmentsResponse,
    summary="Departments in the catalogue",
    responses=_UNAVAILABLE,
)
def departments(engine: EngineDep) -> DepartmentsResponse:
    raw = engine.departments()
    items = raw.values() if isinstance(raw, dict) else raw
    return DepartmentsResponse(
        departments=[_department(d) for d in items], index_version=str(engine.version)
    )
