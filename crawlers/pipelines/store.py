"""Store observations with their provenance through ``core.prices``, in batches; re-runs add nothing."""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.db import get_engine, session_factory
from core.prices import PriceInput, store_observations

logger = logging.getLogger(__name__)
STORED_STAT = "fairmarket/stored"
DUPLICATE_STAT = "fairmarket/duplicate"
STORE_ERRORS_STAT = "fairmarket/store_errors"


def price_input(item: object) -> PriceInput:
    adapter = ItemAdapter(item)
    return PriceInput(
        source=adapter["source"],
        product_id=adapter["product_id"],
        observed_at=adapter["observed_at"],
        price=adapter["price"],
        low_price=adapter.get("low_price"),
        high_price=adapter.get("high_price"),
        raw_unit=str(adapter["unit"])[:30],
        origin=str(adapter.get("origin") or "")[:60],
        spec=str(adapter["spec"])[:80] if adapter.get("spec") else None,
        package=str(adapter.get("package") or "")[:40],
        source_name=str(adapter.get("product_name") or "")[:80],
        source_record_id=str(adapter["source_record_id"])[:80] if adapter.get("source_record_id") else None,
        unit_price=adapter["unit_price"],
        standard_unit=adapter["standard_unit"],
        merchant=adapter.get("merchant") or None,
        region=adapter.get("region") or "",
        price_type=adapter.get("price_type") or "retail",
        availability=adapter.get("availability"),
        url=str(adapter["url"])[:500] if adapter.get("url") else None,
        fetched_at=adapter["fetched_at"],
        spider=adapter.get("spider"),
        extractor=adapter.get("extractor"),
        raw_hash=adapter.get("raw_hash"),
    )


class StorePipeline:
    def __init__(self, crawler: Crawler, engine: Engine, batch_size: int) -> None:
        self.crawler = crawler
        self.engine = engine
        self.batch_size = batch_size
        self.pending: list[PriceInput] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        engine = get_engine(crawler.settings.get("DATABASE_URL"))
        return cls(crawler, engine, crawler.settings.getint("STORE_BATCH_SIZE", 500))

    def process_item(self, item: object) -> object:
        self.pending.append(price_input(item))
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        stats = self.crawler.stats
        try:
            with session_factory(self.engine)() as session, session.begin():
                stored, duplicates = store_observations(session, batch)
        except (SQLAlchemyError, ValueError) as exc:
            logger.exception("storing %d observations failed", len(batch))
            stats.inc_value(STORE_ERRORS_STAT, len(batch))
            spider = self.crawler.spider
            if spider is not None and hasattr(spider, "record_error"):
                spider.record_error(f"保存 {len(batch)} 条价格失败：{exc}")
            return
        stats.inc_value(STORED_STAT, stored)
        stats.inc_value(DUPLICATE_STAT, duplicates)
