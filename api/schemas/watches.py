"""The watch endpoints' request and response models, and what each kind of watch targets."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict

from alerts.watches import SEARCH_FILTERS
from api.schemas.delivery import (
    CHANNEL_ADDRESSES,
    EMAIL_PATTERN,
    Channel,
    DeliveryAddressChecks,
    WebhookSecret,
    require_channel_addresses,
)
from api.timestamps import UtcDateTime
from core.models import Category, Merchant, Product
from core.text import NOT_BLANK_PATTERN
from web.deps import ROW_ID_MAX

Kind = Literal["search", "merchant", "product", "category"]
Item = Literal["complaints", "alerts"]
# What a saved search's filters hold: list filters of non-empty strings, amounts as non-negative numbers.
FILTERS_SCHEMA: JsonDict = {
    "propertyNames": {"enum": list(SEARCH_FILTERS)},
    "properties": {
        name: {"type": "number", "minimum": 0}
        if name.startswith("amount_")
        else {"type": "array", "items": {"type": "string", "minLength": 1}}
        for name in SEARCH_FILTERS
    },
}
#: The field and table a watch of each kind (other than a search) follows.
TARGETS = {
    "merchant": ("merchant_id", Merchant),
    "product": ("product_id", Product),
    "category": ("category_id", Category),
}


class WatchCreate(DeliveryAddressChecks):
    """A saved search needs a query or a filter (the schema says so, so clients know before they send)."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"kind": {"const": "search"}}},
                    "then": {
                        "anyOf": [
                            {"required": ["query"], "properties": {"query": {"pattern": NOT_BLANK_PATTERN}}},
                            {"required": ["filters"], "properties": {"filters": {"minProperties": 1}}},
                        ]
                    },
                },
                *CHANNEL_ADDRESSES,
            ]
        },
    )

    name: str = Field(min_length=1, max_length=80, json_schema_extra={"pattern": NOT_BLANK_PATTERN})
    kind: Kind
    query: str = Field(default="", max_length=500, description="检索词（kind=search）")
    filters: dict[str, Any] = Field(
        default_factory=dict,
        description="检索筛选：nature industry district merchant status（可加 not_）amount_min amount_max",
        json_schema_extra=FILTERS_SCHEMA,
    )
    merchant_id: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)
    product_id: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)
    category_id: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)
    items: list[Item] = Field(default=["complaints", "alerts"], min_length=1)
    channels: list[Channel] = Field(default=["inbox"])
    webhook_url: str | None = Field(default=None, max_length=500)
    webhook_secret: WebhookSecret = None
    email: str | None = Field(default=None, max_length=200, json_schema_extra={"pattern": EMAIL_PATTERN})
    apprise_urls: list[str] = Field(default_factory=list, max_length=10)
    quiet_hours: str | None = Field(default=None, description="免打扰时段（北京时间），例如 22:00-07:00")

    @field_validator("filters")
    @classmethod
    def _known_filters(cls, filters: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(filters) - set(SEARCH_FILTERS))
        if unknown:
            raise ValueError(f"不支持的筛选条件：{', '.join(unknown)}")
        for key, value in filters.items():
            if key.startswith("amount_"):
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"{key} 应为非负数")
            elif not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValueError(f"{key} 应为字符串列表")
        return filters

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.kind == "search" and not (self.query or self.filters):
            raise ValueError("保存检索时需要检索词或筛选条件")
        if self.kind in TARGETS and getattr(self, TARGETS[self.kind][0]) is None:
            raise ValueError(f"关注{self.kind}时必须填写 {TARGETS[self.kind][0]}")
        for kind, (field, _) in TARGETS.items():
            if kind != self.kind:
                setattr(self, field, None)  # a watch follows one thing: the target of its own kind
        if self.kind == "search" and self.items != ["complaints"]:
            self.items = ["complaints"]  # a saved search finds complaints
        require_channel_addresses(self.channels, self.webhook_url, self.email, self.apprise_urls)
        self.channels = list(dict.fromkeys(self.channels)) or ["inbox"]
        self.items = list(dict.fromkeys(self.items))
        return self


class WatchPublic(BaseModel):
    id: int
    name: str
    kind: str
    query: str
    filters: dict[str, Any]
    merchant_id: int | None
    product_id: int | None
    category_id: int | None
    items: list[str]
    channels: list[str]
    webhook_url: str | None
    email: str | None
    apprise_urls: list[str]
    quiet_hours: str | None
    active: bool
    created_at: UtcDateTime
    matched_through: UtcDateTime | None


class WatchWithSecret(WatchPublic):
    webhook_secret: str | None = Field(description="只显示这一次，请妥善保存")


class WatchesPublic(BaseModel):
    data: list[WatchPublic]
    count: int
