"""What every price spider shares: ``-a base_url``, provenance on each item, and reported errors."""

from __future__ import annotations

import hashlib
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from core.clock import utcnow
from crawlers.items import PriceItem

ERRORS_STAT = "fairmarket/errors"
ERROR_SAMPLES_STAT = "fairmarket/error_samples"
PAGES_STAT = "fairmarket/pages"


class PriceSpider(scrapy.Spider):
    """Base class: subclasses set ``name``, ``default_base_url`` and parse pages into :class:`PriceItem`."""

    default_base_url = ""
    extractor = ""

    def __init__(self, *args: Any, base_url: str | None = None, source: str | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.source_name = source or self.name

    def record_error(self, message: str) -> None:
        """Count an error for this crawl and keep the first few messages for the crawl-run report."""
        self.logger.error(message)
        stats = self.crawler.stats
        stats.inc_value(ERRORS_STAT)
        samples = list(stats.get_value(ERROR_SAMPLES_STAT, []))
        if len(samples) < self.crawler.settings.getint("CRAWL_ERROR_SAMPLES", 20):
            samples.append(message[:500])
            stats.set_value(ERROR_SAMPLES_STAT, samples)

    def request_failed(self, failure: Failure) -> None:
        """Errback: a request that failed for good (after retries, robots.txt, HTTP error) is reported."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        response = getattr(failure.value, "response", None)
        reason = f"HTTP {response.status}" if response is not None else failure.getErrorMessage()
        self.record_error(f"请求失败 {url}: {failure.type.__name__}: {reason}")

    def page_parsed(self) -> None:
        self.crawler.stats.inc_value(PAGES_STAT)

    def make_item(self, response: Response, raw: dict[str, Any], **fields: Any) -> PriceItem:
        """An item with the provenance of ``response`` (URL, time, spider, extractor, body hash)."""
        item = PriceItem(
            source=self.source_name,
            url=response.url,
            fetched_at=utcnow(),
            spider=self.name,
            extractor=fields.pop("extractor", self.extractor),
            raw_hash=body_hash(response),
            raw=raw,
        )
        for key, value in fields.items():
            item[key] = value
        return item


def body_hash(response: Response) -> str:
    """sha256 of the raw response body: proves later what the source said."""
    return hashlib.sha256(response.body).hexdigest()
