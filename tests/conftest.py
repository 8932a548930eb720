"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured) and a real app.

Migrating and seeding a database takes seconds, and most tests want one; so each test process migrates
(and seeds) once and every test that asks for ``engine`` or ``client`` starts from a copy of that state:
a copied SQLite file, or a PostgreSQL database emptied row by row and refilled from a snapshot. Tests that
ask only for ``db_url`` still get an empty database, to exercise first-start paths.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.orm import Session

from api.main import create_app
from core.config import Settings
from core.db import get_engine, make_engine, prepare_database, session_factory, upgrade_database

POSTGRES_URL = os.environ.get("FAIRMARKET_TEST_POSTGRES_URL", "")
SNAPSHOT_SCHEMA = "fairmarket_test_seed"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own on the configured server, dropped at the end.

    Parallel runs (developers, CI, pytest-xdist workers) share one server; each gets its own database.
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


class SqliteTemplates:
    """One migrated and one migrated-and-seeded SQLite file per test process, built on first use."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def path(self, *, seeded: bool) -> Path:
        schema = self._directory / "schema.db"
        if not schema.exists():
            self._build(schema, seed=False)
        if not seeded:
            return schema
        seeded_path = self._directory / "seeded.db"
        if not seeded_path.exists():
            shutil.copyfile(schema, self._directory / "seeding.db")
            self._build(self._directory / "seeding.db", seed=True)
            (self._directory / "seeding.db").rename(seeded_path)
        return seeded_path

    @staticmethod
    def _build(path: Path, *, seed: bool) -> None:
        engine = make_engine(f"sqlite:///{path}")
        if seed:
            prepare_database(engine)
        else:
            upgrade_database(engine)
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("database-templates"))


class PostgresResetter:
    """Puts this run's PostgreSQL database into a known state fast.

    Dropping the schema and migrating again costs seconds per test; when the schema is still the one
    migrated here (same tables, columns and indexes), deleting every row and restoring the seeded
    catalogue from a snapshot schema gives the same state in a tenth of the time.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._fingerprint: str | None = None

    def empty(self) -> None:
        engine = make_engine(self.url)
        with engine.begin() as conn:
            _end_other_connections(conn)
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()

    def migrated(self, *, seeded: bool) -> None:
        engine = make_engine(self.url)
        with engine.begin() as conn:
            _end_other_connections(conn)
            intact = self._fingerprint is not None and _schema_fingerprint(conn) == self._fingerprint
        if not intact:
            engine.dispose()
            self._rebuild()
            engine = make_engine(self.url)
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in _public_tables(conn):
                conn.execute(text(f'DELETE FROM public."{table}"'))
            if seeded:
                for table in _tables(conn, SNAPSHOT_SCHEMA):
                    snapshot = f'{SNAPSHOT_SCHEMA}."{table}"'
                    conn.execute(text(f'INSERT INTO public."{table}" SELECT * FROM {snapshot}'))
            _restart_sequences(conn)
        engine.dispose()

    def _rebuild(self) -> None:
        """Migrate an empty schema, seed it, and keep the seeded rows in the snapshot schema."""
        self.empty()
        engine = make_engine(self.url)
        prepare_database(engine)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}"))
            for table in _public_tables(conn):
                if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM public."{table}")')).scalar():
                    conn.execute(text(f'CREATE TABLE {SNAPSHOT_SCHEMA}."{table}" AS TABLE public."{table}"'))
            self._fingerprint = _schema_fingerprint(conn)
        engine.dispose()


def _end_other_connections(conn: Connection) -> None:
    """Connections a previous test left open (in a transaction) would block the reset."""
    conn.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )


def _tables(conn: Connection, schema: str) -> list[str]:
    query = text("SELECT tablename FROM pg_tables WHERE schemaname = :schema ORDER BY 1")
    rows = conn.execute(query, {"schema": schema})
    return list(rows.scalars())


def _public_tables(conn: Connection) -> list[str]:
    return [table for table in _tables(conn, "public") if table != "alembic_version"]


def _schema_fingerprint(conn: Connection) -> str:
    columns = conn.execute(
        text(
            "SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ','"
            " ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public'"
        )
    ).scalar()
    indexes = conn.execute(
        text("SELECT string_agg(indexdef, ',' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'")
    ).scalar()
    version = conn.execute(
        text("SELECT string_agg(version_num, ',') FROM public.alembic_version")
        if "alembic_version" in _tables(conn, "public")
        else text("SELECT ''")
    ).scalar()
    return f"{columns}|{indexes}|{version}"


def _restart_sequences(conn: Connection) -> None:
    """Every serial/identity column continues after its highest id, as after a fresh seed."""
    owned = conn.execute(
        text(
            "SELECT seq.relname, tab.relname, col.attname FROM pg_class seq"
            " JOIN pg_depend dep ON dep.objid = seq.oid AND dep.deptype IN ('a', 'i')"
            " JOIN pg_class tab ON tab.oid = dep.refobjid"
            " JOIN pg_attribute col ON col.attrelid = tab.oid AND col.attnum = dep.refobjsubid"
            " JOIN pg_namespace ns ON ns.oid = seq.relnamespace"
            " WHERE seq.relkind = 'S' AND ns.nspname = 'public'"
        )
    ).all()
    for sequence, table, column in owned:
        conn.execute(
            text(
                f"SELECT setval('public.\"{sequence}\"',"
                f' COALESCE((SELECT MAX("{column}") FROM public."{table}"), 0) + 1, false)'
            )
        )


@pytest.fixture(scope="session")
def postgres_resetter(postgres_url: str) -> PostgresResetter:
    return PostgresResetter(postgres_url)


def _database_params() -> list[pytest.ParameterSet]:
    params = [pytest.param("sqlite", id="sqlite")]
    skip = pytest.mark.skipif(not POSTGRES_URL, reason="FAIRMARKET_TEST_POSTGRES_URL not set")
    params.append(pytest.param("postgres", id="postgres", marks=[skip, pytest.mark.postgres]))
    return params


@pytest.fixture(params=_database_params())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: a SQLite file, and PostgreSQL when configured.

    Migrated (and, for tests with a ``client``, seeded as the app would seed it) when the test uses
    ``engine`` or ``client``; empty otherwise, for tests of what happens on a first start.
    """
    wanted = set(request.fixturenames)
    migrated = bool(wanted & {"engine", "client"})
    seeded = "client" in wanted
    if request.param == "postgres":
        resetter: PostgresResetter = request.getfixturevalue("postgres_resetter")
        if migrated:
            resetter.migrated(seeded=seeded)
        else:
            resetter.empty()
        return resetter.url
    path = tmp_path / "fairmarket.db"
    if migrated:
        templates: SqliteTemplates = request.getfixturevalue("sqlite_templates")
        shutil.copyfile(templates.path(seeded=seeded), path)
    return f"sqlite:///{path}"


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
