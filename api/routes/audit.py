"""The audit log, read-only: consumer-association staff and administrators see who did what and when.

There is deliberately no route that changes or deletes an entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.schemas.audit import AuditEntriesPublic, AuditEntryPublic
from core.models import AuditLog
from web.deps import ConsumerStaffDep, SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditEntriesPublic)
def list_audit_entries(
    session: SessionDep,
    _: ConsumerStaffDep,
    actor: Annotated[str | None, Query(max_length=60)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    entity: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str | None, Query(max_length=40)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditEntriesPublic:
    """Entries newest first; ``since``/``until`` are UTC times."""
    query = select(AuditLog)
    for column, value in (
        (AuditLog.actor, actor),
        (AuditLog.action, action),
        (AuditLog.entity, entity),
        (AuditLog.entity_id, entity_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(AuditLog.at >= _naive_utc(since))
    if until is not None:
        query = query.where(AuditLog.at < _naive_utc(until))
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = session.scalars(
        query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).offset((page - 1) * size).limit(size)
    )
    return AuditEntriesPublic(data=[AuditEntryPublic.model_validate(e) for e in entries], count=count)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    """The database keeps naive UTC; an aware time is converted, a naive one taken as UTC."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment
