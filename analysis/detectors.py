"""Gouging detectors: observation frames in, flagged seller-days out.

Every detector returns a *flag frame*, one row per (merchant, product, region, day) that breaches its
rule, with the columns of :data:`FLAG_COLUMNS`; :func:`analysis.episodes.group_episodes` turns
consecutive flagged days into episodes. Price detectors keep the index of the observation rows they
flag.

Observation frames have the columns ``date`` (datetime64, one day),
``merchant_id``, ``product_id``, ``region``, ``unit_price`` [元/standard unit, e.g. 元/500g],
``price_type`` (``retail`` | ``wholesale``) and ``availability`` (``in_stock`` | ``out_of_stock`` |
``limited`` | missing).

Wholesale vegetables swing by tens of percent in a day, so the detectors that run every day compare a
seller with the market (the median of the other sellers of the item, region and day), never with its
own past price alone. Sellers also pass a market move on a day or two late, and keep a shelf price for a
day or more; right after a move such a seller stands apart from the day's median without gouging, so
the market-relative detectors judge a seller against the highest market level of the last few days
(:func:`market_context`), where the wholesale price shows a cost move the day it happens.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import poisson

from analysis.rules import (
    ComplaintSpikeParams,
    EmergencyRiseParams,
    MarketSurgeParams,
    MarkupRatioParams,
    PeerOutlierParams,
    SupplyShortageParams,
)

SERIES_KEYS = ["merchant_id", "product_id", "region"]
MARKET_KEYS = ["product_id", "region", "date"]
FLAG_COLUMNS = [*SERIES_KEYS, "date", "current", "reference", "change", "market_change", "breach"]

#: 1 / Φ⁻¹(3/4): scales a median absolute deviation to a standard deviation for normal data.
MAD_TO_SIGMA = 1.4826
#: Ratios of prices in 元 carry float error (12 / 10 - 1 < 0.2); a rise this close to a threshold is on it.
RATIO_TOLERANCE = 1e-9
#: Φ⁻¹(3/4): median minus lower quartile of a normal distribution, in standard deviations.
HALF_IQR_TO_SIGMA = 0.6745
#: Market days over which the market's usual retail margin over the wholesale price is taken.
MARGIN_WINDOW = 28


# Knob defaults come from the rule kinds' parameter models, their one home.
_PEER_OUTLIER = PeerOutlierParams()
_MARKET_SURGE = MarketSurgeParams()
_EMERGENCY_RISE = EmergencyRiseParams()
_MARKUP_RATIO = MarkupRatioParams()
_COMPLAINT_SPIKE = ComplaintSpikeParams()
_SUPPLY_SHORTAGE = SupplyShortageParams()


def empty_flags() -> pd.DataFrame:
    """A flag frame with no rows and the right columns."""
    return pd.DataFrame({column: pd.Series(dtype="float64") for column in FLAG_COLUMNS}).astype(
        {"date": "datetime64[ns]", "region": "object"}
    )


def leave_one_out_median(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """For each element, the median of the *other* elements of its group.

    Parameters
    ----------
    values : ndarray of float
    groups : ndarray of int
        Group code of each element.

    Returns
    -------
    ndarray
        Same order as ``values``; NaN for an element alone in its group.
    """
    count = len(values)
    order = np.lexsort((values, groups))
    ordered_values = values[order]
    ordered_groups = groups[order]
    is_start = np.r_[True, ordered_groups[1:] != ordered_groups[:-1]] if count else np.array([], dtype=bool)
    start = np.maximum.accumulate(np.where(is_start, np.arange(count), 0))
    sizes = np.diff(np.r_[np.flatnonzero(is_start), count])
    size = np.repeat(sizes, sizes)
    rank = np.arange(count) - start
    others = size - 1

    def remaining(position: np.ndarray) -> np.ndarray:
        index = start + position + (position >= rank)
        return ordered_values[np.minimum(index, count - 1)]

    median = (remaining((others - 1) // 2) + remaining(others // 2)) / 2
    result = np.empty(count)
    result[order] = np.where(others >= 1, median, np.nan)
    return result


def retail_with_market(observations: pd.DataFrame) -> pd.DataFrame:
    """Retail rows with the market they sell in.

    Parameters
    ----------
    observations : DataFrame
        Observation columns (module docstring).

    Returns
    -------
    DataFrame
        The retail rows with a positive price (input index kept) plus ``log_price`` [ln 元/unit],
        ``market_log_price`` (median of ``log_price`` over the sellers of the same product, region and
        day) [ln 元/unit], ``peer_log_price`` (the same median over the *other* sellers, so a gouging
        seller does not lift its own yardstick) [ln 元/unit], ``n_sellers`` (how many sellers that
        day, the seller included) and ``wholesale_log_price`` (the wholesale price of the item and day,
        see :func:`wholesale_prices`; NaN where none was seen) [ln 元/unit].
    """
    retail = observations[(observations["price_type"] == "retail") & (observations["unit_price"] > 0)]
    log_price = np.log(retail["unit_price"].to_numpy(dtype="float64"))
    grouped = retail.assign(log_price=log_price).groupby(MARKET_KEYS, observed=True, sort=False)["log_price"]
    market_day = grouped.ngroup().to_numpy()
    return retail.assign(
        log_price=log_price,
        market_log_price=grouped.transform("median"),
        peer_log_price=leave_one_out_median(log_price, market_day),
        n_sellers=grouped.transform("size"),
        wholesale_log_price=_wholesale_log_prices(observations, retail, market_day),
    )


def _wholesale_log_prices(
    observations: pd.DataFrame, retail: pd.DataFrame, market_day: np.ndarray
) -> np.ndarray:
    """ln of the wholesale price of each retail row's item and day, looked up once per market day."""
    result = np.full(len(retail), np.nan)
    if not (observations["price_type"] == "wholesale").any():
        return result
    known = market_day >= 0
    days, first_row = np.unique(market_day[known], return_index=True)
    keys = retail.iloc[np.flatnonzero(known)[first_row]]
    per_day = np.full(days.max() + 1 if len(days) else 0, np.nan)
    per_day[days] = np.log(wholesale_prices(observations, keys).to_numpy(dtype="float64"))
    result[known] = per_day[market_day[known]]
    return result


