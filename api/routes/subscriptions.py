"""/api/subscriptions: what an association wants to hear about, and where.

Association staff manage their own association's subscriptions, and only within its industries; the
consumer association manages everyone's. Webhook secrets are shown once (on creation or rotation)
and IM bot URLs, which carry tokens, are only ever shown redacted, as are the user:password of a
webhook URL (in responses and in the audit log). Targets inside the platform's network are refused
(``alerts.channels.targets``).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.channels import im
from alerts.channels.targets import UnsafeTarget, check_apprise_url, check_url
from alerts.delivery import send_test_message
from api.schemas.subscriptions import (
    DeliveryCheckPublic,
    DeliveryChecksPublic,
    SubscriptionBase,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionsPublic,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from core import audit
from core.config import Settings
from core.display_names import display_name
from core.models import Association, Category, Product, Subscription, utcnow
from web.deps import Caller, RowId, RowIdFilter, SessionDep, SettingsDep, StaffDep

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])

AUDITED_FIELDS = (
    "name",
    "industries",
    "products",
    "categories",
    "districts",
    "min_severity",
    "channels",
    "webhook_url",
    "email",
    "quiet_hours",
    "daily_digest",
    "active",
)


def redact_webhook_url(url: str | None) -> str | None:
    """``https://user:pass@host/path`` -> ``https://***@host/path``: credentials never leave the row."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def _audited(subscription: Subscription) -> dict[str, Any]:
    snapshot = audit.snapshot(subscription, AUDITED_FIELDS)
    snapshot["webhook_url"] = redact_webhook_url(snapshot.get("webhook_url"))
    return snapshot


def _check_targets(data: SubscriptionBase, settings: Settings) -> None:
    """Refuse webhook and IM targets inside the platform's network (names that resolve nowhere pass here
    and are checked again at each send)."""
    allowed = settings.delivery_allowed_hosts
    try:
        if data.webhook_url:
            check_url(data.webhook_url, allowed, unresolved_ok=True)
        for url in data.apprise_urls:
            check_apprise_url(url, allowed, unresolved_ok=True)
    except UnsafeTarget as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "推送地址指向内部网络（本机、内网、链路本地或组播地址），不允许作为推送目标",
        ) from exc


def _public(subscription: Subscription) -> dict[str, Any]:
    return {
        **{
            name: getattr(subscription, name)
            for name in SubscriptionPublic.model_fields
            if hasattr(subscription, name)
        },
        "webhook_url": redact_webhook_url(subscription.webhook_url),
        "webhook_secret_set": bool(subscription.webhook_secret),
        "apprise_urls": [im.redact(url) for url in subscription.apprise_urls or []],
    }


def _association_for(session: Session, caller: Caller, association_id: int | None) -> Association:
    if not caller.sees_personal_data:
        if association_id not in (None, caller.association_id) or caller.association_id is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "只能管理本协会的订阅 (own association only)")
        association_id = caller.association_id
    if association_id is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "请指定 association_id (association_id required)"
        )
    association = session.get(Association, association_id)
    if association is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "协会不存在 (unknown association)")
    return association


def _check_scope(session: Session, association: Association, data: SubscriptionBase) -> None:
    """Industries inside the association's trade; goods that exist."""
    if not association.is_consumer_association:
        outside = set(data.industries) - set(association.industries or [])
        if outside:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"订阅的行业超出本协会范围：{'、'.join(sorted(outside))}",
            )
    for model, ids, label in ((Product, data.products, "商品"), (Category, data.categories, "类别")):
        found = set(session.scalars(select(model.id).where(model.id.in_(ids)))) if ids else set()
        missing = sorted(set(ids) - found)
        if missing:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"{label}不存在：{', '.join(map(str, missing))}"
            )


def _subscription_for(session: Session, subscription_id: int, caller: Caller) -> Subscription:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or (
        not caller.sees_personal_data and subscription.association_id != caller.association_id
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "订阅不存在 (subscription not found)")
    return subscription


def _invalid(exc: ValidationError) -> HTTPException:
    details = "; ".join(str(error.get("msg", "")) for error in exc.errors())
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"订阅无效：{details}")


@router.get("", response_model=SubscriptionsPublic)
def list_subscriptions(
    session: SessionDep,
    caller: StaffDep,
    association_id: RowIdFilter = None,
    active: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SubscriptionsPublic:
    query = select(Subscription)
    if not caller.sees_personal_data:
        query = query.where(Subscription.association_id == caller.association_id)
    elif association_id is not None:
        query = query.where(Subscription.association_id == association_id)
    if active is not None:
        query = query.where(Subscription.active.is_(active))
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Subscription.id).offset((page - 1) * size).limit(size))
    return SubscriptionsPublic(data=[SubscriptionPublic(**_public(row)) for row in rows], count=count)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionWithSecret)
