"""Episodes: consecutive flagged days of one seller and item, and how severe they are."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.detectors import SERIES_KEYS
from analysis.rules import SEVERITIES, SeverityBands

EPISODE_COLUMNS = [
    *SERIES_KEYS,
    "start_date",
    "end_date",
    "n_days",
    "current",
    "reference",
    "change",
    "market_change",
    "peak_change",
    "peak_breach",
]


def group_episodes(flags: pd.DataFrame, *, max_gap_days: int = 1) -> pd.DataFrame:
    """Group flagged days into episodes.

    Days of the same merchant, product and region belong to one episode while the gap between two
    flagged days is at most ``max_gap_days`` unflagged days (a missing price or one quiet day does not
    split a gouging episode).

    Parameters
    ----------
    flags : DataFrame
        A flag frame (:data:`analysis.detectors.FLAG_COLUMNS`); ids may be missing (market-level flags).
    max_gap_days : int
        Unflagged days tolerated inside an episode [days].

    Returns
    -------
    DataFrame
        One row per episode, columns :data:`EPISODE_COLUMNS`: ``start_date``/``end_date``
        (Timestamps), ``n_days`` (flagged days), the values of the last flagged day (``current``,
        ``reference``, ``change``, ``market_change``) and the largest ``change`` and ``breach``.
    """
    if flags.empty:
        return pd.DataFrame({column: pd.Series(dtype="float64") for column in EPISODE_COLUMNS})
    ordered = flags.assign(region=flags["region"].astype("object").fillna("")).sort_values(
        [*SERIES_KEYS, "date"]
    )
    keys = ordered[SERIES_KEYS].astype({"merchant_id": "float64", "product_id": "float64"}).fillna(-1)
    new_series = keys.ne(keys.shift()).any(axis=1)
    long_gap = ordered["date"].diff() > pd.Timedelta(days=max_gap_days + 1)
    episode = (new_series | long_gap).cumsum().rename("episode")
    grouped = ordered.groupby(episode, sort=True)
    episodes = grouped.agg(
        merchant_id=("merchant_id", "first"),
        product_id=("product_id", "first"),
        region=("region", "first"),
        start_date=("date", "min"),
        end_date=("date", "max"),
        n_days=("date", "size"),
        current=("current", "last"),
        reference=("reference", "last"),
        change=("change", "last"),
        market_change=("market_change", "last"),
        peak_change=("change", "max"),
        peak_breach=("breach", "max"),
    )
    return episodes.reset_index(drop=True)[EPISODE_COLUMNS]


def severity_from_breach(breach: pd.Series, bands: SeverityBands) -> pd.Series:
    """Severity of each breach: ``low`` below ``bands.medium``, then medium, high, critical.

    Parameters
    ----------
    breach : Series
        How far past the rule's threshold, in the rule's units (see the rule file).
    bands : SeverityBands
        Lower bounds of medium, high and critical.

    Returns
    -------
    Series
        ``low`` | ``medium`` | ``high`` | ``critical``, same index as ``breach``.
    """
    values = breach.to_numpy(dtype="float64")
    level = (
        (values >= bands.medium).astype(int)
        + (values >= bands.high).astype(int)
        + (values >= bands.critical).astype(int)
    )
    return pd.Series(np.asarray(SEVERITIES, dtype=object)[level], index=breach.index, dtype=object)


def series_excerpt(
    seller: pd.DataFrame,
    market: pd.Series,
    reference: pd.Series,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    pad_days: int = 14,
) -> dict[str, list[str | float | None]]:
    """Dates and prices around an episode, for charting it next to the market and the reference.

    Parameters
    ----------
    seller : DataFrame
        The seller's observations of the item (``date``, ``unit_price`` [元/unit]).
    market : Series
        Market median price by date [元/unit].
    reference : Series
        The rule's reference price by date (flagged days) [元/unit].
    start, end : Timestamp
        The episode.
    pad_days : int
        Days shown before the episode [days].

    Returns
    -------
    dict
        ``dates`` (ISO), ``merchant``, ``market_median`` and ``reference`` lists of equal length,
        ``None`` where a value is missing.
    """
    first = start - pd.Timedelta(days=pad_days)
    window = seller[(seller["date"] >= first) & (seller["date"] <= end)]
    prices = window.groupby("date")["unit_price"].last()
    dates = prices.index.union(reference.index[(reference.index >= first) & (reference.index <= end)])

    def values(series: pd.Series) -> list[str | float | None]:
        aligned = series[~series.index.duplicated()].reindex(dates)
        return [None if pd.isna(value) else round(float(value), 4) for value in aligned]

    return {
        "dates": [day.date().isoformat() for day in dates],
        "merchant": values(prices),
        "market_median": values(market),
        "reference": values(reference),
    }
