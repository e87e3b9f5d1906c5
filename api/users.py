"""``python -m api.users``: staff accounts of the agent console and the content admin.

    python -m api.users add --role agent|admin NAME    # password from stdin (twice on a tty)
    python -m api.users list
    python -m api.users disable NAME                   # ends the account's sessions at once
    python -m api.users enable NAME
    python -m api.users passwd NAME                    # new password from stdin

A password is never a command-line argument (it would show in ``ps`` and shell history).
The database is ``DATABASE_URL`` (default: the api's SQLite file); its schema is brought up
to date first.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from api.auth import accounts
from api.db import Database
from api.settings import Settings
from api.staff import audit

ACTOR = "cli"


def _default(name: str) -> object:
    return Settings.model_fields[name].default


def read_password(stdin: TextIO, *, confirm: bool) -> str:
    """The password: asked twice without echo on a terminal, else the first line of stdin."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Again: ") != first:
            raise accounts.AccountError("the two passwords differ")
        return first
    line = stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m api.users", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("add", help="create an account (password from stdin)")
    c.add_argument("--role", required=True, choices=accounts.ROLES)
    c.add_argument("name")
    sub.add_parser("list", help="list the accounts")
    for name, text in (
        ("disable", "disable an account and end its sessions"),
        ("enable", "enable a disabled account"),
        ("passwd", "set a new password (from stdin) and end the account's sessions"),
    ):
        sub.add_parser(name, help=text).add_argument("name")
    return p


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    stdin = stdin or sys.stdin
    url = os.environ.get("DATABASE_URL") or str(_default("database_url"))
    min_length = int(
        os.environ.get("STAFF_PASSWORD_MIN_LENGTH") or _default("staff_password_min_length")  # type: ignore[arg-type]
    )
    db = Database(url)
    try:
        db.migrate()
        if args.command == "add":
            password = read_password(stdin, confirm=True)
            account = accounts.add_user(db, args.name, args.role, password, min_length=min_length)
            audit.record(db, ACTOR, "user_add", account.username, role=account.role)
            print(f"added {account.username} ({account.role})")
        elif args.command == "list":
            for a in accounts.list_users(db):
                state = "disabled" if a.disabled else "active"
                last = a.last_login_at.strftime("%Y-%m-%d %H:%M") if a.last_login_at else "never"
                print(f"{a.username:<24} {a.role:<6} {state:<8} last login {last}")
        elif args.command in ("disable", "enable"):
            account = accounts.set_disabled(db, args.name, args.command == "disable")
            audit.record(db, ACTOR, f"user_{args.command}", account.username)
            print(f"{args.command}d {account.username}")
        elif args.command == "passwd":
            password = read_password(stdin, confirm=True)
            accounts.set_password(db, args.name, password, min_length=min_length)
            audit.record(db, ACTOR, "user_passwd", accounts.normalise_username(args.name))
            print(f"password of {accounts.normalise_username(args.name)} changed")
    except accounts.AccountError as exc:
        print(f"users: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"users: database error: {type(exc).__name__}", file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
