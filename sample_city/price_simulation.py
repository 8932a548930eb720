"""The sample city's prices, drawn day by day: a market level per good, each shop's own level and drift.

One seeded ``random.Random`` (the city's seed + 1), so a city always gives the same observations.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from decimal import Decimal

from core.models import Product
from core.prices import PriceInput
from core.units import normalise_price
from sample_city.market import RETAIL_BASE, SampleCity, SampleGood

WHOLESALE_SOURCE = "xinfadi-sample"
RETAIL_SOURCE = "sample-city"
WHOLESALE_REGION = "北京新发地"
# Retail prices are compared across the city (a shop's district is an attribute of the merchant).
CITY = "哈尔滨市"
# Prices are observed at 09:00 Harbin time, stored as naive UTC.
OBSERVATION_TIME = dt.time(1, 0)


def _market_factors(rng: random.Random, good: SampleGood, days: list[dt.date]) -> list[float]:
    """A mean-reverting random walk with a weekend bump for fresh goods: the market's price level."""
    level, factors = 0.0, []
    weekend_bump = 0.02 if good.daily_volatility >= 0.008 else 0.0
    for day in days:
        level = 0.93 * level + rng.gauss(0.0, good.daily_volatility * 2.5)
        weekly = weekend_bump if day.weekday() >= 5 else 0.0
        factors.append(math.exp(level) * (1.0 + weekly))
    return factors


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def generate_prices(city: SampleCity, products: dict[str, Product]) -> Iterator[PriceInput]:
    """Every retail and wholesale observation of the city, day by day."""
    rng = random.Random(city.seed + 1)
    days = city.days
    categories = {code: product.category.top.code for code, product in products.items()}
    market = {good.code: _market_factors(rng, good, days) for good in city.goods}
    episodes = (city.gouging, city.market_move)
    for good in city.goods:
        product = products[good.code]
        quote = normalise_price(1, good.quote_unit, good.quote_spec, product.standard_unit)
        base_retail = RETAIL_BASE.get(good.code) or (good.wholesale or 0.0) * good.retail_markup
        sellers = [m for m in city.merchants if categories[good.code] in m.sells]
        for merchant in sellers:
            # Each shop has its own level and a slow drift of its own around the market.
            own_level = merchant.price_level * rng.uniform(0.97, 1.03)
            drift = 0.0
            for index, day in enumerate(days):
                drift = 0.9 * drift + rng.gauss(0.0, 0.004)
                shock = math.prod(
                    e.factor(day)
                    for e in episodes
                    if e.product == good.code and e.merchant in (None, merchant.name)
                )
                unit_price = base_retail * own_level * market[good.code][index] * math.exp(drift) * shock
                price = _money(unit_price * quote.quantity)
                availability = "out_of_stock" if rng.random() < 0.004 else "in_stock"
                if shock > 1.2 and merchant.name == city.gouging.merchant and rng.random() < 0.3:
                    availability = "limited"
                yield PriceInput(
                    source=RETAIL_SOURCE,
                    product_id=product.id,
                    merchant=merchant.name,
                    region=CITY,
                    observed_at=dt.datetime.combine(day, OBSERVATION_TIME),
                    price=price,
                    raw_unit=good.quote_unit,
                    spec=good.quote_spec,
                    unit_price=float(price) / quote.quantity,
                    standard_unit=quote.standard_unit,
                    availability=availability,
                    extractor="sample-city",
                )
        if good.wholesale is None:
            continue
        for index, day in enumerate(days):
            shock = city.market_move.factor(day) if good.code == city.market_move.product else 1.0
            average = good.wholesale * market[good.code][index] * shock
            spread = average * rng.uniform(0.05, 0.15)
            yield PriceInput(
                source=WHOLESALE_SOURCE,
                product_id=product.id,
                region=WHOLESALE_REGION,
                observed_at=dt.datetime.combine(day, OBSERVATION_TIME),
                price=_money(average),
                low_price=_money(average - spread),
                high_price=_money(average + spread),
                raw_unit="斤",
                unit_price=round(average, 2),
                standard_unit="500g",
                price_type="wholesale",
                extractor="sample-city",
            )
