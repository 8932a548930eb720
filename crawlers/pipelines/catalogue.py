"""Map each product name to a catalogue good; a name nothing matches is kept for staff to map."""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from sqlalchemy import Engine

from core.catalogue import ProductMatcher
from core.db import get_engine, session_factory
from crawlers.drops import UnmappedProduct


class MapProductPipeline:
    """Sets ``product_id`` and ``standard_unit``; raises :class:`UnmappedProduct` (recorded, not lost)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.matcher: ProductMatcher | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MapProductPipeline:
        return cls(get_engine(crawler.settings.get("DATABASE_URL")))

    def open_spider(self) -> None:
        with session_factory(self.engine)() as session:
            self.matcher = ProductMatcher.from_session(session)

    def process_item(self, item: object) -> object:
        assert self.matcher is not None, "open_spider loads the catalogue first"
        adapter = ItemAdapter(item)
        product = self.matcher.match(adapter["product_name"])
        if product is None:
            raise UnmappedProduct(f"未收录的商品：{adapter['product_name']} (no catalogue match)")
        adapter["product_id"] = product.id
        adapter["standard_unit"] = product.standard_unit
        return item
