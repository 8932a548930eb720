"""Beijing Xinfadi wholesale prices: ``POST /getPriceData.html`` returns one JSON page of price rows.

Form: ``limit, current, pubDateStartTime, pubDateEndTime, prodPcatid, prodCatid, prodName``; answer:
``{"current", "limit", "count", "list": [{"id", "prodName", ..., "lowPrice", "highPrice", "avgPrice",
"place", "specInfo", "unitInfo", "pubDate"}]}``. Prices are strings in 元 per ``unitInfo``. Pages are
followed until ``count`` rows were offered. The site repeats rows across pages and sometimes prints
low > high; the pipelines deal with both. The first page's ``count`` tells how many pages to request.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.items import PriceItem
from crawlers.spiders.base import PriceSpider

MARKET = "北京新发地"
REGION = "北京"
MAX_LIMIT = 1000
MAX_PAGES = 2000


def parse_day(value: str | None, name: str, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{name} 必须是 YYYY-MM-DD 格式：{value!r}") from exc


class XinfadiSpider(PriceSpider):
    name = "xinfadi"
    default_base_url = "http://www.xinfadi.com.cn"
    extractor = "xinfadi-json"

    def __init__(
        self,
        *args: Any,
        start_date: str | None = None,
        end_date: str | None = None,
        limit: str | int = 20,
        category_id: str = "",
        subcategory_id: str = "",
        product_name: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        today = dt.date.today()
        self.end_date = parse_day(end_date, "end_date", today)
        self.start_date = parse_day(start_date, "start_date", self.end_date - dt.timedelta(days=1))
        if self.start_date > self.end_date:
            raise ValueError(f"start_date {self.start_date} 晚于 end_date {self.end_date}")
        self.limit = int(limit)
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit 必须在 1 到 {MAX_LIMIT} 之间：{limit}")
        self.category_id = category_id
        self.subcategory_id = subcategory_id
        self.product_name = product_name

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.page_request(1)

    def page_request(self, current: int) -> scrapy.FormRequest:
        form = {
            "limit": str(self.limit),
            "current": str(current),
            "pubDateStartTime": self.start_date.strftime("%Y/%m/%d"),
            "pubDateEndTime": self.end_date.strftime("%Y/%m/%d"),
            "prodPcatid": self.category_id,
            "prodCatid": self.subcategory_id,
            "prodName": self.product_name,
        }
        return scrapy.FormRequest(
            f"{self.base_url}/getPriceData.html",
            formdata=form,
            callback=self.parse,
            errback=self.request_failed,
            cb_kwargs={"current": current},
        )

    def parse(self, response: Response, current: int = 1, **kwargs: Any) -> Iterator[Any]:
        try:
            data = json.loads(response.text)
            rows = data["list"]
            count = int(data["count"])
            if not isinstance(rows, list):
                raise TypeError("list is not an array")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.record_error(f"新发地返回的不是价格数据 {response.url} (page {current}): {exc}")
            return
        self.page_parsed()
        for row in rows:
            if isinstance(row, dict):
                yield self.item(response, row)
            else:
                self.record_error(f"新发地价格行格式不对 (page {current}): {str(row)[:100]}")
        if current == 1 and rows:
            # The first page says how many rows there are: ask for the rest at once (concurrency permitting).
            pages = min(math.ceil(count / self.limit), MAX_PAGES)
            for page in range(2, pages + 1):
                yield self.page_request(page)

    def item(self, response: Response, row: dict[str, Any]) -> PriceItem:
        def text(key: str) -> str:
            value = row.get(key)
            return "" if value is None else str(value).strip()

        # Origin and grade tell apart the several quotes of one good on one day (番茄 冀·纸箱 / 冀鲁·黑框);
        # the row's id tells a repeated row from a second quote.
        spec = text("specInfo")
        return self.make_item(
            response,
            raw=row,
            product_name=text("prodName"),
            category=[text("prodPcat"), text("prodCat")],  # the most specific first
            price=row.get("avgPrice"),
            low_price=row.get("lowPrice"),
            high_price=row.get("highPrice"),
            unit=text("unitInfo"),
            origin=text("place"),
            spec=spec or None,
            source_record_id=text("id") or None,
            merchant=MARKET,
            region=REGION,
            observed_at=text("pubDate"),
            price_type="wholesale",
            availability=None,
        )
