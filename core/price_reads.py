"""Reading price observations into frames: one reader for detection, price charts and indexes.

Filters (goods, region, seller, price type) are pushed into the query, where ``ix_price_obs_product_date``
serves the narrow reads of a chart or an index; the detection job reads whole days of every good. Rows
come straight from the driver's cursor in chunks (a server-side cursor on PostgreSQL; SQLite cursors are
incremental), each turned into compact columns at once: at millions of rows, building SQLAlchemy rows
costs more than the query, and memory stays near the size of the final frame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from core.models import PriceDailyAggregate, PriceObservation

#: The columns of an observation frame, the input of every detector in :mod:`analysis.detectors`.
OBSERVATION_COLUMNS = [
    "date",
    "merchant_id",
    "product_id",
    "region",
    "unit_price",
    "price_type",
    "availability",
]
CHUNK_ROWS = 200_000
_SELECT = (
    "SELECT observed_date, merchant_id, product_id, region, unit_price, price_type, availability "
    "FROM price_observations WHERE "
)
_TEXT_COLUMNS = ("region", "price_type", "availability")
#: The columns that tell variants of a good apart (part of an item for the price index): origin, spec,
#: package and what the source called the good.
VARIANT_COLUMNS = ("origin", "spec", "package", "source_name")


def _categories(values: list[Any]) -> pd.Categorical:
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))


def _frame(rows: list[Any], variants: bool = False) -> pd.DataFrame:
    """Columns from one chunk of driver rows; repeated values (days, regions) are converted once each."""
    dates, merchants, products, regions, prices, price_types, availability = (
        [row[index] for row in rows] for index in range(len(OBSERVATION_COLUMNS))
    )
    day_codes, days = pd.factorize(np.asarray(dates, dtype=object))
    day_values = np.array(list(days), dtype="datetime64[D]").astype("datetime64[ns]")
    frame = pd.DataFrame(
        {
            "date": day_values[day_codes],
            "merchant_id": pd.array(merchants, dtype="Int64"),
            "product_id": np.fromiter(products, dtype="int64", count=len(products)),
            "region": _categories(regions),
            "unit_price": np.fromiter(prices, dtype="float64", count=len(prices)),
            "price_type": _categories(price_types),
            "availability": _categories(availability),
        }
    )
    if variants:
        first = len(OBSERVATION_COLUMNS)
        for offset, column in enumerate(VARIANT_COLUMNS):
            frame[column] = _categories([row[first + offset] for row in rows])
    return frame


def _empty_frame(variants: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "date": pd.Series(dtype="datetime64[ns]"),
            "merchant_id": pd.Series(dtype="Int64"),
            "product_id": pd.Series(dtype="int64"),
            "region": pd.Series(dtype="category"),
            "unit_price": pd.Series(dtype="float64"),
            "price_type": pd.Series(dtype="category"),
            "availability": pd.Series(dtype="category"),
        }
    )
    for column in VARIANT_COLUMNS if variants else ():
        frame[column] = pd.Series(dtype="category")
    return frame


def read_observations(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    product_ids: Collection[int] | None = None,
    price_type: str | None = None,
    region: str | None = None,
    merchant_id: int | None = None,
    origin: str | None = None,
    spec: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    variants: bool = False,
) -> pd.DataFrame:
    """Price observations of ``start``..``end`` (inclusive), optionally of some goods, region, seller or type.

    Parameters
    ----------
    session : Session
    start, end : date
        Observation days (``observed_date``, China days).
    product_ids : collection of int, optional
        Only these goods (None: every good; empty: none).
    price_type : {"retail", "wholesale"}, optional
    region, merchant_id : optional
        Only observations of this region / seller.
    origin, spec : optional
        Only observations of this variant (where the good comes from, its spec or grade).
    chunk_rows : int
        Rows fetched and converted at a time.
    variants : bool
        Also return :data:`VARIANT_COLUMNS` (origin, spec, package, source name; categorical).

    Returns
    -------
    DataFrame
        One row per observation, columns :data:`OBSERVATION_COLUMNS`: ``date`` (datetime64, the day),
        ``merchant_id`` (nullable Int64), ``product_id``, ``region``, ``unit_price`` [元 per standard
        unit], ``price_type`` and ``availability`` (the text columns categorical).
    """
    if product_ids is not None and not product_ids:
        return _empty_frame(variants)
    connection = session.connection()
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the session's database connection is closed")
    postgres = connection.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    clauses = [f"observed_date >= {mark}", f"observed_date <= {mark}"]
    params: list[Any] = [start, end] if postgres else [start.isoformat(), end.isoformat()]
    if product_ids is not None:
        ids = sorted({int(product_id) for product_id in product_ids})
        clauses.append(f"product_id IN ({', '.join([mark] * len(ids))})")
        params.extend(ids)
    filters = (
        ("price_type", price_type),
        ("region", region),
        ("merchant_id", merchant_id),
        ("origin", origin),
        ("spec", spec),
    )
    for column, value in filters:
        if value is not None:
            clauses.append(f"{column} = {mark}")
            params.append(value)
    select = _SELECT.replace(" FROM ", f", {', '.join(VARIANT_COLUMNS)} FROM ", 1) if variants else _SELECT
    sql = select + " AND ".join(clauses)
    cursor = driver.cursor(name=f"observations_{id(session):x}") if postgres else driver.cursor()
    chunks = []
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_rows):
            chunks.append(_frame(rows, variants))
    finally:
        cursor.close()
    if not chunks:
        return _empty_frame(variants)
    frame = pd.concat(chunks, ignore_index=True)
    for column in (*_TEXT_COLUMNS, *(VARIANT_COLUMNS if variants else ())):
        frame[column] = frame[column].astype("category")
    return frame


def read_daily_prices(
    session: Session,
    *,
    product_id: int,
    start: dt.date,
    end: dt.date,
    price_type: str,
    region: str | None = None,
) -> pd.DataFrame:
    """The positive unit prices of one good, from ``price_daily_aggregates`` instead of every observation.

    Returns
    -------
    DataFrame
        One row per price: ``date`` (datetime64, the day) and ``unit_price`` [元 per standard unit],
        the input :func:`analysis.aggregates.price_aggregates` takes (with ``by=()``).
    """
    statement = select(
        PriceDailyAggregate.observed_date, PriceDailyAggregate.count, PriceDailyAggregate.prices
    ).where(
        PriceDailyAggregate.product_id == product_id,
        PriceDailyAggregate.price_type == price_type,
        PriceDailyAggregate.observed_date >= start,
        PriceDailyAggregate.observed_date <= end,
    )
    if region is not None:
        statement = statement.where(PriceDailyAggregate.region == region)
    days, counts, texts = [], [], []
    for day, count, prices in session.execute(statement):
        days.append(day)
        counts.append(count)
        texts.append(prices)
    unit_prices = np.array(",".join(texts).split(",") if texts else [], dtype="float64")
    dates = np.repeat(np.array(days, dtype="datetime64[D]"), counts).astype("datetime64[ns]")
    return pd.DataFrame({"date": dates, "unit_price": unit_prices})


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


#: One statement, sent as is (no ORM, nothing to compile): the public price reads ask it on every request.
PRICE_DATA_VERSION_SQL = (
    "SELECT (SELECT max(id) FROM price_observations), (SELECT max(id) FROM products), "
    "(SELECT count(*) FROM products), (SELECT max(id) FROM categories), (SELECT count(*) FROM categories), "
    "(SELECT max(id) FROM product_merges), (SELECT count(*) FROM product_merges WHERE undone_at IS NULL)"
)


def price_data_version(connection: Connection) -> tuple[int, ...]:
    """What public price answers depend on: the newest observation, and the catalogue's size and
    newest rows (observations and catalogue entries are added, not rewritten), and staff merges of
    provisional goods (each merge adds a row, each undo lowers the count of merges in force)."""
    row = connection.exec_driver_sql(PRICE_DATA_VERSION_SQL).one()
    return tuple(value or 0 for value in row)
