"""/api/watches: a staff member's saved searches, merchants, goods and categories to follow.

New complaints (and, for merchants, goods and categories, alerts) that match a watch reach its
channels once each (``alerts.watches``). A watch belongs to the staff member who made it; an
association's staff only ever receive what they may see. The webhook secret is shown once.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal, Self

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.channels import im
from alerts.channels.targets import UnsafeTarget, check_apprise_url, check_url
from alerts.watches import SEARCH_FILTERS, owning_association
from api.schemas.delivery import (
    CHANNEL_ADDRESSES,
    EMAIL_PATTERN,
    DeliveryAddressChecks,
    require_channel_addresses,
)
from api.timestamps import UtcDateTime
from core import audit
from core.models import Category, Merchant, Product, User, Watch
from core.text import NOT_BLANK_PATTERN, stripped_length_pattern
from web.deps import ROW_ID_MAX, Caller, RowId, SessionDep, SettingsDep, StaffDep

router = APIRouter(prefix="/watches", tags=["watches"])

Channel = Literal["inbox", "webhook", "email", "im"]
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

_TARGET = {
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
    webhook_secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=120,
        description="留空则自动生成",
        json_schema_extra={"pattern": stripped_length_pattern(16)},
    )
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
        if self.kind in _TARGET and getattr(self, _TARGET[self.kind][0]) is None:
            raise ValueError(f"关注{self.kind}时必须填写 {_TARGET[self.kind][0]}")
        for kind, (field, _) in _TARGET.items():
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


def _public(watch: Watch) -> dict[str, Any]:
    values = {name: getattr(watch, name) for name in WatchPublic.model_fields}
    return {**values, "apprise_urls": [im.redact(url) for url in watch.apprise_urls or []]}


def _own_watch(session: Session, watch_id: int, caller: Caller) -> Watch:
    watch = session.get(Watch, watch_id)
    if watch is None or watch.user_id != caller.user_id or not watch.active:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "关注不存在 (watch not found)")
    return watch


@router.post("", response_model=WatchWithSecret, status_code=status.HTTP_201_CREATED)
def create_watch(
    data: WatchCreate, session: SessionDep, caller: StaffDep, settings: SettingsDep
) -> WatchWithSecret:
    try:  # as for subscriptions: no targets inside the platform's network (checked again at each send)
        if data.webhook_url:
            check_url(data.webhook_url, settings.delivery_allowed_hosts, unresolved_ok=True)
        for url in data.apprise_urls:
            check_apprise_url(url, settings.delivery_allowed_hosts, unresolved_ok=True)
    except UnsafeTarget as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "推送地址指向内部网络，不允许作为推送目标"
        ) from exc
    if data.kind in _TARGET:
        field, model = _TARGET[data.kind]
        if session.get(model, getattr(data, field)) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} 不存在")
    user = session.get(User, caller.user_id)
    association_id = owning_association(session, user) if user else None
    if user is None or association_id is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "账号未关联任何协会，无法接收关注 (no association)")
    secret = data.webhook_secret or (secrets.token_urlsafe(32) if data.webhook_url else None)
    watch = Watch(
        **data.model_dump(exclude={"webhook_secret"}),
        webhook_secret=secret,
        user_id=user.id,
        association_id=association_id,
    )
    session.add(watch)
    session.flush()
    audit.record(
        session,
        caller.username or "",
        "watch.create",
        "watch",
        watch.id,
        after=data.model_dump(exclude={"webhook_secret"}),
    )
    session.commit()
    return WatchWithSecret(**_public(watch), webhook_secret=secret)


@router.get("", response_model=WatchesPublic)
def list_watches(session: SessionDep, caller: StaffDep) -> WatchesPublic:
    """The caller's own active watches, newest first."""
    rows = session.scalars(
        select(Watch).where(Watch.user_id == caller.user_id, Watch.active.is_(True)).order_by(Watch.id.desc())
    ).all()
    return WatchesPublic(data=[WatchPublic(**_public(w)) for w in rows], count=len(rows))


@router.get("/{watch_id:int}", response_model=WatchPublic)
def read_watch(watch_id: RowId, session: SessionDep, caller: StaffDep) -> WatchPublic:
    return WatchPublic(**_public(_own_watch(session, watch_id, caller)))


@router.delete("/{watch_id:int}", status_code=status.HTTP_204_NO_CONTENT)
def delete_watch(watch_id: RowId, session: SessionDep, caller: StaffDep) -> Response:
    """Stop the watch; what it already delivered stays in the inbox and the outbox history."""
    watch = _own_watch(session, watch_id, caller)
    watch.active = False
    audit.record(
        session, caller.username or "", "watch.delete", "watch", watch.id, before={"name": watch.name}
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
