"""The provisional-goods endpoints' request and response models."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class GoodRef(BaseModel):
    code: str
    name: str


class SuggestionPublic(GoodRef):
    reason: str
    score: float


class ProvisionalGoodPublic(BaseModel):
    code: str
    name: str
    category: str
    standard_unit: str
    observations: int
    first_day: dt.date | None
    last_day: dt.date | None
    aliases: list[str]
    suggestions: list[SuggestionPublic]


class ProvisionalGoodsPublic(BaseModel):
    data: list[ProvisionalGoodPublic]
    count: int


class MergeRequest(BaseModel):
    into: str = Field(..., min_length=1, max_length=60, description="code, name or id of the catalogued good")


class MergePublic(BaseModel):
    provisional: GoodRef
    product: GoodRef
    observations: int
    days: list[dt.date]
    aliases: list[str]
    undone: bool
