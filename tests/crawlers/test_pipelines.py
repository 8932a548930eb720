"""The pipeline chain on the saved Xinfadi pages, against a real database (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.misc import load_object
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.models import CrawlRun, PriceObservation, Product, QuarantinedItem
from crawlers.extensions import CrawlRunRecorder, crawl_status
from crawlers.items import PriceItem
from crawlers.spiders.bulletin import BulletinSpider
from crawlers.spiders.mofcom import MofcomSpider
from crawlers.spiders.product_page import ProductPageSpider
from crawlers.spiders.xinfadi import XinfadiSpider
from tests.crawlers.utils import ParsedPage, file_response, make_spider, project_crawler

pytestmark = pytest.mark.postgres


def _copy(items: list[PriceItem]) -> list[PriceItem]:
    return [PriceItem(**dict(item)) for item in items]


@pytest.fixture
def xinfadi_items(xinfadi_pages: tuple[ParsedPage, ParsedPage]) -> list[PriceItem]:
    """The rows of Xinfadi's two saved pages, in order (the fixture in conftest parses them afresh)."""
    first, last = xinfadi_pages
    return first.items + last.items


@pytest.fixture
def crawler(engine: Engine, db_url: str) -> Iterator[Crawler]:
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    yield project_crawler(XinfadiSpider, DATABASE_URL=db_url, STORE_BATCH_SIZE=3)


def crawl_items(crawler: Crawler, items: list[PriceItem]) -> tuple[CrawlRun, dict[Any, str]]:
    """Run items through the configured pipelines and the crawl-run recorder as Scrapy would."""
    spider = crawler.spider
    assert spider is not None, "the crawler was made with its spider"
    pipelines = [
        load_object(path).from_crawler(crawler)
        for path, _ in sorted(crawler.settings.getdict("ITEM_PIPELINES").items(), key=lambda kv: kv[1])
    ]
    recorder = CrawlRunRecorder.from_crawler(crawler)
    recorder.spider_opened(spider)
    crawler.stats.inc_value("fairmarket/pages", 2)
    for pipeline in pipelines:
        if hasattr(pipeline, "open_spider"):
            pipeline.open_spider()
    outcomes: dict[Any, str] = {}
    for position, item in enumerate(items):
        key = item["raw"].get("id", position)
        try:
            for pipeline in pipelines:
                item = pipeline.process_item(item)
            outcomes.setdefault(key, "passed")
        except DropItem as exc:
            recorder.item_dropped(item, None, exc, spider)
            outcomes.setdefault(key, f"{type(exc).__name__}: {exc}")
    for pipeline in pipelines:
        if hasattr(pipeline, "close_spider"):
            pipeline.close_spider()
    recorder.spider_closed(spider, "finished")
    with Session(recorder.engine) as session:
        run = session.get(CrawlRun, recorder.run_id)
        assert run is not None
        return run, outcomes


EXPECTED: dict[int, str] = {
    2310401: "passed",
    2310402: "passed",
    2310403: "passed",
    2310404: "QuarantineItem: 最低价高于最高价",  # low > high: malformed
    2310405: "passed",  # 羊腰子 is no catalogued good: stored under a provisional one
    2310406: "passed",  # 64 元 per 5L 桶
    2310407: "QuarantineItem: 无法换算",  # 鸡蛋 per 箱 without a pack size
    2310408: "passed",
    2310409: "QuarantineItem: 缺少价格",
    2310410: "passed",  # and its repeat on page 2 is a duplicate
    2310411: "passed",
    2310412: "QuarantineItem: 单价不合常理",  # 12,500 元/斤 apples
    2310413: "passed",
}


def test_every_saved_row_has_the_expected_outcome(
    crawler: Crawler, engine: Engine, xinfadi_items: list[PriceItem]
) -> None:
    run, outcomes = crawl_items(crawler, _copy(xinfadi_items))
    for row_id, expected in EXPECTED.items():
        assert outcomes[row_id].startswith(expected), (row_id, outcomes[row_id])
    assert (run.items_stored, run.items_quarantined, run.items_unmapped, run.items_duplicate) == (9, 4, 1, 1)
    assert run.status == "ok"
    assert run.pages == 2
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(PriceObservation)) == 9
        reasons = sorted(session.scalars(select(QuarantinedItem.reason)))
        assert len(reasons) == 4
        assert all(r for r in reasons)
        kidney = session.scalars(select(Product).where(Product.status == "provisional")).one()
        assert (kidney.name, kidney.category.name, kidney.standard_unit) == ("羊腰子", "羊肉类", "piece")
        stored = session.scalars(
            select(PriceObservation).where(PriceObservation.product_id == kidney.id)
        ).one()
        assert (stored.unit_price, stored.spec) == (14.5, "挂油")


