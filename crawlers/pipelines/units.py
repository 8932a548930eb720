"""Price per the good's standard unit (元/500g, 元/L, 元/piece) via ``core.units``; absurd: quarantined."""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler

from core.units import UnitError, normalise_named_price
from crawlers.drops import QuarantineItem


class NormaliseUnitsPipeline:
    def __init__(self, bounds: dict[str, tuple[float, float]]) -> None:
        self.bounds = bounds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormaliseUnitsPipeline:
        configured = crawler.settings.getdict("PRICE_BOUNDS")
        return cls({unit: (float(low), float(high)) for unit, (low, high) in configured.items()})

    def process_item(self, item: object) -> object:
        adapter = ItemAdapter(item)
        try:
            normalised, unit = normalise_named_price(
                adapter["price"],
                adapter["unit"],
                adapter.get("spec"),
                adapter["standard_unit"],
                str(adapter.get("product_name") or ""),
            )
        except UnitError as exc:
            raise QuarantineItem(str(exc)) from exc
        low, high = self.bounds.get(normalised.standard_unit, (0.0, float("inf")))
        if not low <= normalised.unit_price <= high:
            raise QuarantineItem(
                f"单价不合常理：{normalised.unit_price:.2f} 元/{normalised.standard_unit}"
                f"（合理范围 {low}–{high}） (absurd unit price)"
            )
        adapter["unit"] = unit  # the name's bracket may say what was priced: 莲蓬(个), 杏鲍菇(250克)
        adapter["unit_price"] = normalised.unit_price
        adapter["standard_unit"] = normalised.standard_unit
        return item
