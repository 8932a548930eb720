from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.extraction import availability_of, extract, split_spec
from crawlers.items import PriceItem
from crawlers.sites import load_sites, rebase, site_for
from crawlers.sources import SourceConfigError
from crawlers.spiders.base import ERRORS_STAT
from crawlers.spiders.product_page import ProductPageSpider
from tests.crawlers.utils import FILES, file_response, make_spider

SITES = load_sites()
EXAMPLE_RULES = SITES["example-mart"].rules


@pytest.mark.parametrize(
    ("page", "rules", "expected", "method"),
    [
        (
            "product_jsonld.html",
            None,
            {"name": "金龙鱼大豆油", "spec": "5L", "price": "69.90", "availability": "limited"},
            "json-ld",
        ),
        (
            "product_microdata.html",
            None,
            {"name": "五得利富强粉", "spec": "5kg", "price": "26.80", "availability": "out_of_stock"},
            "microdata",
        ),
        (
            "product_opengraph.html",
            None,
            {"name": "鲜鸡蛋", "spec": "30枚/盒", "price": "1,299.00", "availability": "in_stock"},
            "opengraph",
        ),
        (
            "product_rules.html",
            EXAMPLE_RULES,
            {"name": "东北大米", "spec": "5kg/袋", "price": "39.90", "availability": "limited"},
            "rules:example-mart",
        ),
    ],
)
def test_structured_data_first_then_site_rules(
    page: str, rules: dict | None, expected: dict[str, str], method: str
) -> None:
    found = extract((FILES / page).read_text(encoding="utf-8"), rules, "example-mart" if rules else "")
    assert {key: found.values.get(key) for key in expected} == expected
    assert found.extractor == method


def test_json_ld_seller_and_currency_are_kept() -> None:
    found = extract((FILES / "product_jsonld.html").read_text(encoding="utf-8"))
    assert found.values["merchant"] == "便民超市道里店"
    assert found.values["currency"] == "CNY"


def test_an_override_rule_beats_structured_data() -> None:
    rules = {"price": [{"css": "p.tip::text", "pattern": r"(\d+)", "override": True}]}
    found = extract((FILES / "product_jsonld.html").read_text(encoding="utf-8"), rules, "x")
    assert (found.values["price"], found.extractor) == ("2", "rules:x")


@pytest.mark.parametrize(
    ("text", "availability"),
    [
        ("https://schema.org/InStock", "in_stock"),
        ("http://schema.org/OutOfStock", "out_of_stock"),
        ("LimitedAvailability", "limited"),
        ("SoldOut", "out_of_stock"),
        ("每人限购2件", "limited"),
        ("暂时缺货", "out_of_stock"),
        ("现货", "in_stock"),
        ("PreOrder", None),
        ("", None),
    ],
)
def test_availability_words(text: str, availability: str | None) -> None:
    assert availability_of(text) == availability


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("金龙鱼 大豆油 5L", ("金龙鱼 大豆油", "5L")),
        ("鲁花 花生油 1.8升", ("鲁花 花生油", "1.8升")),
        ("维达抽纸 3层130抽", ("维达抽纸 3层130抽", None)),
        ("东北大米", ("东北大米", None)),
    ],
)
def test_pack_size_is_split_from_the_name(name: str, expected: tuple[str, str | None]) -> None:
    assert split_spec(name) == expected


def test_spider_item_from_a_json_ld_page() -> None:
    url = "https://shop.example.com/item/1.html"
    spider = make_spider(ProductPageSpider, urls=url)
    [item] = list(spider.parse(file_response("product_jsonld.html", url)))
    assert isinstance(item, PriceItem)
    assert (item["product_name"], item["price"], item["unit"], item["spec"]) == (
        "金龙鱼大豆油",
        "69.90",
        "件",
        "5L",
    )
    assert (item["availability"], item["merchant"], item["extractor"]) == (
        "limited",
        "便民超市道里店",
        "json-ld",
    )
    assert item["source"] == "product_pages"


def test_a_page_without_a_price_is_reported() -> None:
    url = "https://mart.example.cn/item/404.html"
    spider = make_spider(ProductPageSpider, urls=url)
    assert list(spider.parse(file_response("harbin_bulletin.html", url))) == []
    assert spider.crawler.stats.get_value(ERRORS_STAT) == 1


def test_site_for_prefers_a_named_domain_and_rebase_keeps_the_path() -> None:
    named = site_for("https://www.mart.example.cn/item/1.html", SITES)
    fallback = site_for("https://other.example.org/p", SITES)
    assert named is not None and named.name == "example-mart"
    assert fallback is not None and fallback.name == "structured-data"
    assert rebase("https://mart.example.cn/item/1.html?sku=2", "http://127.0.0.1:8000") == (
        "http://127.0.0.1:8000/item/1.html?sku=2"
    )


def test_politeness_becomes_download_slots() -> None:
    from scrapy.settings import Settings

    settings = Settings()
    ProductPageSpider.update_settings(settings)
    assert settings.getdict("DOWNLOAD_SLOTS")["mart.example.cn"] == {"concurrency": 1, "delay": 3.0}


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("sites: 3", "expected a 'sites' list"),
        ("sites:\n  - {name: a}", "domains"),
        ("sites:\n  - {name: a, domains: [a.cn], fields: {price: [{css: 'a', xpath: 'b'}]}}", "exactly one"),
        ("sites:\n  - {name: a, domains: [a.cn], fields: {price: [{xpath: '//['}]}}", "invalid rule"),
        ("sites:\n  - {name: a, domains: [a.cn], fields: {colour: [{css: 'a'}]}}", "unknown field"),
        ("sites:\n  - {name: a, domains: [a.cn]}\n  - {name: a, domains: [b.cn]}", "defined twice"),
        ("sites: [", "not valid YAML"),
    ],
)
def test_bad_registry_records_are_named(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(SourceConfigError, match=message):
        load_sites(path)