def test_stored_rows_are_normalised_with_provenance(
    crawler: Crawler, engine: Engine, xinfadi_items: list[PriceItem]
) -> None:
    crawl_items(crawler, _copy(xinfadi_items))
    with Session(engine) as session:
        rows = {(o.origin, o.spec, float(o.price)): o for o in session.scalars(select(PriceObservation))}
    assert ("", "帝王蕉", 7.85) not in rows  # low > high: quarantined
    oil = rows[("", "5L/桶", 64.0)]
    assert (oil.standard_unit, oil.unit_price, oil.raw_unit) == ("L", pytest.approx(12.8), "桶")
    tomato_boxed = rows[("冀", "纸箱", 1.6)]
    assert (tomato_boxed.unit_price, tomato_boxed.standard_unit, tomato_boxed.price_type) == (
        1.6,
        "500g",
        "wholesale",
    )
    for observation in rows.values():
        assert observation.url == "http://www.xinfadi.com.cn/getPriceData.html"
        assert observation.spider == "xinfadi"
        assert observation.extractor == "xinfadi-json"
        assert len(observation.raw_hash or "") == 64
        assert observation.fetched_at is not None
        assert observation.observed_at.isoformat() == "2026-11-27T00:00:00"


def test_a_second_crawl_adds_nothing(
    crawler: Crawler, engine: Engine, db_url: str, xinfadi_items: list[PriceItem]
) -> None:
    crawl_items(crawler, _copy(xinfadi_items))
    again = project_crawler(XinfadiSpider, DATABASE_URL=db_url)
    run, _ = crawl_items(again, _copy(xinfadi_items))
    assert (run.items_stored, run.items_duplicate) == (0, 10)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(PriceObservation)) == 9
        assert session.scalar(select(func.count()).select_from(QuarantinedItem)) == 4
        assert (
            session.scalar(select(func.count()).select_from(Product).where(Product.status == "provisional"))
            == 1
        )


def test_inverted_ranges_are_quarantined_with_their_reason(
    crawler: Crawler, engine: Engine, xinfadi_items: list[PriceItem]
) -> None:
    _, outcomes = crawl_items(crawler, [_copy(xinfadi_items)[3]])
    assert outcomes[2310404].startswith("QuarantineItem: 最低价高于最高价")
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(PriceObservation)) == 0
        kept = session.scalars(select(QuarantinedItem)).one()
    assert kept.reason.startswith("最低价高于最高价：8.8 > 6.9")
    assert kept.raw["id"] == 2310404


def test_inverted_ranges_can_be_swapped_instead(
    engine: Engine, db_url: str, xinfadi_items: list[PriceItem]
) -> None:
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    crawler = project_crawler(XinfadiSpider, DATABASE_URL=db_url, PRICE_INVERTED_RANGE="swap")
    _, outcomes = crawl_items(crawler, [_copy(xinfadi_items)[3]])
    assert outcomes[2310404] == "passed"
    with Session(engine) as session:
        banana = session.scalars(select(PriceObservation)).one()
    assert banana.low_price is not None and banana.high_price is not None
    assert (float(banana.low_price), float(banana.high_price), float(banana.price)) == (6.9, 8.8, 7.85)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"product_name": " "}, "缺少商品名称"),
        ({"unit": ""}, "缺少计价单位"),
        ({"price": "0", "low_price": None, "high_price": None}, "价格必须大于零"),
        ({"price": "abc"}, "无法识别的价格"),
        ({"price": "9.5"}, "不在最低价"),
        ({"observed_at": "明天"}, "无法识别的日期"),
        ({"observed_at": "2099-01-01"}, "日期在未来"),
    ],
)
def test_bad_values_are_quarantined_with_a_reason(
    crawler: Crawler, engine: Engine, xinfadi_items: list[PriceItem], changes: dict[str, Any], reason: str
) -> None:
    item = _copy(xinfadi_items)[0]
    item.update(changes)
    run, outcomes = crawl_items(crawler, [item])
    assert reason in outcomes[2310401]
    assert run.items_quarantined == 1
    with Session(engine) as session:
        assert reason in session.scalars(select(QuarantinedItem.reason)).one()


