"""Retries that back off: a struggling site gets exponentially more time between attempts."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from core.backoff import backoff_seconds


class BackoffRetryMiddleware:
    """Delay a retried request by ``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds (capped at ``RETRY_BACKOFF_MAX``;
    :func:`core.backoff.backoff_seconds`, the rule alert deliveries use too) before it is sent.

    Scrapy's RetryMiddleware re-schedules at once and counts attempts in ``meta["retry_times"]``; this
    middleware only adds the wait, without blocking other requests.
    """

    def __init__(self, base: float, maximum: float) -> None:
        self.base = base
        self.maximum = maximum

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(
            crawler.settings.getfloat("RETRY_BACKOFF_BASE"), crawler.settings.getfloat("RETRY_BACKOFF_MAX")
        )

    def backoff_seconds(self, retry_times: int) -> float:
        if retry_times <= 0:  # a first attempt, not a retry
            return 0.0
        return backoff_seconds(retry_times, base=self.base, cap=self.maximum)

    async def process_request(self, request: Request) -> Any:
        retry_times = int(request.meta.get("retry_times", 0))
        delay = self.backoff_seconds(retry_times)
        if delay > 0 and request.meta.get("backoff_waited_for") != retry_times:
            from twisted.internet import reactor  # the running reactor, installed by Scrapy

            request.meta["backoff_waited_for"] = retry_times
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return None
