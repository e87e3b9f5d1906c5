"""The real system for integration and browser tests: ``api.stack.Stack`` on free ports,
with a temporary var/ (app database, Rasa tracker store, logs) and a test index version.

The test index is the project's catalogue plus one entry whose title carries markup
(clearly marked as a test entry), so the browser tests can show that catalogue text is
displayed as text. Its build reuses the project's embedding cache: only that entry is new.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.stack import PROJECT_ROOT, Stack, StackConfig, free_port, latest_rasa_model
from forms_index.settings import IndexSettings

MARKUP_ENTRY_ID = "test-widget-markup"
MARKUP_TITLE = "Widget markup check <img src=x onerror=alert(1)><b>bold</b>"
MARKUP_ALIAS = "widget markup check"
READY_TIMEOUT = float(os.environ.get("STACK_READY_TIMEOUT", "300"))


@dataclass
class LiveStack:
    stack: Stack
    url: str
    var_dir: Path
    database: Path
    #: Port of 127.0.0.1 whose origin is in CORS_ORIGINS (a test serves a host page there).
    embed_port: int

    def stop(self) -> None:
        self.stack.stop()

    def stop_rasa(self) -> None:
        self.stack.stop_service("rasa")

    def start_rasa(self) -> None:
        self.stack.start_service("rasa")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        self.stack.wait_ready(timeout)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the app database directly (what staff pages will show)."""
        with sqlite3.connect(self.database) as conn:
            return list(conn.execute(sql, params))

    @property
    def internal_token(self) -> str:
        return self.stack.secrets["INTERNAL_API_TOKEN"]


def _markup_catalogue(index_settings: IndexSettings, out: Path) -> Path:
    lines = index_settings.catalogue_path.read_text(encoding="utf-8").splitlines()
    first = json.loads(next(line for line in lines if line.strip()))
    entry = {
        **first,
        "id": MARKUP_ENTRY_ID,
        "form_no": "",
        "kind": "form",
        "title_en": MARKUP_TITLE,
        "title_zh": "小工具標記測試 <img src=x onerror=alert(2)>",
        "title_zh_unofficial": "",
        "description_en": "Test entry (not a real form): checks that markup is shown as text.",
        "description_zh": "測試項目（並非真實表格）。",
        "aliases": [MARKUP_ALIAS],
        "note": "synthetic test entry, never shipped",
    }
    catalogue = out / "catalogue.jsonl"
    catalogue.write_text("\n".join([*lines, json.dumps(entry, ensure_ascii=False)]) + "\n", "utf-8")
    return catalogue


def build_test_index(var_dir: Path) -> Path:
    """A test index version under ``var_dir/index`` (catalogue + the markup entry)."""
    settings = IndexSettings()
    catalogue = _markup_catalogue(settings, var_dir)
    index_dir = var_dir / "index"
    env = {**os.environ, "CATALOGUE_PATH": str(catalogue), "INDEX_DIR": str(index_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "forms_index", "build"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"test index build failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return index_dir


def start_live_stack(var_dir: Path) -> LiveStack:
    """Start the real stack (skips the test with a reason when set-up has not been run)."""
    if latest_rasa_model(PROJECT_ROOT / "models" / "rasa") is None:
        pytest.skip("no trained Rasa model under models/rasa: run `make setup`")
    if not (PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa").exists():
        pytest.skip(".venv-rasa is missing: run `make setup`")
    index_dir = build_test_index(var_dir)
    database = var_dir / "app.sqlite3"
    embed_port = free_port()
    config = StackConfig(
        var_dir=var_dir,
        api_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        log_dir=var_dir / "logs",
        env={
            "INDEX_DIR": str(index_dir),
            "DATABASE_URL": f"sqlite:///{database}",
            "RATE_LIMIT_PER_MINUTE": "0",
            "CORS_ORIGINS": f"http://127.0.0.1:{embed_port}",
            "RASA_TRACKER_DB": str(var_dir / "rasa" / "tracker.db"),
        },
    )
    stack = Stack(config)
    try:
        stack.start()
        stack.wait_ready(READY_TIMEOUT)
    except BaseException:
        stack.stop()
        raise
    return LiveStack(
        stack=stack, url=config.api_url, var_dir=var_dir, database=database, embed_port=embed_port
    )
