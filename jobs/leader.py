"""Leader election: exactly one ``fairmarket scheduler`` process runs jobs at a time.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own; on SQLite it
holds an exclusive ``flock`` on a file next to the database. Either lock dies with its process (the
connection or the file descriptor closes), so a standby that keeps trying takes over.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: The advisory lock key every FairMarket scheduler competes for ("FairMkt" + version 1).
SCHEDULER_LOCK_KEY = int.from_bytes(b"FairMkt\x01", "big")
#: libpq TCP keepalives, so the server notices a leader whose machine vanished within a minute.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits."""

    def still_held(self) -> bool:
        """Whether this process still holds the lock (a lost database connection loses it)."""

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    """A session-level ``pg_try_advisory_lock`` on a dedicated connection."""

    def __init__(self, url: str, key: int = SCHEDULER_LOCK_KEY) -> None:
        self._engine = create_engine(url, poolclass=NullPool, connect_args=KEEPALIVES)
        self._key = key
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return self.still_held()
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            taken = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}))
        except DBAPIError:
            connection.close()
            raise
        if taken:
            self._connection = connection
        else:
            connection.close()
        return taken

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            held = self._connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": self._key},
            )
        except DBAPIError:
            log.warning("lost the connection that holds the scheduler lock")
            self._drop()
            return False
        return bool(held)

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        except DBAPIError:
            log.warning("could not unlock the scheduler lock; closing its connection releases it")
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None


class FileLock:
    """An exclusive, non-blocking ``flock`` on a lock file, released when the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def leader_lock_for(engine: Engine) -> LeaderLock:
    """The lock that fits the database: an advisory lock on PostgreSQL, a lock file beside SQLite."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(url.render_as_string(hide_password=False))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLock(Path(f"{url.database}.scheduler.lock"))
    raise ValueError(f"the scheduler needs PostgreSQL or a SQLite file, not {url.render_as_string()}")


def leader_active(engine: Engine) -> bool:
    """Whether some scheduler process holds the leader lock of this database right now."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as connection:
            held = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": SCHEDULER_LOCK_KEY},
            )
        return bool(held)
    path = Path(f"{url.database}.scheduler.lock")
    if not path.is_file():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
