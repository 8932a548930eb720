"""Drop an observation already seen in this crawl (same natural key), e.g. rows a site repeats across pages.

The key is the source's own record id when it has one, else the item with its variant (origin, spec,
package): several quotes of one good on one day are several observations.

Observations stored by earlier crawls are caught by the database's natural-key constraint in storage.
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from core.prices import price_natural_key
from crawlers.drops import DuplicateItem


class DeduplicatePipeline:
    def __init__(self) -> None:
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeduplicatePipeline:
        return cls()

    def process_item(self, item: object) -> object:
        adapter = ItemAdapter(item)
        key = price_natural_key(
            adapter["source"],
            adapter.get("merchant"),
            adapter["product_id"],
            adapter.get("region"),
            adapter["observed_at"],
            origin=adapter.get("origin"),
            spec=adapter.get("spec"),
            package=adapter.get("package"),
            source_name=adapter.get("product_name"),
            source_record_id=adapter.get("source_record_id"),
        )
        if key in self.seen:
            raise DuplicateItem(
                f"本次抓取中重复：{adapter['product_name']} {adapter['observed_at']:%Y-%m-%d}"
            )
        self.seen.add(key)
        return item
