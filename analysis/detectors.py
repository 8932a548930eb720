"""Gouging detectors: observation frames in, flagged seller-days out.

Every detector returns a *flag frame*, one row per (merchant, product, region, day) that breaches its
rule, with the columns of :data:`FLAG_COLUMNS`; :func:`analysis.episodes.group_episodes` turns
consecutive flagged days into episodes. Price detectors keep the index of the observation rows they
flag.

Observation frames have the columns of :data:`OBSERVATION_COLUMNS`: ``date`` (datetime64, one day),
``merchant_id``, ``product_id``, ``region``, ``unit_price`` [元/standard unit, e.g. 元/500g],
``price_type`` (``retail`` | ``wholesale``) and ``availability`` (``in_stock`` | ``out_of_stock`` |
``limited`` | missing).

Wholesale vegetables swing by tens of percent in a day, so the detectors that run every day compare a
seller with the market (the median of the other sellers of the item, region and day), never with its
own past price alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import poisson

OBSERVATION_COLUMNS = [
    "date",
    "merchant_id",
    "product_id",
    "region",
    "unit_price",
    "price_type",
    "availability",
]
SERIES_KEYS = ["merchant_id", "product_id", "region"]
MARKET_KEYS = ["product_id", "region", "date"]
FLAG_COLUMNS = [*SERIES_KEYS, "date", "current", "reference", "change", "market_change", "breach"]

#: 1 / Φ⁻¹(3/4): scales a median absolute deviation to a standard deviation for normal data.
MAD_TO_SIGMA = 1.4826
#: Ratios of prices in 元 carry float error (12 / 10 - 1 < 0.2); a rise this close to a threshold is on it.
RATIO_TOLERANCE = 1e-9
#: Φ⁻¹(3/4): median minus lower quartile of a normal distribution, in standard deviations.
HALF_IQR_TO_SIGMA = 0.6745


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
        Columns of :data:`OBSERVATION_COLUMNS`.

    Returns
    -------
    DataFrame
        The retail rows with a positive price (input index kept) plus ``log_price`` [ln 元/unit],
        ``market_log_price`` (median of ``log_price`` over the sellers of the same product, region and
        day) [ln 元/unit], ``peer_log_price`` (the same median over the *other* sellers, so a gouging
        seller does not lift its own yardstick) [ln 元/unit] and ``n_sellers`` (how many sellers that
        day, the seller included).
    """
    retail = observations[(observations["price_type"] == "retail") & (observations["unit_price"] > 0)]
    log_price = np.log(retail["unit_price"].to_numpy(dtype="float64"))
    grouped = retail.assign(log_price=log_price).groupby(MARKET_KEYS, observed=True, sort=False)["log_price"]
    return retail.assign(
        log_price=log_price,
        market_log_price=grouped.transform("median"),
        peer_log_price=leave_one_out_median(log_price, grouped.ngroup().to_numpy()),
        n_sellers=grouped.transform("size"),
    )


def _flags(frame: pd.DataFrame, mask: pd.Series | np.ndarray, **columns: pd.Series) -> pd.DataFrame:
    selected = frame.loc[mask, [*SERIES_KEYS, "date"]]
    extra = {name: pd.Series(values, index=frame.index)[mask] for name, values in columns.items()}
    return selected.assign(**extra)[FLAG_COLUMNS]


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
    daily = frame.groupby(MARKET_KEYS, observed=True)["market_log_price"].first()
    step = daily.groupby(level=["product_id", "region"], observed=True).diff().abs()
    previous = step.groupby(level=["product_id", "region"], observed=True).shift(1)
    move = np.fmax(step, previous).fillna(0.0).rename("recent_move")
    return frame[MARKET_KEYS].join(move, on=MARKET_KEYS)["recent_move"]


