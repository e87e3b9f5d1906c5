"""Fixtures of the staff route tests: the api on a small real index of its own (copied per
test, so publishing and rollback never touch the project's index), with accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from tests.support.app import make_settings
from tests.support.staff import SmallIndex, add_accounts, build_small_index, copy_small_index


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory, encoder: Any) -> SmallIndex:
    return build_small_index(tmp_path_factory.mktemp("small-index"), encoder)


@pytest.fixture(scope="session")
def small_engine(small_index: SmallIndex, encoder: Any) -> Any:
    """The small index's version, loaded once: each test's copy starts on the same version."""
    from forms_index.search import SearchEngine

    return SearchEngine.load(small_index.index_dir / small_index.version, encoder)


@pytest.fixture
def staff_settings(tmp_path: Path, small_index: SmallIndex) -> Settings:
    index_dir, cache = copy_small_index(small_index, tmp_path)
    return make_settings(
        tmp_path,
        index_dir=index_dir,
        embedding_cache_path=cache,
        regression_queries_path=small_index.regression_path,
        load_index_on_startup=True,
        publish_stale_seconds=120,
    )


@pytest.fixture
def staff_client(staff_settings: Settings, encoder: Any, small_engine: Any) -> Iterator[TestClient]:
    """The api on its own copy of the small index, with accounts ``ada`` (admin),
    ``bo`` (agent) and ``cy`` (agent), all with the password ``PASSWORD``."""
    with TestClient(create_app(staff_settings, encoder=encoder, engine=small_engine)) as c:
        add_accounts(
            staff_settings.database_url, [("ada", "admin"), ("bo", "agent"), ("cy", "agent")]
        )
        yield c