def _flags(frame: pd.DataFrame, mask: pd.Series | np.ndarray, **columns: pd.Series) -> pd.DataFrame:
    selected = frame.loc[mask, [*SERIES_KEYS, "date"]]
    extra = {name: pd.Series(values, index=frame.index)[mask] for name, values in columns.items()}
    return selected.assign(**extra)[FLAG_COLUMNS]


def market_context(
    frame: pd.DataFrame, *, lag_days: int = 0, margin_window: int = MARGIN_WINDOW
) -> pd.DataFrame:
    """Where the market stood over the last few days, for judging a seller that may follow it late.

    The *level* of a market day is the higher of the retail median and the wholesale price grossed up
    by the market's usual retail margin (the median of ``ln m - ln w`` over the market's last
    ``margin_window`` days with both): the wholesale price shows a cost move the day it happens, before
    most retailers have passed it on, and a one-day wholesale spike that only the quickest sellers
    follow may never reach the retail median at all. A seller that follows the market ``lag_days``
    days late, or keeps its shelf price that long, prices at one of the levels of its last
    ``lag_days`` days.

    Parameters
    ----------
    frame : DataFrame
        Rows with ``product_id``, ``region``, ``date``, ``market_log_price`` and optionally
        ``wholesale_log_price`` [ln 元/unit] (output of :func:`retail_with_market`).
    lag_days : int
        How many earlier market days (with prices) a seller may still be pricing at [days].
    margin_window : int
        Market days the usual retail margin is taken over.

    Returns
    -------
    DataFrame
        Index of ``frame``: ``cost_level`` (today's wholesale price times the usual margin; NaN
        without a wholesale price) [ln 元/unit], ``earlier_level`` (the highest level of the market's
        ``lag_days`` days before today; NaN for ``lag_days`` 0 or no earlier day) [ln 元/unit],
        ``recent_move`` (see :func:`recent_market_move`) [ln 元], ``wholesale_known`` (bool) and
        ``has_earlier_days`` (bool: the frame holds the market's ``lag_days`` days before today, so a
        run that reads a later window judges the day as one that read an earlier window did).
    """
    by_market = ["product_id", "region"]
    has_wholesale = "wholesale_log_price" in frame
    columns = ["market_log_price", *(["wholesale_log_price"] if has_wholesale else [])]
    by_day = frame.groupby(MARKET_KEYS, observed=True)
    daily = by_day[columns].first()
    retail_level = daily["market_log_price"]
    cost_level = pd.Series(np.nan, index=daily.index)
    if has_wholesale:
        wholesale = daily["wholesale_log_price"]
        margin = (
            (retail_level - wholesale)
            .groupby(level=by_market, observed=True)
            .rolling(margin_window, min_periods=1)
            .median()
            .droplevel([0, 1])
        )
        cost_level = wholesale + margin
    level = np.fmax(retail_level, cost_level)
    earlier_level = pd.Series(np.nan, index=daily.index)
    grouped_level = level.groupby(level=by_market, observed=True)
    for lag in range(1, lag_days + 1):
        earlier_level = np.fmax(earlier_level, grouped_level.shift(lag))
    step = retail_level.groupby(level=by_market, observed=True).diff().abs()
    previous = step.groupby(level=by_market, observed=True).shift(1)
    table = pd.DataFrame(
        {
            "cost_level": cost_level,
            "earlier_level": earlier_level,
            "recent_move": np.fmax(step, previous).fillna(0.0),
            "wholesale_known": cost_level.notna(),
            "has_earlier_days": grouped_level.cumcount() >= lag_days,
        }
    )
    # Each row takes its market day's values by position (groups and ``daily`` share the sorted order).
    day_of_row = by_day.ngroup().to_numpy()
    known = day_of_row >= 0
    rows = np.where(known, day_of_row, 0)
    return pd.DataFrame(
        {
            name: np.where(known, column.to_numpy()[rows], np.nan if column.dtype.kind == "f" else False)
            for name, column in table.items()
        },
        index=frame.index,
        copy=False,
    )


