"""The audit-log endpoint's response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from api.timestamps import UtcDateTime


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: UtcDateTime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditEntriesPublic(BaseModel):
    data: list[AuditEntryPublic]
    count: int
