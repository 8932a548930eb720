"""Classification proposals: trade associations propose a correction, the consumer association decides.

A trade association may not re-route a complaint itself (``PATCH …/classification`` is the consumer
association's); see ``complaints.reclassification``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import func, select

from api.routes.complaints import ClassifierDep, complaint_for, update_search_index
from api.schemas.classification_proposals import ProposalDecision, ProposalPublic, ProposalsPublic
from api.schemas.complaints import ClassificationCorrection
from complaints.classification import INDUSTRIES, NATURES
from complaints.reclassification import ProposalDecided, decide_proposal, propose_classification
from complaints.service import CLASSIFICATION_FIELDS
from core import audit
from core.models import ClassificationProposal
from web.deps import ConsumerStaffDep, RowId, SessionDep, StaffDep

router = APIRouter(prefix="/complaints", tags=["classification proposals"])

ProposalStatus = Literal["pending", "accepted", "refused"]


def _public(proposal: ClassificationProposal) -> ProposalPublic:
    return ProposalPublic.model_validate(proposal, from_attributes=True)


@router.post(
    "/{complaint_id:int}/classification-proposals",
    status_code=status.HTTP_201_CREATED,
    response_model=ProposalPublic,
)
def propose(
    complaint_id: RowId, correction: ClassificationCorrection, session: SessionDep, caller: StaffDep
) -> ProposalPublic:
    """Propose a new nature and/or industry for a complaint routed to the caller's association."""
    nature = NATURES.normalize(correction.nature) if correction.nature else None
    industry = INDUSTRIES.normalize(correction.industry) if correction.industry else None
    if (correction.nature and nature is None) or (correction.industry and industry is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "未知的投诉性质或行业")
    if nature is None and industry is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "请至少提出投诉性质或行业之一")
    complaint = complaint_for(session, complaint_id, caller)
    actor = caller.username or caller.role
    proposal = propose_classification(
        session,
        complaint,
        actor=actor,
        association_id=caller.association_id,
        nature=nature,
        industry=industry,
        note=correction.note,
    )
    session.flush()
    audit.record(
        session,
        actor,
        "complaint.classification_proposed",
        "complaint",
        complaint.id,
        after={"proposal": proposal.id, "nature": nature, "industry": industry},
    )
    session.commit()
    return _public(proposal)


@router.get("/classification-proposals", response_model=ProposalsPublic)
def list_proposals(
    session: SessionDep,
    caller: ConsumerStaffDep,
    status_: Annotated[ProposalStatus | None, Query(alias="status")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProposalsPublic:
    """Proposals oldest first (the queue the consumer association works through)."""
    query = select(ClassificationProposal)
    if status_ is not None:
        query = query.where(ClassificationProposal.status == status_)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ClassificationProposal.id).offset((page - 1) * size).limit(size))
    return ProposalsPublic(data=[_public(row) for row in rows], count=count)


def _decide(
    request: Request,
    session: SessionDep,
    caller: ConsumerStaffDep,
    proposal_id: int,
    decision: ProposalDecision | None,
    *,
    accept: bool,
    classifier: ClassifierDep | None = None,
) -> ProposalPublic:
    proposal = session.get(ClassificationProposal, proposal_id)
    if proposal is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "更正建议不存在")
    complaint = complaint_for(session, proposal.complaint_id, caller)
    before = audit.snapshot(complaint, CLASSIFICATION_FIELDS)
    actor = caller.username or caller.role
    try:
        decide_proposal(
            session,
            proposal,
            complaint,
            actor=actor,
            accept=accept,
            note=decision.note if decision else None,
            classifier=classifier,
        )
    except ProposalDecided as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "该更正建议已处理") from exc
    audit.record(
        session,
        actor,
        "complaint.classification_proposal_" + ("accepted" if accept else "refused"),
        "complaint",
        complaint.id,
        before={"proposal": proposal.id, **before},
        after={
            "proposal": proposal.id,
            **audit.snapshot(complaint, CLASSIFICATION_FIELDS),
        },
    )
    session.commit()
    result = _public(proposal)
    if accept:
        update_search_index(request, session, complaint.id)
    return result


@router.post("/classification-proposals/{proposal_id:int}/accept", response_model=ProposalPublic)
def accept_proposal(
    proposal_id: RowId,
    request: Request,
    session: SessionDep,
    caller: ConsumerStaffDep,
    classifier: ClassifierDep,
    decision: ProposalDecision | None = None,
) -> ProposalPublic:
    """Apply the proposed correction (re-routing the complaint); the classifier learns it."""
    return _decide(request, session, caller, proposal_id, decision, accept=True, classifier=classifier)


@router.post("/classification-proposals/{proposal_id:int}/refuse", response_model=ProposalPublic)
def refuse_proposal(
    proposal_id: RowId,
    request: Request,
    session: SessionDep,
    caller: ConsumerStaffDep,
    decision: ProposalDecision | None = None,
) -> ProposalPublic:
    """Keep the classification as it is; nothing is learnt."""
    return _decide(request, session, caller, proposal_id, decision, accept=False)
