"""Filing a complaint: validate → mask → classify → route → store (→ index, by the caller after commit).

Every channel goes through the same steps and rules. The text work is :func:`analyse_texts`: personal
data masked, jieba run once, and the same terms feed the classifier and the search index entry. One
complaint at a time (API, web form) uses :func:`create_complaint`, which adds ORM objects to the session
without committing; a bulk import uses :func:`store_complaints`, which writes whole batches of rows and
timeline events with two INSERT statements, and may run :func:`analyse_texts` in worker processes.

A confidence is the classifier's: a label that was given (by the filer, an import file or the
merchant register) has none, and neither re-classification nor the model ever replaces it.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session

from complaints.classification import (
    INDUSTRIES,
    NATURES,
    Classification,
    ComplaintClassifier,
    get_classifier,
    text_features,
)
from complaints.privacy import mask_optional, mask_personal_data
from complaints.routing import association_for_industry
from complaints.schemas import ComplaintCreate
from complaints.stored import StoredComplaint
from complaints.workflow import accept_deadline, accept_deadline_on
from core.clock import china_date, utcnow
from core.db import insert_rows
from core.display_names import display_name
from core.models import Association, Complaint, ComplaintEvent, Merchant
from core.tokenizer import get_tokenizer

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read out over the phone or copied by hand stays unambiguous.
TRACKING_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
TRACKING_CODE_LENGTH = 10  # 25**10 ≈ 9.5e13 codes: not guessable, collisions checked anyway
TRACKING_PREFIX = "TS-"


def _random_code() -> str:
    # bytes below a multiple of the alphabet's size map onto it evenly; the few above are drawn again
    size = len(TRACKING_ALPHABET)
    letters: list[str] = []
    while len(letters) < TRACKING_CODE_LENGTH:
        draw = secrets.token_bytes(TRACKING_CODE_LENGTH)
        letters += [TRACKING_ALPHABET[b % size] for b in draw if b < 256 - 256 % size]
    return TRACKING_PREFIX + "".join(letters[:TRACKING_CODE_LENGTH])


def new_tracking_code(session: Session) -> str:
    while True:
        code = _random_code()
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


# What the text steps read of a complaint: title, text, merchant name, product category.
ComplaintWords = tuple[str | None, str, str | None, str | None]
RECEIVED_NOTE = "投诉已登记（渠道：{channel}）"


def words_of(complaint: Complaint | ComplaintCreate) -> ComplaintWords:
    return (complaint.title, complaint.text, complaint.merchant_name, complaint.product_category)


class TextAnalysis(NamedTuple):
    """A complaint's words worked out once: masked for the public index, cut by jieba, classified.

    A tuple, so that batches of them come back from worker processes cheaply.
    """

    masked_title: str | None
    masked_text: str
    masked_merchant: str | None
    tokens: str  # the search index terms, space-joined
    classification: Classification


def _masked_words(words: ComplaintWords) -> ComplaintWords:
    """Every free-text field masked, as the public index stores and tokenizes it."""
    title, text, merchant, category = words
    return (
        mask_optional(title),
        mask_personal_data(text or ""),
        mask_optional(merchant),
        mask_optional(category),
    )


def analyse_texts(batch: Sequence[ComplaintWords], classifier: ComplaintClassifier) -> list[TextAnalysis]:
    """Mask, tokenize (once) and classify a batch of complaints' words.

    The classifier sees the masked text: personal data says nothing about a complaint's nature.
    """
    tokenizer = get_tokenizer()
    masked = [_masked_words(words) for words in batch]
    part_terms = [[tokenizer.terms(part) if part else [] for part in words] for words in masked]
    features = [
        text_features(
            [t for terms in parts for t in terms], "\n".join(p for p in words if p), parts[0], words[0]
        )
        for words, parts in zip(masked, part_terms, strict=True)
    ]
    classifications = classifier.classify_features(features)
    return [
        TextAnalysis(
            words[0], words[1], words[2], " ".join(t for terms in parts for t in terms), classification
        )
        for words, parts, classification in zip(masked, part_terms, classifications, strict=True)
    ]


_worker_classifier: ComplaintClassifier | None = None


def use_classifier_in_workers(classifier: ComplaintClassifier) -> None:
    """Give forked workers of :func:`analyse_in_worker` their classifier (fitted before the fork)."""
    global _worker_classifier
    classifier.classify("预热")  # fits the models now, so each worker does not fit its own
    _worker_classifier = classifier


def worker_classifier() -> ComplaintClassifier:
    """The classifier given to :func:`use_classifier_in_workers` (else the process-wide one)."""
    return _worker_classifier or get_classifier()


def _learn(
    classifier: ComplaintClassifier, complaint: Complaint, nature: str | None, industry: str | None
) -> None:
    """Learn a correction from the masked words, as :func:`analyse_texts` classifies them."""
    masked = _masked_words(words_of(complaint))
    classifier.learn(
        "\n".join(part for part in masked if part), nature=nature, industry=industry, title=masked[0]
    )


def _label_is_given(label: str | None, confidence: float | None, corrected: bool) -> bool:
    return corrected or (label is not None and confidence is None)


def classify_complaint(complaint: Complaint, classifier: ComplaintClassifier) -> None:
    """(Re)classify nature and industry, leaving alone every label given or corrected by people."""
    result = analyse_texts([words_of(complaint)], classifier)[0].classification
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
        _learn(
            classifier,
            complaint,
            complaint.nature if complaint.nature_corrected else None,
            complaint.industry if complaint.industry_corrected else None,
        )
        count += 1
    return count


@dataclass(frozen=True)
class Labels:
    nature: str
    nature_confidence: float | None
    industry: str
    industry_confidence: float | None


def labels_for(
    data: ComplaintCreate, merchant_industry: str | None, classification: Classification
) -> Labels:
    """Labels given by the filer first, then the registered merchant's industry, then the classifier's.

    A given label has no confidence; the model never replaces it.
    """
    return _labels(data.nature, data.industry, merchant_industry, classification)


def _labels(
    nature_given: str | None,
    industry_given: str | None,
    merchant_industry: str | None,
    classification: Classification,
) -> Labels:
    registered = INDUSTRIES.normalize(merchant_industry) if merchant_industry else None
    nature = (
        (nature_given, None)
        if nature_given
        else (classification.nature.label, classification.nature.confidence)
    )
    industry_given = industry_given or registered
    industry = (
        (industry_given, None)
        if industry_given
        else (classification.industry.label, classification.industry.confidence)
    )
    return Labels(nature[0], nature[1], industry[0], industry[1])


class Router:
    """Industry → trade association id for a whole batch (or import) from one read of the associations."""

    def __init__(self, session: Session) -> None:
        self._associations = list(
            session.execute(
                select(Association.id, Association.industries)
                .where(Association.is_consumer_association.is_(False))
                .order_by(Association.id)
            )
        )
        self._by_industry: dict[str, int | None] = {}

    def association_id(self, industry: str | None) -> int | None:
        if not industry:
            return None
        if industry not in self._by_industry:
            self._by_industry[industry] = next(
                (row.id for row in self._associations if industry in (row.industries or [])), None
            )
        return self._by_industry[industry]


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
    created_at = created_at or utcnow()
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
    analysis = analyse_texts([words_of(data)], classifier or get_classifier())[0]
    labels = labels_for(data, merchant.industry if merchant else None, analysis.classification)
    association = association_for_industry(session, labels.industry)
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
        association_id=association.id if association else None,
        **data.model_dump(exclude={"nature", "industry"}),
        **vars(labels),
    )
    complaint.events.append(
        ComplaintEvent(
            at=created_at,
            actor=actor,
            action="received",
            to_status="received",
            note=RECEIVED_NOTE.format(channel=display_name("channel", channel)),
        )
    )
    session.add(complaint)
    return complaint


@dataclass(frozen=True)
class Filing:
    """One complaint of a bulk filing, validated: ``values`` is its ``ComplaintCreate.model_dump()``
    (a plain dict: it crosses from the worker process that validated it)."""

    values: dict[str, Any]
    created_at: dt.datetime | None = None
    import_key: str | None = None


def _merchants_of(session: Session, filings: Sequence[Filing]) -> tuple[dict[str, Any], dict[str, Any]]:
    names = {f.values["merchant_name"] for f in filings if f.values["merchant_name"]}
    codes = {f.values["merchant_credit_code"] for f in filings if f.values["merchant_credit_code"]}
    if not names and not codes:
        return {}, {}
    rows = session.execute(
        select(Merchant.id, Merchant.name, Merchant.credit_code, Merchant.industry).where(
            or_(Merchant.name.in_(names), Merchant.credit_code.in_(codes))
        )
    ).all()
    by_code = {row.credit_code: row for row in rows if row.credit_code in codes}
    by_name: dict[str, Any] = {}
    for row in sorted(rows, key=lambda r: r.id, reverse=True):  # the first registered wins, as one by one
        by_name[row.name] = row
    return by_code, by_name


def _new_tracking_codes(session: Session, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {_random_code() for _ in range(count - len(codes))} - codes
        taken = set(
            session.scalars(select(Complaint.tracking_code).where(Complaint.tracking_code.in_(fresh)))
        )
        codes |= fresh - taken
    return list(codes)


def store_complaints(
    session: Session,
    filings: Sequence[Filing],
    analyses: Sequence[TextAnalysis],
    *,
    channel: str,
    actor: str,
    router: Router | None = None,
) -> list[StoredComplaint]:
    """Store a batch of complaints and their first timeline events in two INSERTs; the caller commits.

    The same rules as :func:`create_complaint`, on rows instead of ORM objects.
    """
    if not filings:
        return []
    router = router or Router(session)
    now = utcnow()
    by_code, by_name = _merchants_of(session, filings)
    codes = _new_tracking_codes(session, len(filings))
    deadline = functools.lru_cache(maxsize=1024)(accept_deadline_on)  # imports share a few days
    stored: list[StoredComplaint] = []
    rows: list[tuple[Any, ...]] = []
    for filing, analysis, code in zip(filings, analyses, codes, strict=True):
        data = filing.values
        credit_code, name = data["merchant_credit_code"], data["merchant_name"]
        merchant = (by_code.get(credit_code) if credit_code else None) or (
            by_name.get(name) if name else None
        )
        labels = _labels(
            data["nature"], data["industry"], merchant.industry if merchant else None, analysis.classification
        )
        created_at = filing.created_at or now
        association_id = router.association_id(labels.industry)
        rows.append(
            (
                *[data[field] for field in _FILED_COLUMNS],
                labels.nature,
                labels.nature_confidence,
                labels.industry,
                labels.industry_confidence,
                code,
                filing.import_key,
                channel,
                created_at,
                created_at,
                "received",
                deadline(china_date(created_at)),
                merchant.id if merchant else None,
                False,
                False,
                [],
                association_id,
            )
        )
        stored.append(
            StoredComplaint(
                0,
                code,
                data["title"],
                data["text"],
                name,
                data["product_category"],
                labels.nature,
                labels.industry,
                data["district"],
                "received",
                created_at,
                data["amount"],
                association_id,
            )
        )
    # Tuples straight to the driver's executemany, the ids read back by tracking code: SQLAlchemy's
    # per-row parameter processing, the ORM's bulk path and RETURNING in parameter order (one
    # statement per row on SQLite) each cost more than the INSERT itself
    connection = session.connection()
    insert_rows(connection, cast(Table, Complaint.__table__), _STORED_COLUMNS, rows)
    id_of = dict(
        session.execute(
            select(Complaint.tracking_code, Complaint.id).where(Complaint.tracking_code.in_(codes))
        ).all()
    )
    stored = [complaint._replace(id=id_of[complaint.tracking_code]) for complaint in stored]
    note = RECEIVED_NOTE.format(channel=display_name("channel", channel))
    insert_rows(
        connection,
        cast(Table, ComplaintEvent.__table__),
        ("complaint_id", "at", "actor", "action", "to_status", "note"),
        [(c.id, c.created_at, actor, "received", "received", note) for c in stored],
    )
    return stored


# The filed fields a bulk filing stores as given (``ComplaintCreate`` without the labels), then the
# columns ``store_complaints`` works out, in the order its row tuples hold them.
_FILED_COLUMNS = tuple(name for name in ComplaintCreate.model_fields if name not in ("nature", "industry"))
_STORED_COLUMNS = (
    *_FILED_COLUMNS,
    "nature",
    "nature_confidence",
    "industry",
    "industry_confidence",
    "tracking_code",
    "import_key",
    "channel",
    "created_at",
    "updated_at",
    "status",
    "accept_deadline",
    "merchant_id",
    "nature_corrected",
    "industry_corrected",
    "attachments",
    "association_id",
)


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
    _learn(classifier or get_classifier(), complaint, nature, industry)
    event = ComplaintEvent(
        actor=actor,
        action="classification_corrected",
        note="；".join(changes) + (f"（{note.strip()}）" if note and note.strip() else ""),
    )
    complaint.events.append(event)
    return event
