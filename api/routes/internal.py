"""``/api/internal/*``: called by the action server with ``X-Internal-Token`` (contracts §5)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, status

from api import repository
from api.deps import DatabaseDep, require_internal_token
from api.schemas import (
    Empty,
    ErrorResponse,
    HandoffCreated,
    HandoffRequest,
    InternalFeedbackRequest,
)

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/internal",
    tags=["internal"],
    dependencies=[Depends(require_internal_token)],
    responses={401: {"model": ErrorResponse, "description": "Missing or invalid token."}},
)


@router.post(
    "/handoffs",
    status_code=status.HTTP_201_CREATED,
    response_model=HandoffCreated,
    summary="Hand a conversation over to 1823 staff",
)
def create_handoff(req: HandoffRequest, db: DatabaseDep) -> HandoffCreated:
    """Stores the transcript as given (staff-only; the one place personal data is kept)
    and returns the case reference the bot tells the citizen."""
    reference = repository.create_handoff(
        db,
        sender=req.sender,
        language=req.language,
        reason=req.reason,
        transcript=[t.model_dump() for t in req.transcript],
        searches=req.searches,
    )
    log.info("handoff %s created (%s, %s)", reference, req.reason, req.language)
    return HandoffCreated(reference=reference)


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=Empty,
    summary="Record feedback the citizen gave in the conversation",
)
def internal_feedback(req: InternalFeedbackRequest, db: DatabaseDep) -> Empty:
    repository.record_feedback(
        db,
        sender=req.sender,
        rating=req.rating,
        query=req.query,
        result_ids=req.result_ids,
        language=req.language,
        source="bot",
    )
    return Empty()
