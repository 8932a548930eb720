"""Scrapy settings for FairMarket's price crawlers (``scrapy.cfg`` points here).

Politeness is the default: robots.txt obeyed, AutoThrottle on, few requests per site, retries with
exponential backoff and a User-Agent that names the platform. The database comes from ``core.config``
(``FAIRMARKET_DATABASE_URL``) unless ``-s DATABASE_URL=...`` overrides it.
"""

from __future__ import annotations

from core.config import get_settings

_settings = get_settings()

BOT_NAME = "fairmarket"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

DATABASE_URL = _settings.resolved_database_url
USER_AGENT = _settings.user_agent

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 30
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# Retry n waits RETRY_BACKOFF_BASE * 2**(n-1) seconds, at most RETRY_BACKOFF_MAX.
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 60.0

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy's remote-control HTTP server is not needed (crawls are driven by crawlers.runner).
REMOTE_CONTROL_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.BackoffRetryMiddleware": 540,
}

EXTENSIONS = {
    "crawlers.extensions.PrepareDatabase": 50,
    "crawlers.extensions.CrawlRunRecorder": 100,
}

ITEM_PIPELINES = {
    "crawlers.pipelines.numbers.ParseNumbersPipeline": 100,
    "crawlers.pipelines.validate.ValidatePipeline": 200,
    "crawlers.pipelines.catalogue.MapProductPipeline": 300,
    "crawlers.pipelines.units.NormaliseUnitsPipeline": 400,
    "crawlers.pipelines.dedupe.DeduplicatePipeline": 500,
    "crawlers.pipelines.store.StorePipeline": 600,
}

# Validation: what to do when a source prints low > high ("quarantine" keeps it aside with its reason, as the
# price import does; "swap" keeps the row with the two swapped).
PRICE_INVERTED_RANGE = "quarantine"
# Prices per standard unit outside these bounds are absurd (a typo, a wrong unit) and quarantined.
PRICE_BOUNDS = {"500g": [0.01, 3000.0], "L": [0.01, 3000.0], "piece": [0.01, 200000.0]}
# Observations dated more than this many days in the future are quarantined.
PRICE_MAX_FUTURE_DAYS = 2
STORE_BATCH_SIZE = 500
# At most this many error messages are kept with a crawl run.
CRAWL_ERROR_SAMPLES = 20