def detect_peer_outliers(
    retail: pd.DataFrame,
    *,
    threshold: float = 3.5,
    min_peers: int = 5,
    min_premium: float = 0.25,
    mad_floor: float = 0.01,
    move_allowance: float = 1.0,
) -> pd.DataFrame:
    """Sellers priced far above the other sellers of the same item, region and day.

    The robust z of a seller is ``(ln p - median ln p of the others) / (1.4826 MAD)`` over the
    sellers of the item, region and day; a seller is flagged when z exceeds ``threshold`` and its
    premium over the others' median is at least ``min_premium``.

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
        When the market has just moved, the first seller to pass the move on stands out for a day
        or two; the premium must then also beat ``move_allowance`` times :func:`recent_market_move`
        [-].

    Returns
    -------
    DataFrame
        Flag frame: ``current`` and ``reference`` (the peer median) [元/unit], ``change`` (premium
        over the peer median) [fraction], ``breach`` = premium - ``min_premium`` [fraction].

    References
    ----------
    Iglewicz, B. and Hoaglin, D. (1993), How to Detect and Handle Outliers.
    Cabral, L. and Xu, L. (2021), Seller reputation and price gouging: evidence from the COVID-19
    pandemic, Economic Inquiry 59(3).
    """
    needed = [*MARKET_KEYS, "merchant_id", "unit_price", "log_price", "market_log_price", "peer_log_price"]
    frame = retail.loc[retail["n_sellers"] >= min_peers, needed]
    if frame.empty:
        return empty_flags()
    deviation = frame["log_price"] - frame["peer_log_price"]
    spread = (frame["log_price"] - frame["market_log_price"]).abs()
    mad = spread.groupby([frame[key] for key in MARKET_KEYS], observed=True).transform("median")
    z = deviation / (MAD_TO_SIGMA * np.maximum(mad, mad_floor))
    premium = np.expm1(deviation)
    required = np.log1p(min_premium) + move_allowance * recent_market_move(frame)
    mask = (z > threshold) & (deviation >= required - RATIO_TOLERANCE)
    return _flags(
        frame,
        mask,
        current=frame["unit_price"],
        reference=np.exp(frame["peer_log_price"]),
        change=premium,
        market_change=pd.Series(np.nan, index=frame.index),
        breach=premium - min_premium,
    )


