"""``python -m api.migrate [--url URL]``: bring the app database to the latest schema.

For set-up and scaled deployments (several api workers with
``DATABASE_MIGRATE_ON_STARTUP=false``): run once before starting the workers. The URL
defaults to ``DATABASE_URL``, else the api's default (SQLite under ``var/``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from api.db import Database
from api.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.migrate", description=__doc__)
    parser.add_argument("--url", default=None, help="SQLAlchemy URL (default: DATABASE_URL)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = (
        args.url or os.environ.get("DATABASE_URL") or Settings.model_fields["database_url"].default
    )
    db = Database(url)
    try:
        db.migrate()
    except SQLAlchemyError as exc:
        print(f"migrate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
