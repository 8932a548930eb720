"""Retail product pages: price and availability from structured data, else the site's registry rules.

``scrapy crawl product_page [-a site=NAME] [-a urls=URL,URL] [-a base_url=URL]``: without ``urls`` the
registry's ``product_urls`` are crawled (of one site or all). ``base_url`` moves every URL to another
host (a mirror or a local fixture site), keeping path and query. Each site's politeness settings become
its own download slot (delay, concurrency).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from scrapy.settings import BaseSettings

from core.clock import china_today
from crawlers.extraction import extract
from crawlers.sites import Site, load_sites, rebase, site_for
from crawlers.spiders.base import PriceSpider


class ProductPageSpider(PriceSpider):
    name = "product_page"
    extractor = "product-page"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        slots = {
            domain: {"concurrency": site.concurrency, "delay": site.download_delay}
            for site in load_sites().values()
            for domain in site.domains
            if domain != "*"
        }
        settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    def __init__(self, *args: Any, site: str = "", urls: str = "", **kwargs: Any) -> None:
        super().__init__(*args, source=kwargs.pop("source", None) or "product_pages", **kwargs)
        self.sites = load_sites()
        if site and site not in self.sites:
            raise ValueError(f"未知的网站 {site!r}；可选：{', '.join(self.sites)}")
        chosen = [self.sites[site]] if site else list(self.sites.values())
        listed = [u.strip() for u in urls.split(",") if u.strip()]
        self.targets: list[tuple[str, Site]] = []
        for url in listed or [u for s in chosen for u in s.product_urls]:
            target_site = self.sites[site] if site else site_for(url, self.sites)
            if target_site is None:
                raise ValueError(f"没有网站记录负责 {url}")
            self.targets.append((url, target_site))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url, site in self.targets:
            yield scrapy.Request(
                rebase(url, self.base_url or None),
                callback=self.parse,
                errback=self.request_failed,
                cb_kwargs={"site": site, "page_url": url},
            )

    def parse(
        self, response: Response, site: Site | None = None, page_url: str = "", **kwargs: Any
    ) -> Iterator[Any]:
        site = site or site_for(response.url, self.sites)
        assert site is not None
        found = extract(response.text, site.rules, site.name)
        values = found.values
        if "price" not in values or "name" not in values:
            missing = [name for name in ("name", "price") if name not in values]
            self.record_error(f"商品页没有找到{'、'.join(missing)}：{response.url}（网站 {site.name}）")
            return
        self.page_parsed()
        currency = values.get("currency", "CNY").upper()
        if currency not in ("CNY", "RMB", "¥", "￥"):
            self.record_error(f"商品页价格不是人民币（{currency}）：{response.url}")
            return
        yield self.make_item(
            response,
            raw={"page": page_url or response.url, **values, "methods": found.methods},
            extractor=found.extractor,
            product_name=values["name"],
            price=values["price"],
            unit=values.get("unit") or site.unit,
            spec=values.get("spec"),
            merchant=values.get("merchant") or site.merchant or (urlsplit(page_url or response.url).hostname),
            region=site.region,
            observed_at=self.observed_today(),
            price_type="retail",
            availability=values.get("availability"),
        )

    @staticmethod
    def observed_today() -> str:
        """Shop prices are kept one per day (China's calendar day): a second crawl that day adds nothing."""
        return china_today().isoformat()
