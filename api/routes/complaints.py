"""Complaints: public filing and tracking, staff reading, workflow steps and classification corrections.

The consumer association sees complaints as filed; a trade association sees only the complaints routed
to it, with personal data masked; the public sees a complaint only through its tracking code, masked
and without staff names. A thin router: the work is in ``complaints.service``, the models and views in
``api.schemas.complaints``. Search and export live in ``api.routes.complaint_search``.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session

from api.routes.complaint_search import get_backend as get_search_backend_of_app
from api.schemas.complaints import (
    ClassificationCorrection,
    ComplaintCreated,
    ComplaintDetail,
    ComplaintsPublic,
    ComplaintTrack,
    FilingChannel,
    StatusFilter,
    TransitionRequest,
    detail_view,
    price_check_view,
    summary_view,
    track_view,
)
from api.timestamps import IsoDate
from complaints import service
from complaints.classification import INDUSTRIES, NATURES, ComplaintClassifier
from complaints.intake import create_complaint
from complaints.schemas import ComplaintCreate
from complaints.workflow import WorkflowError
from core.clock import china_today
from core.models import Complaint
from search.service import index_complaints
from web.deps import OPTIONAL_LOGIN, Caller, CallerDep, RowId, RowIdFilter, SessionDep, StaffDep

router = APIRouter(prefix="/complaints", tags=["complaints"])

log = logging.getLogger(__name__)


def get_complaint_classifier(request: Request, session: SessionDep) -> ComplaintClassifier:
    return service.learned_classifier(request.app.state, session)


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


def complaint_for(session: Session, complaint_id: int, caller: Caller) -> Complaint:
    """The complaint if the caller may see it, else 404 (a trade association sees only its own)."""
    try:
        return service.complaint_for(session, complaint_id, caller)
    except service.ComplaintNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "投诉不存在") from error


def _detail(session: Session, complaint: Complaint, caller: Caller) -> ComplaintDetail:
    return detail_view(
        complaint,
        mask=not caller.sees_personal_data,
        association_name=service.association_name(session, complaint.association_id),
        allowed_steps=service.allowed_steps(complaint, caller),
        today=china_today(),
    )


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
    complaint = service.complaint_by_tracking_code(session, code)
    if complaint is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "未找到该查询码对应的投诉，请核对后重试")
    return track_view(complaint, service.association_name(session, complaint.association_id), china_today())


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
    filters = service.ComplaintFilters(
        statuses=[value for value in status_ or [] if value],  # "status=" means no filter
        natures=nature or [],
        industries=industry or [],
        districts=district or [],
        association_id=association_id,
        overdue=overdue,
        created_from=created_from,
        created_to=created_to,
    )
    today = china_today()
    try:
        rows, count = service.list_complaints(session, caller, filters, page=page, size=size, today=today)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    mask = not caller.sees_personal_data
    return ComplaintsPublic(data=[summary_view(c, mask, today) for c in rows], count=count)


@router.get("/{complaint_id:int}", response_model=ComplaintDetail)
def read_complaint(complaint_id: RowId, session: SessionDep, caller: StaffDep) -> ComplaintDetail:
    detail = _detail(session, complaint_for(session, complaint_id, caller), caller)
    found = service.price_check_of(session, complaint_id)
    detail.price_check = price_check_view(*found) if found is not None else None
    return detail


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
    try:
        service.move_complaint(
            session,
            complaint,
            step.to_status,
            viewer=caller,
            actor=caller.username or caller.role,
            note=step.note,
        )
    except service.StepNotAllowed as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "受理、不予受理和结案由消费者协会办理") from error
    except WorkflowError as error:
        code = status.HTTP_409_CONFLICT if error.conflict else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, error.message) from error
    except service.ComplaintChanged as error:
        raise HTTPException(status.HTTP_409_CONFLICT, "投诉状态已被他人更新，请刷新后重试") from error
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
    service.correct_complaint(
        session,
        complaint,
        actor=caller.username or caller.role,
        nature=nature,
        industry=industry,
        note=correction.note,
        classifier=classifier,
    )
    detail = _detail(session, complaint, caller)
    update_search_index(request, session, complaint.id)
    return detail