def lag_tolerant_level(today: pd.Series, context: pd.DataFrame) -> pd.Series:
    """The highest of today's market reference, today's cost level and the earlier days' levels [ln 元]."""
    return np.fmax(np.fmax(today, context["cost_level"]), context["earlier_level"])


def kept_price_level(frame: pd.DataFrame, level: pd.Series, candidates: pd.Series) -> pd.Series:
    """A kept shelf price is judged at the highest market level since the seller set it.

    A seller that keeps its price while the market falls has not raised it; it only passes the fall
    on late. A kept price (equal to the seller's previous one) is therefore judged at the highest
    ``level`` over the run of equal prices it belongs to. Raising the level can only clear a flag, so
    only the series with a ``candidates`` row (flagged without this) are looked at.

    Parameters
    ----------
    frame : DataFrame
        Rows with :data:`SERIES_KEYS`, ``date`` and ``log_price``.
    level : Series
        The level each row is judged at [ln 元/unit], index of ``frame``.
    candidates : Series of bool
        Rows that breach at ``level``, index of ``frame``.

    Returns
    -------
    Series
        ``level``, raised on kept prices of the candidates' series [ln 元/unit], index of ``frame``.
    """
    if not candidates.any():
        return level
    series = (frame["merchant_id"].astype("Int64").fillna(-1).to_numpy(dtype="int64") << 32) + frame[
        "product_id"
    ].to_numpy(dtype="int64")
    involved = np.isin(series, np.unique(series[candidates.to_numpy()]))
    ordered = frame.loc[involved, [*SERIES_KEYS, "date", "log_price"]].sort_values([*SERIES_KEYS, "date"])
    keys = ordered[SERIES_KEYS].astype({"region": "object"})
    new_series = keys.ne(keys.shift()).any(axis=1)
    price_changed = (ordered["log_price"] - ordered["log_price"].shift()).abs() > RATIO_TOLERANCE
    run = (new_series | price_changed).cumsum().to_numpy()
    raised = level.copy()
    raised.loc[ordered.index] = level.loc[ordered.index].groupby(run).cummax().to_numpy()
    return raised


def recent_market_move(frame: pd.DataFrame) -> pd.Series:
    """The market's largest one-day move over the last two days of its own series, per row.

    Parameters
    ----------
    frame : DataFrame
        Rows with ``product_id``, ``region``, ``date`` and ``market_log_price`` [ln 元/unit].

    Returns
    -------
    Series
        ``max(|ln m(d) - ln m(d-1)|, |ln m(d-1) - ln m(d-2)|)`` over the market's days with prices
        [ln 元], index of ``frame``; 0 where the market has no earlier day.
    """
    return market_context(frame[[*MARKET_KEYS, "market_log_price"]])["recent_move"]


