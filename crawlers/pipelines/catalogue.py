"""Map each product name to a good: a catalogued one, or a provisional one (待归类) for a name none claims.

Nothing real is refused for being unknown: a new name becomes a provisional good in the category the
source gives, so its prices are stored and judged from the first day while staff review it.
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.db import get_engine, session_factory
from core.provisional import GoodsResolver
from core.units import UnitError
from crawlers.drops import QuarantineItem

PROVISIONAL_STAT = "fairmarket/provisional"


class MapProductPipeline:
    """Sets ``product_id`` and ``standard_unit``; a new name's provisional good is committed at once."""

    def __init__(self, crawler: Crawler | None, engine: Engine) -> None:
        self.crawler = crawler
        self.engine = engine
        self.session: Session | None = None
        self.goods: GoodsResolver | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MapProductPipeline:
        return cls(crawler, get_engine(crawler.settings.get("DATABASE_URL")))

    def open_spider(self) -> None:
        self.session = session_factory(self.engine)()
        self.goods = GoodsResolver(self.session)
        self.session.commit()

    def close_spider(self) -> None:
        if self.session is not None:
            self.session.close()

    def process_item(self, item: object) -> object:
        assert self.goods is not None and self.session is not None, "open_spider loads the catalogue first"
        adapter = ItemAdapter(item)
        created = self.goods.goods_created
        try:
            product = self.goods.resolve(
                adapter["product_name"],
                unit=str(adapter.get("unit") or ""),
                spec=adapter.get("spec"),
                category=adapter.get("category"),
            )
        except UnitError as exc:
            self.session.rollback()
            raise QuarantineItem(f"新商品的计价单位无法识别：{exc}") from exc
        if self.goods.goods_created != created:
            self.session.commit()
        if product.id in self.goods.provisional_ids and self.crawler is not None:
            self.crawler.stats.inc_value(PROVISIONAL_STAT)
        adapter["product_id"] = product.id
        adapter["standard_unit"] = product.standard_unit
        return item
