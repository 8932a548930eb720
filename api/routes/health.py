from __future__ import annotations

import time
from typing import Annotated

import anyio
from anyio import to_thread
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Receive, Scope, Send

from api.schemas.health import HealthPublic
from core.config import Settings
from web.deps import SettingsDep

router = APIRouter(tags=["health"])
#: Health checks come from load balancers many times a second: the database is asked at most this often.
PROBE_INTERVAL_SECONDS = 1.0
HEALTH_PATH = "/api/health"
VERSION = "0.1.0"


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


class HealthFastPath:
    """``GET /api/health`` answered before routing, from bytes and headers made once per answer.

    Load balancers ask many times a second; the answer only changes when the database cannot be reached,
    and then the route answers (and reports) the failure as it always did. Innermost of the middlewares,
    so security headers apply as to any request.
    """

    def __init__(self, app: ASGIApp, settings: Settings, probe: DatabaseProbe) -> None:
        self.app = app
        self.settings = settings
        self.probe = probe
        self.answers: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]] = {}

    def _answer(self, database: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        answer = self.answers.get(database)
        if answer is None:
            health = HealthPublic(
                status="ok", database=database, search_backend=self.settings.search_backend, version=VERSION
            )
            body = health.model_dump_json().encode()
            headers = Response(body, media_type="application/json").raw_headers
            answer = self.answers[database] = (body, headers)
        return answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != HEALTH_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        try:
            database = await self.probe.check()
        except Exception:  # the route answers it, as it did before there was a fast path
            await self.app(scope, receive, send)
            return
        body, headers = self._answer(database)
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})


@router.get("/health", response_model=HealthPublic)
async def health(
    settings: SettingsDep, probe: Annotated[DatabaseProbe, Depends(database_probe)]
) -> HealthPublic:
    return HealthPublic(
        status="ok", database=await probe.check(), search_backend=settings.search_backend, version=VERSION
    )
