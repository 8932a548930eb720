from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import SessionDep, SettingsDep

router = APIRouter(tags=["health"])


class HealthPublic(BaseModel):
    status: str
    database: str
    search_backend: str
    version: str


@router.get("/health", response_model=HealthPublic)
def health(session: SessionDep, settings: SettingsDep) -> HealthPublic:
    session.execute(text("SELECT 1"))
    backend = session.get_bind().dialect.name
    return HealthPublic(
        status="ok", database=backend, search_backend=settings.search_backend, version="0.1.0"
    )
