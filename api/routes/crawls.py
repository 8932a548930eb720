"""Crawl health for staff: one row per crawl with its pages, item outcomes, errors and status."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy import func, select

from api.schemas.crawls import CrawlRunPublic, CrawlRunsPublic
from core.models import CrawlRun
from web.deps import SessionDep, StaffDep

router = APIRouter(prefix="/crawls", tags=["crawls"])

CrawlStatus = Literal["running", "ok", "degraded", "failed"]


@router.get("", response_model=CrawlRunsPublic)
def list_crawl_runs(
    session: SessionDep,
    _: StaffDep,
    source: Annotated[str | None, Query(max_length=60)] = None,
    spider: Annotated[str | None, Query(max_length=60)] = None,
    run_status: Annotated[CrawlStatus | None, Query(alias="status")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CrawlRunsPublic:
    """Crawl runs newest first, optionally of one source, spider or status."""
    query = select(CrawlRun)
    for column, value in (
        (CrawlRun.source, source),
        (CrawlRun.spider, spider),
        (CrawlRun.status, run_status),
    ):
        if value is not None:
            query = query.where(column == value)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    runs = session.scalars(
        query.order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).offset((page - 1) * size).limit(size)
    )
    return CrawlRunsPublic(data=[CrawlRunPublic.model_validate(run) for run in runs], count=count)


@router.get("/{run_id}", response_model=CrawlRunPublic)
def get_crawl_run(
    session: SessionDep, _: StaffDep, run_id: Annotated[int, Path(ge=1, le=2_147_483_647)]
) -> CrawlRunPublic:
    """One crawl run with its error samples."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "抓取记录不存在")
    return CrawlRunPublic.model_validate(run)
