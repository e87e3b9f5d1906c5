"""``python -m api``: serve the api with uvicorn (settings from the environment).

Refuses to start, with a one-line reason per setting, when a required secret is missing
or is a placeholder (``python -m api.stack`` generates them for a local run).
"""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from api.logging_setup import configure_logging, worker_log_config
from api.main import create_app
from api.settings import Settings

log = logging.getLogger("api")


def main() -> int:
    configure_logging()
    try:
        settings = Settings()
    except ValidationError as exc:
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper()
            print(f"api: setting {name}: {err['msg']}", file=sys.stderr)
        print("api: refusing to start (see docs/api.md, Settings).", file=sys.stderr)
        return 2
    common = {
        "host": settings.api_host,
        "port": settings.api_port,
        "proxy_headers": settings.trust_forwarded_for,
        "server_header": False,
        "timeout_graceful_shutdown": 5,
    }
    if settings.api_workers > 1:
        # uvicorn's own worker processes share the port; each builds the app from the
        # environment (docs/scaling.md) and logs through the same redacting handler.
        uvicorn.run(
            "api.main:create_app",
            factory=True,
            workers=settings.api_workers,
            timeout_worker_healthcheck=settings.api_worker_healthcheck_seconds,
            log_config=worker_log_config(),
            **common,
        )
        return 0
    uvicorn.run(create_app(settings), log_config=None, **common)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
