"""``POST /api/feedback``: thumbs up or down from the widget (contracts §4)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api import repository
from api.deps import DatabaseDep, rate_limit
from api.schemas import Empty, ErrorResponse, FeedbackRequest

router = APIRouter(prefix="/api", tags=["feedback"], dependencies=[Depends(rate_limit)])


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=Empty,
    summary="Record a thumbs up or down on an answer",
    responses={429: {"model": ErrorResponse, "description": "Rate limit; see Retry-After."}},
)
def feedback(req: FeedbackRequest, db: DatabaseDep) -> Empty:
    """Stored for analytics and the review queue, with the query redacted."""
    repository.record_feedback(
        db,
        sender=req.sender,
        rating=req.rating,
        query=req.query,
        result_ids=req.result_ids,
        source="widget",
    )
    return Empty()
