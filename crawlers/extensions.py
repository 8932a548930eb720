"""Crawl extensions: the database made ready before anything runs, and one crawl_runs row per crawl.

:class:`PrepareDatabase` brings the schema to head and seeds the catalogue when the crawler is built, so
``scrapy crawl NAME`` works as the first command on a fresh database.

:class:`CrawlRunRecorder` keeps pages, stored / quarantined / provisional / duplicate items, errors and
status. Dropped items are acted on here, in one place: quarantined ones are kept with their reason
(``core.prices.quarantine``), duplicates are only counted. Items filed under provisional goods (待归类)
are stored and counted in ``items_unmapped``. The row is created when the spider opens (or taken over
from the runner, which creates it first so that a crash of the whole process is still reported) and
completed when it closes.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from core.clock import utcnow
from core.db import get_engine, prepare_database, session_factory
from core.models import CrawlRun
from core.prices import quarantine
from crawlers.drops import DuplicateItem, QuarantineItem
from crawlers.pipelines.catalogue import PROVISIONAL_STAT
from crawlers.pipelines.store import DUPLICATE_STAT, STORED_STAT
from crawlers.spiders.base import ERROR_SAMPLES_STAT, ERRORS_STAT, PAGES_STAT

logger = logging.getLogger(__name__)
QUARANTINED_STAT = "fairmarket/quarantined"


class PrepareDatabase:
    """Schema at head and catalogue seeded before any other component touches the database."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrepareDatabase:
        prepare_database(get_engine(crawler.settings.get("DATABASE_URL")))
        return cls()


def crawl_status(pages: int, errors: int, finish_reason: str, requests: int = 1) -> str:
    """ok: every page answered (or nothing was configured to fetch); degraded: some pages or items failed;
    failed: no page could be read, or the crawl was cut short."""
    if finish_reason not in ("finished", "closespider_itemcount", "closespider_pagecount"):
        return "failed"
    if pages == 0:
        return "ok" if requests == 0 and errors == 0 else "failed"
    return "degraded" if errors else "ok"


def now() -> dt.datetime:
    return utcnow()


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler, engine: Engine, run_id: int | None, batch_size: int = 500) -> None:
        self.crawler = crawler
        self.engine = engine
        self.run_id = run_id
        self.batch_size = batch_size
        self.pending: list[tuple[Any, DropItem]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        run_id = crawler.settings.getint("CRAWL_RUN_ID") or None
        engine = get_engine(crawler.settings.get("DATABASE_URL"))
        recorder = cls(crawler, engine, run_id, crawler.settings.getint("STORE_BATCH_SIZE", 500))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(recorder.spider_error, signal=signals.spider_error)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        source = getattr(spider, "source_name", spider.name)
        with session_factory(self.engine)() as session, session.begin():
            run = session.get(CrawlRun, self.run_id) if self.run_id else None
            if run is None:
                run = CrawlRun(spider=spider.name, source=source, started_at=now(), status="running")
                session.add(run)
            run.spider, run.source, run.status, run.started_at = spider.name, source, "running", now()
            session.flush()
            self.run_id = run.id
        logger.info("crawl run %s started for %s", run.id, source)

    def item_dropped(self, item: Any, response: Any, exception: DropItem, spider: Spider) -> None:
        stats = self.crawler.stats
        if isinstance(exception, DuplicateItem):
            stats.inc_value(DUPLICATE_STAT)
            return
        stats.inc_value(QUARANTINED_STAT)
        self.pending.append((item, exception))
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write the dropped items kept so far in one short transaction (SQLite allows one writer)."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            with session_factory(self.engine)() as session, session.begin():
                for item, exception in batch:
                    self._keep(session, item, exception)
        except SQLAlchemyError as exc:
            logger.exception("keeping %d dropped items failed", len(batch))
            record = getattr(self.crawler.spider, "record_error", None)
            if record is not None:
                record(f"保存 {len(batch)} 条隔离记录失败：{exc}")

    def _keep(self, session: Session, item: Any, exception: DropItem) -> None:
        source = item.get("source") or "unknown"
        # QuarantineItem, or any other DropItem: kept with its reason, never silently lost.
        if not isinstance(exception, QuarantineItem):
            logger.warning("unexpected drop reason %s, quarantined", type(exception).__name__)
        quarantine(session, source, str(exception), _raw(item), url=item.get("url"))

    def spider_error(self, failure: Failure, response: Any, spider: Spider) -> None:
        record = getattr(spider, "record_error", None)
        message = (
            f"解析出错 {getattr(response, 'url', '?')}: {failure.type.__name__}: {failure.getErrorMessage()}"
        )
        if record is not None:
            record(message)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.flush()
        stats = self.crawler.stats
        with session_factory(self.engine)() as session, session.begin():
            run = session.get(CrawlRun, self.run_id)
            if run is None:
                return
            pages = int(stats.get_value(PAGES_STAT, 0))
            stored = int(stats.get_value(STORED_STAT, 0))
            errors = int(stats.get_value(ERRORS_STAT, 0))  # storage failures are reported there too
            run.pages = pages
            run.items_stored = stored
            run.items_quarantined = int(stats.get_value(QUARANTINED_STAT, 0))
            run.items_unmapped = int(stats.get_value(PROVISIONAL_STAT, 0))
            run.items_duplicate = int(stats.get_value(DUPLICATE_STAT, 0))
            run.errors = errors
            run.error_samples = list(stats.get_value(ERROR_SAMPLES_STAT, []))
            run.finished_at = now()
            run.duration_seconds = (run.finished_at - run.started_at).total_seconds()
            requests = int(stats.get_value("downloader/request_count", 0))
            run.status = crawl_status(pages, errors, reason, requests)
            logger.info(
                "crawl run %s %s: %d pages, %d stored, %d quarantined, %d provisional, %d duplicate,"
                " %d errors",
                run.id,
                run.status,
                run.pages,
                run.items_stored,
                run.items_quarantined,
                run.items_unmapped,
                run.items_duplicate,
                run.errors,
            )


def _raw(item: Any) -> dict[str, Any]:
    raw = item.get("raw")
    return (
        raw
        if isinstance(raw, dict)
        else {"product_name": item.get("product_name"), "price": item.get("price")}
    )
