from __future__ import annotations

import pytest
from scrapy import Request

from crawlers.spiders.base import ERRORS_STAT
from crawlers.spiders.bulletin import BulletinSpider
from tests.crawlers.conftest import BULLETIN_URL as URL
from tests.crawlers.utils import ParsedPage, file_response, make_spider

LIST_URL = "http://fgw.harbin.gov.cn/"


def test_listing_page_follows_only_price_bulletins() -> None:
    spider = make_spider(BulletinSpider, source="harbin-bulletin")
    requests = list(spider.parse_listing(file_response("harbin_bulletin_list.html", LIST_URL)))
    assert [r.url for r in requests if isinstance(r, Request)] == [URL]


@pytest.mark.parametrize(
    ("name", "spec", "unit", "price"),
    [
        ("东北大米", "一级", "元/500克", "3.10"),
        ("大豆油", "5升桶装", "元/5升", "59.90"),
        ("面粉", "富强粉", "元/500克", "2.45"),
        ("鲜猪肉", "精瘦肉", "元/500克", "15.80"),
        ("鸡蛋", "鲜鸡蛋", "元/500克", "4.2"),
        ("牛肉", "去骨", "元/500克", "一"),  # garbage price: quarantined by the pipeline
        ("大白菜", "一级", "元/500克", "0.98"),
        ("冻豆腐", None, "元/500克", "3.50"),
    ],
)
def test_rows_are_read_by_configured_headers(
    bulletin_page: ParsedPage, name: str, spec: str | None, unit: str, price: str
) -> None:
    item = next(i for i in bulletin_page.items if i["product_name"] == name)
    assert (item["spec"], item["unit"], item["price"]) == (spec, unit, price)
    assert item["observed_at"] == "2026-11-27"
    assert item["region"] == "哈尔滨"
    assert item["source"] == "harbin-bulletin"
    assert item["price_type"] == "retail"


def test_section_heading_rows_are_skipped(bulletin_page: ParsedPage) -> None:
    assert len(bulletin_page.items) == 8
    assert not any(i["product_name"].endswith("类") for i in bulletin_page.items)


def test_a_page_without_the_table_is_reported() -> None:
    spider = make_spider(BulletinSpider, source="harbin-bulletin")
    assert list(spider.parse(file_response("mofcom_pork_page2.html", URL))) == []
    assert spider.crawler.stats.get_value(ERRORS_STAT) == 1


def test_an_unknown_source_is_refused() -> None:
    with pytest.raises(ValueError, match="未知的价格公报来源"):
        make_spider(BulletinSpider, source="nowhere")
