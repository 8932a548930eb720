"""The complaint endpoints' request and response models, and how a stored complaint becomes each view.

Masking happens here, in one place: a trade association and the public see personal data masked, the
public sees no staff names and no internal events.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, WithJsonSchema

from api.timestamps import UtcDateTime
from complaints.classification import INDUSTRIES, NATURES
from complaints.privacy import mask_contact, mask_name, mask_optional
from complaints.workflow import NOTE_REQUIRED, STATUS_NAMES, is_overdue
from core.display_names import display_name
from core.models import Complaint, ComplaintEvent, PriceCheck, PriceObservation
from core.text import OPTIONAL_TEXT_PATTERN, VISIBLE_CLASS, optional_text


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
# A reason or note: control characters dropped, blank as none, invisible-only text refused (422); the
# schema's pattern states the same rule.
Note = Annotated[
    str | None, BeforeValidator(optional_text), Field(json_schema_extra={"pattern": OPTIONAL_TEXT_PATTERN})
]


# The schema lists the statuses, so a client (and schemathesis) knows which values exist.
StatusName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(STATUS_NAMES)})]
# "status=" is accepted as no filter.
StatusFilter = Annotated[str, WithJsonSchema({"type": "string", "enum": ["", *STATUS_NAMES]})]


NatureLabel = Annotated[str, WithJsonSchema(NATURES.json_schema())]
IndustryLabel = Annotated[str, WithJsonSchema(INDUSTRIES.json_schema())]


class TransitionRequest(BaseModel):
    """Rejecting a complaint or ending its mediation needs a reason (the schema says so)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"to_status": {"enum": list[JsonValue](sorted(NOTE_REQUIRED))}}},
            "then": {
                "required": ["note"],
                "properties": {"note": {"type": "string", "pattern": VISIBLE_CLASS}},
            },
        }
    )

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


def event_view(event: ComplaintEvent, mask: bool) -> EventPublic:
    return EventPublic(
        at=event.at,
        action=event.action,
        action_name=display_name("complaint_event", event.action),
        from_status=event.from_status,
        to_status=event.to_status,
        status_name=STATUS_NAMES.get(event.to_status or ""),
        note=_masked(event.note, mask),
    )


def summary_view(complaint: Complaint, mask: bool, today: dt.date) -> ComplaintSummary:
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


def track_view(complaint: Complaint, association_name: str | None, today: dt.date) -> ComplaintTrack:
    """What the tracking code shows: masked, without staff names or internal events."""
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
        association_name=association_name,
        accept_deadline=complaint.accept_deadline,
        mediate_deadline=complaint.mediate_deadline,
        overdue=is_overdue(complaint, today),
        timeline=[event_view(e, True) for e in complaint.events if e.action in PUBLIC_EVENTS],
    )


def price_check_view(
    check: PriceCheck, observation: PriceObservation | None, standard_unit: str | None
) -> PriceCheckPublic:
    """``standard_unit``: the good's, shown when no observation was found."""
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


def detail_view(
    complaint: Complaint,
    *,
    mask: bool,
    association_name: str | None,
    allowed_steps: list[str],
    today: dt.date,
    price_check: PriceCheckPublic | None = None,
) -> ComplaintDetail:
    """The staff view; ``mask`` for a trade association."""
    consumer_name = complaint.consumer_name
    return ComplaintDetail(
        **summary_view(complaint, mask, today).model_dump(),
        channel=complaint.channel,
        channel_name=display_name("channel", complaint.channel),
        industry_name=display_name("industry", complaint.industry),
        association_name=association_name,
        allowed_steps=allowed_steps,
        updated_at=complaint.updated_at,
        demands=_masked(complaint.demands, mask),
        consumer_name=mask_name(consumer_name) if mask and consumer_name else consumer_name,
        contact=mask_contact(complaint.contact) if mask and complaint.contact else complaint.contact,
        merchant_credit_code=complaint.merchant_credit_code,
        merchant_id=complaint.merchant_id,
        product_category=_masked(complaint.product_category, mask),
        personal_data_masked=mask,
        timeline=[EventStaff(**event_view(e, mask).model_dump(), actor=e.actor) for e in complaint.events],
        price_check=price_check,
    )
