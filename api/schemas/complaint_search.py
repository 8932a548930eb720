"""The complaint-search endpoint's response models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from api.timestamps import UtcDateTime


class HighlightPublic(BaseModel):
    field: str = Field(description="title 或 text；start/end 是该字段原文中的字符位置")
    start: int
    end: int


class SearchHitPublic(BaseModel):
    id: int
    tracking_code: str
    title: str | None
    text: str
    highlights: list[HighlightPublic]
    nature: str | None
    industry: str | None
    district: str | None
    merchant: str | None
    status: str
    status_name: str
    created_at: UtcDateTime
    amount: Decimal | None
    score: float | None


class FacetValuePublic(BaseModel):
    value: str
    count: int


class HistogramBucketPublic(BaseModel):
    start: dt.date
    count: int


class ComplaintSearchPublic(BaseModel):
    total: int
    total_relation: Literal["eq", "gte"] = Field(
        default="eq", description='"gte": more than 10,000 match and total is a lower bound'
    )
    sampled_newest: int | None = Field(
        default=None,
        description="set when relevance order and facets counted only this many newest matches "
        "(other filters apply within them)",
    )
    hits: list[SearchHitPublic]
    facets: dict[str, list[FacetValuePublic]]
    histogram: list[HistogramBucketPublic]
    next_cursor: str | None
    personal_data_masked: bool
