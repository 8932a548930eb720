"""The inbox endpoints' response models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from api.timestamps import UtcDateTime


class ChannelState(BaseModel):
    channel: str
    status: str
    attempts: int
    sent_at: UtcDateTime | None
    last_error: str | None


class InboxItem(BaseModel):
    id: int
    kind: Literal["alert", "complaint"]
    association_id: int
    alert_id: int | None
    complaint_id: int | None
    subject: str
    body: str
    payload: dict[str, Any]
    created_at: UtcDateTime
    read_at: UtcDateTime | None
    channels: list[ChannelState]


class InboxPublic(BaseModel):
    data: list[InboxItem]
    count: int
    unread: int