def _wholesale_column(retail: pd.DataFrame) -> list[str]:
    return ["wholesale_log_price"] if "wholesale_log_price" in retail else []


def _move_allowance(context: pd.DataFrame, move_allowance: float) -> pd.Series:
    """The extra excess a market move asks for on days the wholesale price does not show the move [ln 元]."""
    return (move_allowance * context["recent_move"]).where(~context["wholesale_known"], 0.0)


def detect_peer_outliers(
    retail: pd.DataFrame,
    *,
    threshold: float = 3.5,
    min_peers: int = _PEER_OUTLIER.min_peers,
    min_premium: float = _PEER_OUTLIER.min_premium,
    mad_floor: float = 0.01,
    move_allowance: float = _PEER_OUTLIER.move_allowance,
    lag_days: int = _PEER_OUTLIER.lag_days,
) -> pd.DataFrame:
    """Sellers priced far above the other sellers of the same item, region and day.

    The robust z of a seller is ``(ln p - ln reference) / (1.4826 MAD)`` over the sellers of the
    item, region and day; a seller is flagged when z exceeds ``threshold`` and its premium over the
    reference is at least ``min_premium``. The reference is the others' median, or the market's level
    of the last ``lag_days`` days or today's wholesale cost level when higher (:func:`market_context`),
    so a seller that passes a market move on a day or two late is not an outlier for it; a market day
    is judged once the frame holds its ``lag_days`` earlier days.

    Parameters
    ----------
    retail : DataFrame
        Output of :func:`retail_with_market`.
    threshold : float
        Robust z above which a price is an outlier [-].
    min_peers : int
        Fewest sellers (the seller included) a day needs to be judged.
    min_premium : float
        Smallest premium over the peer median that counts [fraction, 0.25 = 25%].
    mad_floor : float
        Floor of the MAD, so identical peer prices do not make every cent an outlier [ln 元].
    move_allowance : float
        On days without a wholesale price the retail median is the only view of the market and trails
        a move; the first seller to pass the move on then stands out for a day or two, so the premium
        must also beat ``move_allowance`` times :func:`recent_market_move` [-].
    lag_days : int
        Earlier market days a seller may still be pricing at (repricing lag, sticky prices) [days].

    Returns
    -------
    DataFrame
        Flag frame: ``current`` and ``reference`` (the peer median or the higher lag-tolerant market
        level) [元/unit], ``change`` (premium over the reference) [fraction], ``breach`` = premium -
        ``min_premium`` [fraction].

    References
    ----------
    Iglewicz, B. and Hoaglin, D. (1993), How to Detect and Handle Outliers.
    Cabral, L. and Xu, L. (2021), Seller reputation and price gouging: evidence from the COVID-19
    pandemic, Economic Inquiry 59(3).
    """
    needed = [*MARKET_KEYS, "merchant_id", "unit_price", "log_price", "market_log_price", "peer_log_price"]
    frame = retail.loc[retail["n_sellers"] >= min_peers, [*needed, *_wholesale_column(retail)]]
    if frame.empty:
        return empty_flags()
    context = market_context(frame, lag_days=lag_days)
    spread = (frame["log_price"] - frame["market_log_price"]).abs()
    mad = spread.groupby([frame[key] for key in MARKET_KEYS], observed=True).transform("median")
    scale = MAD_TO_SIGMA * np.maximum(mad, mad_floor)
    required = np.log1p(min_premium) + _move_allowance(context, move_allowance)

    def breaches(reference: pd.Series) -> pd.Series:
        deviation = frame["log_price"] - reference
        return (deviation / scale > threshold) & (deviation >= required - RATIO_TOLERANCE)

    level = lag_tolerant_level(frame["peer_log_price"], context)
    reference = kept_price_level(frame, level, breaches(level) & context["has_earlier_days"])
    mask = breaches(reference) & context["has_earlier_days"]
    premium = np.expm1(frame["log_price"] - reference)
    return _flags(
        frame,
        mask,
        current=frame["unit_price"],
        reference=np.exp(reference),
        change=premium,
        market_change=pd.Series(np.nan, index=frame.index),
        breach=premium - min_premium,
    )


