"""Filing a complaint: tracking code, classification, routing to a trade association, first deadline.

Every channel (API, web form, bulk import) goes through :func:`create_complaint`; it adds to the
session without flushing or committing, so an importer inserts and commits in batches (about 1.4 times
as fast as a flush per complaint) and the id is known after the caller's commit.

A confidence is the classifier's: a label that was given (by the filer, an import file or the
merchant register) has none, and neither re-classification nor the model ever replaces it.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from complaints.classification import INDUSTRIES, NATURES, ComplaintClassifier, get_classifier
from complaints.routing import association_for_industry
from complaints.schemas import ComplaintCreate
from complaints.workflow import accept_deadline
from core.models import Complaint, ComplaintEvent, Merchant

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read out over the phone or copied by hand stays unambiguous.
TRACKING_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
TRACKING_CODE_LENGTH = 10  # 25**10 ≈ 9.5e13 codes: not guessable, collisions checked anyway
TRACKING_PREFIX = "TS-"


def new_tracking_code(session: Session) -> str:
    while True:
        code = TRACKING_PREFIX + "".join(
            secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_CODE_LENGTH)
        )
        if session.scalar(select(Complaint.id).where(Complaint.tracking_code == code)) is None:
            return code


def normalize_tracking_code(code: str) -> str:
    """Accept codes typed in lower case, with spaces or without the prefix."""
    code = "".join(code.split()).upper()
    return code if code.startswith(TRACKING_PREFIX) else TRACKING_PREFIX + code


def find_merchant(session: Session, name: str | None, credit_code: str | None) -> Merchant | None:
    """The registered merchant a complaint names: by credit code first, then by exact name."""
    if credit_code:
        merchant = session.scalar(select(Merchant).where(Merchant.credit_code == credit_code))
        if merchant is not None:
            return merchant
    if name:
        return session.scalar(select(Merchant).where(Merchant.name == name))
    return None


def classification_text(complaint: Complaint) -> str:
    parts = (complaint.title, complaint.text, complaint.merchant_name, complaint.product_category)
    return "\n".join(part for part in parts if part)


def _label_is_given(label: str | None, confidence: float | None, corrected: bool) -> bool:
    return corrected or (label is not None and confidence is None)


def classify_complaint(complaint: Complaint, classifier: ComplaintClassifier) -> None:
    """(Re)classify nature and industry, leaving alone every label given or corrected by people."""
    result = classifier.classify(classification_text(complaint))
    if not _label_is_given(complaint.nature, complaint.nature_confidence, complaint.nature_corrected):
        complaint.nature, complaint.nature_confidence = result.nature.label, result.nature.confidence
    if not _label_is_given(complaint.industry, complaint.industry_confidence, complaint.industry_corrected):
        complaint.industry, complaint.industry_confidence = result.industry.label, result.industry.confidence


def learn_corrections(session: Session, classifier: ComplaintClassifier, limit: int = 50_000) -> int:
    """Teach ``classifier`` the staff corrections stored in the database (newest first); returns how many.

    A new process starts from the keyword priors; this brings back what staff taught earlier ones.
    """
    corrected = session.scalars(
        select(Complaint)
        .where(or_(Complaint.nature_corrected.is_(True), Complaint.industry_corrected.is_(True)))
        .order_by(Complaint.updated_at.desc())
        .limit(limit)
    )
    count = 0
    for complaint in corrected:
        classifier.learn(
            classification_text(complaint),
            nature=complaint.nature if complaint.nature_corrected else None,
            industry=complaint.industry if complaint.industry_corrected else None,
        )
        count += 1
    return count


def create_complaint(
    session: Session,
    data: ComplaintCreate,
    *,
    channel: str,
    actor: str,
    created_at: dt.datetime | None = None,
    import_key: str | None = None,
    classifier: ComplaintClassifier | None = None,
) -> Complaint:
    """Register a new complaint in status ``received`` with its first timeline event.

    Nature and industry given in ``data`` are kept (confidence None); missing ones come from the
    registered merchant's industry or from the classifier.
    """
    created_at = created_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with session.no_autoflush:
        return _new_complaint(session, data, channel, actor, created_at, import_key, classifier)


def _new_complaint(
    session: Session,
    data: ComplaintCreate,
    channel: str,
    actor: str,
    created_at: dt.datetime,
    import_key: str | None,
    classifier: ComplaintClassifier | None,
) -> Complaint:
    merchant = find_merchant(session, data.merchant_name, data.merchant_credit_code)
    complaint = Complaint(
        tracking_code=new_tracking_code(session),
        import_key=import_key,
        channel=channel,
        created_at=created_at,
        updated_at=created_at,
        status="received",
        accept_deadline=accept_deadline(created_at),
        merchant_id=merchant.id if merchant else None,
        nature_corrected=False,
        industry_corrected=False,
        attachments=[],
        **data.model_dump(exclude={"nature", "industry"}),
    )
    registered_industry = INDUSTRIES.normalize(merchant.industry) if merchant and merchant.industry else None
    if data.nature is None or (data.industry is None and registered_industry is None):
        classify_complaint(complaint, classifier or get_classifier())
    if data.nature is not None:
        complaint.nature, complaint.nature_confidence = data.nature, None
    if data.industry is not None or registered_industry is not None:
        complaint.industry, complaint.industry_confidence = data.industry or registered_industry, None
    association = association_for_industry(session, complaint.industry)
    complaint.association_id = association.id if association else None
    complaint.events.append(
        ComplaintEvent(
            at=created_at,
            actor=actor,
            action="received",
            to_status="received",
            note=f"投诉已登记（渠道：{channel}）",
        )
    )
    session.add(complaint)
    return complaint


def correct_classification(
    session: Session,
    complaint: Complaint,
    *,
    actor: str,
    nature: str | None = None,
    industry: str | None = None,
    note: str | None = None,
    classifier: ComplaintClassifier | None = None,
) -> ComplaintEvent | None:
    """Staff correction of nature and/or industry: kept for good, re-routed, and learnt by the model.

    Returns the timeline event, or None when nothing changed.
    """
    changes: list[str] = []
    if nature is not None:
        nature = NATURES.normalize(nature) or nature
        if nature != complaint.nature or not complaint.nature_corrected:
            changes.append(f"性质：{complaint.nature or '无'} → {nature}")
        complaint.nature, complaint.nature_confidence, complaint.nature_corrected = nature, None, True
    if industry is not None:
        industry = INDUSTRIES.normalize(industry) or industry
        if industry != complaint.industry or not complaint.industry_corrected:
            changes.append(f"行业：{complaint.industry or '无'} → {industry}")
        complaint.industry, complaint.industry_confidence, complaint.industry_corrected = industry, None, True
        association = association_for_industry(session, industry)
        complaint.association_id = association.id if association else None
    if not changes:
        return None
    (classifier or get_classifier()).learn(classification_text(complaint), nature=nature, industry=industry)
    event = ComplaintEvent(
        actor=actor,
        action="classification_corrected",
        note="；".join(changes) + (f"（{note.strip()}）" if note and note.strip() else ""),
    )
    complaint.events.append(event)
    return event
