"""The scheduled-jobs endpoint's response models."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class JobRunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    error: str | None
    details: dict[str, Any]


class JobPublic(BaseModel):
    name: str
    enabled: bool
    schedule: str | None
    next_run_at: dt.datetime | None
    recent_runs: list[JobRunPublic]


class JobsPublic(BaseModel):
    scheduler_active: bool
    data: list[JobPublic]
    count: int
