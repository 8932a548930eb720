"""/api/inbox: an association's in-app inbox — alerts in its subscriptions and complaints routed to it.

Each item is an inbox delivery row; it also shows how the same item fared on the association's
other channels (webhook, e-mail, IM), so staff can see whether their systems got it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from alerts import messages
from alerts.channels import error_shown
from api.schemas.inbox import ChannelState, InboxItem, InboxPublic
from core.models import Delivery, utcnow
from web.deps import Caller, RowId, RowIdFilter, SessionDep, StaffDep

router = APIRouter(prefix="/inbox", tags=["inbox"])


def _owner_filter(caller: Caller, association_id: int | None) -> ColumnElement[bool]:
    if caller.sees_personal_data:
        target = association_id if association_id is not None else caller.association_id
        return Delivery.association_id == target if target is not None else Delivery.id.is_not(None)
    if association_id is not None and association_id != caller.association_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "只能查看本协会的收件箱 (own inbox only)")
    return Delivery.association_id == caller.association_id


def _channel_state(row: Delivery, caller: Caller) -> ChannelState:
    state = ChannelState.model_validate(row, from_attributes=True)
    state.last_error = error_shown(row.last_error, detailed=caller.role == "admin")
    return state


def _siblings(session: Session, items: list[Delivery], caller: Caller) -> dict[int, list[ChannelState]]:
    """The other channels' rows for the same alert or complaint and association."""
    found: dict[int, list[ChannelState]] = {item.id: [] for item in items}
    if not items:
        return found
    alert_ids = {item.alert_id for item in items if item.alert_id is not None}
    complaint_ids = {item.complaint_id for item in items if item.complaint_id is not None}
    rows = session.scalars(
        select(Delivery).where(
            Delivery.channel != "inbox",
            Delivery.association_id.in_({item.association_id for item in items}),
            (Delivery.alert_id.in_(alert_ids)) | (Delivery.complaint_id.in_(complaint_ids)),
        )
    )
    by_subject: dict[tuple[int, int | None, int | None], list[ChannelState]] = {}
    for row in rows:
        by_subject.setdefault((row.association_id, row.alert_id, row.complaint_id), []).append(
            _channel_state(row, caller)
        )
    for item in items:
        found[item.id] = by_subject.get((item.association_id, item.alert_id, item.complaint_id), [])
    return found


def _item(row: Delivery, channels: list[ChannelState]) -> InboxItem:
    payload = messages.masked(row.payload)
    return InboxItem(
        id=row.id,
        kind=row.payload.get("type", "alert"),
        association_id=row.association_id,
        alert_id=row.alert_id,
        complaint_id=row.complaint_id,
        subject=messages.subject(payload),
        body=messages.body(payload),
        payload=payload,
        created_at=row.created_at,
        read_at=row.read_at,
        channels=channels,
    )


@router.get("", response_model=InboxPublic)
def read_inbox(
    session: SessionDep,
    caller: StaffDep,
    unread: bool | None = None,
    kind: Literal["alert", "complaint"] | None = None,
    association_id: RowIdFilter = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InboxPublic:
    """Newest first; ``association_id`` lets the consumer association open another association's inbox."""
    mine = and_(Delivery.channel == "inbox", _owner_filter(caller, association_id))
    query = select(Delivery).where(mine)
    if unread is not None:
        query = query.where(Delivery.read_at.is_(None) if unread else Delivery.read_at.is_not(None))
    if kind == "alert":
        query = query.where(Delivery.alert_id.is_not(None))
    elif kind == "complaint":
        query = query.where(Delivery.complaint_id.is_not(None))
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    unread_count = session.scalar(select(func.count()).where(mine, Delivery.read_at.is_(None))) or 0
    rows = list(session.scalars(query.order_by(Delivery.id.desc()).offset((page - 1) * size).limit(size)))
    channels = _siblings(session, rows, caller)
    return InboxPublic(data=[_item(row, channels[row.id]) for row in rows], count=count, unread=unread_count)


@router.post("/{item_id:int}/read", response_model=InboxItem)
def mark_read(item_id: RowId, session: SessionDep, caller: StaffDep) -> InboxItem:
    """Mark an item of the caller's own association read; marking it again keeps the first time."""
    row = session.scalar(
        select(Delivery).where(
            Delivery.id == item_id,
            Delivery.channel == "inbox",
            Delivery.association_id == caller.association_id,
        )
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "收件箱中没有该条目 (inbox item not found)")
    if row.read_at is None:
        row.read_at = utcnow()
        session.commit()
    return _item(row, _siblings(session, [row], caller)[row.id])
