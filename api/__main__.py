"""``python -m api``: serve the api with uvicorn (settings from the environment).

Refuses to start, with a one-line reason per setting, when a required secret is missing
or is a placeholder (``python -m api.stack`` generates them for a local run).
"""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from api.logging_setup import configure_logging
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
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        proxy_headers=settings.trust_forwarded_for,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
