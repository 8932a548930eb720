"""The neutral search model both backends answer: what to find, and what comes back.

Backends get the query already tokenized (``SearchQuery.term_groups``) and never see ``q`` itself, so
no user string is ever parsed as FTS5 MATCH or Elasticsearch query syntax.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

FACET_FIELDS = ("nature", "industry", "district", "merchant", "status")
FacetField = Literal["nature", "industry", "district", "merchant", "status"]
MAX_QUERY_CHARS = 500
MAX_FACET_VALUES = 50
MAX_OFFSET = 10_000  # deeper than this pages with the cursor (Elasticsearch's max_result_window)
TOTAL_LIMIT = 10_000  # totals exact up to here, beyond it a lower bound (Elasticsearch's track_total_hits)
TotalRelation = Literal["eq", "gte"]


class InvalidCursor(ValueError):
    """A cursor that this search did not produce (other sort, tampered, truncated)."""


class SearchQuery(BaseModel):
    """A complaint search. ``created_*`` are naive UTC, ``created_to`` exclusive; amounts in 元."""

    q: str = ""
    nature: tuple[str, ...] = ()
    industry: tuple[str, ...] = ()
    district: tuple[str, ...] = ()
    merchant: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    not_nature: tuple[str, ...] = ()
    not_industry: tuple[str, ...] = ()
    not_district: tuple[str, ...] = ()
    not_merchant: tuple[str, ...] = ()
    not_status: tuple[str, ...] = ()
    association_id: int | None = Field(default=None, description="scope of an association's staff")
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    sort: Literal["relevance", "date"] = "relevance"
    page: int = Field(default=1, ge=1)
    size: int = Field(default=20, ge=0, le=1000)
    cursor: str | None = None
    facets: bool = True
    exhaustive: bool = Field(
        default=False,
        description="rank and count every match however many (slower; for the CLI's deep result lists)",
    )
    histogram: Literal["day", "week", "month"] | None = None
    term_groups: tuple[tuple[str, ...], ...] = Field(
        default=(), description="filled from q by the service: one group of alternatives per term"
    )

    @field_validator("q")
    @classmethod
    def _bounded(cls, q: str) -> str:
        return q[:MAX_QUERY_CHARS]

    def values(self, facet: str) -> tuple[str, ...]:
        return tuple(getattr(self, facet))

    def excluded(self, facet: str) -> tuple[str, ...]:
        return tuple(getattr(self, f"not_{facet}"))

    @property
    def effective_sort(self) -> Literal["relevance", "date"]:
        """Relevance needs terms; without them the newest complaints come first."""
        return "relevance" if self.sort == "relevance" and self.term_groups else "date"

    @property
    def offset(self) -> int:
        return 0 if self.cursor else (self.page - 1) * self.size

    @property
    def amount_min_cents(self) -> int | None:
        return (
            None
            if self.amount_min is None
            else int((self.amount_min * 100).to_integral_value("ROUND_CEILING"))
        )

    @property
    def amount_max_cents(self) -> int | None:
        return (
            None if self.amount_max is None else int((self.amount_max * 100).to_integral_value("ROUND_FLOOR"))
        )


@dataclass(frozen=True)
class SearchDocument:
    """What the index holds for one complaint; personal data in ``title``/``text`` already masked."""

    id: int
    tracking_code: str
    title: str | None
    text: str
    tokens: str
    nature: str | None
    industry: str | None
    district: str | None
    merchant: str | None
    status: str
    created_at: dt.datetime  # naive UTC, whole milliseconds (both backends order by the same value)
    amount_cents: int | None
    association_id: int | None
    source_hash: str


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class HistogramBucket:
    start: dt.date  # first day (China time) of the day, week (Monday) or month
    count: int


@dataclass
class BackendHit:
    document: SearchDocument
    score: float | None


@dataclass
class BackendResult:
    """``total`` is exact when ``total_relation`` is "eq" and only a lower bound when it is "gte".

    ``sampled_newest`` is set when so many complaints match that relevance order and facet counts were
    computed over only that many of the newest matches (by id; a search without terms: the newest
    complaints by filing time in the searcher's scope), not over all of them.
    """

    total: int
    hits: list[BackendHit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    histogram: list[HistogramBucket] = field(default_factory=list)
    next_cursor: str | None = None
    total_relation: TotalRelation = "eq"
    sampled_newest: int | None = None


def encode_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps([sort, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, types: tuple[type | tuple[type, ...], ...]) -> list[Any]:
    """The sort values after which the next page starts; ``InvalidCursor`` when they do not fit."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursor("翻页游标无效") from error
    if not isinstance(decoded, list) or not decoded or decoded[0] != sort:
        raise InvalidCursor("翻页游标与当前排序方式不符")
    values = decoded[1:]
    if len(values) != len(types) or not all(
        isinstance(v, t) and not isinstance(v, bool) for v, t in zip(values, types, strict=True)
    ):
        raise InvalidCursor("翻页游标无效")
    return values
