"""/api/alerts: the public list, the staff view with evidence and actions, lifecycle steps, deliveries.

The public sees alerts that were not dismissed, without staff names, notes or the peers' names, and
a merchant's name only once the alert is confirmed: an open alert is a suspicion, not a finding.
A trade association sees the alerts of its industries and those delivered to it in full, and acts on
them; the consumer association sees every alert and every association's actions. What the public may
read, anyone may read: another association's alert by id comes in the public view, and acting on it is
refused (403). Staff lists hold the alerts in their scope, the public list the public ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from alerts.channels import error_shown
from alerts.evidence_pack import export_evidence_pack
from alerts.lifecycle import STATUS_NAMES, AlertStateError, act_on_alert
from alerts.subscriptions import SEVERITIES
from api.schemas.alerts import (
    AlertActionPublic,
    AlertDismissal,
    AlertPublic,
    AlertsPublic,
    AlertStaff,
    AlertStep,
    DeliveriesPublic,
    DeliveryPublic,
)
from core.models import Alert, Delivery, utcnow
from web.deps import OPTIONAL_LOGIN, Caller, CallerDep, RowId, RowIdFilter, SessionDep, SettingsDep, StaffDep

router = APIRouter(prefix="/alerts", tags=["alerts"])

Severity = Literal["low", "medium", "high", "critical"]
PUBLIC_EVIDENCE_KEYS = (
    "rule",
    "unit",
    "reference",
    "current",
    "change",
    "peak_change",
    "market_change",
    "threshold",
    "days",
    "series",
)
# Before confirmation the public sees no price of the merchant itself: its daily prices, its own
# reference line or its current price match exactly one merchant's public price series.
UNCONFIRMED_EVIDENCE_KEYS = ("rule", "unit", "change", "peak_change", "market_change", "threshold", "days")
MARKET_SERIES_KEYS = ("dates", "market_median")


def public_evidence(evidence: dict[str, Any] | None, *, confirmed: bool) -> dict[str, Any]:
    """The evidence anyone may read: relative changes and the market context until the alert is confirmed."""
    evidence = evidence or {}
    if confirmed:
        return {key: evidence[key] for key in PUBLIC_EVIDENCE_KEYS if key in evidence}
    shown = {key: evidence[key] for key in UNCONFIRMED_EVIDENCE_KEYS if key in evidence}
    series = evidence.get("series")
    if isinstance(series, dict) and "market_median" in series:
        shown["series"] = {key: series[key] for key in MARKET_SERIES_KEYS if key in series}
    return shown


def public_alerts() -> ColumnElement[bool]:
    """The alerts anyone may read (in the public view): all but the dismissed ones."""
    return Alert.status != "dismissed"


def in_scope_of(caller: Caller) -> ColumnElement[bool]:
    """The alerts a caller sees in full and may act on; a trade association: its industries and deliveries."""
    if caller.role in ("consumer_staff", "admin"):
        return true()
    if caller.role == "public" or caller.association_id is None:
        return false()
    delivered = select(Delivery.alert_id).where(
        Delivery.association_id == caller.association_id, Delivery.alert_id.is_not(None)
    )
    return or_(Alert.industry.in_(caller.industries), Alert.id.in_(delivered))


def _public(alert: Alert) -> AlertPublic:
    evidence = public_evidence(alert.evidence, confirmed=alert.status == "confirmed")
    return AlertPublic(
        id=alert.id,
        rule_id=alert.rule_id,
        kind=alert.kind,
        severity=alert.severity,
        status=alert.status,
        status_name=STATUS_NAMES.get(alert.status, alert.status),
        product_id=alert.product_id,
        product=alert.product.name if alert.product else None,
        merchant=alert.merchant.name if alert.merchant and alert.status == "confirmed" else None,
        region=alert.region,
        industry=alert.industry,
        start_date=alert.start_date,
        end_date=alert.end_date,
        updated_at=alert.updated_at,
        evidence=evidence,
    )


def _staff(alert: Alert, caller: Caller) -> AlertStaff:
    actions = [
        AlertActionPublic.model_validate(action, from_attributes=True)
        for action in alert.actions
        if caller.sees_personal_data or action.association_id == caller.association_id
    ]
    public = _public(alert).model_dump(exclude={"merchant", "evidence"})
    return AlertStaff(
        **public,
        merchant=alert.merchant.name if alert.merchant else None,
        evidence=alert.evidence or {},
        merchant_id=alert.merchant_id,
        created_at=alert.created_at,
        status_by=alert.status_by,
        status_at=alert.status_at,
        dismiss_reason=alert.dismiss_reason,
        actions=actions,
    )


def _readable_alert(session: Session, alert_id: int, caller: Caller) -> tuple[Alert, bool]:
    """The alert if the caller may read it, and whether it is in the caller's scope (seen in full)."""
    scope = in_scope_of(caller)
    row = session.execute(
        select(Alert, scope.label("in_scope"))
        .where(Alert.id == alert_id, or_(public_alerts(), scope))
        .options(selectinload(Alert.product), selectinload(Alert.merchant), selectinload(Alert.actions))
    ).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "预警不存在 (alert not found)")
    return row[0], bool(row[1])


def _alert_in_scope(session: Session, alert_id: int, caller: Caller) -> Alert:
    """The alert for a step or its deliveries: only staff in whose scope it is; others may only read it."""
    alert, in_scope = _readable_alert(session, alert_id, caller)
    if not in_scope:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "该预警不属于本协会 (alert of another association)")
    return alert


