"""Search fixtures: a small hand-written complaint corpus, indexed on either backend.

``backend_name`` is parametrised over FTS5 and Elasticsearch; the Elasticsearch run talks to a fresh
clone of the session's ``osmem-server`` (started by its pytest plugin) through the real client.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.main import create_app
from core.config import Settings
from core.models import Complaint
from search.backends.base import SearchBackend
from search.service import get_search_backend, reindex_all
from tests.utils.auth import login_headers, make_user
from tests.utils.search import make_corpus


@pytest.fixture(params=["fts5", "elasticsearch"])
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def search_settings(request: pytest.FixtureRequest, settings: Settings, backend_name: str) -> Settings:
    if backend_name == "elasticsearch":
        clone = request.getfixturevalue("osmem_clone")
        return settings.model_copy(update={"search_url": clone.url})
    return settings


@pytest.fixture
def backend(search_settings: Settings, engine: Engine) -> Iterator[SearchBackend]:
    backend = get_search_backend(search_settings, engine)
    yield backend
    backend.close()


@pytest.fixture
def corpus(session: Session, backend: SearchBackend) -> list[Complaint]:
    complaints = make_corpus(session)
    reindex_all(session, backend)
    return complaints


@pytest.fixture
def search_client(search_settings: Settings, corpus: list[Complaint]) -> Iterator[TestClient]:
    with TestClient(create_app(search_settings)) as client:
        yield client


@pytest.fixture
def staff_headers(search_client: TestClient, session: Session) -> dict[str, str]:
    make_user(session, "search-staff", "consumer_staff")
    return login_headers(search_client, "search-staff")
