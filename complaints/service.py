"""Complaint reads and staff actions as the web layer calls them: who may see what, listing, workflow
steps under an optimistic lock, classification corrections with their audit, the app's classifier.

Framework-free: errors are domain exceptions (``ComplaintNotFound``, ``StepNotAllowed``,
``ComplaintChanged``, ``WorkflowError``, ``ValueError``) that the router turns into HTTP answers.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import CursorResult, Select, false, func, select, update
from sqlalchemy.orm import Session, selectinload

from complaints.classification import INDUSTRIES, NATURES, ComplaintClassifier
from complaints.intake import correct_classification, learn_corrections, normalize_tracking_code
from complaints.workflow import (
    CONSUMER_ASSOCIATION_STEPS,
    STATUS_NAMES,
    TRANSITIONS,
    overdue_condition,
    transition,
)
from core import audit
from core.clock import china_day_start
from core.models import Association, Complaint, ComplaintEvent, PriceCheck, PriceObservation, Product

CLASSIFICATION_FIELDS = ("nature", "industry", "association_id")


class Viewer(Protocol):
    """Who reads or acts: the consumer association sees personal data, a trade association its own."""

    @property
    def sees_personal_data(self) -> bool: ...

    @property
    def association_id(self) -> int | None: ...


class ComplaintNotFound(LookupError):
    """No such complaint, or one the viewer may not see (the two are not told apart)."""


class StepNotAllowed(PermissionError):
    """A step reserved for the consumer association, asked by a trade association."""


class ComplaintChanged(RuntimeError):
    """Someone else moved the complaint since it was read: nothing was changed."""


def may_see(viewer: Viewer, complaint: Complaint) -> bool:
    if viewer.sees_personal_data:
        return True
    return viewer.association_id is not None and complaint.association_id == viewer.association_id


def complaint_for(session: Session, complaint_id: int, viewer: Viewer) -> Complaint:
    """The complaint (with its events) if the viewer may see it; a trade association sees only those
    routed to it."""
    complaint = session.get(Complaint, complaint_id, options=[selectinload(Complaint.events)])
    if complaint is None or not may_see(viewer, complaint):
        raise ComplaintNotFound(complaint_id)
    return complaint


def complaint_by_tracking_code(session: Session, code: str) -> Complaint | None:
    return session.scalar(
        select(Complaint)
        .where(Complaint.tracking_code == normalize_tracking_code(code))
        .options(selectinload(Complaint.events))
    )


def association_name(session: Session, association_id: int | None) -> str | None:
    association = session.get(Association, association_id) if association_id is not None else None
    return association.name if association else None


def allowed_steps(complaint: Complaint, viewer: Viewer) -> list[str]:
    """The statuses this viewer may move the complaint to now, so pages offer only those."""
    steps = TRANSITIONS.get(complaint.status, frozenset())
    if not viewer.sees_personal_data:
        steps = steps - CONSUMER_ASSOCIATION_STEPS
    return sorted(steps)


def price_check_of(
    session: Session, complaint_id: int
) -> tuple[PriceCheck, PriceObservation | None, str | None] | None:
    """The complaint's price check, the observation it found and the good's standard unit, if a check
    was asked for."""
    row = session.execute(
        select(PriceCheck, PriceObservation, Product.standard_unit)
        .join(Product, Product.id == PriceCheck.product_id)
        .outerjoin(PriceObservation, PriceObservation.id == PriceCheck.observation_id)
        .where(PriceCheck.complaint_id == complaint_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


@dataclass(frozen=True)
class ComplaintFilters:
    """Filters of the staff list; days are China days, ``created_to`` inclusive."""

    statuses: Sequence[str] = ()
    natures: Sequence[str] = ()
    industries: Sequence[str] = ()
    districts: Sequence[str] = ()
    association_id: int | None = None
    overdue: bool | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


def _filtered(viewer: Viewer, filters: ComplaintFilters, today: dt.date) -> Select[Complaint]:
    query = select(Complaint)
    if not viewer.sees_personal_data:
        routed_to_viewer = (
            Complaint.association_id == viewer.association_id
            if viewer.association_id is not None
            else false()
        )
        query = query.where(routed_to_viewer)
    elif filters.association_id is not None:
        query = query.where(Complaint.association_id == filters.association_id)
    if filters.statuses:
        unknown = sorted(set(filters.statuses) - set(STATUS_NAMES))
        if unknown:
            raise ValueError(f"未知的状态：{'、'.join(unknown)}（可选：{'、'.join(STATUS_NAMES)}）")
        query = query.where(Complaint.status.in_(filters.statuses))
    if filters.natures:
        query = query.where(Complaint.nature.in_([NATURES.normalize(n) or n for n in filters.natures]))
    if filters.industries:
        query = query.where(
            Complaint.industry.in_([INDUSTRIES.normalize(i) or i for i in filters.industries])
        )
    if filters.districts:
        query = query.where(Complaint.district.in_(filters.districts))
    if filters.created_from is not None:
        query = query.where(Complaint.created_at >= china_day_start(filters.created_from))
    if filters.created_to is not None:
        query = query.where(Complaint.created_at < china_day_start(filters.created_to + dt.timedelta(days=1)))
    if filters.overdue is not None:
        condition = overdue_condition(today)
        query = query.where(condition if filters.overdue else ~condition)
    return query


def list_complaints(
    session: Session, viewer: Viewer, filters: ComplaintFilters, *, page: int, size: int, today: dt.date
) -> tuple[list[Complaint], int]:
    """One page of the complaints the viewer may see, newest first, and how many match in all.

    An unknown status is a ``ValueError`` naming it and the known ones.
    """
    query = _filtered(viewer, filters, today)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Complaint.created_at.desc(), Complaint.id.desc()).offset((page - 1) * size).limit(size)
    )
    return list(rows), count


def move_complaint(
    session: Session, complaint: Complaint, to_status: str, *, viewer: Viewer, actor: str, note: str | None
) -> ComplaintEvent:
    """One workflow step, audited and committed.

    The status moves only if nobody moved it since it was read (an UPDATE on the status read):
    otherwise ``ComplaintChanged`` and nothing changes. ``StepNotAllowed`` when a trade association asks
    for accepting, rejecting or closing; ``WorkflowError`` when the workflow forbids the step.
    """
    if to_status in CONSUMER_ASSOCIATION_STEPS and not viewer.sees_personal_data:
        raise StepNotAllowed(to_status)
    from_status = complaint.status
    event = transition(complaint, to_status, actor=actor, note=note)
    with session.no_autoflush:
        claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Complaint)
            .where(Complaint.id == complaint.id, Complaint.status == from_status)
            .values(status=to_status)
            .execution_options(synchronize_session=False)
        )
    if claimed.rowcount != 1:  # someone else moved it since we read it
        session.rollback()
        raise ComplaintChanged(complaint.id)
    audit.record(
        session,
        actor,
        "complaint.transition",
        "complaint",
        complaint.id,
        before={"status": from_status},
        after={"status": to_status, "note": event.note},
    )
    session.commit()
    return event


def correct_complaint(
    session: Session,
    complaint: Complaint,
    *,
    actor: str,
    nature: str | None,
    industry: str | None,
    note: str | None,
    classifier: ComplaintClassifier,
) -> ComplaintEvent | None:
    """The consumer association's correction of nature and/or industry (labels already normalised):
    kept, re-routed, learnt, audited when it changed anything, and committed."""
    before = audit.snapshot(complaint, CLASSIFICATION_FIELDS)
    event = correct_classification(
        session,
        complaint,
        actor=actor,
        nature=nature,
        industry=industry,
        note=note,
        classifier=classifier,
    )
    if event is not None:
        audit.record(
            session,
            actor,
            "complaint.classification_corrected",
            "complaint",
            complaint.id,
            before=before,
            after=audit.snapshot(complaint, CLASSIFICATION_FIELDS),
        )
    session.commit()
    return event


_classifier_lock = threading.Lock()


def learned_classifier(holder: Any, session: Session) -> ComplaintClassifier:
    """The classifier kept on ``holder`` (an app's state), taught the stored corrections on first use.

    One per app, so every request of a worker classifies with what its staff corrected so far.
    """
    with _classifier_lock:
        classifier: ComplaintClassifier | None = getattr(holder, "complaint_classifier", None)
        if classifier is None:
            classifier = ComplaintClassifier()
            learn_corrections(session, classifier)
            holder.complaint_classifier = classifier
        return classifier
