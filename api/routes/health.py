"""``GET /healthz`` (the process is alive) and ``GET /readyz`` (it can serve)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import HolderDep, HttpDep, RasaDep, SettingsDep
from api.rasa import check_actions
from api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Alive")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready: index loaded, Rasa and the action server answer",
    responses={503: {"model": Readiness, "description": "Not ready; checks say why."}},
)
async def readyz(
    holder: HolderDep, rasa: RasaDep, http: HttpDep, settings: SettingsDep
) -> JSONResponse:
    """200 only when the index is loaded and Rasa (with a model) and the action server
    answer, each within ``READINESS_TIMEOUT`` seconds."""

    async def bounded(coro: object) -> str:
        try:
            return await asyncio.wait_for(coro, settings.readiness_timeout)  # type: ignore[arg-type]
        except TimeoutError:
            return "timed out"

    rasa_state, actions_state = await asyncio.gather(
        bounded(rasa.check()), bounded(check_actions(http, settings.actions_url))
    )
    index_state = "ok" if holder.current is not None else (holder.load_error or "not loaded")
    checks = {"index": index_state, "rasa": rasa_state, "actions": actions_state}
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(
        status="ready" if ready else "not ready", checks=checks, index_version=holder.version
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
