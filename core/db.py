"""Engine, sessions and migrations: the one place that knows how to reach the database."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, Table, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from core.config import get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Build an engine; SQLite files get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # A file's pool has no cap on overflow: a request holds its session's connection while the FTS5
        # index (same file, same engine) takes a second one, so a capped pool deadlocks under load.
        on_file = "///" in url and path not in ("", ":memory:")
        pool = {"pool_size": 10, "max_overflow": -1} if on_file else {}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


_session_commits = 0


def _count_commit(_session: Session) -> None:
    global _session_commits
    _session_commits += 1


# Every session of this process (the app's, an import's, a test's): per-process caches of database rows
# (public answers, staff accounts) trust what they read only while this count stands still.
event.listen(Session, "after_commit", _count_commit)


def session_commits() -> int:
    """How many sessions of this process have committed: a change means the database may have changed."""
    return _session_commits


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    return make_engine(url or get_settings().resolved_database_url)


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order) with one executemany straight to the driver.

    For bulk writes: SQLAlchemy's executemany compiles and processes every row's parameter dict
    (about 40 µs a complaint row), more than the INSERT itself. Here each column's own bind processor
    (SQLite's dates as text, JSON, booleans) runs over that column's values alone, so what is stored
    is what the Core INSERT stores, on SQLite and PostgreSQL alike.
    """
    if not rows:
        return
    dialect = connection.dialect
    values: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for position, name in enumerate(columns):
        column_type = table.c[name].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            values[position] = list(map(process, values[position]))
    quote = dialect.identifier_preparer.quote
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(name) for name in columns)}) VALUES ({', '.join([placeholder] * len(columns))})"
    )
    connection.exec_driver_sql(statement, list(zip(*values, strict=True)))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# Any constant works; it only has to be the same in every process of one deployment.
MIGRATION_LOCK_ID = 0x6661_6972_6D6B


@contextmanager
def sqlite_file_lock(url: URL, purpose: str, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold ``<database>.<purpose>-lock`` exclusively: one process at a time per SQLite file.

    For what SQLite's own locking cannot serialise (pysqlite runs DDL outside a transaction; a job run
    spans many transactions). Nothing to lock for an in-memory database. ``on_wait`` is called once if
    another process holds the lock, before waiting for it.
    """
    database = url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.{purpose}-lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def advisory_xact_lock(connection: Connection, key: int, on_wait: Callable[[], None] | None = None) -> None:
    """Take a PostgreSQL transaction-level advisory lock, released at commit or rollback.

    ``on_wait`` is called once if another transaction holds it, before waiting for it.
    """
    params = {"key": key}
    if on_wait is None or not connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), params):
        if on_wait is not None:
            on_wait()
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), params)


def upgrade_database(engine: Engine | None = None, *, seed: bool = False) -> None:
    """Bring the schema to the newest migration; safe to call on every start.

    Several API workers start at once in a deployment, so they migrate one after the other (a
    PostgreSQL advisory lock, a lock file beside a SQLite database); the later ones find the schema
    at head and do nothing. With ``seed``, the catalogue is seeded in the same locked transaction.
    """
    engine = engine or get_engine()
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    file_lock = sqlite_file_lock(engine.url, "migrate") if sqlite else nullcontext()
    with file_lock, engine.connect() as connection:
        if sqlite:
            # SQLite changes a table by copying it and dropping the old one, which enforced foreign keys
            # refuse once rows refer to it; the pragma only takes effect outside a transaction.
            _set_sqlite_foreign_keys(connection, enabled=False)
        try:
            with connection.begin():
                if not sqlite:
                    advisory_xact_lock(connection, MIGRATION_LOCK_ID)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if seed:
                    from core.catalogue import seed_catalogue

                    with Session(bind=connection) as session:
                        seed_catalogue(session)
                        session.flush()
        finally:
            if sqlite:
                _set_sqlite_foreign_keys(connection, enabled=True)


def _set_sqlite_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    connection.commit()


def prepare_database(engine: Engine | None = None) -> None:
    """What every entry point does before touching data: schema at head, catalogue seeded.

    Idempotent and serialised by the migration lock, so every process may call it on start.
    """
    upgrade_database(engine, seed=True)
