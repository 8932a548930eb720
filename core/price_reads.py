"""Reading price observations for the public price views: filters pushed into SQL, rows into a frame.

The detection job reads whole days of every good (``jobs.detection.read_observations``); a price chart
or an index needs a few goods in one region, so these reads filter by product, region, seller and
price type in the query, where ``ix_price_obs_product_date`` serves them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import PriceObservation

PRICE_ROW_COLUMNS = ["date", "merchant_id", "product_id", "region", "unit_price"]


def read_price_rows(
    session: Session,
    *,
    product_ids: Collection[int],
    start: dt.date,
    end: dt.date,
    price_type: str,
    region: str | None = None,
    merchant_id: int | None = None,
) -> pd.DataFrame:
    """Observations of the given goods ``start``..``end`` (inclusive) as a frame.

    Rows come straight from the DBAPI cursor (ISO date text on SQLite, ``date`` on PostgreSQL, both read
    by NumPy), which halves the time of a year of a category's prices.

    Returns
    -------
    DataFrame
        ``date`` (datetime64, the observation day), ``merchant_id`` (nullable Int64), ``product_id``,
        ``region`` and ``unit_price`` [元/standard unit], one row per observation.
    """
    statement = select(
        PriceObservation.observed_date,
        PriceObservation.merchant_id,
        PriceObservation.product_id,
        PriceObservation.region,
        PriceObservation.unit_price,
    ).where(
        PriceObservation.product_id.in_(list(product_ids)),
        PriceObservation.observed_date >= start,
        PriceObservation.observed_date <= end,
        PriceObservation.price_type == price_type,
    )
    if region is not None:
        statement = statement.where(PriceObservation.region == region)
    if merchant_id is not None:
        statement = statement.where(PriceObservation.merchant_id == merchant_id)
    result = session.connection().execute(statement)
    try:
        rows = result.cursor.fetchall()  # the DBAPI's plain tuples: a frame wants columns, not Row objects
    finally:
        result.close()
    dates, merchants, products, regions, prices = zip(*rows, strict=True) if rows else ((),) * 5
    return pd.DataFrame(
        {
            "date": np.array(dates, dtype="datetime64[D]").astype("datetime64[ns]"),
            "merchant_id": pd.array(merchants, dtype="Int64"),
            "product_id": np.array(products, dtype="int64"),
            "region": np.array(regions, dtype="object"),
            "unit_price": np.array(prices, dtype="float64"),
        }
    )


def latest_price_date(
    session: Session, *, product_ids: Collection[int], price_type: str, region: str | None = None
) -> dt.date | None:
    """The newest observation day of the given goods, or ``None`` when there is none."""
    statement = select(func.max(PriceObservation.observed_date)).where(
        PriceObservation.product_id.in_(list(product_ids)), PriceObservation.price_type == price_type
    )
    if region is not None:
        statement = statement.where(PriceObservation.region == region)
    return session.scalar(statement)


def observations_version(session: Session) -> int:
    """The newest observation id: observations are only ever added, so it changes with the data."""
    return session.scalar(select(func.max(PriceObservation.id))) or 0
