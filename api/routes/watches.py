"""/api/watches: a staff member's saved searches, merchants, goods and categories to follow.

New complaints (and, for merchants, goods and categories, alerts) that match a watch reach its
channels once each (``alerts.watches``). A watch belongs to the staff member who made it; an
association's staff only ever receive what they may see. The webhook secret is shown once.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.channels import im
from alerts.channels.targets import UnsafeTarget, check_apprise_url, check_url
from alerts.watches import owning_association
from api.schemas.watches import TARGETS, WatchCreate, WatchesPublic, WatchPublic, WatchWithSecret
from core import audit
from core.models import User, Watch
from web.deps import Caller, RowId, SessionDep, SettingsDep, StaffDep

router = APIRouter(prefix="/watches", tags=["watches"])


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
    if data.kind in TARGETS:
        field, model = TARGETS[data.kind]
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
