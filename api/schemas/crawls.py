"""The crawl-health endpoints' response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from api.timestamps import UtcDateTime


class CrawlRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    spider: str
    source: str | None
    started_at: UtcDateTime
    finished_at: UtcDateTime | None
    status: str
    pages: int
    items_stored: int
    items_quarantined: int
    items_unmapped: int
    items_duplicate: int
    errors: int
    error_samples: list[Any]
    duration_seconds: float | None


class CrawlRunsPublic(BaseModel):
    data: list[CrawlRunPublic]
    count: int
