"""/api/merchants: the public record of a merchant — complaint counts, response and resolution rates
beside its industry's medians, and the alerts about it that were confirmed (the 黑猫投诉-style view).

Only aggregates leave here: no complaint text, no consumer, no staff names. An alert names a merchant
in public only once it is confirmed, as in ``/api/alerts``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func, select

from api.schemas.merchants import (
    ConfirmedAlert,
    CountPublic,
    MerchantRecordPublic,
    MerchantsPublic,
    MerchantSummary,
)
from complaints.classification import NATURES
from complaints.merchant_record import MIN_CASES_FOR_RATE, merchant_record
from core.clock import china_day_start, china_today
from core.display_names import display_name
from core.models import Alert, Complaint, Merchant
from web.deps import RowId, SessionDep

router = APIRouter(prefix="/merchants", tags=["merchants"])


def _since(months: int) -> tuple[dt.date, dt.datetime]:
    """The first day of the window in China and the same instant as naive UTC."""
    day = china_today() - dt.timedelta(days=30 * months)
    moment = china_day_start(day)
    return day, moment


@router.get("", response_model=MerchantsPublic)
def list_merchants(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=60, description="名称包含")] = None,
    industry: str | None = None,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 30,
) -> MerchantsPublic:
    """Merchants with complaints in the window, most complained-about first."""
    _, since = _since(months)
    complaints = func.count(Complaint.id).label("complaints")
    query = (
        select(Merchant, complaints)
        .join(Complaint, Complaint.merchant_id == Merchant.id)
        .where(Complaint.created_at >= since)
        .group_by(Merchant.id)
    )
    if q and q.strip():
        escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Merchant.name.like(f"%{escaped}%", escape="\\"))
    if industry:
        query = query.where(Merchant.industry == industry)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(complaints.desc(), Merchant.name).offset((page - 1) * size).limit(size)
    ).all()
    data = [
        MerchantSummary(
            id=merchant.id,
            name=merchant.name,
            industry=merchant.industry,
            industry_name=display_name("industry", merchant.industry),
            district=merchant.district,
            complaints=total,
        )
        for merchant, total in rows
    ]
    return MerchantsPublic(data=data, count=count)


@router.get("/{merchant_id:int}", response_model=MerchantRecordPublic)
def read_merchant_record(
    merchant_id: RowId, session: SessionDep, months: Annotated[int, Query(ge=1, le=36)] = 12
) -> MerchantRecordPublic:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "经营者不存在 (merchant not found)")
    since_day, since = _since(months)
    record = merchant_record(session, merchant=merchant, since=since)
    alerts = session.scalars(
        select(Alert)
        .where(Alert.merchant_id == merchant.id, Alert.status == "confirmed")
        .order_by(Alert.start_date.desc())
        .limit(20)
    )
    counts = record.counts
    return MerchantRecordPublic(
        id=merchant.id,
        name=merchant.name,
        industry=merchant.industry,
        industry_name=display_name("industry", merchant.industry),
        district=merchant.district,
        kind_name=display_name("price_type", merchant.kind),
        since=since_day,
        complaints=counts.complaints,
        accepted=counts.accepted,
        mediated=counts.mediated,
        resolved=counts.resolved,
        ended_without_agreement=counts.ended_without_agreement,
        response_rate=counts.response_rate,
        resolution_rate=counts.resolution_rate,
        min_cases_for_rate=MIN_CASES_FOR_RATE,
        by_nature=[CountPublic(label=NATURES.names.get(n, n), count=c) for n, c in record.by_nature.items()],
        by_month=[CountPublic(label=month, count=c) for month, c in record.by_month.items()],
        industry_merchants=record.industry_merchants,
        industry_median_complaints=record.industry_median_complaints,
        industry_median_response_rate=record.industry_median_response_rate,
        industry_median_resolution_rate=record.industry_median_resolution_rate,
        confirmed_alerts=[
            ConfirmedAlert(
                id=alert.id,
                title=str(
                    (alert.evidence or {}).get("rule", {}).get("title")
                    or display_name("alert_kind", alert.kind)
                ),
                product=alert.product.name if alert.product else None,
                start_date=alert.start_date,
                end_date=alert.end_date,
                severity_name=display_name("severity", alert.severity),
            )
            for alert in alerts
        ],
    )
