"""Offline spider testing: saved responses as Scrapy responses, spiders bound to a real crawler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from scrapy import Request, Spider
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

import crawlers.settings
from crawlers.items import PriceItem

FILES = Path(__file__).parent / "files"
SpiderT = TypeVar("SpiderT", bound=Spider)


def file_response(
    name: str, url: str, *, method: str = "GET", body: bytes = b"", **meta: Any
) -> TextResponse:
    """The saved file ``files/<name>`` as the response to ``url`` (HTML or JSON by extension)."""
    request = Request(url, method=method, body=body, meta=meta)
    response_class = HtmlResponse if name.endswith(".html") else TextResponse
    return response_class(url=url, request=request, body=(FILES / name).read_bytes(), encoding="utf-8")


def make_spider(spider_class: type[SpiderT], **arguments: Any) -> SpiderT:
    """A spider as ``scrapy crawl`` would build it, with stats for its error reports."""
    crawler = get_crawler(spider_class)
    spider = spider_class.from_crawler(crawler, **arguments)
    crawler.spider = spider
    return spider


def project_crawler(
    spider_class: type[Spider], arguments: dict[str, str] | None = None, **overrides: Any
) -> Any:
    """A crawler with the project's settings (pipelines, extensions) and ``overrides``, its spider built."""
    project = {key: value for key, value in vars(crawlers.settings).items() if key.isupper()}
    crawler = get_crawler(spider_class, {**project, **overrides})
    crawler.spider = spider_class.from_crawler(crawler, **(arguments or {}))
    return crawler


@dataclass(frozen=True)
class ParsedPage:
    """What a spider's callback yielded for one saved page: the price items and the follow-up requests."""

    items: list[PriceItem]
    requests: list[Request]


def parse_saved_page(
    spider: Spider, name: str, url: str, *, method: str = "GET", **kwargs: Any
) -> ParsedPage:
    """Run ``spider.parse`` over the saved file ``name`` served as ``url``."""
    results = list(spider.parse(file_response(name, url, method=method), **kwargs))
    return ParsedPage(
        items=[r for r in results if isinstance(r, PriceItem)],
        requests=[r for r in results if isinstance(r, Request)],
    )
