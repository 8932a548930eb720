"""The alert endpoints' request and response models."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, computed_field

from api.timestamps import UtcDateTime
from core.display_names import display_name


class AlertPublic(BaseModel):
    id: int
    rule_id: str
    kind: str
    severity: str
    status: str
    status_name: str
    product_id: int | None
    product: str | None
    merchant: str | None
    region: str
    industry: str | None
    start_date: dt.date
    end_date: dt.date
    updated_at: UtcDateTime
    evidence: dict[str, Any]


class AlertsPublic(BaseModel):
    data: list[AlertPublic]
    count: int


class AlertActionPublic(BaseModel):
    at: UtcDateTime
    actor: str
    association_id: int | None
    action: str
    note: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def action_name(self) -> str:
        return display_name("alert_action", self.action)


class AlertStaff(AlertPublic):
    merchant_id: int | None
    created_at: UtcDateTime
    status_by: str | None
    status_at: UtcDateTime | None
    dismiss_reason: str | None
    actions: list[AlertActionPublic]


class AlertStep(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class AlertDismissal(BaseModel):
    reason: str = Field(min_length=2, max_length=2000, description="驳回理由")


class DeliveryPublic(BaseModel):
    id: int
    association_id: int
    subscription_id: int | None
    channel: str
    status: str
    attempts: int
    next_attempt_at: UtcDateTime
    last_error: str | None
    created_at: UtcDateTime
    sent_at: UtcDateTime | None
    read_at: UtcDateTime | None


class DeliveriesPublic(BaseModel):
    data: list[DeliveryPublic]
    count: int