@router.get("", response_model=AlertsPublic, openapi_extra=OPTIONAL_LOGIN)
def list_alerts(
    session: SessionDep,
    caller: CallerDep,
    status_: Annotated[list[str] | None, Query(alias="status")] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    min_severity: Severity | None = None,
    rule: Annotated[list[str] | None, Query()] = None,
    product_id: RowIdFilter = None,
    merchant_id: RowIdFilter = None,
    region: str | None = None,
    industry: str | None = None,
    since: Annotated[dt.date | None, Query(description="只看此日及以后仍在持续的预警")] = None,
    until: Annotated[dt.date | None, Query(description="只看此日及以前开始的预警")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AlertsPublic:
    """Alerts newest first. The public cannot filter by merchant: it only sees confirmed names."""
    if merchant_id is not None and not caller.is_staff:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "按经营者筛选需要登录 (merchant filter is staff-only)")
    query = select(Alert).where(in_scope_of(caller) if caller.is_staff else public_alerts())
    if status_:
        query = query.where(Alert.status.in_(status_))
    if severity:
        query = query.where(Alert.severity.in_(severity))
    if min_severity:
        query = query.where(Alert.severity.in_(SEVERITIES[SEVERITIES.index(min_severity) :]))
    if rule:
        query = query.where(Alert.rule_id.in_(rule))
    if product_id is not None:
        query = query.where(Alert.product_id == product_id)
    if merchant_id is not None:
        query = query.where(Alert.merchant_id == merchant_id)
    if region is not None:
        query = query.where(Alert.region == region)
    if industry is not None:
        query = query.where(Alert.industry == industry)
    if since is not None and until is not None and since > until:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "起始日期晚于结束日期 (since after until)")
    if since is not None:
        query = query.where(Alert.end_date >= since)
    if until is not None:
        query = query.where(Alert.start_date <= until)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    alerts = session.scalars(
        query.options(selectinload(Alert.product), selectinload(Alert.merchant), selectinload(Alert.actions))
        .order_by(Alert.updated_at.desc(), Alert.id.desc())
        .offset((page - 1) * size)
        .limit(size)
    )
    shown: list[AlertPublic] = [_staff(a, caller) if caller.is_staff else _public(a) for a in alerts]
    return AlertsPublic(data=shown, count=count)


@router.get("/{alert_id:int}", response_model=AlertStaff | AlertPublic, openapi_extra=OPTIONAL_LOGIN)
def read_alert(alert_id: RowId, session: SessionDep, caller: CallerDep) -> AlertStaff | AlertPublic:
    """In full for staff in whose scope the alert is; in the public view for everyone else."""
    alert, in_scope = _readable_alert(session, alert_id, caller)
    return _staff(alert, caller) if in_scope else _public(alert)


def _act(session: Session, caller: Caller, alert_id: int, action: str, note: str | None) -> AlertStaff:
    alert = _alert_in_scope(session, alert_id, caller)
    try:
        act_on_alert(
            session,
            alert=alert,
            action=action,
            actor=caller.username or "",
            association_id=caller.association_id,
            note=note,
        )
    except AlertStateError as exc:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return _staff(_alert_in_scope(session, alert_id, caller), caller)


@router.post("/{alert_id:int}/acknowledge", response_model=AlertStaff)
def acknowledge_alert(
    alert_id: RowId, session: SessionDep, caller: StaffDep, step: AlertStep | None = None
) -> AlertStaff:
    return _act(session, caller, alert_id, "acknowledge", step.note if step else None)


@router.post("/{alert_id:int}/confirm", response_model=AlertStaff)
def confirm_alert(
    alert_id: RowId, session: SessionDep, caller: StaffDep, step: AlertStep | None = None
) -> AlertStaff:
    return _act(session, caller, alert_id, "confirm", step.note if step else None)


@router.post("/{alert_id:int}/dismiss", response_model=AlertStaff)
def dismiss_alert(
    alert_id: RowId, dismissal: AlertDismissal, session: SessionDep, caller: StaffDep
) -> AlertStaff:
    if not dismissal.reason.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "驳回预警必须说明理由 (reason required)")
    return _act(session, caller, alert_id, "dismiss", dismissal.reason.strip())


@router.get("/{alert_id:int}/deliveries", response_model=DeliveriesPublic)
def list_alert_deliveries(alert_id: RowId, session: SessionDep, caller: StaffDep) -> DeliveriesPublic:
    """Where the alert went and how each delivery stands; an association sees its own."""
    _alert_in_scope(session, alert_id, caller)
    query = select(Delivery).where(Delivery.alert_id == alert_id)
    if not caller.sees_personal_data:
        query = query.where(Delivery.association_id == caller.association_id)
    rows = session.scalars(query.order_by(Delivery.id)).all()
    deliveries = [DeliveryPublic.model_validate(row, from_attributes=True) for row in rows]
    for delivery in deliveries:
        delivery.last_error = error_shown(delivery.last_error, detailed=caller.role == "admin")
    return DeliveriesPublic(data=deliveries, count=len(rows))


@router.get(
    "/{alert_id:int}/evidence-pack",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "证据包 ZIP"}},
)
def download_evidence_pack(
    alert_id: RowId, session: SessionDep, caller: StaffDep, settings: SettingsDep
) -> Response:
    """A ZIP for a case file: signed manifest with hashes, prices with provenance, complaints, chart, report.

    The consumer association may pack any alert, an association only those in its scope, with the
    complaints masked; every pack is audited with its SHA-256 and its manifest's.
    """
    alert = _alert_in_scope(session, alert_id, caller)
    pack = export_evidence_pack(
        session,
        alert,
        masked=not caller.sees_personal_data,
        actor=caller.username or "",
        made_at=utcnow(),
        secret=settings.secret_key,
    )
    session.commit()
    return Response(
        pack.data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{pack.filename}"',
            "X-Evidence-Pack-SHA256": pack.sha256,
        },
    )
