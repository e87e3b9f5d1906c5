"""Dependencies of the staff routes: who is logged in, with which role, and the CSRF check.

``require_agent`` / ``require_admin`` go on a router (``dependencies=[...]``) or a route;
``AgentUser`` / ``AdminUser`` / ``StaffUser`` give the route the principal. No session:
401; a session without the role: 403; a state-changing call (anything but GET, HEAD,
OPTIONS) without the session's ``X-CSRF-Token``: 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from api.auth.sessions import COOKIE_NAME, StaffPrincipal, csrf_matches, resolve_session
from api.deps import DatabaseDep, SettingsDep

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Roles that may use each staff area.
AGENT_ROLES = frozenset({"agent", "admin"})
ADMIN_ROLES = frozenset({"admin"})


def current_principal(
    request: Request, settings: SettingsDep, db: DatabaseDep
) -> StaffPrincipal | None:
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    return resolve_session(db, token, idle=timedelta(minutes=settings.staff_session_idle_minutes))


def _guard(roles: frozenset[str] | None) -> Callable[..., StaffPrincipal]:
    def guard(
        request: Request,
        settings: SettingsDep,
        principal: Annotated[StaffPrincipal | None, Depends(current_principal)],
    ) -> StaffPrincipal:
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="Please log in (no staff session, or it has expired).",
            )
        if roles is not None and principal.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail="Your account does not have access to this part of the staff area.",
            )
        if request.method not in SAFE_METHODS and not csrf_matches(
            settings.session_secret.get_secret_value(),
            principal.token,
            request.headers.get(CSRF_HEADER),
        ):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"Missing or invalid {CSRF_HEADER} header: reload the page and try again.",
            )
        return principal

    return guard


require_staff = _guard(None)
require_agent = _guard(AGENT_ROLES)
require_admin = _guard(ADMIN_ROLES)

StaffUser = Annotated[StaffPrincipal, Depends(require_staff)]
AgentUser = Annotated[StaffPrincipal, Depends(require_agent)]
AdminUser = Annotated[StaffPrincipal, Depends(require_admin)]