def detect_market_surges(
    retail: pd.DataFrame,
    *,
    window: int = 28,
    threshold: float = 0.15,
    min_peers: int = _MARKET_SURGE.min_peers,
    min_z: float = _MARKET_SURGE.min_z,
    scale_floor: float = 0.02,
    move_allowance: float = _MARKET_SURGE.move_allowance,
    lag_days: int = _MARKET_SURGE.lag_days,
) -> pd.DataFrame:
    """Sellers whose price rose much more than the market's.

    A seller's position is ``r = ln p - ln m`` with ``m`` the median of all sellers that day. Its usual
    position is the median of ``r`` over its previous ``window`` prices; the excess
    ``exp(ln p - ln M - usual) - 1`` is the seller's change minus the market's change since then, with
    ``M`` the higher of ``m`` and the market's levels of the last ``lag_days`` days and today's
    wholesale cost level (:func:`market_context`). A market-wide move shifts ``p`` and ``m`` alike and
    leaves ``r`` where it was; a seller that passes the move on a day or two late, or keeps its shelf
    price through a fall, still prices at one of the recent levels ``M`` takes the highest of. (The
    median here includes the seller: it then follows the seller's own repricing lags a little, which on
    the real-market benchmark cuts false alerts far more than it damps real surges.)

    Parameters
    ----------
    retail : DataFrame
        Output of :func:`retail_with_market`.
    window : int
        How many earlier prices of the seller set its usual position; a series needs that many before
        it is judged [observations].
    threshold : float
        Smallest excess that counts [fraction, 0.15 = 15%].
    min_peers : int
        Fewest sellers the market median of a day needs.
    min_z : float
        Smallest excess in units of the seller's own scatter around its usual position (median minus
        lower quartile of ``r`` over the window / 0.6745: the lower half, which gouging days never
        reach; at least ``scale_floor``) [-].
    scale_floor : float
        Floor of that scatter [ln 元].
    move_allowance : float
        On days without a wholesale price the retail median is the only view of the market and trails
        a move, so the excess must also beat ``move_allowance`` times the market's largest one-day
        move over the last two days (:func:`recent_market_move`) [-].
    lag_days : int
        Earlier market days a seller may still be pricing at (repricing lag, sticky prices) [days].

    Returns
    -------
    DataFrame
        Flag frame: ``current`` [元/unit]; ``reference`` = the seller's usual price at the market level
        ``M`` [元/unit]; ``change`` = excess [fraction]; ``market_change`` = the market's change over
        the window [fraction]; ``breach`` = excess - ``threshold`` [fraction].
    """
    needed = [*SERIES_KEYS, "date", "unit_price", "log_price", "market_log_price", *_wholesale_column(retail)]
    frame = retail.loc[retail["n_sellers"] >= min_peers, needed].sort_values([*SERIES_KEYS, "date"])
    if len(frame) <= window:
        return empty_flags()
    position = frame["log_price"] - frame["market_log_price"]
    history = position.rolling(window)
    usual = history.median()
    scatter = ((usual - history.quantile(0.25)) / HALF_IQR_TO_SIGMA).shift(1)
    usual = usual.shift(1)
    market_usual = frame["market_log_price"].rolling(window).median().shift(1)
    has_history = frame.groupby(SERIES_KEYS, observed=True, sort=False).cumcount() >= window
    context = market_context(frame, lag_days=lag_days)
    required = np.log1p(threshold) + _move_allowance(context, move_allowance)
    judged = has_history & context["has_earlier_days"]

    def breaches(reference_log: pd.Series) -> pd.Series:
        excess_log = frame["log_price"] - reference_log
        return (
            judged
            & (excess_log >= required - RATIO_TOLERANCE)
            & (excess_log / np.maximum(scatter, scale_floor) >= min_z)
        )

    usual_price = lag_tolerant_level(frame["market_log_price"], context) + usual
    reference_log = kept_price_level(frame, usual_price, breaches(usual_price))
    mask = breaches(reference_log)
    excess = np.expm1(frame["log_price"] - reference_log)
    return _flags(
        frame,
        mask,
        current=frame["unit_price"],
        reference=np.exp(reference_log),
        change=excess,
        market_change=np.expm1(frame["market_log_price"] - market_usual),
        breach=excess - threshold,
    )


