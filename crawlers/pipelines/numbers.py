"""Parse the printed amounts ("2,879.20", "￥12.5", "3元5角") into ``Decimal``; garbage is quarantined."""

from __future__ import annotations

from decimal import Decimal

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from crawlers.drops import QuarantineItem
from crawlers.money import MoneyError, parse_money

TWO = Decimal(2)


class ParseNumbersPipeline:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ParseNumbersPipeline:
        return cls()

    def process_item(self, item: object) -> object:
        adapter = ItemAdapter(item)
        try:
            for field in ("price", "low_price", "high_price"):
                adapter[field] = parse_money(adapter.get(field))
        except MoneyError as exc:
            raise QuarantineItem(str(exc)) from exc
        price, low, high = adapter["price"], adapter["low_price"], adapter["high_price"]
        if price is None and low is not None and high is not None:
            # Only a range was published: its midpoint stands for the day, as Xinfadi's avgPrice does.
            adapter["price"] = (low + high) / TWO
        elif price is None:
            raise QuarantineItem("缺少价格 (no price)")
        return item
