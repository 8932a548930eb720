from __future__ import annotations

import time
from typing import Annotated

import anyio
from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import Engine, text

from web.deps import SettingsDep

router = APIRouter(tags=["health"])
#: Health checks come from load balancers many times a second: the database is asked at most this often.
PROBE_INTERVAL_SECONDS = 1.0


class HealthPublic(BaseModel):
    status: str
    database: str
    search_backend: str
    version: str


class DatabaseProbe:
    """``SELECT 1`` at most once per interval; checks arriving meanwhile share the last success."""

    def __init__(self, engine: Engine, interval: float = PROBE_INTERVAL_SECONDS) -> None:
        self.engine = engine
        self.interval = interval
        self.succeeded_at = -interval
        self.lock = anyio.Lock()

    def _select_one(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    async def check(self) -> str:
        """The database's dialect; raises when the database cannot be reached."""
        if time.monotonic() - self.succeeded_at >= self.interval:
            async with self.lock:
                if time.monotonic() - self.succeeded_at >= self.interval:
                    await to_thread.run_sync(self._select_one)
                    self.succeeded_at = time.monotonic()
        return self.engine.dialect.name


async def database_probe(request: Request) -> DatabaseProbe:
    probe: DatabaseProbe | None = getattr(request.app.state, "database_probe", None)
    if probe is None:
        probe = request.app.state.database_probe = DatabaseProbe(request.app.state.engine)
    return probe


@router.get("/health", response_model=HealthPublic)
async def health(
    settings: SettingsDep, probe: Annotated[DatabaseProbe, Depends(database_probe)]
) -> HealthPublic:
    return HealthPublic(
        status="ok", database=await probe.check(), search_backend=settings.search_backend, version="0.1.0"
    )
