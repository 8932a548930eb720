"""Complaints: public filing and tracking, staff reading, workflow steps and classification corrections.

The consumer association sees complaints as filed; a trade association sees only the complaints routed
to it, with personal data masked; the public sees a complaint only through its tracking code, masked
and without staff names. Search and export live in ``api.routes.complaint_search``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from sqlalchemy import CursorResult, false, func, select, update
from sqlalchemy.orm import Session, selectinload

from api.routes.complaint_search import get_backend as get_search_backend_of_app
from api.timestamps import IsoDate, UtcDateTime
from complaints.classification import INDUSTRIES, NATURES, ComplaintClassifier
from complaints.intake import (
    correct_classification,
    create_complaint,
    learn_corrections,
    normalize_tracking_code,
)
from complaints.privacy import mask_contact, mask_name, mask_optional
from complaints.schemas import ComplaintCreate
from complaints.workflow import (
    CONSUMER_ASSOCIATION_STEPS,
    STATUS_NAMES,
    TRANSITIONS,
    WorkflowError,
    is_overdue,
    overdue_condition,
    transition,
)
from core import audit
from core.clock import china_day_start, china_today
from core.display_names import display_name
from core.models import Association, Complaint, ComplaintEvent, PriceCheck, PriceObservation, Product
from core.text import optional_text
from search.service import index_complaints
from web.deps import OPTIONAL_LOGIN, Caller, CallerDep, RowId, RowIdFilter, SessionDep, StaffDep

router = APIRouter(prefix="/complaints", tags=["complaints"])

log = logging.getLogger(__name__)
_classifier_lock = threading.Lock()


def load_classifier(app: FastAPI, session: Session) -> ComplaintClassifier:
    """The app's classifier, taught the corrections already stored in its database on first use."""
    with _classifier_lock:
        classifier: ComplaintClassifier | None = getattr(app.state, "complaint_classifier", None)
        if classifier is None:
            classifier = ComplaintClassifier()
            learn_corrections(session, classifier)
            app.state.complaint_classifier = classifier
        return classifier


def get_complaint_classifier(request: Request, session: SessionDep) -> ComplaintClassifier:
    return load_classifier(request.app, session)


ClassifierDep = Annotated[ComplaintClassifier, Depends(get_complaint_classifier)]


def update_search_index(request: Request, session: Session, complaint_id: int) -> None:
    """Index the committed complaint; if the index is unreachable the complaint stays filed.

    The drift is then found and fixed by ``fairmarket reindex --check --repair``.
    """
    try:
        backend = get_search_backend_of_app(request)
    except Exception:
        log.exception("search backend unavailable; complaint %s not indexed", complaint_id)
        return
    index_complaints(session, [complaint_id], backend=backend)


class ComplaintCreated(BaseModel):
    id: int
    tracking_code: str
    status: str
    accept_deadline: dt.date | None


# Timeline steps the public sees; corrections of the classification (with staff notes) stay internal.
PUBLIC_EVENTS = frozenset({"received", "transition"})


class EventPublic(BaseModel):
    at: UtcDateTime
    action: str
    action_name: str
    from_status: str | None
    to_status: str | None
    status_name: str | None
    note: str | None


class EventStaff(EventPublic):
    actor: str


class ComplaintTrack(BaseModel):
    """What anyone holding the tracking code may see: no personal data, no staff names."""

    tracking_code: str
    status: str
    status_name: str
    created_at: UtcDateTime
    title: str | None
    text: str
    nature: str | None
    industry: str | None
    industry_name: str
    association_name: str | None = Field(description="受理调解的行业协会")
    accept_deadline: dt.date | None
    mediate_deadline: dt.date | None
    overdue: bool
    timeline: list[EventPublic]


