from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from crawlers.items import PriceItem
from crawlers.spiders.base import ERRORS_STAT
from crawlers.spiders.mofcom import MofcomSpider
from tests.crawlers.utils import file_response, make_spider

URL = "http://nc.mofcom.gov.cn/jghq/priceList?craftIndex=13245&startTime=2026-11-27&endTime=2026-11-27"


def parse(name: str) -> tuple[list[PriceItem], list[Request]]:
    spider = make_spider(MofcomSpider, date="2026-11-27")
    results = list(spider.parse(file_response(name, URL)))
    return [r for r in results if isinstance(r, PriceItem)], [r for r in results if isinstance(r, Request)]


PAGE1, NEXT1 = parse("mofcom_pork_page1.html")
PAGE2, NEXT2 = parse("mofcom_pork_page2.html")


@pytest.mark.parametrize(
    ("index", "market", "province", "price"),
    [
        (0, "哈尔滨哈达农副产品股份有限公司", "黑龙江", "23.60"),
        (1, "黑龙江省牡丹江市牡丹峰农副产品批发市场", "黑龙江", "22.8"),
        (2, "长春市净月区东部农产品批发市场", "吉林", ""),  # empty cell: quarantined later as "no price"
        (3, "沈阳八家子农副产品批发市场", "辽宁", "10,240.00"),  # a typo: quarantined as absurd
    ],
)
def test_rows_by_header(index: int, market: str, province: str, price: str) -> None:
    item = PAGE1[index]
    assert (item["merchant"], item["region"], item["price"]) == (market, province, price)
    assert item["product_name"] == "猪肉(白条猪)"
    assert item["unit"] == "元/公斤"
    assert item["observed_at"] == "2026-11-27"
    assert item["price_type"] == "wholesale"
    assert item["extractor"] == "mofcom-table"
    assert item["raw"]["市场名称"] == market


def test_next_page_is_followed_but_not_javascript_links() -> None:
    assert [r.url for r in NEXT1] == [
        "http://nc.mofcom.gov.cn/jghq/priceList?craftIndex=13245&startTime=2026-11-27&endTime=2026-11-27&page=2"
    ]
    assert NEXT2 == []


def test_a_table_without_product_or_date_columns_takes_them_from_the_heading() -> None:
    [item] = PAGE2
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
