"""MOFCOM 商务预报 (commerce forecast) daily prices: one HTML table per commodity and day.

The table lists province | market | price (元/公斤, unit in the price header), optionally with date and
product columns; columns are found by their header text, not their position, so a reordered or
extended table still parses and a table without a price column is reported as garbage. Pages are
followed through the "下一页" link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawlers.spiders.base import PriceSpider
from crawlers.spiders.xinfadi import parse_day
from crawlers.tables import clean, date_in, find_column, table_rows, unit_from_header

DATE_COLUMNS = ("日期", "发布日期", "时间")
PRODUCT_COLUMNS = ("产品/品种", "产品", "品种", "商品名称", "商品")
PROVINCE_COLUMNS = ("省份", "所在省份", "地区", "省市")
MARKET_COLUMNS = ("市场名称", "市场", "批发市场")
PRICE_COLUMNS = ("价格", "均价", "批发价", "当日价格")
DEFAULT_UNIT = "元/公斤"
# The site's commodity ids (craftIndex) for a few livelihood goods; pass -a commodities=... for others.
DEFAULT_COMMODITIES = ("13245", "13233", "13079", "13232")


class MofcomSpider(PriceSpider):
    name = "mofcom"
    default_base_url = "http://nc.mofcom.gov.cn"
    extractor = "mofcom-table"
    # A government site: one request at a time, a few seconds apart.
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 2.0}

    def __init__(self, *args: Any, commodities: str = "", date: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commodities = [c.strip() for c in commodities.split(",") if c.strip()] or list(
            DEFAULT_COMMODITIES
        )
        self.day = parse_day(date, "date", dt.date.today())

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for commodity in self.commodities:
            query = urlencode({"craftIndex": commodity, "startTime": self.day, "endTime": self.day})
            yield scrapy.Request(
                f"{self.base_url}/jghq/priceList?{query}", callback=self.parse, errback=self.request_failed
            )

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        table = response.xpath("//table[.//th[contains(., '市场')] and .//th[contains(., '价')]]")
        headers, rows = table_rows(table[:1]) if table else ([], [])
        price_col = find_column(headers, PRICE_COLUMNS)
        market_col = find_column(headers, MARKET_COLUMNS)
        if price_col is None or market_col is None:
            self.record_error(f"商务预报页面没有价格表 {response.url}")
            return
        self.page_parsed()
        unit = unit_from_header(headers[price_col]) or DEFAULT_UNIT
        date_col = find_column(headers, DATE_COLUMNS)
        product_col = find_column(headers, PRODUCT_COLUMNS)
        province_col = find_column(headers, PROVINCE_COLUMNS)
        heading = clean(" ".join(response.xpath("//h1//text()|//h2//text()|//h3//text()").getall()))
        page_product = heading.split(" ")[0] if heading else ""
        page_date = date_in(heading) or str(self.day)

        def cell(cells: list[str], index: int | None) -> str:
            return cells[index] if index is not None and index < len(cells) else ""

        for cells in rows:
            raw = dict(zip(headers, cells, strict=False))
            yield self.make_item(
                response,
                raw=raw,
                product_name=cell(cells, product_col) or page_product,
                price=cell(cells, price_col),
                unit=unit,
                merchant=cell(cells, market_col) or None,
                region=cell(cells, province_col),
                observed_at=date_in(cell(cells, date_col)) or page_date,
                price_type="wholesale",
            )
        next_page = response.xpath("//a[contains(normalize-space(.), '下一页')]/@href").get()
        if next_page and not next_page.lower().startswith("javascript"):
            yield response.follow(next_page, callback=self.parse, errback=self.request_failed)
