"""Why an item left the pipeline: each reason is a ``DropItem`` the crawl-run recorder acts on.

Drops are routine, so they are logged quietly: quarantined items at INFO, repeats at DEBUG. A name no
catalogue good claims is not a drop: it is stored under a provisional good (``core.provisional``).
"""

from __future__ import annotations

from scrapy.exceptions import DropItem


class _QuietDrop(DropItem):
    default_log_level = "DEBUG"

    def __init__(self, message: str, log_level: str | None = None) -> None:
        super().__init__(message, log_level or self.default_log_level)


class QuarantineItem(_QuietDrop):
    """The item is wrong (unreadable, impossible, absurd): kept aside in quarantined_items with the reason."""

    default_log_level = "INFO"


class DuplicateItem(_QuietDrop):
    """The same observation (natural key) was already seen in this crawl."""
