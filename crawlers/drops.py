"""Why an item left the pipeline: each reason is a ``DropItem`` the crawl-run recorder acts on."""

from __future__ import annotations

from scrapy.exceptions import DropItem


class QuarantineItem(DropItem):
    """The item is wrong (unreadable, impossible, absurd): kept aside in quarantined_items with the reason."""


class UnmappedProduct(DropItem):
    """No catalogue good matches the name: recorded in unmapped_items for staff to map."""


class DuplicateItem(DropItem):
    """The same observation (natural key) was already seen in this crawl."""
