"""A small public price series for the tests of public reads: 猪肉 at Harbin supermarkets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.catalogue import seed_catalogue
from core.models import Product
from core.prices import PriceInput, store_observations

DAY = dt.date(2024, 3, 4)
SERIES = {"product": "pork", "from": "2024-03-04", "to": "2024-03-10"}


def pork_price(pork: Product, merchant: str, day: dt.date, unit_price: float) -> PriceInput:
    return PriceInput(
        source="test_market",
        product_id=pork.id,
        observed_at=dt.datetime.combine(day, dt.time(9)),
        price=unit_price,
        raw_unit="斤",
        unit_price=unit_price,
        standard_unit=pork.standard_unit,
        merchant=merchant,
        region="哈尔滨",
    )


def seed_pork_series(session: Session) -> Product:
    """Three days of 猪肉 at one Harbin supermarket, 13.00 each day."""
    seed_catalogue(session)
    session.commit()
    good = session.scalars(select(Product).where(Product.code == "pork")).one()
    store_observations(
        session, [pork_price(good, "家乐福", DAY + dt.timedelta(days=n), 13.0) for n in range(3)]
    )
    session.commit()
    return good
