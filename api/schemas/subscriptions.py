"""The subscription endpoints' request and response models."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from api.schemas.delivery import (
    CHANNEL_ADDRESSES,
    EMAIL_PATTERN,
    Channel,
    DeliveryAddressChecks,
    WebhookSecret,
    require_channel_addresses,
)
from api.timestamps import UtcDateTime
from complaints.classification import INDUSTRIES
from core.text import NOT_BLANK_PATTERN

Severity = Literal["low", "medium", "high", "critical"]


class SubscriptionBase(DeliveryAddressChecks):
    model_config = ConfigDict(
        str_strip_whitespace=True, json_schema_extra={"allOf": list[JsonValue](CHANNEL_ADDRESSES)}
    )

    name: str = Field(min_length=1, max_length=80, json_schema_extra={"pattern": NOT_BLANK_PATTERN})
    industries: list[str] = Field(
        default_factory=list, max_length=50, description="行业代码或名称，空表示本协会全部行业"
    )
    products: list[int] = Field(default_factory=list, max_length=500, description="商品 id")
    categories: list[int] = Field(default_factory=list, max_length=100, description="商品类别 id")
    districts: list[str] = Field(default_factory=list, max_length=50)
    min_severity: Severity = "low"
    channels: list[Channel] = Field(default=["inbox"])
    webhook_url: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=200, json_schema_extra={"pattern": EMAIL_PATTERN})
    apprise_urls: list[str] = Field(
        default_factory=list, max_length=10, description="dingtalk:// wecombot:// feishu:// …"
    )
    quiet_hours: str | None = Field(default=None, description="免打扰时段（北京时间），例如 22:00-07:00")
    daily_digest: bool = False
    active: bool = True

    @field_validator("industries")
    @classmethod
    def _known_industries(cls, values: list[str]) -> list[str]:
        codes = []
        for value in values:
            code = INDUSTRIES.normalize(value)
            if code is None:
                raise ValueError(f"未知的行业：{value}")
            codes.append(code)
        return sorted(set(codes))

    @field_validator("districts", "channels")
    @classmethod
    def _unique(cls, values: list[Any]) -> list[Any]:
        return list(dict.fromkeys(value.strip() if isinstance(value, str) else value for value in values))

    @model_validator(mode="after")
    def _channels_have_addresses(self) -> Self:
        require_channel_addresses(self.channels, self.webhook_url, self.email, self.apprise_urls)
        if "inbox" not in self.channels:
            self.channels = ["inbox", *self.channels]
        return self


class SubscriptionCreate(SubscriptionBase):
    association_id: int | None = Field(default=None, description="消协工作人员必填；行业协会默认本协会")
    webhook_secret: WebhookSecret = None


class SubscriptionUpdate(BaseModel):
    name: str | None = None
    industries: list[str] | None = None
    products: list[int] | None = None
    categories: list[int] | None = None
    districts: list[str] | None = None
    min_severity: Severity | None = None
    channels: list[Channel] | None = None
    webhook_url: str | None = None
    email: str | None = None
    apprise_urls: list[str] | None = None
    quiet_hours: str | None = None
    daily_digest: bool | None = None
    active: bool | None = None


class SubscriptionPublic(BaseModel):
    id: int
    association_id: int
    name: str
    industries: list[str]
    products: list[int]
    categories: list[int]
    districts: list[str]
    min_severity: str
    channels: list[str]
    webhook_url: str | None
    webhook_secret_set: bool
    email: str | None
    apprise_urls: list[str]
    quiet_hours: str | None
    daily_digest: bool
    active: bool
    created_at: UtcDateTime


class SubscriptionWithSecret(SubscriptionPublic):
    webhook_secret: str | None = Field(description="只显示这一次，请妥善保存")


class SubscriptionsPublic(BaseModel):
    data: list[SubscriptionPublic]
    count: int


class DeliveryCheckPublic(BaseModel):
    channel: str
    channel_name: str
    target: str
    ok: bool
    error: str | None


class DeliveryChecksPublic(BaseModel):
    data: list[DeliveryCheckPublic]
    count: int
