"""The one item every price spider yields: a price as the source published it, plus provenance.

Spiders fill the raw fields (strings as published); the pipelines parse, validate, map and normalise
them in place and finally store them through ``core.prices``.
"""

from __future__ import annotations

import scrapy


class PriceItem(scrapy.Item):
    # What the source said (raw text; numbers are parsed by ParseNumbersPipeline).
    source = scrapy.Field()  # source name, e.g. "xinfadi", "mofcom", "harbin-bulletin"
    product_name = scrapy.Field()
    category = scrapy.Field()  # the source's category name, or several (the most specific first)
    price = scrapy.Field()  # the representative price (Xinfadi: avgPrice)
    low_price = scrapy.Field()
    high_price = scrapy.Field()
    unit = scrapy.Field()  # price unit as published: 斤, 元/公斤, 元/500克, 元/5升, 盒 …
    origin = scrapy.Field()  # where the good comes from, as quoted: 冀, 鲁辽, 云南 …
    spec = scrapy.Field()  # pack or grade spec: 5L/桶, 50片/盒, 活 …
    package = scrapy.Field()  # package of the quote when the source names one apart from spec
    source_record_id = scrapy.Field()  # the source's own id of the record (Xinfadi ``id``)
    merchant = scrapy.Field()  # seller or market quoting the price
    region = scrapy.Field()
    observed_at = scrapy.Field()  # date or date-time the price is for, as published
    price_type = scrapy.Field()  # "wholesale" | "retail"
    availability = scrapy.Field()  # "in_stock" | "out_of_stock" | "limited" | None
    # Provenance.
    url = scrapy.Field()
    fetched_at = scrapy.Field()
    spider = scrapy.Field()
    extractor = scrapy.Field()  # how the price was found: "xinfadi-json", "json-ld", "css:<site>" …
    raw_hash = scrapy.Field()  # sha256 of the raw response body
    raw = scrapy.Field()  # the source record itself, kept with quarantined items
    # Filled by the pipelines.
    product_id = scrapy.Field()
    standard_unit = scrapy.Field()
    unit_price = scrapy.Field()
