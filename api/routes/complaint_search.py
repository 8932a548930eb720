"""Complaint search and its export, for staff.

A trade association's staff search only the complaints routed to their association and see them
masked, as the index holds them; the consumer association searches everything and sees the original
text. Any ``q`` is a valid search: it is tokenized, never parsed as query syntax.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import quote

from cachetools import LRUCache
from elastic_transport import TransportError
from elasticsearch import ApiError
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import Field, WithJsonSchema
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from api.schemas.complaint_search import (
    ComplaintSearchPublic,
    FacetValuePublic,
    HighlightPublic,
    HistogramBucketPublic,
    SearchHitPublic,
)
from api.timestamps import IsoDate
from complaints.workflow import STATUS_NAMES
from core import audit
from core.clock import china_day_end, china_day_start
from core.config import Settings
from search.backends.base import SearchBackend
from search.export import csv_chunks, export_rows, safe_filename, xlsx_chunks
from search.query import MAX_OFFSET, InvalidCursor, SearchQuery
from search.service import (
    DisplayHit,
    SearchOutcome,
    SearchUnavailable,
    get_search_backend,
    search_complaints,
)
from web.deps import Caller, SessionDep, StaffDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/complaints/search", tags=["complaint search"])

_backend_lock = threading.Lock()


def get_backend(request: Request) -> SearchBackend:
    """The app's search backend, built on first use."""
    with _backend_lock:
        backend: SearchBackend | None = getattr(request.app.state, "search_backend", None)
        if backend is None:
            try:
                backend = get_search_backend(request.app.state.settings, request.app.state.engine)
            except (ApiError, TransportError, OperationalError) as error:
                log.warning("search backend could not be opened", exc_info=True)
                raise HTTPException(
                    status.HTTP_503_SERVICE_UNAVAILABLE, "检索服务暂不可用，请稍后重试"
                ) from error
            request.app.state.search_backend = backend
        return backend


SearchBackendDep = Annotated[SearchBackend, Depends(get_backend)]

SEARCH_ANSWERS_KEPT = 256


class SearchAnswers:
    """Answers of recent searches, kept serialized while the database has not changed.

    Only where one SQLite file holds both the complaints and their FTS5 index: ``PRAGMA data_version``
    on a connection of its own changes whenever any other connection, of any process, commits to the
    file, so an answer is reused only while nothing at all was written. Elsewhere nothing is kept.
    Kept as the JSON sent: a repeated search costs no response-model validation or serialization.
    """

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._answers: LRUCache[tuple[str, bool, int], bytes] = LRUCache(SEARCH_ANSWERS_KEPT)
        on_file = engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")
        one_file = on_file and settings.search_backend == "sqlite-fts5"
        self._probe = engine.raw_connection() if one_file else None

    def _data_version(self) -> int | None:
        if self._probe is None:
            return None
        cursor = self._probe.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            row = cursor.fetchone()
            return int(row[0]) if row is not None else None
        finally:
            cursor.close()

    def answer(
        self, query: SearchQuery, unmasked: bool, compute: Callable[[], ComplaintSearchPublic]
    ) -> bytes:
        """The kept answer to ``query`` while nothing was written since, else ``compute``'s (as JSON)."""
        with self._lock:
            version = self._data_version()
            key = (query.model_dump_json(), unmasked, version or 0)
            cached = self._answers.get(key) if version is not None else None
        if cached is not None:
            return cached
        answer = compute().model_dump_json().encode()
        if version is not None:
            with self._lock:
                self._answers[key] = answer
        return answer


async def search_answers(request: Request) -> SearchAnswers:
    """This app's kept answers (async: made on the event loop, so never twice)."""
    answers: SearchAnswers | None = getattr(request.app.state, "search_answers", None)
    if answers is None:
        state = request.app.state
        answers = state.search_answers = SearchAnswers(state.engine, state.settings)
    return answers


SearchAnswersDep = Annotated[SearchAnswers, Depends(search_answers)]


ValuesParam = Annotated[list[str] | None, Query()]
# An amount in yuan; the schema says number (a Decimal would also admit any string).
Amount = Annotated[
    Decimal, Field(ge=0, le=10**12), WithJsonSchema({"type": "number", "minimum": 0, "maximum": 10**12})
]


