"""The health endpoint's response model."""

from __future__ import annotations

from pydantic import BaseModel


class HealthPublic(BaseModel):
    status: str
    database: str
    search_backend: str
    version: str
