"""The saved pages each spider test reads, parsed per test (so no test sees another's edits to an item)."""

from __future__ import annotations

import pytest

from crawlers.spiders.bulletin import BulletinSpider
from crawlers.spiders.mofcom import MofcomSpider
from crawlers.spiders.xinfadi import XinfadiSpider
from tests.crawlers.utils import ParsedPage, make_spider, parse_saved_page

XINFADI_URL = "http://www.xinfadi.com.cn/getPriceData.html"
MOFCOM_URL = "http://nc.mofcom.gov.cn/jghq/priceList?craftIndex=13245&startTime=2026-11-27&endTime=2026-11-27"
BULLETIN_URL = "http://fgw.harbin.gov.cn/art/2026/11/27/art_1234_5678.html"


@pytest.fixture
def xinfadi_pages() -> tuple[ParsedPage, ParsedPage]:
    """Xinfadi's saved first page (10 rows, asks for page 2) and last page (4 rows, one repeated)."""

    def parse(name: str, current: int) -> ParsedPage:
        spider = make_spider(XinfadiSpider, start_date="2026-11-27", end_date="2026-11-27", limit="10")
        return parse_saved_page(spider, name, XINFADI_URL, method="POST", current=current)

    return parse("xinfadi_page1.json", 1), parse("xinfadi_page2.json", 2)


@pytest.fixture
def mofcom_pages() -> tuple[ParsedPage, ParsedPage]:
    """MOFCOM's saved pork price list: page 1 (four markets, a next link) and page 2 (one market)."""
    first = parse_saved_page(
        make_spider(MofcomSpider, date="2026-11-27"), "mofcom_pork_page1.html", MOFCOM_URL
    )
    second = parse_saved_page(
        make_spider(MofcomSpider, date="2026-11-27"), "mofcom_pork_page2.html", MOFCOM_URL
    )
    return first, second


@pytest.fixture
def bulletin_page() -> ParsedPage:
    """The saved Harbin price bulletin (eight goods under section headings)."""
    spider = make_spider(BulletinSpider, source="harbin-bulletin")
    return parse_saved_page(spider, "harbin_bulletin.html", BULLETIN_URL)