def detect_emergency_rises(
    retail: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date | None,
    threshold: float,
    reference_days: int,
    reference: Literal["last", "mean"] = "last",
    inclusive: bool = _EMERGENCY_RISE.inclusive,
    net_of_market: bool = _EMERGENCY_RISE.net_of_market,
    lag_days: int = _EMERGENCY_RISE.lag_days,
) -> pd.DataFrame:
    """Prices during an emergency above the seller's price before it.

    The reference is the seller's last price (``"last"``, e.g. CA PC §396) or its average price
    (``"mean"``, e.g. 73 P.S. §232.4) over the ``reference_days`` before ``start``. With
    ``net_of_market`` a rise must also exceed the threshold after taking out the market's own rise over
    the same reference (the median seller's), so a cost shock passed on by every seller is not flagged.
    The market's rise is measured at its highest level of the last ``lag_days`` days and today's
    wholesale cost level (:func:`market_context`), so a seller a day or two late to pass on a fall is
    not flagged for it; the rise over the seller's own reference must breach the threshold in any case.

    Parameters
    ----------
    retail : DataFrame
        Output of :func:`retail_with_market`.
    start, end : date
        The emergency's first and last day (``end`` None: still in force).
    threshold : float
        Rise that breaches the rule [fraction; 0 = any rise].
    reference_days : int
        Length of the reference window before ``start`` [days].
    reference : {"last", "mean"}
    inclusive : bool
        Whether a rise equal to the threshold breaches (``>=``) or not (``>``).
    net_of_market : bool
    lag_days : int
        Earlier market days a seller may still be pricing at (repricing lag, sticky prices) [days].

    Returns
    -------
    DataFrame
        Flag frame: ``current``, ``reference`` [元/unit], ``change`` = rise over the reference
        [fraction], ``market_change`` = the market's rise [fraction], ``breach`` = rise - threshold.
    """
    first_day = pd.Timestamp(start)
    dates = retail["date"]
    before = retail[(dates < first_day) & (dates >= first_day - pd.Timedelta(days=reference_days))]
    during = retail[(dates >= first_day) & ((dates <= pd.Timestamp(end)) if end else True)]
    if before.empty or during.empty:
        return empty_flags()
    before = before.sort_values("date")
    how = "last" if reference == "last" else "mean"
    seller_reference = before.groupby(SERIES_KEYS, observed=True)["unit_price"].agg(how).rename("ref")
    market_daily = np.exp(before.groupby(MARKET_KEYS, observed=True)["market_log_price"].first())
    market_reference = market_daily.groupby(level=["product_id", "region"], observed=True).agg(how)
    market_level = lag_tolerant_level(retail["market_log_price"], market_context(retail, lag_days=lag_days))
    joined = during.join(seller_reference, on=SERIES_KEYS, how="inner").join(
        market_reference.rename("market_ref"), on=["product_id", "region"]
    )
    change = joined["unit_price"] / joined["ref"] - 1
    market_change = np.exp(market_level.loc[joined.index]) / joined["market_ref"] - 1
    net = ((1 + change) / (1 + market_change) - 1).fillna(change)
    if inclusive:
        breaches = lambda value: value >= threshold - RATIO_TOLERANCE  # noqa: E731
    else:
        breaches = lambda value: value > threshold + RATIO_TOLERANCE  # noqa: E731
    mask = breaches(change) & (breaches(net) if net_of_market else True)
    return _flags(
        joined,
        mask,
        current=joined["unit_price"],
        reference=joined["ref"],
        change=change,
        market_change=market_change,
        breach=change - threshold,
    )


def wholesale_prices(observations: pd.DataFrame, retail: pd.DataFrame, *, lag_days: int = 0) -> pd.Series:
    """The wholesale price of the same item and day for each retail row.

    The median wholesale price in the retail row's region, else over all regions (a city's retailers
    are often supplied from another city's wholesale market, e.g. Xinfadi). With ``lag_days`` it is
    the highest such price of the day and the wholesale market's ``lag_days`` days before it: stock
    bought a day or two earlier cost what the market asked then.

    Returns
    -------
    Series
        [元/unit], index of ``retail``, NaN where no wholesale price was seen that day.
    """
    wholesale = observations[(observations["price_type"] == "wholesale") & (observations["unit_price"] > 0)]
    prices = wholesale["unit_price"]
    same_region = prices.groupby([wholesale[key] for key in MARKET_KEYS], observed=True).median()
    all_regions = prices.groupby([wholesale["product_id"], wholesale["date"]], observed=True).median()
    same_region = _highest_recent(same_region, ["product_id", "region"], lag_days).rename("same")
    all_regions = _highest_recent(all_regions, ["product_id"], lag_days)
    joined = retail[MARKET_KEYS].join(same_region, on=MARKET_KEYS)
    joined = joined.join(all_regions.rename("anywhere"), on=["product_id", "date"])
    return joined["same"].fillna(joined["anywhere"]).rename("wholesale_price")


