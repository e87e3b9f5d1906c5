"""Logging of the api's entry points: one format, personal data redacted on every handler."""

from __future__ import annotations

import logging
import sys

from api.redaction import RedactingFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: int | str = logging.INFO) -> None:
    """Root handler on stderr with the redacting filter; uvicorn's loggers go through it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


#: With several worker processes each line says which process wrote it.
WORKER_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


def worker_log_config(level: int | str = logging.INFO) -> dict[str, object]:
    """The same configuration as :func:`configure_logging`, as a ``logging.config`` dict for
    uvicorn, which applies it in every worker process it starts (``API_WORKERS`` > 1)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "api.redaction.RedactingFilter"}},
        "formatters": {"plain": {"format": WORKER_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "filters": ["redact"],
            }
        },
        "root": {
            "handlers": ["stderr"],
            "level": logging.getLevelName(level) if isinstance(level, int) else level,
        },
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
