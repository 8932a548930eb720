"""The retail site registry (``sites.yaml``): one record per site, validated when loaded.

A record names the site's domains, the product pages to watch, how to find each field (a list of
rules tried in order after structured data), politeness (delay, concurrency) and a test URL that
``fairmarket sites check`` fetches to prove the rules still work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from crawlers.extraction import FIELDS
from crawlers.sources import SourceConfigError, read_named_records

SITES_FILE = Path(__file__).with_name("sites.yaml")
RULE_KINDS = ("css", "xpath", "regex", "value")
ANY_DOMAIN = "*"


@dataclass(frozen=True)
class Site:
    name: str
    title: str
    domains: tuple[str, ...]
    rules: dict[str, list[dict[str, Any]]]
    product_urls: tuple[str, ...] = ()
    test_url: str | None = None
    unit: str = "件"
    region: str = ""
    merchant: str | None = None
    download_delay: float = 2.0
    concurrency: int = 1

    def serves(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(d == ANY_DOMAIN or host == d or host.endswith(f".{d}") for d in self.domains)


def _check_rule(where: str, rule: Any) -> dict[str, Any]:
    if not isinstance(rule, dict) or sum(kind in rule for kind in RULE_KINDS) != 1:
        raise SourceConfigError(f"{where}: each rule needs exactly one of {', '.join(RULE_KINDS)}")
    try:
        if "css" in rule:
            Selector(text="<html></html>").css(rule["css"])
        if "xpath" in rule:
            Selector(text="<html></html>").xpath(rule["xpath"])
        for key in ("regex", "pattern"):
            if key in rule:
                re.compile(rule[key])
    except (ValueError, re.error) as exc:  # parsel raises ValueError subclasses for bad expressions
        raise SourceConfigError(f"{where}: invalid rule {rule}: {exc}") from exc
    return dict(rule)


def _site(record: Any, position: int) -> Site:
    if not isinstance(record, dict) or not record.get("name"):
        raise SourceConfigError(f"site #{position}: needs a name")
    name = str(record["name"])
    domains = record.get("domains")
    if not isinstance(domains, list) or not domains:
        raise SourceConfigError(f"site {name}: domains must be a non-empty list")
    rules: dict[str, list[dict[str, Any]]] = {}
    for field_name, field_rules in (record.get("fields") or {}).items():
        if field_name not in FIELDS:
            raise SourceConfigError(
                f"site {name}: unknown field {field_name!r} (fields: {', '.join(FIELDS)})"
            )
        listed = field_rules if isinstance(field_rules, list) else [field_rules]
        rules[field_name] = [_check_rule(f"site {name}, field {field_name}", rule) for rule in listed]
    politeness = record.get("politeness") or {}
    delay, concurrency = float(politeness.get("download_delay", 2.0)), int(politeness.get("concurrency", 1))
    if delay < 0 or concurrency < 1:
        raise SourceConfigError(f"site {name}: politeness needs download_delay >= 0 and concurrency >= 1")
    return Site(
        name=name,
        title=str(record.get("title") or name),
        domains=tuple(str(d).lower() for d in domains),
        rules=rules,
        product_urls=tuple(record.get("product_urls") or ()),
        test_url=record.get("test_url"),
        unit=str(record.get("unit") or "件"),
        region=str(record.get("region") or ""),
        merchant=record.get("merchant"),
        download_delay=delay,
        concurrency=concurrency,
    )


def load_sites(path: Path = SITES_FILE) -> dict[str, Site]:
    """All site records by name; raises :class:`SourceConfigError` naming the bad record and field."""
    return read_named_records(path, "sites", _site, "site")


def site_for(url: str, sites: dict[str, Site]) -> Site | None:
    """The site record serving ``url``: a named domain first, the catch-all (``*``) last."""
    specific = [s for s in sites.values() if ANY_DOMAIN not in s.domains and s.serves(url)]
    if specific:
        return specific[0]
    return next((s for s in sites.values() if ANY_DOMAIN in s.domains), None)


def rebase(url: str, base_url: str | None) -> str:
    """``url`` on another host (a mirror or a local fixture site), path and query kept."""
    if not base_url:
        return url
    parts = urlsplit(url)
    return base_url.rstrip("/") + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
