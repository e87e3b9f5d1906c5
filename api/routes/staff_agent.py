"""``/api/agent``: the 1823 agent console's api (role agent or admin; docs/staff.md).

Search as you type (not rate-limited like the public search, and not logged as a citizen's
search), facets for the filters, form details, and the handoff queue.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.auth.deps import AgentUser, require_agent
from api.deps import DatabaseDep, EngineDep, SettingsDep
from api.schemas import ErrorResponse
from api.staff import audit, handoffs
from api.staff.catalogue import alias_map_of, aliases_of, load_reference
from api.staff.schemas import (
    AgentSearchResponse,
    FacetDepartment,
    Facets,
    HandoffList,
    HandoffOut,
    HandoffUpdate,
    Topic,
)
from forms_index.artifacts import IndexStore
from forms_index.errors import FormsIndexError

log = logging.getLogger(__name__)

#: Most results an agent can ask for (browsing a department without a query).
AGENT_MAX_K = 50

router = APIRouter(
    prefix="/api/agent",
    tags=["staff: agent console"],
    dependencies=[Depends(require_agent)],
    responses={
        401: {"model": ErrorResponse, "description": "Not logged in."},
        403: {"model": ErrorResponse, "description": "Not an agent or admin, or no CSRF token."},
    },
)


@router.get("/search", response_model=AgentSearchResponse, summary="Search for the console")
def agent_search(
    engine: EngineDep,
    settings: SettingsDep,
    q: Annotated[str, Query(description="Any language; empty lists the filtered entries.")] = "",
    k: Annotated[int, Query(ge=1, le=AGENT_MAX_K)] = 10,
    department: Annotated[str | None, Query(max_length=16)] = None,
    topic: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[Literal["form", "e-service"] | None, Query()] = None,
) -> AgentSearchResponse:
    """Results as in ``/api/search`` (contracts §2). With an empty ``q`` and a filter, the
    entries matching the filter, by title."""
    if len(q) > settings.max_query_chars:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"The query is too long; the limit is {settings.max_query_chars} characters.",
        )
    version = str(engine.version)
    if q.strip():
        resp = engine.search(q, k=k, department=department, topic=topic, kind=kind)
        results = [r.model_dump() for r in resp.results]
    elif department or topic or kind:
        chosen = [
            e
            for e in engine.entries
            if (not department or e.department_code.casefold() == department.casefold())
            and (not topic or e.topic == topic)
            and (not kind or e.kind == kind)
        ]
        chosen.sort(key=lambda e: e.title_en.casefold())
        results = [
            {
                **{f: getattr(e, f) for f in _RESULT_FIELDS},
                "score": 0.0,
                "why": ["filter"],
            }
            for e in chosen[:k]
        ]
    else:
        results = []
    return AgentSearchResponse.model_validate({"results": results, "index_version": version})


_RESULT_FIELDS = (
    "id",
    "form_no",
    "kind",
    "title_en",
    "title_zh",
    "title_zh_unofficial",
    "department_code",
    "department_en",
    "department_zh",
    "topic",
    "url",
)


@router.get("/facets", response_model=Facets, summary="Departments and topics for the filters")
def facets(engine: EngineDep, settings: SettingsDep) -> Facets:
    used = {e.topic for e in engine.entries}
    names = load_reference(settings.reference_path).topics
    topics = [
        Topic(code=t, name_en=names.get(t, {}).get("en", t), name_zh=names.get(t, {}).get("zh", t))
        for t in sorted(used)
    ]
    departments = [
        FacetDepartment(
            code=str(d["code"]),
            name_en=str(d["en"]),
            name_zh=str(d["zh"]),
            entries=int(d["count"]),  # type: ignore[call-overload]
        )
        for d in engine.departments()
    ]
    return Facets(departments=departments, topics=topics, index_version=str(engine.version))


@router.get(
    "/forms/{entry_id}",
    summary="One entry with every detail (both titles, descriptions, all aliases)",
    responses={404: {"model": ErrorResponse, "description": "No such entry."}},
)
def form_details(entry_id: str, engine: EngineDep, settings: SettingsDep) -> dict[str, object]:
    entry = engine.get(entry_id)
    if entry is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"No form or e-service with id {entry_id!r}."
        )
    row = entry.to_row()
    try:
        info = aliases_of(entry, alias_map_of(IndexStore(settings.index_dir), str(engine.version)))
        row["colloquial_aliases"] = info.colloquial
    except (FormsIndexError, OSError, ValueError):
        row["colloquial_aliases"] = []
    return row


@router.get("/handoffs", response_model=HandoffList, summary="The handoff queue, newest first")
def list_handoffs(
    db: DatabaseDep,
    status_filter: Annotated[
        Literal["active", "open", "taken", "closed", "all"],
        Query(alias="status", description="active = open and taken"),
    ] = "active",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> HandoffList:
    """Each case with its transcript as given (staff only), language and searches."""
    rows = handoffs.list_handoffs(db, which=status_filter, limit=limit)
    return HandoffList(
        handoffs=[HandoffOut.model_validate(handoffs.as_dict(h)) for h in rows],
        counts=handoffs.counts(db),
    )


@router.get(
    "/handoffs/{handoff_id}",
    response_model=HandoffOut,
    summary="One handed-over conversation",
    responses={404: {"model": ErrorResponse, "description": "No such case."}},
)
def get_handoff(handoff_id: int, db: DatabaseDep) -> HandoffOut:
    h = handoffs.get(db, handoff_id)
    if h is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No case with id {handoff_id}.")
    return HandoffOut.model_validate(handoffs.as_dict(h))


@router.post(
    "/handoffs/{handoff_id}",
    response_model=HandoffOut,
    summary="Take, close or reopen a case",
    responses={
        404: {"model": ErrorResponse, "description": "No such case."},
        409: {"model": ErrorResponse, "description": "Another agent has taken it."},
    },
)
def update_handoff(
    handoff_id: int, req: HandoffUpdate, principal: AgentUser, db: DatabaseDep
) -> HandoffOut:
    try:
        h = handoffs.set_status(db, handoff_id, req.status, principal.username)
    except handoffs.HandoffConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    if h is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No case with id {handoff_id}.")
    audit.record(db, principal.username, f"handoff_{req.status}", h.reference)
    return HandoffOut.model_validate(handoffs.as_dict(h))
