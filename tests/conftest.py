"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and a real app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from api.main import create_app
from core.config import Settings
from core.db import get_engine, make_engine, session_factory, upgrade_database

POSTGRES_URL = os.environ.get("FAIRMARKET_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own on the configured server, dropped at the end.

    Parallel runs (developers, CI) share one server; each gets its own database.
    """
    if not POSTGRES_URL:
        pytest.skip("FAIRMARKET_TEST_POSTGRES_URL not set")
    server = make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"fairmarket_test_{uuid.uuid4().hex[:12]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    get_engine.cache_clear()
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _reset_postgres(url: str) -> None:
    """Empty this run's database; connections a previous test left open (in a transaction) are ended."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _database_params() -> list[pytest.ParameterSet]:
    params = [pytest.param("sqlite", id="sqlite")]
    skip = pytest.mark.skipif(not POSTGRES_URL, reason="FAIRMARKET_TEST_POSTGRES_URL not set")
    params.append(pytest.param("postgres", id="postgres", marks=[skip, pytest.mark.postgres]))
    return params


@pytest.fixture(params=_database_params())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database URL: a SQLite file, and PostgreSQL when configured."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'fairmarket.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Test settings; deliveries may reach the local receivers the tests start on 127.0.0.1."""
    return Settings(
        environment="test",
        data_dir=tmp_path,
        database_url=db_url,
        search_url="",
        delivery_allowed_hosts=["127.0.0.1"],
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client