def _highest_recent(daily: pd.Series, market: list[str], lag_days: int) -> pd.Series:
    """The highest value of each day and the ``lag_days`` days before it with values, per market."""
    grouped = daily.groupby(level=market, observed=True)
    highest = daily
    for lag in range(1, lag_days + 1):
        highest = np.fmax(highest, grouped.shift(lag))
    return highest


def detect_markup_violations(
    observations: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date | None,
    threshold: float,
    reference: Literal["wholesale", "own_pre_event"] = _MARKUP_RATIO.reference,
    reference_days: int = 30,
    lag_days: int = _MARKUP_RATIO.lag_days,
) -> pd.DataFrame:
    """Retail prices whose markup over the wholesale price (进销差价率) is too high.

    进销差价率 = (retail price - wholesale price) / wholesale price, with the wholesale price of the same
    item and day in the seller's region, else over all regions; with ``lag_days``, the highest of it
    and the wholesale prices of the ``lag_days`` days before (a seller still selling stock bought
    before a fall is not marking up more). With ``reference="own_pre_event"`` the rule is on the rise
    of the ratio over the seller's median ratio in the ``reference_days`` before ``start``.

    Parameters
    ----------
    observations : DataFrame
        Observation columns (module docstring), retail and wholesale rows.
    start, end : date
        The emergency's first and last day (``end`` None: still in force).
    threshold : float
        Ratio (or rise of the ratio) that breaches [fraction, 0.15 = 15%].
    reference : {"wholesale", "own_pre_event"}
    reference_days : int
        Window before ``start`` for the seller's own ratio [days].
    lag_days : int
        Earlier wholesale days whose price a seller may still be selling stock at [days].

    Returns
    -------
    DataFrame
        Flag frame: ``current`` [元/unit], ``reference`` = wholesale price [元/unit], ``change`` = the
        markup ratio [fraction], ``market_change`` = NaN, ``breach`` = value judged - threshold.
    """
    first_day = pd.Timestamp(start)
    window_start = first_day - pd.Timedelta(days=reference_days if reference == "own_pre_event" else 0)
    dates = observations["date"]
    before_end = (dates <= pd.Timestamp(end)) if end else True
    frame = observations[(dates >= window_start - pd.Timedelta(days=lag_days)) & before_end]
    retail = frame[
        (frame["price_type"] == "retail") & (frame["unit_price"] > 0) & (frame["date"] >= window_start)
    ]
    if retail.empty:
        return empty_flags()
    wholesale_price = wholesale_prices(frame, retail, lag_days=lag_days)
    ratio = retail["unit_price"] / wholesale_price - 1
    judged = ratio
    if reference == "own_pre_event":
        before = retail["date"] < first_day
        own = ratio[before].groupby([retail.loc[before, key] for key in SERIES_KEYS], observed=True).median()
        own_ratio = retail[SERIES_KEYS].join(own.rename("own"), on=SERIES_KEYS)["own"]
        judged = ratio - own_ratio
    mask = (retail["date"] >= first_day) & (judged > threshold)
    return _flags(
        retail,
        mask,
        current=retail["unit_price"],
        reference=wholesale_price,
        change=ratio,
        market_change=pd.Series(np.nan, index=retail.index),
        breach=judged - threshold,
    )


