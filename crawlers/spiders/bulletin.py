"""Municipal price bulletins: an HTML table per bulletin, read as configured in ``bulletins.yaml``.

``scrapy crawl bulletin -a source=harbin-bulletin [-a base_url=...]``. Columns are found by header text;
the unit comes from a unit column (元/500克, 元/5升 …) or the source's default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.sources import BulletinSource, load_bulletins
from crawlers.spiders.base import PriceSpider
from crawlers.tables import clean, date_in, find_column, table_rows

MONEY_FIELDS = ("price", "low_price", "high_price")


class BulletinSpider(PriceSpider):
    name = "bulletin"
    extractor = "bulletin-table"
    # Municipal sites: one request at a time, a few seconds apart.
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 2.0}

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        bulletins = load_bulletins()
        if source not in bulletins:
            raise ValueError(f"未知的价格公报来源 {source!r}；可选：{', '.join(bulletins) or '无'}")
        self.config: BulletinSource = bulletins[source]
        self.default_base_url = self.config.base_url
        super().__init__(*args, source=source, **kwargs)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        url = f"{self.base_url}/{self.config.path.lstrip('/')}"
        callback = self.parse_listing if self.config.links else self.parse
        yield scrapy.Request(url, callback=callback, errback=self.request_failed)

    def parse_listing(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        assert self.config.links is not None
        links = response.xpath(self.config.links).getall()
        if not links:
            self.record_error(f"价格公报列表页没有找到公报链接 {response.url}")
            return
        for link in links:
            yield response.follow(link, callback=self.parse, errback=self.request_failed)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        headers, rows = table_rows(response.xpath(self.config.table)[:1])
        columns = {field: find_column(headers, [header]) for field, header in self.config.columns.items()}
        if columns.get("product") is None or columns.get("price") is None:
            self.record_error(f"价格公报页面没有找到价格表 {response.url}（表头：{headers[:8]}）")
            return
        self.page_parsed()
        date_text = " ".join(response.xpath(self.config.date).getall()) if self.config.date else ""
        observed = date_in(date_text) or date_in(clean(" ".join(response.xpath("//title//text()").getall())))
        if observed is None:
            self.record_error(f"价格公报页面没有日期 {response.url}")
            return
        heading = ""
        for cells in rows:
            values = {
                field: cells[index] if index is not None and index < len(cells) else ""
                for field, index in columns.items()
            }
            if len(cells) < 2 or not values["product"]:
                # A section heading row such as "粮油类": the category of the goods below it.
                heading = next((cell for cell in cells if cell), heading).removesuffix("类")
                continue
            yield self.make_item(
                response,
                raw=dict(zip(headers, cells, strict=False)),
                product_name=values["product"],
                category=values.get("category") or heading or None,
                price=values["price"],
                low_price=values.get("low_price") or None,
                high_price=values.get("high_price") or None,
                unit=values.get("unit") or self.config.unit or "",
                spec=values.get("spec") or None,
                merchant=values.get("merchant") or self.config.merchant,
                region=self.config.region,
                observed_at=observed,
                price_type=self.config.price_type,
            )
