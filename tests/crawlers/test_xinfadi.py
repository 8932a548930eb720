from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from scrapy import FormRequest
from scrapy.http import TextResponse

from crawlers.items import PriceItem
from crawlers.spiders.base import ERROR_SAMPLES_STAT, ERRORS_STAT
from crawlers.spiders.xinfadi import MARKET, XinfadiSpider
from tests.crawlers.conftest import XINFADI_URL as URL
from tests.crawlers.utils import FILES, ParsedPage, make_spider

Pages = tuple[ParsedPage, ParsedPage]


def test_first_page_yields_every_row_and_asks_for_the_next_page(xinfadi_pages: Pages) -> None:
    first, _ = xinfadi_pages
    assert len(first.items) == 10
    [next_page] = first.requests
    assert isinstance(next_page, FormRequest)
    form = dict(pair.split("=") for pair in next_page.body.decode().split("&"))
    assert next_page.method == "POST"
    assert next_page.url == URL
    assert form["current"] == "2"
    assert form["limit"] == "10"
    assert form["pubDateStartTime"] == "2026%2F11%2F27"


def test_last_page_stops_at_count(xinfadi_pages: Pages) -> None:
    _, last = xinfadi_pages
    assert len(last.items) == 4
    assert last.requests == []


def test_every_item_keeps_the_source_values_and_provenance(
    xinfadi_pages: Pages, subtests: pytest.Subtests
) -> None:
    for page in xinfadi_pages:
        for item in page.items:
            with subtests.test(msg=f"{item['raw']['id']}-{item['product_name']}"):
                _assert_source_values_and_provenance(item)


def _assert_source_values_and_provenance(item: PriceItem) -> None:
    raw = item["raw"]
    assert item["source"] == "xinfadi"
    assert item["spider"] == "xinfadi"
    assert item["extractor"] == "xinfadi-json"
    assert item["merchant"] == MARKET
    assert item["price_type"] == "wholesale"
    assert item["product_name"] == raw["prodName"]
    # Order in the API is low, HIGH, avg: the representative price is avgPrice.
    assert (item["low_price"], item["high_price"], item["price"]) == (
        raw["lowPrice"],
        raw["highPrice"],
        raw["avgPrice"],
    )
    assert item["unit"] == raw["unitInfo"]
    assert item["observed_at"] == raw["pubDate"]
    assert item["url"] == URL
    assert len(item["raw_hash"]) == 64
    assert isinstance(item["fetched_at"], dt.datetime)


def test_raw_hash_is_the_sha256_of_the_page(xinfadi_pages: Pages) -> None:
    body = (FILES / "xinfadi_page1.json").read_bytes()
    assert {item["raw_hash"] for item in xinfadi_pages[0].items} == {hashlib.sha256(body).hexdigest()}


@pytest.mark.parametrize(
    ("row_id", "origin", "spec", "unit", "category"),
    [
        (2310401, "冀", None, "斤", ["", "蔬菜"]),  # empty spec
        (2310402, "冀", "纸箱", "斤", ["", "蔬菜"]),  # two quotes of 番茄 the same day told apart by grade
        (2310403, "冀鲁", "黑框", "斤", ["", "蔬菜"]),
        (2310404, "", "帝王蕉", "斤", ["香蕉类", "水果"]),  # empty place
        (2310405, "", "挂油", "个", ["羊肉类", "肉禽蛋"]),
        (2310406, "", "5L/桶", "桶", ["", "粮油"]),
        (2310407, "", None, "箱", ["", "肉禽蛋"]),  # empty place and spec
        (2310413, "", None, "斤", ["", "水果"]),
    ],
)
def test_place_and_spec_are_the_variant(
    xinfadi_pages: Pages, row_id: int, origin: str, spec: str | None, unit: str, category: list[str]
) -> None:
    item = next(i for page in xinfadi_pages for i in page.items if i["raw"]["id"] == row_id)
    assert (item["origin"], item["spec"], item["unit"], item["category"]) == (origin, spec, unit, category)
    assert (item["region"], item["source_record_id"]) == ("北京", str(row_id))


def test_real_quirks_are_passed_on_for_the_pipelines(xinfadi_pages: Pages) -> None:
    first, last = xinfadi_pages
    banana = next(i for i in first.items if i["product_name"] == "泰国香蕉")
    assert Decimal(banana["low_price"]) > Decimal(banana["high_price"])  # low > high, as the site prints it
    ids = [i["raw"]["id"] for i in first.items + last.items]
    assert len(ids) - len(set(ids)) == 1  # a row repeated across pages
    assert {i["unit"] for i in first.items + last.items} >= {"斤", "个", "桶", "箱"}


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>\xe7\xb3\xbb\xe7\xbb\x9f\xe7\xbb\xb4\xe6\x8a\xa4</body></html>",
        b'{"code": 500}',
        b'{"list": 3}',
    ],
)
def test_garbage_is_reported_not_parsed(body: bytes) -> None:
    spider = make_spider(XinfadiSpider)
    response = TextResponse(URL, body=body, encoding="utf-8")
    assert list(spider.parse(response)) == []
    assert spider.crawler.stats.get_value(ERRORS_STAT) == 1
    assert "新发地返回的不是价格数据" in spider.crawler.stats.get_value(ERROR_SAMPLES_STAT)[0]


def test_the_first_page_asks_for_all_the_others_at_once() -> None:
    spider = make_spider(XinfadiSpider, limit="10")
    data = json.loads((FILES / "xinfadi_page1.json").read_text(encoding="utf-8"))
    data["count"] = 45
    response = TextResponse(URL, body=json.dumps(data).encode(), encoding="utf-8")
    pages = [r.cb_kwargs["current"] for r in spider.parse(response, current=1) if isinstance(r, FormRequest)]
    assert pages == [2, 3, 4, 5]


def test_an_empty_page_ends_the_crawl_even_if_count_says_more() -> None:
    spider = make_spider(XinfadiSpider, limit="10")
    body = json.dumps({"current": 3, "limit": 10, "count": 500, "list": []}).encode()
    assert list(spider.parse(TextResponse(URL, body=body, encoding="utf-8"), current=3)) == []


@pytest.mark.parametrize(
    "arguments",
    [{"start_date": "2026-13-01"}, {"start_date": "2026-11-28", "end_date": "2026-11-27"}, {"limit": "0"}],
)
def test_bad_arguments_are_refused_with_a_reason(arguments: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"start_date|end_date|limit"):
        make_spider(XinfadiSpider, **arguments)


def test_base_url_points_the_spider_elsewhere() -> None:
    spider = make_spider(XinfadiSpider, base_url="http://127.0.0.1:8000/")
    assert spider.page_request(1).url == "http://127.0.0.1:8000/getPriceData.html"