def create_subscription(
    data: SubscriptionCreate, session: SessionDep, caller: StaffDep, settings: SettingsDep
) -> SubscriptionWithSecret:
    association = _association_for(session, caller, data.association_id)
    _check_scope(session, association, data)
    _check_targets(data, settings)
    secret = data.webhook_secret or (secrets.token_urlsafe(32) if "webhook" in data.channels else None)
    subscription = Subscription(
        association_id=association.id,
        webhook_secret=secret,
        **data.model_dump(exclude={"association_id", "webhook_secret"}),
    )
    session.add(subscription)
    session.flush()
    audit.record(
        session,
        caller.username or "",
        "subscription.create",
        "subscription",
        subscription.id,
        after=_audited(subscription),
    )
    session.commit()
    return SubscriptionWithSecret(**_public(subscription), webhook_secret=secret)


@router.get("/{subscription_id:int}", response_model=SubscriptionPublic)
def read_subscription(subscription_id: RowId, session: SessionDep, caller: StaffDep) -> SubscriptionPublic:
    return SubscriptionPublic(**_public(_subscription_for(session, subscription_id, caller)))


@router.patch("/{subscription_id:int}", response_model=SubscriptionPublic)
def update_subscription(
    subscription_id: RowId,
    changes: SubscriptionUpdate,
    session: SessionDep,
    caller: StaffDep,
    settings: SettingsDep,
) -> SubscriptionPublic:
    """Change some fields; the result is checked as a whole, as on creation."""
    subscription = _subscription_for(session, subscription_id, caller)
    current = {name: getattr(subscription, name) for name in SubscriptionBase.model_fields}
    try:
        merged = SubscriptionBase.model_validate({**current, **changes.model_dump(exclude_unset=True)})
    except ValidationError as exc:
        raise _invalid(exc) from exc
    _check_scope(session, session.get_one(Association, subscription.association_id), merged)
    _check_targets(merged, settings)
    before = _audited(subscription)
    for name, value in merged.model_dump().items():
        setattr(subscription, name, value)
    if "webhook" in merged.channels and not subscription.webhook_secret:
        subscription.webhook_secret = secrets.token_urlsafe(32)
    audit.record(
        session,
        caller.username or "",
        "subscription.update",
        "subscription",
        subscription.id,
        before=before,
        after=_audited(subscription),
    )
    session.commit()
    return SubscriptionPublic(**_public(subscription))


@router.post("/{subscription_id:int}/rotate-secret", response_model=SubscriptionWithSecret)
def rotate_webhook_secret(
    subscription_id: RowId, session: SessionDep, caller: StaffDep
) -> SubscriptionWithSecret:
    """A new webhook secret; messages already waiting are signed with it when they go out."""
    subscription = _subscription_for(session, subscription_id, caller)
    subscription.webhook_secret = secrets.token_urlsafe(32)
    audit.record(
        session, caller.username or "", "subscription.rotate_secret", "subscription", subscription.id
    )
    session.commit()
    return SubscriptionWithSecret(**_public(subscription), webhook_secret=subscription.webhook_secret)


@router.post("/{subscription_id:int}/test", response_model=DeliveryChecksPublic)
def send_test_delivery(
    subscription_id: RowId, request: Request, session: SessionDep, caller: StaffDep
) -> DeliveryChecksPublic:
    """Send a test message now on the webhook, e-mail and IM channels (the inbox needs none)."""
    subscription = _subscription_for(session, subscription_id, caller)
    if not subscription.active:
        raise HTTPException(status.HTTP_409_CONFLICT, "订阅已停用，请先启用再测试 (subscription inactive)")
    outcomes = send_test_message(subscription, request.app.state.settings, utcnow())
    audit.record(session, caller.username or "", "subscription.test", "subscription", subscription.id)
    session.commit()
    shown = [
        DeliveryCheckPublic(
            channel=outcome.channel,
            channel_name=display_name("delivery_channel", outcome.channel),
            target=outcome.target,
            ok=outcome.error is None,
            error=outcome.error,
        )
        for outcome in outcomes
    ]
    return DeliveryChecksPublic(data=shown, count=len(shown))


@router.delete("/{subscription_id:int}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(subscription_id: RowId, session: SessionDep, caller: StaffDep) -> Response:
    """Switch the subscription off (its history stays, waiting messages are dropped); PATCH can revive it."""
    subscription = _subscription_for(session, subscription_id, caller)
    if subscription.active:
        subscription.active = False
        audit.record(
            session,
            caller.username or "",
            "subscription.delete",
            "subscription",
            subscription.id,
            before={"active": True},
            after={"active": False},
        )
        session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
