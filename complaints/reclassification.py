"""Reclassification by proposal: a trade association cannot move a complaint out of its own list.

Changing the industry re-routes a complaint to another association, and every correction teaches the
classifier that routes everyone's complaints. So a trade association proposes; the consumer association
accepts (the correction is applied through :func:`complaints.intake.correct_classification`, the one
training entry point) or refuses it (nothing changes, nothing is learnt).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from complaints.classification import ComplaintClassifier
from complaints.intake import correct_classification
from core.models import ClassificationProposal, Complaint, ComplaintEvent, utcnow


class ProposalDecided(Exception):
    """The proposal was accepted or refused already."""


def propose_classification(
    session: Session,
    complaint: Complaint,
    *,
    actor: str,
    association_id: int | None,
    nature: str | None,
    industry: str | None,
    note: str | None,
) -> ClassificationProposal:
    proposal = ClassificationProposal(
        complaint_id=complaint.id,
        association_id=association_id,
        proposed_by=actor,
        proposed_at=utcnow(),
        nature=nature,
        industry=industry,
        note=note.strip() if note and note.strip() else None,
        status="pending",
    )
    session.add(proposal)
    wanted = "；".join(
        part for part in (f"性质→{nature}" if nature else "", f"行业→{industry}" if industry else "") if part
    )
    complaint.events.append(
        ComplaintEvent(actor=actor, action="classification_proposed", note=f"提出分类更正建议：{wanted}")
    )
    return proposal


def decide_proposal(
    session: Session,
    proposal: ClassificationProposal,
    complaint: Complaint,
    *,
    actor: str,
    accept: bool,
    note: str | None,
    classifier: ComplaintClassifier | None = None,
) -> None:
    """Accept (apply and learn the correction) or refuse a pending proposal."""
    if proposal.status != "pending":
        raise ProposalDecided
    proposal.status = "accepted" if accept else "refused"
    proposal.decided_by, proposal.decided_at = actor, utcnow()
    proposal.decision_note = note.strip() if note and note.strip() else None
    if accept:
        correct_classification(
            session,
            complaint,
            actor=actor,
            nature=proposal.nature,
            industry=proposal.industry,
            note=f"采纳 {proposal.proposed_by} 的更正建议",
            classifier=classifier,
        )
    else:
        complaint.events.append(
            ComplaintEvent(
                actor=actor,
                action="classification_refused",
                note="不采纳分类更正建议"
                + (f"（{proposal.decision_note}）" if proposal.decision_note else ""),
            )
        )
