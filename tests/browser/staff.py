"""Helpers of the staff-page browser tests: accounts made with the real CLI
(``python -m api.users``) in the live stack's database, logging in through the page,
axe-core, and cases handed over through the route the action server uses."""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import httpx
from playwright.sync_api import Page, expect

from api.stack import PROJECT_ROOT
from tests.support.stack import LiveStack

PASSWORD = "browser tests only, not a real secret"


@cache
def _account(database: str, name: str, role: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "api.users", "add", "--role", role, name],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"DATABASE_URL": f"sqlite:///{database}", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return name


def account(live_stack: LiveStack, name: str, role: str) -> str:
    """An account in the live stack (made once per test run)."""
    return _account(str(live_stack.database), name, role)


def log_in(page: Page, url: str, name: str) -> None:
    """Open ``url`` and log in through the page's form."""
    page.goto(url)
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#app-view")).to_be_visible()
    expect(page.locator("#who")).to_contain_text(name)


def serious_violations(page: Page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def hand_over(live_stack: LiveStack, sender: str, turns: list[tuple[str, str]]) -> str:
    """A handoff as the action server creates it; returns its reference."""
    r = httpx.post(
        f"{live_stack.url}/api/internal/handoffs",
        headers={"X-Internal-Token": live_stack.internal_token},
        json={
            "sender": sender,
            "language": "zh-Hant",
            "reason": "requested",
            "transcript": [
                {"role": role, "text": text, "ts": float(i)} for i, (role, text) in enumerate(turns)
            ],
            "searches": [text for role, text in turns if role == "user"],
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["reference"])