@pytest.mark.parametrize(
    ("pages", "errors", "reason", "requests", "status"),
    [
        (3, 0, "finished", 3, "ok"),
        (3, 2, "finished", 5, "degraded"),
        (0, 1, "finished", 4, "failed"),  # no page could be read
        (0, 0, "finished", 2, "failed"),  # answers, but none was a price page
        (0, 0, "finished", 0, "ok"),  # nothing configured to fetch (e.g. no product pages yet)
        (5, 0, "shutdown", 6, "failed"),
    ],
)
def test_crawl_status(pages: int, errors: int, reason: str, requests: int, status: str) -> None:
    assert crawl_status(pages, errors, reason, requests) == status


def _saved_items(spider_class: type[Spider], page: str, url: str, **arguments: str) -> list[PriceItem]:
    spider = make_spider(spider_class, **arguments)
    return [r for r in spider.parse(file_response(page, url)) if isinstance(r, PriceItem)]


@pytest.mark.parametrize(
    ("spider_class", "page", "url", "arguments", "expected"),
    [
        (
            MofcomSpider,
            "mofcom_pork_page1.html",
            "http://nc.mofcom.gov.cn/jghq/priceList?craftIndex=13245",
            {"date": "2026-11-27"},
            {"passed": 2, "QuarantineItem: 缺少价格": 1, "QuarantineItem: 单价不合常理": 1},
        ),
        (
            BulletinSpider,
            "harbin_bulletin.html",
            "http://fgw.harbin.gov.cn/art/2026/11/27/art_1234_5678.html",
            {"source": "harbin-bulletin"},
            {"passed": 7, "QuarantineItem: 无法识别的价格": 1},
        ),
        (
            ProductPageSpider,
            "product_jsonld.html",
            "https://shop.example.com/item/1.html",
            {"urls": "https://shop.example.com/item/1.html"},
            {"passed": 1},
        ),
        (
            ProductPageSpider,
            "product_opengraph.html",
            "https://shop.example.com/item/2.html",
            {"urls": "https://shop.example.com/item/2.html"},
            {"QuarantineItem: 无法换算": 1},  # 30 eggs per box cannot become 元/500g
        ),
    ],
    ids=["mofcom", "bulletin", "json-ld", "opengraph"],
)
def test_saved_pages_of_every_spider_through_the_pipelines(
    engine: Engine,
    db_url: str,
    spider_class: type,
    page: str,
    url: str,
    arguments: dict[str, str],
    expected: dict[str, int],
) -> None:
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    crawler = project_crawler(spider_class, arguments, DATABASE_URL=db_url)
    _, outcomes = crawl_items(crawler, _saved_items(spider_class, page, url, **arguments))
    found: dict[str, int] = {}
    for outcome in outcomes.values():
        kind = next((prefix for prefix in expected if outcome.startswith(prefix)), outcome)
        found[kind] = found.get(kind, 0) + 1
    assert found == expected


def test_retail_observations_keep_availability_and_unit_price(engine: Engine, db_url: str) -> None:
    with Session(engine) as session:
        seed_catalogue(session)
        session.commit()
    url = "https://shop.example.com/item/1.html"
    crawler = project_crawler(ProductPageSpider, {"urls": url}, DATABASE_URL=db_url)
    crawl_items(crawler, _saved_items(ProductPageSpider, "product_jsonld.html", url, urls=url))
    with Session(engine) as session:
        observation = session.scalars(select(PriceObservation)).one()
    assert (observation.availability, observation.price_type, observation.extractor) == (
        "limited",
        "retail",
        "json-ld",
    )
    assert (observation.standard_unit, observation.unit_price, observation.spec) == (
        "L",
        pytest.approx(13.98),
        "5L",
    )
