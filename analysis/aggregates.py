"""Price aggregates: low, average, high, median and count of unit prices per group and period.

Inputs are observation frames (see :mod:`analysis.detectors`): one row per price seen, ``date``
(datetime64, one day) and ``unit_price`` [元/standard unit]. A period is a day, an ISO week starting on
Monday, or a calendar month; it is labelled by its first day.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

Frequency = Literal["day", "week", "month"]
FREQUENCIES: tuple[Frequency, ...] = ("day", "week", "month")
AGGREGATE_COLUMNS = ["low", "avg", "high", "median", "count"]


def period_start(dates: pd.Series, frequency: Frequency) -> pd.Series:
    """The first day of the period each date falls in.

    Parameters
    ----------
    dates : Series of datetime64
    frequency : {"day", "week", "month"}
        Weeks start on Monday; months on the 1st.

    Returns
    -------
    Series of datetime64, with the index of ``dates``.
    """
    days = dates.dt.normalize()
    if frequency == "day":
        return days
    if frequency == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    if frequency == "month":
        return days.dt.to_period("M").dt.start_time
    raise ValueError(f"unknown frequency {frequency!r}; expected one of {FREQUENCIES}")


def price_aggregates(
    observations: pd.DataFrame,
    *,
    by: Sequence[str] = ("product_id", "region", "merchant_id"),
    frequency: Frequency = "day",
) -> pd.DataFrame:
    """Low, average, high, median and count of unit prices per group and period.

    Parameters
    ----------
    observations : DataFrame
        At least ``date`` (datetime64), ``unit_price`` [元/standard unit] and the columns in ``by``.
        Rows with a missing or non-positive price are left out: they are not prices.
    by : sequence of str
        Grouping columns, e.g. ``("product_id", "region", "merchant_id")`` for one series per seller,
        ``("product_id", "region")`` for the market. Empty for one series over all rows.
    frequency : {"day", "week", "month"}

    Returns
    -------
    DataFrame
        One row per group and period, sorted by them: the ``by`` columns, ``period`` (first day of the
        period), ``low``, ``avg``, ``high``, ``median`` [元/standard unit] and ``count`` (observations).
    """
    keys = [*by, "period"]
    prices = observations[observations["unit_price"] > 0]
    frame = pd.DataFrame(
        {
            **{column: prices[column] for column in by},
            "period": period_start(prices["date"], frequency),
            "unit_price": prices["unit_price"].astype("float64"),
        }
    )
    grouped = frame.groupby(keys, observed=True, sort=True, dropna=False)["unit_price"]
    result = grouped.agg(low="min", avg="mean", high="max", median="median", count="size")
    return result.reset_index().astype({"count": "int64"})[[*keys, *AGGREGATE_COLUMNS]]