class ComplaintSummary(BaseModel):
    id: int
    tracking_code: str
    created_at: UtcDateTime
    status: str
    status_name: str
    title: str | None
    text: str
    merchant_name: str | None
    district: str | None
    amount: Decimal | None
    nature: str | None
    nature_confidence: float | None = Field(description="分类器置信度；人工给定或更正的标签为空")
    nature_corrected: bool
    industry: str | None
    industry_confidence: float | None = Field(description="分类器置信度；人工给定或更正的标签为空")
    industry_corrected: bool
    association_id: int | None
    accept_deadline: dt.date | None
    mediate_deadline: dt.date | None
    overdue: bool


class ComplaintsPublic(BaseModel):
    data: list[ComplaintSummary]
    count: int


class PriceCheckPublic(BaseModel):
    """The seller's price now for the good complained about (jobs.price_checks), 元 per standard unit."""

    status: str = Field(
        description="pending | done | no_price | failed；no_site（经营者没有可采集的商品页）"
        " | unknown_merchant（经营者不在名录中）：未能核查，原因见 note"
    )
    requested_at: UtcDateTime
    checked_at: UtcDateTime | None
    complained_price: float | None
    shown_price: float | None
    market_median: float | None
    standard_unit: str | None
    observed_date: dt.date | None
    url: str | None
    note: str | None


class ComplaintDetail(ComplaintSummary):
    channel: str
    channel_name: str
    industry_name: str
    association_name: str | None
    allowed_steps: list[str] = Field(description="调用者此刻可执行的状态变更（按角色与当前状态）")
    updated_at: UtcDateTime
    demands: str | None
    consumer_name: str | None
    contact: str | None
    merchant_credit_code: str | None
    merchant_id: int | None
    product_category: str | None
    personal_data_masked: bool
    timeline: list[EventStaff]
    price_check: PriceCheckPublic | None = None


# The channels that file through this endpoint (bulk import records "import").
FilingChannel = Literal["api", "web_form"]
# A reason or note: control characters dropped, blank as none, invisible-only text refused (422).
Note = Annotated[str | None, BeforeValidator(optional_text)]


# The schema lists the statuses, so a client (and schemathesis) knows which values exist.
StatusName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(STATUS_NAMES)})]
# "status=" is accepted as no filter.
StatusFilter = Annotated[str, WithJsonSchema({"type": "string", "enum": ["", *STATUS_NAMES]})]


NatureLabel = Annotated[str, WithJsonSchema(NATURES.json_schema())]
IndustryLabel = Annotated[str, WithJsonSchema(INDUSTRIES.json_schema())]


class TransitionRequest(BaseModel):
    to_status: StatusName = Field(description="目标状态：" + "、".join(STATUS_NAMES))
    note: Note = Field(default=None, max_length=2000)


