"""Reject what cannot be a real observation: no name or unit, price <= 0, low > high, unreadable dates.

A source printing low > high (Xinfadi's 泰国香蕉 8.6 / 6.7) is malformed: which figure is wrong cannot be
told, so the row is quarantined with its reason by default (``PRICE_INVERTED_RANGE = "quarantine"``), as
the price import does; ``"swap"`` keeps it with the two swapped and a logged note. Absurd amounts per
standard unit are caught after unit normalisation (``NormaliseUnitsPipeline``).
"""

from __future__ import annotations

import datetime as dt
import logging

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from crawlers.drops import QuarantineItem

logger = logging.getLogger(__name__)
SWAPPED_STAT = "fairmarket/swapped_ranges"
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d")


def parse_observed_at(value: object) -> dt.datetime:
    """The time a price is for; naive values are the source's local date (kept as published)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    text = str(value or "").strip()
    try:  # the common case ("2026-11-27 00:00:00", ISO 8601) without the cost of strptime
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo is None else parsed.astimezone(dt.UTC).replace(tzinfo=None)
    except ValueError:
        pass
    for date_format in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, date_format)
        except ValueError:
            continue
    raise QuarantineItem(f"无法识别的日期：{text!r} (unreadable date)")


class ValidatePipeline:
    def __init__(self, crawler: Crawler, inverted_range: str, max_future_days: int) -> None:
        if inverted_range not in ("swap", "quarantine"):
            raise ValueError(f"PRICE_INVERTED_RANGE must be swap or quarantine, not {inverted_range!r}")
        self.crawler = crawler
        self.inverted_range = inverted_range
        self.max_future = dt.timedelta(days=max_future_days)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        settings = crawler.settings
        inverted_range = settings.get("PRICE_INVERTED_RANGE", "quarantine")
        return cls(crawler, inverted_range, settings.getint("PRICE_MAX_FUTURE_DAYS", 2))

    def process_item(self, item: object) -> object:
        adapter = ItemAdapter(item)
        name = str(adapter.get("product_name") or "").strip()
        if not name:
            raise QuarantineItem("缺少商品名称 (no product name)")
        adapter["product_name"] = name
        if not str(adapter.get("unit") or "").strip():
            raise QuarantineItem("缺少计价单位 (no price unit)")
        price, low, high = adapter["price"], adapter.get("low_price"), adapter.get("high_price")
        if price <= 0:
            raise QuarantineItem(f"价格必须大于零：{price} (price must be positive)")
        if (low is not None and low <= 0) or (high is not None and high <= 0):
            raise QuarantineItem(f"最低价/最高价必须大于零：{low}/{high} (low/high must be positive)")
        if low is not None and high is not None and low > high:
            if self.inverted_range == "quarantine":
                raise QuarantineItem(f"最低价高于最高价：{low} > {high} (low above high)")
            logger.warning("%s: low %s > high %s at %s, swapped", name, low, high, adapter.get("url"))
            self.crawler.stats.inc_value(SWAPPED_STAT)
            adapter["low_price"], adapter["high_price"] = high, low
            low, high = high, low
        if low is not None and high is not None and not low <= price <= high:
            raise QuarantineItem(
                f"价格 {price} 不在最低价 {low} 与最高价 {high} 之间 (price outside its range)"
            )
        observed_at = parse_observed_at(adapter.get("observed_at"))
        if observed_at - dt.datetime.now() > self.max_future:
            raise QuarantineItem(f"日期在未来：{observed_at:%Y-%m-%d} (date in the future)")
        adapter["observed_at"] = observed_at
        return item