def detect_complaint_spikes(
    complaints: pd.DataFrame,
    *,
    by: Literal["merchant_id", "product_id"],
    start: dt.date,
    end: dt.date,
    window_days: int = _COMPLAINT_SPIKE.window_days,
    baseline_days: int = 56,
    threshold: float = 0.001,
    min_count: int = _COMPLAINT_SPIKE.min_count,
) -> pd.DataFrame:
    """Merchants (or goods) named in many more price complaints than usual.

    For each day, the count of the last ``window_days`` days is compared with the Poisson count
    expected from the rate of the ``baseline_days`` before them (at least one complaint per baseline,
    so a merchant never complained about is not flagged for a single complaint). Only days with a full
    window and baseline after ``start`` are judged: before it the history is unknown, not empty.

    Parameters
    ----------
    complaints : DataFrame
        Price complaints: ``date`` (datetime64), ``merchant_id``, ``product_id`` (missing allowed).
    by : {"merchant_id", "product_id"}
        What a spike is counted for.
    start : date
        First day the complaints were read from.
    end : date
        Last day judged.
    window_days, baseline_days : int
        [days]
    threshold : float
        Largest Poisson tail probability P(X >= count) that flags [-].
    min_count : int
        Fewest complaints in the window that can flag.

    Returns
    -------
    DataFrame
        Flag frame (the other id and ``region`` missing): ``current`` = complaints in the window,
        ``reference`` = expected count, ``change`` = current / expected - 1, ``breach`` = current /
        expected [-].
    """
    named = complaints.dropna(subset=[by])
    if named.empty:
        return empty_flags()
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    daily = named.groupby([by, "date"]).size().unstack(fill_value=0).reindex(columns=days, fill_value=0)
    counts = daily.T.rolling(window_days, min_periods=1).sum()
    baseline = daily.T.shift(window_days).rolling(baseline_days, min_periods=1).sum().fillna(0)
    expected = np.maximum(baseline, 1.0) / baseline_days * window_days
    tail = pd.DataFrame(poisson.sf(counts - 1, expected), index=counts.index, columns=counts.columns)
    judged = pd.Series(np.arange(len(days)) >= window_days + baseline_days - 1, index=days)
    flagged = (counts >= min_count) & (tail < threshold) & judged.to_numpy()[:, None]
    long = pd.DataFrame(
        {
            "current": counts.stack(),
            "reference": expected.stack(),
            "flagged": flagged.stack(),
        }
    )
    long = long[long["flagged"]].rename_axis(["date", by]).reset_index()
    other = "product_id" if by == "merchant_id" else "merchant_id"
    return long.assign(
        **{other: np.nan},
        region="",
        change=long["current"] / long["reference"] - 1,
        market_change=np.nan,
        breach=long["current"] / long["reference"],
    )[FLAG_COLUMNS]


def detect_supply_shortages(
    observations: pd.DataFrame,
    *,
    baseline_days: int = 28,
    threshold: float = 0.30,
    min_sellers: int = _SUPPLY_SHORTAGE.min_sellers,
    min_share: float = _SUPPLY_SHORTAGE.min_share,
) -> pd.DataFrame:
    """Items that many sellers of a region are suddenly out of stock of.

    Parameters
    ----------
    observations : DataFrame
        Observation columns (module docstring); only retail rows count.
    baseline_days : int
        The share is compared with its median over the previous ``baseline_days`` days with data.
    threshold : float
        Rise of the out-of-stock share over that baseline that flags [share of sellers].
    min_sellers : int
        Fewest sellers a day needs to be judged.
    min_share : float
        Smallest out-of-stock share that flags [share of sellers].

    Returns
    -------
    DataFrame
        Flag frame (``merchant_id`` missing): ``current`` = out-of-stock share, ``reference`` = its
        baseline, ``change`` = the rise, ``breach`` = rise - ``threshold`` [share of sellers].
    """
    retail = observations[observations["price_type"] == "retail"]
    if retail.empty:
        return empty_flags()
    out = (retail["availability"] == "out_of_stock").astype("float64")
    daily = (
        out.groupby([retail[key] for key in MARKET_KEYS], observed=True)
        .agg(["mean", "size"])
        .rename(columns={"mean": "share", "size": "sellers"})
        .sort_index()
    )
    baseline = daily.groupby(level=["product_id", "region"], observed=True)["share"].transform(
        lambda share: share.rolling(baseline_days, min_periods=max(baseline_days // 2, 1)).median().shift(1)
    )
    rise = daily["share"] - baseline
    mask = (daily["sellers"] >= min_sellers) & (daily["share"] >= min_share) & (rise >= threshold)
    flagged = daily[mask].reset_index()
    return flagged.assign(
        merchant_id=np.nan,
        region=flagged["region"].astype("object"),
        current=flagged["share"],
        reference=baseline[mask].to_numpy(),
        change=rise[mask].to_numpy(),
        market_change=np.nan,
        breach=rise[mask].to_numpy() - threshold,
    )[FLAG_COLUMNS]
