"""The price endpoints' response models."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from analysis.aggregates import Frequency
from api.schemas.products import ProductPublic
from jobs.index_series import Method

PriceType = Literal["retail", "wholesale"]


class MerchantRef(BaseModel):
    id: int
    name: str


class PricePoint(BaseModel):
    period: dt.date
    low: float
    avg: float
    high: float
    median: float
    count: int


class PriceSeriesPublic(BaseModel):
    product: ProductPublic
    region: str | None
    merchant: MerchantRef | None
    price_type: PriceType
    frequency: Frequency
    start: dt.date
    end: dt.date
    data: list[PricePoint]
    count: int


class IndexPoint(BaseModel):
    date: dt.date
    index: float | None
    matched: int = Field(
        description="items priced that day and on another day of its window (goods for a chained basket)"
    )
    priced: int = Field(description="items priced that day")
    provisional: bool = Field(description="still open to revision by late prices (within the splice window)")


class PriceIndexPublic(BaseModel):
    kind: Literal["basket", "category"]
    code: str
    name: str
    city: str | None
    price_type: PriceType
    method: Method = Field(description="geks_jevons (default) or chained_jevons")
    window: int | None = Field(description="rolling GEKS window in days (None: chained)")
    splice: str | None = Field(description="how each window is spliced onto the published series")
    base_period: dt.date | None = Field(
        description="the day the series equals 100; the same for every window"
    )
    base_date: dt.date | None = Field(description="same as base_period (kept for older clients)")
    provisional_from: dt.date | None = Field(description="days from here on may still be revised")
    start: dt.date
    end: dt.date
    data: list[IndexPoint]
    count: int