def search_query(
    q: str = "",
    nature: ValuesParam = None,
    industry: ValuesParam = None,
    district: ValuesParam = None,
    merchant: ValuesParam = None,
    status_: Annotated[list[str] | None, Query(alias="status")] = None,
    not_nature: ValuesParam = None,
    not_industry: ValuesParam = None,
    not_district: ValuesParam = None,
    not_merchant: ValuesParam = None,
    not_status: ValuesParam = None,
    created_from: Annotated[IsoDate | None, Query(description="首日（北京时间），含")] = None,
    created_to: Annotated[IsoDate | None, Query(description="末日（北京时间），含")] = None,
    amount_min: Annotated[Amount | None, Query()] = None,
    amount_max: Annotated[Amount | None, Query()] = None,
    sort: Literal["relevance", "date"] = "relevance",
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=0, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(max_length=500, pattern=r"^[A-Za-z0-9_-]+$", description="上一页返回的 next_cursor"),
    ] = None,
    facets: bool = True,
    histogram: Literal["day", "week", "month"] | None = None,
) -> SearchQuery:
    if not cursor and page * size > MAX_OFFSET:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"页码过深（前 {MAX_OFFSET} 条以内），请改用 cursor 翻页"
        )
    return SearchQuery(
        q=q,
        nature=tuple(nature or ()),
        industry=tuple(industry or ()),
        district=tuple(district or ()),
        merchant=tuple(merchant or ()),
        status=tuple(value for value in status_ or () if value),
        not_nature=tuple(not_nature or ()),
        not_industry=tuple(not_industry or ()),
        not_district=tuple(not_district or ()),
        not_merchant=tuple(not_merchant or ()),
        not_status=tuple(not_status or ()),
        created_from=china_day_start(created_from) if created_from else None,
        created_to=china_day_end(created_to) if created_to else None,
        amount_min=amount_min,
        amount_max=amount_max,
        sort=sort,
        page=page,
        size=size,
        cursor=cursor,
        facets=facets,
        histogram=histogram,
    )


SearchQueryDep = Annotated[SearchQuery, Depends(search_query)]


def _scoped(query: SearchQuery, caller: Caller) -> SearchQuery | None:
    """The query limited to what the caller may search; None when that is nothing."""
    if caller.sees_personal_data:
        return query
    if caller.association_id is None:
        return None
    return query.model_copy(update={"association_id": caller.association_id})


def _hit(hit: DisplayHit) -> SearchHitPublic:
    document = hit.document
    return SearchHitPublic(
        id=document.id,
        tracking_code=document.tracking_code,
        title=hit.title,
        text=hit.text,
        highlights=[HighlightPublic(field=h.field, start=h.start, end=h.end) for h in hit.highlights],
        nature=document.nature,
        industry=document.industry,
        district=document.district,
        merchant=document.merchant,
        status=document.status,
        status_name=STATUS_NAMES.get(document.status, document.status),
        created_at=document.created_at,
        amount=None if document.amount_cents is None else Decimal(document.amount_cents) / 100,
        score=hit.score,
    )


def _run(session: SessionDep, backend: SearchBackend, query: SearchQuery, caller: Caller) -> SearchOutcome:
    try:
        return search_complaints(session, backend, query, unmasked=caller.sees_personal_data)
    except InvalidCursor as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error
    except SearchUnavailable as error:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from error


@router.get("", response_model=ComplaintSearchPublic)
def search(
    query: SearchQueryDep,
    session: SessionDep,
    caller: StaffDep,
    backend: SearchBackendDep,
    answers: SearchAnswersDep,
) -> ComplaintSearchPublic | Response:
    """Full-text search with filters, facets (each ignoring its own filter), histogram and cursor."""
    masked = not caller.sees_personal_data
    scoped = _scoped(query, caller)
    if scoped is None:
        return ComplaintSearchPublic(
            total=0, hits=[], facets={}, histogram=[], next_cursor=None, personal_data_masked=masked
        )
    answer = answers.answer(scoped, not masked, lambda: _searched(session, backend, scoped, caller))
    return Response(answer, media_type="application/json")


def _searched(
    session: Session, backend: SearchBackend, scoped: SearchQuery, caller: Caller
) -> ComplaintSearchPublic:
    outcome = _run(session, backend, scoped, caller)
    result = outcome.result
    return ComplaintSearchPublic(
        total=result.total,
        total_relation=result.total_relation,
        sampled_newest=result.sampled_newest,
        hits=[_hit(h) for h in outcome.hits],
        facets={
            facet: [FacetValuePublic(value=f.value, count=f.count) for f in counts]
            for facet, counts in result.facets.items()
        },
        histogram=[HistogramBucketPublic(start=b.start, count=b.count) for b in result.histogram],
        next_cursor=result.next_cursor,
        personal_data_masked=not caller.sees_personal_data,
    )


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "CSV（UTF-8，带 BOM）或 Excel 文件",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def export(
    query: SearchQueryDep,
    session: SessionDep,
    caller: StaffDep,
    backend: SearchBackendDep,
    format_: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    filename: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
) -> StreamingResponse:
    """The search's hits (newest first, up to 100,000) as CSV or Excel, streamed."""
    scoped = _scoped(query, caller)
    if scoped is not None:
        _run(session, backend, scoped.model_copy(update={"size": 0, "facets": False}), caller)

    def page(page_query: SearchQuery) -> tuple[list[DisplayHit], str | None]:
        outcome = _run(session, backend, page_query, caller)
        return outcome.hits, outcome.result.next_cursor

    rows = export_rows(scoped, page, limit) if scoped is not None else iter(())
    name = safe_filename(filename, format_)
    if caller.sees_personal_data:
        # Bulk copies of unmasked personal data leave the platform here: keep who took what.
        audit.record(
            session,
            caller.username or "?",
            "complaint.export",
            "complaint",
            None,
            after={
                "query": query.model_dump(mode="json", exclude_none=True),
                "format": format_,
                "limit": limit,
            },
        )
        session.commit()
    media_type = "text/csv; charset=utf-8" if format_ == "csv" else XLSX_MEDIA_TYPE
    return StreamingResponse(
        csv_chunks(rows) if format_ == "csv" else xlsx_chunks(rows),
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
