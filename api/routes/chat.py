"""``POST /api/chat``: one chat turn, proxied to Rasa's REST channel (contracts §4, §6)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from api import repository
from api.chat import (
    EMPTY_REPLY,
    UNAVAILABLE_REPLY,
    clean_message,
    fold_messages,
    looks_binary,
    simplify,
)
from api.db import Database
from api.deps import DatabaseDep, RasaDep, SettingsDep, rate_limit
from api.rasa import RasaUnavailable
from api.schemas import BotMessage, ChatRequest, ChatResponse, ChatUnavailable, ErrorResponse
from api.script import Script, detect_script

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["chat"], dependencies=[Depends(rate_limit)])


async def _sender_state(db: Database, sender: str) -> repository.SenderState:
    """What we remember of the sender; nothing when the database is down (the turn goes on,
    only the Simplified-output memory is lost for it)."""
    try:
        return await run_in_threadpool(repository.get_sender_state, db, sender)
    except SQLAlchemyError as exc:
        log.warning("conversation state unavailable: %s", type(exc).__name__)
        return repository.SenderState(None, None)


async def _remember(db: Database, sender: str, script: str, lang: str | None) -> None:
    try:
        await run_in_threadpool(repository.remember_sender, db, sender, script, lang)
    except SQLAlchemyError as exc:
        log.warning("conversation state not stored: %s", type(exc).__name__)


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="One chat turn with the assistant",
    responses={
        413: {"model": ErrorResponse, "description": "Message longer than the limit."},
        422: {"description": "Malformed JSON or fields."},
        429: {"model": ErrorResponse, "description": "Rate limit; see Retry-After."},
        503: {"model": ChatUnavailable, "description": "The assistant cannot be reached."},
    },
)
async def chat(
    req: ChatRequest, settings: SettingsDep, db: DatabaseDep, rasa: RasaDep
) -> ChatResponse | JSONResponse:
    """Sends the message to Rasa with the language and the detected script as metadata,
    and folds Rasa's text, buttons and custom cards of each bot message into one item of
    ``messages``. When the sender writes Simplified Chinese, every text shown is converted
    to Simplified (remembered for turns without Chinese, such as button payloads)."""
    if len(req.message) > settings.max_message_chars:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=(
                f"Your message is too long ({len(req.message)} characters); the limit is "
                f"{settings.max_message_chars}. Please shorten it."
            ),
        )
    message = "" if looks_binary(req.message) else clean_message(req.message)
    if not message:
        return ChatResponse(messages=[BotMessage(text=EMPTY_REPLY[req.lang or "en"])])

    state = await _sender_state(db, req.sender)
    detected = detect_script(message)
    if detected is None:  # Chinese characters common to both standards
        detected = (
            Script(state.script) if state.script in (Script.HANS, Script.HANT) else Script.HANT
        )
    # The sender's script: this message's, or the one remembered for a Latin-only turn.
    script = detected.value if detected is not Script.LATIN else (state.script or detected.value)
    lang = req.lang or state.lang
    if (script, lang) != (state.script, state.lang):
        await _remember(db, req.sender, script, lang)

    metadata = {"lang": req.lang, "script": detected.value}
    try:
        raw = await rasa.send(req.sender, message, metadata)
    except RasaUnavailable as exc:
        log.warning("chat turn failed: %s", exc)
        body = ChatUnavailable(
            detail=f"The assistant is temporarily unavailable: {exc}. Please retry shortly.",
            messages=[BotMessage(text=UNAVAILABLE_REPLY)],
        )
        return JSONResponse(
            body.model_dump(),
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    messages = fold_messages(raw)
    if script == Script.HANS.value:
        messages = simplify(messages)
    log.info(
        "chat turn: script=%s lang=%s chars=%d replies=%d cards=%d",
        detected.value,
        req.lang,
        len(message),
        len(messages),
        sum(len(m.cards) for m in messages),
    )
    return ChatResponse(messages=messages)
