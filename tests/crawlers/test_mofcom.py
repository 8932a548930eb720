from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawlers.spiders.base import ERRORS_STAT
from crawlers.spiders.mofcom import MofcomSpider
from tests.crawlers.conftest import MOFCOM_URL as URL
from tests.crawlers.utils import ParsedPage, make_spider

Pages = tuple[ParsedPage, ParsedPage]


@pytest.mark.parametrize(
    ("index", "market", "province", "price"),
    [
        (0, "哈尔滨哈达农副产品股份有限公司", "黑龙江", "23.60"),
        (1, "黑龙江省牡丹江市牡丹峰农副产品批发市场", "黑龙江", "22.8"),
        (2, "长春市净月区东部农产品批发市场", "吉林", ""),  # empty cell: quarantined later as "no price"
        (3, "沈阳八家子农副产品批发市场", "辽宁", "10,240.00"),  # a typo: quarantined as absurd
    ],
)
def test_rows_by_header(mofcom_pages: Pages, index: int, market: str, province: str, price: str) -> None:
    item = mofcom_pages[0].items[index]
    assert (item["merchant"], item["region"], item["price"]) == (market, province, price)
    assert item["product_name"] == "猪肉(白条猪)"
    assert item["unit"] == "元/公斤"
    assert item["observed_at"] == "2026-11-27"
    assert item["price_type"] == "wholesale"
    assert item["extractor"] == "mofcom-table"
    assert item["raw"]["市场名称"] == market


def test_next_page_is_followed_but_not_javascript_links(mofcom_pages: Pages) -> None:
    first, second = mofcom_pages
    assert [r.url for r in first.requests] == [
        "http://nc.mofcom.gov.cn/jghq/priceList?craftIndex=13245&startTime=2026-11-27&endTime=2026-11-27&page=2"
    ]
    assert second.requests == []


def test_a_table_without_product_or_date_columns_takes_them_from_the_heading(mofcom_pages: Pages) -> None:
    [item] = mofcom_pages[1].items
    assert (item["product_name"], item["observed_at"], item["region"]) == (
        "猪肉(白条猪)",
        "2026-11-27",
        "山东",
    )


def test_a_page_without_a_price_table_is_reported() -> None:
    spider = make_spider(MofcomSpider)
    page = "<html><body><p>系统维护中，请稍后访问</p></body></html>".encode()
    assert list(spider.parse(HtmlResponse(URL, body=page, encoding="utf-8"))) == []
    assert spider.crawler.stats.get_value(ERRORS_STAT) == 1


def test_start_requests_one_per_commodity() -> None:
    import asyncio

    spider = make_spider(
        MofcomSpider, commodities="13245, 13079", date="2026-11-27", base_url="http://127.0.0.1:9"
    )

    async def collect() -> list[Request]:
        return [request async for request in spider.start()]

    urls = [r.url for r in asyncio.run(collect())]
    assert urls == [
        "http://127.0.0.1:9/jghq/priceList?craftIndex=13245&startTime=2026-11-27&endTime=2026-11-27",
        "http://127.0.0.1:9/jghq/priceList?craftIndex=13079&startTime=2026-11-27&endTime=2026-11-27",
    ]