class ClassificationCorrection(BaseModel):
    """At least one of nature and industry (the schema says so, so clients know before they send)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["nature"], "properties": {"nature": NATURES.json_schema()}},
                {"required": ["industry"], "properties": {"industry": INDUSTRIES.json_schema()}},
            ]
        }
    )

    nature: NatureLabel | None = None
    industry: IndustryLabel | None = None
    note: Note = Field(default=None, max_length=500)


def _masked(text: str | None, mask: bool) -> str | None:
    return mask_optional(text) if mask else text


def _event(event: ComplaintEvent, mask: bool) -> EventPublic:
    return EventPublic(
        at=event.at,
        action=event.action,
        action_name=display_name("complaint_event", event.action),
        from_status=event.from_status,
        to_status=event.to_status,
        status_name=STATUS_NAMES.get(event.to_status or ""),
        note=_masked(event.note, mask),
    )


def _summary(complaint: Complaint, mask: bool, today: dt.date) -> ComplaintSummary:
    return ComplaintSummary(
        id=complaint.id,
        tracking_code=complaint.tracking_code,
        created_at=complaint.created_at,
        status=complaint.status,
        status_name=STATUS_NAMES.get(complaint.status, complaint.status),
        title=_masked(complaint.title, mask),
        text=_masked(complaint.text, mask) or "",
        merchant_name=_masked(complaint.merchant_name, mask),
        district=_masked(complaint.district, mask),
        amount=complaint.amount,
        nature=complaint.nature,
        nature_confidence=complaint.nature_confidence,
        nature_corrected=complaint.nature_corrected,
        industry=complaint.industry,
        industry_confidence=complaint.industry_confidence,
        industry_corrected=complaint.industry_corrected,
        association_id=complaint.association_id,
        accept_deadline=complaint.accept_deadline,
        mediate_deadline=complaint.mediate_deadline,
        overdue=is_overdue(complaint, today),
    )


def _association_name(session: Session, association_id: int | None) -> str | None:
    association = session.get(Association, association_id) if association_id is not None else None
    return association.name if association else None


def allowed_steps(complaint: Complaint, caller: Caller) -> list[str]:
    """The statuses this caller may move the complaint to now, so pages offer only those."""
    steps = TRANSITIONS.get(complaint.status, frozenset())
    if not caller.sees_personal_data:
        steps = steps - CONSUMER_ASSOCIATION_STEPS
    return sorted(steps)


def _detail(session: Session, complaint: Complaint, caller: Caller) -> ComplaintDetail:
    mask = not caller.sees_personal_data
    consumer_name = complaint.consumer_name
    return ComplaintDetail(
        **_summary(complaint, mask, china_today()).model_dump(),
        channel=complaint.channel,
        channel_name=display_name("channel", complaint.channel),
        industry_name=display_name("industry", complaint.industry),
        association_name=_association_name(session, complaint.association_id),
        allowed_steps=allowed_steps(complaint, caller),
        updated_at=complaint.updated_at,
        demands=_masked(complaint.demands, mask),
        consumer_name=mask_name(consumer_name) if mask and consumer_name else consumer_name,
        contact=mask_contact(complaint.contact) if mask and complaint.contact else complaint.contact,
        merchant_credit_code=complaint.merchant_credit_code,
        merchant_id=complaint.merchant_id,
        product_category=_masked(complaint.product_category, mask),
        personal_data_masked=mask,
        timeline=[EventStaff(**_event(e, mask).model_dump(), actor=e.actor) for e in complaint.events],
    )


def _utc_start_of(day: dt.date) -> dt.datetime:
    """Midnight in China of ``day`` as the naive UTC timestamp the database stores."""
    return china_day_start(day)


def _may_see(caller: Caller, complaint: Complaint) -> bool:
    if caller.sees_personal_data:
        return True
    return caller.association_id is not None and complaint.association_id == caller.association_id


def complaint_for(session: Session, complaint_id: int, caller: Caller) -> Complaint:
    """The complaint if the caller may see it; a trade association sees only those routed to it."""
    complaint = session.get(Complaint, complaint_id, options=[selectinload(Complaint.events)])
    if complaint is None or not _may_see(caller, complaint):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "投诉不存在")
    return complaint


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ComplaintCreated, openapi_extra=OPTIONAL_LOGIN
)
def file_complaint(
    complaint_in: ComplaintCreate,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    classifier: ClassifierDep,
    channel: Annotated[
        FilingChannel, Query(description="提交渠道：api（接口）或 web_form（网页表单，投诉页面使用）")
    ] = "api",
) -> ComplaintCreated:
    """File a complaint (anyone); keep the tracking code to follow it."""
    complaint = create_complaint(
        session, complaint_in, channel=channel, actor=caller.username or "public", classifier=classifier
    )
    session.commit()
    created = ComplaintCreated(
        id=complaint.id,
        tracking_code=complaint.tracking_code,
        status=complaint.status,
        accept_deadline=complaint.accept_deadline,
    )
    update_search_index(request, session, complaint.id)
    return created


@router.get("/track/{code}", response_model=ComplaintTrack)
def track_complaint(code: Annotated[str, Path(max_length=40)], session: SessionDep) -> ComplaintTrack:
    """Status, deadlines and timeline of a complaint by its tracking code, without personal data."""
    complaint = session.scalar(
        select(Complaint)
        .where(Complaint.tracking_code == normalize_tracking_code(code))
        .options(selectinload(Complaint.events))
    )
    if complaint is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "未找到该查询码对应的投诉，请核对后重试")
    return ComplaintTrack(
        tracking_code=complaint.tracking_code,
        status=complaint.status,
        status_name=STATUS_NAMES.get(complaint.status, complaint.status),
        created_at=complaint.created_at,
        title=_masked(complaint.title, True),
        text=_masked(complaint.text, True) or "",
        nature=complaint.nature,
        industry=complaint.industry,
        industry_name=display_name("industry", complaint.industry),
        association_name=_association_name(session, complaint.association_id),
        accept_deadline=complaint.accept_deadline,
        mediate_deadline=complaint.mediate_deadline,
        overdue=is_overdue(complaint, china_today()),
        timeline=[_event(e, True) for e in complaint.events if e.action in PUBLIC_EVENTS],
    )


@router.get("", response_model=ComplaintsPublic)
def list_complaints(
    session: SessionDep,
    caller: StaffDep,
    status_: Annotated[list[StatusFilter] | None, Query(alias="status")] = None,
    nature: Annotated[list[str] | None, Query()] = None,
    industry: Annotated[list[str] | None, Query()] = None,
    district: Annotated[list[str] | None, Query()] = None,
    association_id: RowIdFilter = None,
    overdue: bool | None = None,
    created_from: IsoDate | None = None,
    created_to: IsoDate | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ComplaintsPublic:
    """Complaints newest first, filtered; ``overdue=true`` lists those past their deadline."""
    status_ = [value for value in status_ or [] if value]  # "status=" means no filter
    query = select(Complaint)
    if not caller.sees_personal_data:
        routed_to_caller = (
            Complaint.association_id == caller.association_id
            if caller.association_id is not None
            else false()
        )
        query = query.where(routed_to_caller)
    elif association_id is not None:
        query = query.where(Complaint.association_id == association_id)
    if status_:
        unknown = sorted(set(status_) - set(STATUS_NAMES))
        if unknown:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"未知的状态：{'、'.join(unknown)}（可选：{'、'.join(STATUS_NAMES)}）",
            )
        query = query.where(Complaint.status.in_(status_))
    if nature:
        query = query.where(Complaint.nature.in_([NATURES.normalize(n) or n for n in nature]))
    if industry:
        query = query.where(Complaint.industry.in_([INDUSTRIES.normalize(i) or i for i in industry]))
    if district:
        query = query.where(Complaint.district.in_(district))
    if created_from is not None:
        query = query.where(Complaint.created_at >= _utc_start_of(created_from))
    if created_to is not None:
        query = query.where(Complaint.created_at < _utc_start_of(created_to + dt.timedelta(days=1)))
    today = china_today()
    if overdue is not None:
        condition = overdue_condition(today)
        query = query.where(condition if overdue else ~condition)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Complaint.created_at.desc(), Complaint.id.desc()).offset((page - 1) * size).limit(size)
    )
    mask = not caller.sees_personal_data
    return ComplaintsPublic(data=[_summary(c, mask, today) for c in rows], count=count)


@router.get("/{complaint_id:int}", response_model=ComplaintDetail)
def read_complaint(complaint_id: RowId, session: SessionDep, caller: StaffDep) -> ComplaintDetail:
    detail = _detail(session, complaint_for(session, complaint_id, caller), caller)
    detail.price_check = _price_check(session, complaint_id)
    return detail


def _price_check(session: Session, complaint_id: int) -> PriceCheckPublic | None:
    row = session.execute(
        select(PriceCheck, PriceObservation, Product.standard_unit)
        .join(Product, Product.id == PriceCheck.product_id)
        .outerjoin(PriceObservation, PriceObservation.id == PriceCheck.observation_id)
        .where(PriceCheck.complaint_id == complaint_id)
    ).first()
    if row is None:
        return None
    check, observation, standard_unit = row
    return PriceCheckPublic(
        status=check.status,
        requested_at=check.requested_at,
        checked_at=check.checked_at,
        complained_price=check.complained_price,
        shown_price=check.shown_price,
        market_median=check.market_median,
        standard_unit=observation.standard_unit if observation else standard_unit,
        observed_date=observation.observed_date if observation else None,
        url=observation.url if observation else None,
        note=check.note,
    )


@router.post("/{complaint_id:int}/transitions", response_model=ComplaintDetail)
def move_complaint(
    complaint_id: RowId,
    step: TransitionRequest,
    request: Request,
    session: SessionDep,
    caller: StaffDep,
) -> ComplaintDetail:
    """One workflow step; a step the workflow does not allow from the current status is a 409.

    Accepting, rejecting and closing are for the consumer association; the mediation steps also for
    the trade association the complaint is routed to.
    """
    complaint = complaint_for(session, complaint_id, caller)
    if step.to_status in CONSUMER_ASSOCIATION_STEPS and not caller.sees_personal_data:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "受理、不予受理和结案由消费者协会办理")
    actor = caller.username or caller.role
    from_status = complaint.status
    try:
        event = transition(complaint, step.to_status, actor=actor, note=step.note)
    except WorkflowError as error:
        code = status.HTTP_409_CONFLICT if error.conflict else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, error.message) from error
    with session.no_autoflush:
        claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Complaint)
            .where(Complaint.id == complaint.id, Complaint.status == from_status)
            .values(status=step.to_status)
            .execution_options(synchronize_session=False)
        )
    if claimed.rowcount != 1:  # someone else moved it since we read it
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, "投诉状态已被他人更新，请刷新后重试")
    audit.record(
        session,
        actor,
        "complaint.transition",
        "complaint",
        complaint.id,
        before={"status": from_status},
        after={"status": step.to_status, "note": event.note},
    )
    session.commit()
    detail = _detail(session, complaint, caller)
    update_search_index(request, session, complaint.id)
    return detail


@router.patch("/{complaint_id:int}/classification", response_model=ComplaintDetail)
def correct_complaint_classification(
    complaint_id: RowId,
    correction: ClassificationCorrection,
    request: Request,
    session: SessionDep,
    caller: StaffDep,
    classifier: ClassifierDep,
) -> ComplaintDetail:
    """The consumer association corrects nature and/or industry; the correction is kept, re-routes the
    complaint and is learnt. Trade associations propose instead (``…/classification-proposals``)."""
    if not caller.sees_personal_data:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "行业协会请提交分类更正建议，由消费者协会审核 (POST …/classification-proposals)",
        )
    nature = NATURES.normalize(correction.nature) if correction.nature else None
    industry = INDUSTRIES.normalize(correction.industry) if correction.industry else None
    if (correction.nature and nature is None) or (correction.industry and industry is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "未知的投诉性质或行业")
    if nature is None and industry is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "请至少更正投诉性质或行业之一")
    complaint = complaint_for(session, complaint_id, caller)
    fields = ("nature", "industry", "association_id")
    before = audit.snapshot(complaint, fields)
    event = correct_classification(
        session,
        complaint,
        actor=caller.username or caller.role,
        nature=nature,
        industry=industry,
        note=correction.note,
        classifier=classifier,
    )
    if event is not None:
        audit.record(
            session,
            caller.username or caller.role,
            "complaint.classification_corrected",
            "complaint",
            complaint.id,
            before=before,
            after=audit.snapshot(complaint, fields),
        )
    session.commit()
    detail = _detail(session, complaint, caller)
    update_search_index(request, session, complaint.id)
    return detail