def detect_market_surges(
    retail: pd.DataFrame,
    *,
    window: int = 28,
    threshold: float = 0.15,
    min_peers: int = 3,
    min_z: float = 4.0,
    scale_floor: float = 0.02,
    move_allowance: float = 1.0,
) -> pd.DataFrame:
    """Sellers whose price rose much more than the market's.

    A seller's position is ``r = ln p - ln m`` with ``m`` the median of all sellers that day. Its usual
    position is the median of ``r`` over its previous ``window`` prices; the excess
    ``exp(r - usual) - 1`` is the seller's change minus the market's change since then. A market-wide
    move shifts ``p`` and ``m`` alike and leaves ``r`` where it was. (The median here includes the
    seller: it then follows the seller's own repricing lags a little, which on the real-market benchmark
    cuts false alerts far more than it damps real surges.)

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
        Sellers reprice a day or two apart (lags, sticky shelf prices), so a market move opens a gap
        between them for a day or two without anyone gouging. The excess must then also beat
        ``move_allowance`` times the market's largest one-day move over the seller's last two days [-].

    Returns
    -------
    DataFrame
        Flag frame: ``current`` [元/unit]; ``reference`` = the seller's usual price at today's market
        level [元/unit]; ``change`` = excess [fraction]; ``market_change`` = the market's change over
        the window [fraction]; ``breach`` = excess - ``threshold`` [fraction].
    """
    needed = [*SERIES_KEYS, "date", "unit_price", "log_price", "market_log_price"]
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
    market = frame["market_log_price"]
    recent_move = np.maximum((market - market.shift(1)).abs(), (market.shift(1) - market.shift(2)).abs())
    excess_log = position - usual
    excess = np.expm1(excess_log)
    z = excess_log / np.maximum(scatter, scale_floor)
    required = np.log1p(threshold) + move_allowance * recent_move
    mask = has_history & (excess_log >= required - RATIO_TOLERANCE) & (z >= min_z)
    return _flags(
        frame,
        mask,
        current=frame["unit_price"],
        reference=np.exp(frame["market_log_price"] + usual),
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
    inclusive: bool = False,
    net_of_market: bool = True,
) -> pd.DataFrame:
    """Prices during an emergency above the seller's price before it.

    The reference is the seller's last price (``"last"``, e.g. CA PC §396) or its average price
    (``"mean"``, e.g. 73 P.S. §232.4) over the ``reference_days`` before ``start``. With
    ``net_of_market`` a rise must also exceed the threshold after taking out the market's own rise over
    the same reference (the median seller's), so a cost shock passed on by every seller is not flagged.

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
    joined = during.join(seller_reference, on=SERIES_KEYS, how="inner").join(
        market_reference.rename("market_ref"), on=["product_id", "region"]
    )
    change = joined["unit_price"] / joined["ref"] - 1
    market_change = np.exp(joined["market_log_price"]) / joined["market_ref"] - 1
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


def wholesale_prices(observations: pd.DataFrame, retail: pd.DataFrame) -> pd.Series:
    """The wholesale price of the same item and day for each retail row.

    The median wholesale price in the retail row's region, else over all regions (a city's retailers
    are often supplied from another city's wholesale market, e.g. Xinfadi).

    Returns
    -------
    Series
        [元/unit], index of ``retail``, NaN where no wholesale price was seen that day.
    """
    wholesale = observations[(observations["price_type"] == "wholesale") & (observations["unit_price"] > 0)]
    same_region = wholesale.groupby(MARKET_KEYS, observed=True)["unit_price"].median().rename("same")
    all_regions = wholesale.groupby(["product_id", "date"], observed=True)["unit_price"].median()
    joined = retail[MARKET_KEYS].join(same_region, on=MARKET_KEYS)
    joined = joined.join(all_regions.rename("anywhere"), on=["product_id", "date"])
    return joined["same"].fillna(joined["anywhere"]).rename("wholesale_price")


def detect_markup_violations(
    observations: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date | None,
    threshold: float,
    reference: Literal["wholesale", "own_pre_event"] = "wholesale",
    reference_days: int = 30,
) -> pd.DataFrame:
    """Retail prices whose markup over the wholesale price (进销差价率) is too high.

    进销差价率 = (retail price - wholesale price) / wholesale price, with the wholesale price of the same
    item and day in the seller's region, else over all regions. With ``reference="own_pre_event"``
    the rule is on the rise of the ratio over the seller's median ratio in the ``reference_days``
    before ``start``.

    Parameters
    ----------
    observations : DataFrame
        Columns of :data:`OBSERVATION_COLUMNS`, retail and wholesale rows.
    start, end : date
        The emergency's first and last day (``end`` None: still in force).
    threshold : float
        Ratio (or rise of the ratio) that breaches [fraction, 0.15 = 15%].
    reference : {"wholesale", "own_pre_event"}
    reference_days : int
        Window before ``start`` for the seller's own ratio [days].

    Returns
    -------
    DataFrame
        Flag frame: ``current`` [元/unit], ``reference`` = wholesale price [元/unit], ``change`` = the
        markup ratio [fraction], ``market_change`` = NaN, ``breach`` = value judged - threshold.
    """
    first_day = pd.Timestamp(start)
    window_start = first_day - pd.Timedelta(days=reference_days if reference == "own_pre_event" else 0)
    dates = observations["date"]
    in_window = (dates >= window_start) & ((dates <= pd.Timestamp(end)) if end else True)
    frame = observations[in_window]
    retail = frame[(frame["price_type"] == "retail") & (frame["unit_price"] > 0)]
    if retail.empty:
        return empty_flags()
    wholesale_price = wholesale_prices(frame, retail)
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
    window_days: int = 7,
    baseline_days: int = 56,
    threshold: float = 0.001,
    min_count: int = 3,
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
    min_sellers: int = 5,
    min_share: float = 0.5,
) -> pd.DataFrame:
    """Items that many sellers of a region are suddenly out of stock of.

    Parameters
    ----------
    observations : DataFrame
        Columns of :data:`OBSERVATION_COLUMNS`; only retail rows count.
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
