"""Fixtures shared by the test suites: the real search index (loaded once per session) and
the real stack (Rasa, action server, api) on free ports for integration and browser tests.

Tests that need something missing (the model, Chromium, PostgreSQL, Redis…) skip with the
reason. With ``TESTS_REQUIRE_ALL=1`` (set by ``.ci/run``) such a skip fails the run, so CI
cannot pass by skipping; only skips whose reason starts with ``opt-in:`` stay allowed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from forms_index.settings import IndexSettings
from tests.support.stack import LiveStack, start_live_stack


@pytest.fixture(scope="session")
def index_settings() -> IndexSettings:
    return IndexSettings()


@pytest.fixture(scope="session")
def encoder(index_settings: IndexSettings) -> Any:
    """The embedding model, loaded once for the whole run."""
    from forms_index.encoder import load_encoder

    if not __import__("pathlib").Path(index_settings.embedding_model).exists():
        pytest.skip(f"embedding model {index_settings.embedding_model} missing: run `make setup`")
    return load_encoder(index_settings.embedding_model, threads=index_settings.embedding_threads)


@pytest.fixture(scope="session")
def real_engine(index_settings: IndexSettings, encoder: Any) -> Any:
    """The current index version of the project (built by `make setup`), loaded once."""
    from forms_index.artifacts import IndexStore
    from forms_index.search import SearchEngine

    store = IndexStore(index_settings.index_dir)
    if store.current_version() is None:
        pytest.skip(f"no index built in {index_settings.index_dir}: run `make setup`")
    return SearchEngine.load(store.current_path(), encoder)


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Rasa, the action server and the api, for real, on free ports with a temporary var/."""
    stack = start_live_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield stack
    finally:
        stack.stop()


_SKIPPED: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append((report.nodeid, reason.removeprefix("Skipped: ")))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("TESTS_REQUIRE_ALL") != "1":
        return
    missing = [(node, reason) for node, reason in _SKIPPED if not reason.startswith("opt-in:")]
    if missing:
        lines = "\n".join(f"  {node}: {reason}" for node, reason in missing)
        print(f"\nTESTS_REQUIRE_ALL=1 and {len(missing)} test(s) skipped:\n{lines}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
