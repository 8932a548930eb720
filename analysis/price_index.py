"""Price indices: a chained daily matched-item Jevons index, and baskets of such indices with weights.

An *item* is one good at one seller in one region (``merchant_id``, ``product_id``, ``region``): the
same thing priced day after day. Each day's index moves by the geometric mean of the price relatives
of the items priced both that day and on the previous index day; items priced on only one of the two
days are left out of that link. Missing prices are never imputed, so a day on which no item can be
matched has no index value, and the next day is linked to the last day that has one.

References
----------
.. [1] ILO, IMF, OECD, UNECE, Eurostat, World Bank (2004). *Consumer Price Index Manual: Theory and
   Practice*, ch. 9 (calculation of elementary indices; the Jevons index, chaining) and ch. 20
   (elementary indices: the Jevons index as the geometric mean of price relatives).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

ITEM_KEYS = ("merchant_id", "product_id", "region")
BASE_VALUE = 100.0


def _chain_jevons(dates: np.ndarray, codes: np.ndarray, log_prices: np.ndarray, base: float) -> pd.DataFrame:
    """Chain one group's daily links; rows must be sorted by date."""
    days, starts = np.unique(dates, return_index=True)
    bounds = [*starts[1:], len(dates)]
    values = np.full(len(days), np.nan)
    matched = np.zeros(len(days), dtype="int64")
    priced = np.diff(np.r_[starts, len(dates)])
    level: float | None = None
    reference_codes = reference_logs = np.empty(0)
    for position, (first, last) in enumerate(zip(starts, bounds, strict=True)):
        day_codes, day_logs = codes[first:last], log_prices[first:last]
        if level is None:
            level = base
        else:
            _, now, before = np.intersect1d(
                day_codes, reference_codes, assume_unique=True, return_indices=True
            )
            if len(now) == 0:
                continue
            level *= float(np.exp(np.mean(day_logs[now] - reference_logs[before])))
            matched[position] = len(now)
        values[position] = level
        reference_codes, reference_logs = day_codes, day_logs
    return pd.DataFrame({"date": days, "index": values, "matched": matched, "priced": priced})


def price_index_jevons(
    prices: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    items: Sequence[str] = ITEM_KEYS,
    base: float = BASE_VALUE,
) -> pd.DataFrame:
    """Chained daily matched-item Jevons index per group, ``base`` on each group's first day.

    The link from the previous index day *s* to day *t* is the geometric mean of ``p_t / p_s`` over
    the items priced on both days; the index on *t* is the index on *s* times that link [1]_.

    Parameters
    ----------
    prices : DataFrame
        Observations: ``date`` (datetime64), ``unit_price`` [元/standard unit], the ``items`` columns
        and the ``by`` columns. Several quotes of an item on one day count as their geometric mean;
        rows with a missing or non-positive price are left out.
    by : sequence of str
        Columns to compute one index per value of, e.g. ``("category",)``; empty for a single index.
    items : sequence of str
        The columns that identify an item.
    base : float
        Index value on the first day of each group.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``date``, ``index`` [base = first day], ``matched`` (items in the day's
        link; 0 on the first day) and ``priced`` (items priced that day), one row per group and day with
        prices. ``index`` is NaN on a day when no item was priced on the previous index day too.

    References
    ----------
    .. [1] ILO et al. (2004), *Consumer Price Index Manual*, ch. 9 and 20.
    """
    valid = prices[prices["unit_price"] > 0]
    codes = valid.groupby(list(items), observed=True, sort=False, dropna=False).ngroup().to_numpy()
    quotes = pd.DataFrame(
        {
            **{column: valid[column].to_numpy() for column in by},
            "date": valid["date"].dt.normalize().to_numpy(),
            "code": codes,
            "log_price": np.log(valid["unit_price"].to_numpy(dtype="float64")),
        }
    )
    frame = quotes.groupby([*by, "date", "code"], sort=True, dropna=False)["log_price"].mean().reset_index()
    columns = [*by, "date", "index", "matched", "priced"]
    if frame.empty:
        return pd.DataFrame({column: pd.Series(dtype="float64") for column in columns}).astype(
            {"date": "datetime64[ns]", "matched": "int64", "priced": "int64"}
        )
    groups = frame.groupby(list(by), sort=True, dropna=False) if by else [((), frame)]
    parts = []
    for key, group in groups:
        chained = _chain_jevons(
            group["date"].to_numpy(), group["code"].to_numpy(), group["log_price"].to_numpy(), base
        )
        labels = key if isinstance(key, tuple) else (key,)
        parts.append(chained.assign(**dict(zip(by, labels, strict=True))))
    return pd.concat(parts, ignore_index=True)[columns]


def price_index_basket(
    components: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    base: float = BASE_VALUE,
    min_weight_share: float = 0.5,
) -> pd.DataFrame:
    """Chained fixed-weight basket of component indices, ``base`` on the first day.

    The link from the previous basket day *s* to day *t* is the weighted arithmetic mean of the
    component links ``I_j,t / I_j,s`` over the components with an index on both days, their weights
    scaled to sum to one (a chained Young index of elementary indices [1]_). A day on which those
    components carry less than ``min_weight_share`` of the basket's weight has no basket value.

    Parameters
    ----------
    components : DataFrame
        ``component`` (the keys of ``weights``), ``date`` (datetime64) and ``index`` (any base), e.g.
        per-product results of :func:`price_index_jevons`. Components not in ``weights`` are ignored.
    weights : mapping of str to float
        Relative weight per component (need not sum to one); must be positive.
    base : float
        Basket value on the first day with enough weight.
    min_weight_share : float
        Share of the total weight a day's link must cover, 0..1.

    Returns
    -------
    DataFrame
        ``date``, ``index`` [base = first day], ``weight_share`` (share of the basket weight in the day's
        link, 0..1) and ``components`` (how many components it covers), one row per day with any
        component index.

    References
    ----------
    .. [1] ILO et al. (2004), *Consumer Price Index Manual*, ch. 9 (aggregation of elementary indices
       with fixed weights; chained indices).
    """
    if any(weight <= 0 for weight in weights.values()):
        raise ValueError("basket weights must be positive")
    known = components[components["component"].isin(list(weights)) & components["index"].notna()]
    wide = known.pivot_table(index="date", columns="component", values="index", aggfunc="last").sort_index()
    weight_row = np.array([weights[str(name)] for name in wide.columns], dtype="float64")
    total = float(sum(weights.values()))
    levels = wide.to_numpy(dtype="float64")
    values = np.full(len(wide), np.nan)
    shares = np.zeros(len(wide))
    covered = np.zeros(len(wide), dtype="int64")
    previous: int | None = None
    for position in range(len(wide)):
        today = ~np.isnan(levels[position])
        if previous is None:
            shares[position], covered[position] = weight_row[today].sum() / total, today.sum()
            if shares[position] >= min_weight_share:
                values[position], previous = base, position
            continue
        both = today & ~np.isnan(levels[previous])
        share = weight_row[both].sum() / total
        shares[position], covered[position] = share, both.sum()
        if share < min_weight_share:
            continue
        relatives = levels[position, both] / levels[previous, both]
        values[position] = values[previous] * float(np.average(relatives, weights=weight_row[both]))
        previous = position
    return pd.DataFrame(
        {"date": wide.index.to_numpy(), "index": values, "weight_share": shares, "components": covered}
    )
