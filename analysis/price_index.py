"""Price indices: a multilateral GEKS-Jevons index spliced onto one published series (the default), the
chained daily matched-item Jevons index (the documented alternative), and baskets of chained indices.

An *item* is one good at one seller in one region (``merchant_id``, ``product_id``, ``region``, and the
variant columns where the frame has them): the same thing priced day after day. Missing prices are never
imputed.

*GEKS-Jevons* [2]_ [3]_: the index between days *0* and *t* is the geometric mean over every day *k* of
a window of the bilateral Jevons indices ``J(0, k) · J(k, t)``, each over the items priced on both of its
days. It is transitive within a window, so items entering dear and leaving cheap do not make it drift the
way a chained daily index does. Published series use a rolling window of 395 days (13 months): each new
day's window GEKS is *spliced* onto the series (the mean splice [2]_ [4]_, the default: the previous day's
value times the geometric mean, over every day the two windows share, of the new window's movement from
that day to the new day over the previous window's movement from that day to the previous day; or on the
published values: ``mean_published``, the geometric mean over the window's earlier days of each day's
published value times the new window's movement from it, and ``half``, the same against the day in the
middle of the window). Published values are never rebased. On the real CUMCM panel the mean splice stays
nearer a full-span GEKS than the mean splice on published values at every window length tried (365 to
545 days; ``benchmarks/price_index.py``).
Day pairs without a common item are left out: the window's levels are then the weighted least-squares
solution of the GEKS system (which is GEKS itself when no pair is missing).

*Chained Jevons* [1]_: each day's index moves by the geometric mean of the price relatives of the items
priced both that day and on the previous index day. Simple, but it drifts under churn (seasonal goods
entering dear and leaving cheap); kept for comparison.

References
----------
.. [1] ILO, IMF, OECD, UNECE, Eurostat, World Bank (2004). *Consumer Price Index Manual: Theory and
   Practice*, ch. 9 (calculation of elementary indices; the Jevons index, chaining) and ch. 20
   (elementary indices: the Jevons index as the geometric mean of price relatives).
.. [2] Eurostat (2022). *Guide on Multilateral Methods in the Harmonised Index of Consumer Prices*,
   sections 2 (GEKS) and 3 (extension methods: window length, mean and half splice).
.. [3] Ivancic, L., Diewert, W. E., Fox, K. J. (2011). Scanner data, time aggregation and the
   construction of price indexes. *Journal of Econometrics* 161(1), 24-35.
.. [4] Diewert, W. E., Fox, K. J. (2022). Substitution bias in multilateral methods for CPI
   construction. *Journal of Business & Economic Statistics* 40(1) (the mean splice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg
from threadpoolctl import threadpool_limits

ITEM_KEYS = ("merchant_id", "product_id", "region")
#: Columns that tell variants of a good apart (origin, specification, package) where prices carry them.
VARIANT_KEYS = ("origin", "spec", "package")
BASE_VALUE = 100.0
#: Rolling window of the published GEKS-Jevons series: 13 months, so a seasonal good meets itself again.
WINDOW_DAYS = 395
Splice = Literal["mean", "mean_published", "half"]
SPLICES: tuple[Splice, ...] = ("mean", "mean_published", "half")
#: An item's day price this many times above or below its recent prices is taken for a slip.
SLIP_FACTOR = 10.0
SLIP_REFERENCE_QUOTES = 3


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


# --- GEKS-Jevons ------------------------------------------------------------------------------------


def item_keys(prices: pd.DataFrame) -> tuple[str, ...]:
    """The columns that identify an item in ``prices``: seller, good, region and any variant columns."""
    return (*ITEM_KEYS, *(column for column in VARIANT_KEYS if column in prices.columns))


def _without_slips(daily: pd.Series, window_days: int) -> pd.Series:
    """Drop an item's day price more than :data:`SLIP_FACTOR` times off the median of its last
    :data:`SLIP_REFERENCE_QUOTES` kept day prices within the window (a unit or typing slip such as 0.06
    for 1.70). Only earlier prices decide, so a day's verdict never changes later; a lasting change of
    level is kept once it is the item's usual price (a slip never becomes a reference).
    """
    codes = daily.index.get_level_values("code").to_numpy()
    day_numbers = daily.index.get_level_values("date").to_numpy().astype("datetime64[D]").astype("int64")
    logs = daily.to_numpy()
    limit = float(np.log(SLIP_FACTOR))
    span = window_days - 1
    # Were every quote kept, each would be judged against the median of the item's previous
    # quotes within the window; items none of whose quotes is then off keep them all, and only
    # the others need the quote-by-quote pass below.
    earlier = np.full((len(logs), SLIP_REFERENCE_QUOTES), np.nan)
    for back in range(1, SLIP_REFERENCE_QUOTES + 1):
        same = np.zeros(len(logs), dtype=bool)
        same[back:] = (codes[back:] == codes[:-back]) & (day_numbers[:-back] >= day_numbers[back:] - span)
        earlier[back:, back - 1] = np.where(same[back:], logs[:-back], np.nan)
    judged = ~np.isnan(earlier).all(axis=1)
    typical = np.full(len(logs), np.nan)
    typical[judged] = np.nanmedian(earlier[judged], axis=1)
    suspect = judged & (np.abs(logs - typical) > limit)
    keep = np.ones(len(logs), dtype=bool)
    if not suspect.any():
        return daily
    days = day_numbers.tolist()
    values = logs.tolist()
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
    owner = np.searchsorted(bounds, np.flatnonzero(suspect), side="right") - 1
    for group in np.unique(owner).tolist():
        first, after = int(bounds[group]), int(bounds[group + 1])
        kept: list[int] = []
        rejected = 0
        for position in range(first, after):
            oldest = days[position] - span
            recent = sorted(values[index] for index in kept[-SLIP_REFERENCE_QUOTES:] if days[index] >= oldest)
            if recent:
                middle = len(recent) // 2
                reference = recent[middle] if len(recent) % 2 else (recent[middle - 1] + recent[middle]) / 2
                if abs(values[position] - reference) > limit and rejected < SLIP_REFERENCE_QUOTES:
                    keep[position] = False
                    rejected += 1
                    continue
            kept.append(position)
            rejected = 0
    return daily[keep]


def _log_panels(
    prices: pd.DataFrame,
    by: Sequence[str],
    items: Sequence[str],
    weight_key: str | None,
    window_days: int,
) -> list[tuple[tuple[Any, ...], np.ndarray, np.ndarray, np.ndarray]]:
    """Per group: its days, the items × days matrix of log prices (NaN: not priced) and each item's key.

    Several quotes of an item on one day count as their geometric mean; slips are dropped
    (:func:`_without_slips`).
    """
    valid = prices[np.isfinite(prices["unit_price"]) & (prices["unit_price"] > 0)]
    if valid.empty:
        return []
    codes = valid.groupby(list(items), observed=True, sort=False, dropna=False).ngroup().to_numpy()
    quotes = pd.DataFrame(
        {
            **{column: valid[column].to_numpy() for column in by},
            "date": valid["date"].dt.normalize().to_numpy(),
            "code": codes,
            "key": valid[weight_key].to_numpy() if weight_key else 0,
            "log_price": np.log(valid["unit_price"].to_numpy(dtype="float64")),
        }
    )
    groups = quotes.groupby(list(by), sort=True, dropna=False) if by else [((), quotes)]
    panels = []
    for key, group in groups:
        daily = _without_slips(group.groupby(["code", "date"], sort=True)["log_price"].mean(), window_days)
        days, day_index = np.unique(daily.index.get_level_values("date"), return_inverse=True)
        item_codes, item_index = np.unique(daily.index.get_level_values("code"), return_inverse=True)
        logs = np.full((len(item_codes), len(days)), np.nan)
        logs[item_index, day_index] = daily.to_numpy()
        item_key = group.drop_duplicates("code").set_index("code")["key"].reindex(item_codes).to_numpy()
        panels.append((key if isinstance(key, tuple) else (key,), days, logs, item_key))
    return panels


def bilateral_jevons(
    logs: np.ndarray, item_key: np.ndarray | None = None, weights: Mapping[Any, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Log bilateral Jevons indices between every pair of days of a panel, and which pairs have one.

    ``D[s, t]`` is the mean of ``log p_t - log p_s`` over the items priced on both days (so ``D`` is
    antisymmetric and the Jevons index satisfies time reversal). With ``weights`` (by item key, e.g.
    per good), each key's matched items count as their mean, and keys weigh by ``weights``: a weighted
    Jevons of per-good Jevons indices.

    Parameters
    ----------
    logs : ndarray
        Items × days log prices, NaN where not priced.
    item_key, weights : optional
        Each item's key and the weight per key; items whose key has no weight are left out.

    Returns
    -------
    (ndarray, ndarray)
        ``D`` (days × days, NaN where the pair has no common item) and ``linked`` (bool, days × days).
    """
    present = ~np.isnan(logs)
    if weights is None or item_key is None:
        matched, movement = _pair_sums(present, logs)
        linked = matched > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(linked, movement / np.where(linked, matched, 1), np.nan), linked
    days = logs.shape[1]
    total = np.zeros((days, days))
    weight_sum = np.zeros((days, days))
    for key in pd.unique(item_key):
        weight = float(weights.get(key, 0.0))
        if weight <= 0:
            continue
        rows = item_key == key
        matched, movement = _pair_sums(present[rows], logs[rows])
        has = matched > 0
        total += np.where(has, weight * movement / np.where(has, matched, 1), 0.0)
        weight_sum += np.where(has, weight, 0.0)
    linked = weight_sum > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(linked, total / np.where(linked, weight_sum, 1), np.nan), linked


def _pair_sums(present: np.ndarray, logs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matched items per day pair and the sum of their log movements, as two matrix products."""
    mask = present.astype("float64")
    filled = np.where(present, logs, 0.0)
    towards = mask.T @ filled  # [s, t] = sum over items priced on s and t of log p_t
    return mask.T @ mask, towards - towards.T


def geks_levels(movements: np.ndarray, linked: np.ndarray) -> np.ndarray:
    """GEKS log levels of the days of one window (mean zero), NaN for days not linked to the last day.

    With every pair linked, ``level_t = mean_k D[k, t]`` (GEKS: the geometric mean over *k* of
    ``J(0, k) J(k, t)`` is ``exp(level_t - level_0)``). Otherwise the levels minimise
    ``sum over linked pairs (D[s, t] - (level_t - level_s))²`` over the days connected to the last day,
    the same solution when nothing is missing (see :class:`_WindowSums`).
    """
    return _WindowSums(movements, linked).levels(0, len(movements) - 1)


def _dense_levels(movements: np.ndarray, linked: np.ndarray) -> np.ndarray:
    """:func:`geks_levels` by a dense solve; for windows whose days are not all connected."""
    size = len(movements)
    levels = np.full(size, np.nan)
    reach = linked[-1].copy()
    while not reach.all():
        grown = linked[reach].any(axis=0)
        if (grown == reach).all():
            break
        reach = grown
    days = np.flatnonzero(reach)
    moves, ok, count = movements[np.ix_(days, days)], linked[np.ix_(days, days)], len(days)
    solution = np.where(ok, moves, 0.0).sum(axis=0) / count
    missing = ~ok
    apart = np.flatnonzero(missing.any(axis=0))
    if len(apart):
        between = missing[np.ix_(apart, apart)].astype("float64")
        system = np.diag(count - between.sum(axis=1)) + between
        solution[apart] = linalg.solve(system, solution[apart] * count, assume_a="pos", check_finite=False)
    levels[days] = solution
    return levels


class _WindowSums:
    """GEKS levels of any window ``first..last`` of a panel's days in O(window) per window.

    Prefix sums over the days × days matrices give each window's column sums ``b_t`` (of ``D[s, t]``
    over linked *s*) and how many pairs each day misses. With none missing, the levels are ``b / n``.
    Otherwise the least-squares levels solve ``(n·I - M) level = b`` (``M`` the Laplacian of the
    missing pairs, mean-zero levels); the pairs missing are few, so conjugate gradients on that sparse,
    diagonally dominant system converge in a few steps (a dense solve when the window is not connected
    through the quick test, or the iteration stalls).
    """

    #: Relative residual at which the iteration stops: far below any published digit.
    TOLERANCE = 1e-13
    MAX_STEPS = 200

    def __init__(self, movements: np.ndarray, linked: np.ndarray) -> None:
        size = len(movements)
        self.movements, self.linked = movements, linked
        self.columns = np.zeros((size + 1, size))
        np.cumsum(np.where(linked, movements, 0.0), axis=0, out=self.columns[1:])
        unlinked = ~linked
        self.unlinked_columns = np.zeros((size + 1, size), dtype="int64")
        np.cumsum(unlinked, axis=0, out=self.unlinked_columns[1:])
        earlier, later = np.nonzero(np.triu(unlinked, 1))
        order = np.argsort(later, kind="stable")
        self.pair_earlier, self.pair_later = earlier[order], later[order]

    def levels(self, first: int, last: int) -> np.ndarray:
        """Mean-zero GEKS log levels of days ``first..last``; NaN for days not linked to ``last``."""
        after = last + 1
        size = after - first
        sums = self.columns[after, first:after] - self.columns[first, first:after]
        missing = self.unlinked_columns[after, first:after] - self.unlinked_columns[first, first:after]
        if not missing.any():
            return sums / size
        doubtful = first + np.flatnonzero(missing + missing[-1] >= size)
        if (
            len(doubtful)
            and not (self.linked[doubtful, first:after] & self.linked[last, first:after]).any(1).all()
        ):
            # Some day shares no linked day with the last one (or has no item of its own).
            window = slice(first, after)
            return _dense_levels(self.movements[window, window], self.linked[window, window])
        low, high = np.searchsorted(self.pair_later, [first, after], side="left")
        earlier, later = self.pair_earlier[low:high], self.pair_later[low:high]
        inside = earlier >= first
        return _solve_missing(size, missing, earlier[inside] - first, later[inside] - first, sums)


def _solve_missing(
    size: int, missing: np.ndarray, earlier: np.ndarray, later: np.ndarray, sums: np.ndarray
) -> np.ndarray:
    """Solve ``(diag(size - missing) + A) level = sums``, ``A`` the adjacency of the missing pairs
    (``earlier``, ``later``), by Jacobi-preconditioned conjugate gradients.

    Every day shares a linked day with every other (checked by the caller), so the system is positive
    definite; its solution is the least-squares GEKS with mean zero.
    """
    diagonal = (size - missing).astype("float64")

    def apply(vector: np.ndarray) -> np.ndarray:
        return (
            diagonal * vector
            + np.bincount(earlier, weights=vector[later], minlength=size)
            + np.bincount(later, weights=vector[earlier], minlength=size)
        )

    solution = sums / diagonal
    residual = sums - apply(solution)
    limit = _WindowSums.TOLERANCE * max(float(np.linalg.norm(sums)), 1e-300)
    preconditioned = residual / diagonal
    direction = preconditioned.copy()
    product = float(residual @ preconditioned)
    for _ in range(_WindowSums.MAX_STEPS):
        if float(np.linalg.norm(residual)) <= limit:
            return solution
        image = apply(direction)
        step = product / float(direction @ image)
        solution += step * direction
        residual -= step * image
        preconditioned = residual / diagonal
        following = float(residual @ preconditioned)
        direction = preconditioned + (following / product) * direction
        product = following
    system = np.diag(diagonal)
    system[earlier, later] = system[later, earlier] = 1.0
    return np.asarray(linalg.solve(system, sums, assume_a="pos", check_finite=False))


def _window_starts(days: np.ndarray, window_days: int) -> np.ndarray:
    """Position of the first day of each day's window (days within ``window_days`` ending that day)."""
    reach = days - np.timedelta64(window_days - 1, "D")
    return np.searchsorted(days, reach, side="left")


def _splice_position(days: np.ndarray, first: int, last: int, usable: np.ndarray) -> int | None:
    """The usable overlap day nearest to the middle of the window ``first..last`` (half splice)."""
    positions = first + np.flatnonzero(usable)
    if len(positions) == 0:
        return None
    middle = days[first] + (days[last] - days[first]) / 2
    return int(positions[np.argmin(np.abs(days[positions] - middle))])


def _spliced_series(
    days: np.ndarray,
    movements: np.ndarray,
    linked: np.ndarray,
    published: np.ndarray,
    begin: int,
    *,
    window_days: int,
    splice: Splice,
    base_log: float,
) -> np.ndarray:
    """Published log values of days ``begin..``: each day's window GEKS spliced onto earlier values."""
    values = published.copy()
    starts = _window_starts(days, window_days)
    with threadpool_limits(limits=1):  # hundreds of small solves: BLAS threads only add overhead
        _splice_days(values, days, movements, linked, starts, begin, splice=splice, base_log=base_log)
    return values


def _splice_days(
    values: np.ndarray,
    days: np.ndarray,
    movements: np.ndarray,
    linked: np.ndarray,
    starts: np.ndarray,
    begin: int,
    *,
    splice: Splice,
    base_log: float,
) -> None:
    sums = _WindowSums(movements, linked)
    # The last day with a value and a level, and its window's levels: what a mean splice links onto.
    anchor: tuple[int, int, np.ndarray] | None = None
    if splice == "mean":
        for day in range(begin - 1, -1, -1):
            if np.isfinite(values[day]):
                levels = sums.levels(starts[day], day)
                if np.isfinite(levels[-1]):
                    anchor = (day, int(starts[day]), levels)
                break
    seen = np.isfinite(values[:begin]).any()
    for last in range(begin, len(days)):
        first = starts[last]
        levels = sums.levels(first, last)
        if not seen:
            values[last] = base_log
            seen = True
        elif np.isnan(levels[-1]):
            values[last] = np.nan
            continue
        elif (
            splice == "mean"
            and anchor is not None
            and (link := _mean_link(levels, first, anchor)) is not None
        ):
            values[last] = values[anchor[0]] + link
        else:
            anchors = values[first:last] - levels[:-1]
            usable = np.isfinite(anchors)
            if not usable.any():
                values[last] = np.nan
                continue
            if splice == "half":
                position = _splice_position(days, first, last, usable)
                values[last] = levels[-1] + anchors[position - first]
            else:
                values[last] = levels[-1] + anchors[usable].mean()
        anchor = (last, int(first), levels)


def _mean_link(levels: np.ndarray, first: int, anchor: tuple[int, int, np.ndarray]) -> float | None:
    """The mean splice's log link from the anchor day to the new window's last day: the mean over the
    days both windows share of the new window's movement from that day to its last day, less the
    anchor window's movement from that day to the anchor day [2]_ (None when they share no day)."""
    day, anchor_first, anchor_levels = anchor
    shared = slice(first - anchor_first, day - anchor_first + 1)
    before = anchor_levels[-1] - anchor_levels[shared]
    after = levels[-1] - levels[: day - first + 1]
    moves = after - before
    usable = np.isfinite(moves)
    return float(moves[usable].mean()) if usable.any() else None


def _matched_counts(present: np.ndarray, days: np.ndarray, window_days: int) -> np.ndarray:
    """Items priced on each day and on at least one other day of that day's window."""
    starts = _window_starts(days, window_days)
    running = np.concatenate([np.zeros((present.shape[0], 1), dtype="int64"), present.cumsum(axis=1)], axis=1)
    positions = np.arange(len(days))
    in_window = running[:, positions + 1] - running[:, starts]
    return (present & (in_window > 1)).sum(axis=0)


def _empty_index(by: Sequence[str], extra: Sequence[str] = ()) -> pd.DataFrame:
    columns = [*by, "date", "index", "matched", "priced", *extra]
    return pd.DataFrame({column: pd.Series(dtype="float64") for column in columns}).astype(
        {"date": "datetime64[ns]", "matched": "int64", "priced": "int64"}
    )


def price_index_geks(
    prices: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    items: Sequence[str] | None = None,
    window_days: int = WINDOW_DAYS,
    splice: Splice = "mean",
    weights: Mapping[Any, float] | None = None,
    weight_key: str = "product_id",
    base: float = BASE_VALUE,
    published: pd.DataFrame | None = None,
    since: pd.Timestamp | None = None,
    min_weight_share: float = 0.0,
) -> pd.DataFrame:
    """GEKS-Jevons over a rolling window, spliced onto one published series per group.

    Each day *t* with prices gets the GEKS-Jevons levels of its window (the days with prices within
    ``window_days`` ending on *t*), spliced onto the values already published for the earlier days of
    the window (``splice="mean"``: the mean over all of them; ``"half"``: the day nearest the middle)
    [2]_. The first day of a group is ``base``; published values are never rebased. Computing days
    one at a time as they arrive gives the same values as computing them all at once.

    Parameters
    ----------
    prices : DataFrame
        Observations: ``date`` (datetime64), ``unit_price`` [元/standard unit], the ``items`` columns
        and the ``by`` columns. With ``published`` and ``since``, prices from ``since - 2 · window_days``
        on suffice (a window, and the window before it that screens its prices for slips). Rows with
        a missing or non-positive price are left out.
    by : sequence of str
        Columns to compute one series per value of; empty for a single series.
    items : sequence of str, optional
        The columns that identify an item; default :func:`item_keys`.
    window_days : int
        Length of the rolling window in calendar days (395: 13 months).
    splice : {"mean", "mean_published", "half"}
        ``mean``: onto the previous day's value over the days both windows share (the default);
        ``mean_published``: onto the published values of the window's earlier days; ``half``: onto
        the published value of the day nearest the window's middle.
    weights : mapping, optional
        Weight per value of ``weight_key`` (e.g. expenditure weight per good); each good's matched
        items count as their mean. Equal item weights when None.
    base : float
        Value on a group's first day.
    published : DataFrame, optional
        Values published before ``since``: the ``by`` columns, ``date`` and ``index``; they anchor the
        splice and are returned unchanged.
    since : Timestamp, optional
        First day to compute (with ``published``); every day when None.
    min_weight_share : float
        With ``weights``: days on which the priced keys carry less than this share of the total
        weight are left out (a basket needs enough of its goods priced to mean anything).

    Returns
    -------
    DataFrame
        The ``by`` columns, ``date``, ``index`` [base = first day], ``matched`` (items priced that day
        and on another day of its window) and ``priced`` (items priced that day), one row per group and
        day with prices from ``since`` on (all days when None). ``index`` is NaN on a day not linked to
        any earlier published day.

    References
    ----------
    .. [2] Eurostat (2022), *Guide on Multilateral Methods in the HICP*, sections 2 and 3.
    """
    if splice not in SPLICES:
        raise ValueError(f"unknown splice {splice!r}; use one of {', '.join(SPLICES)}")
    if window_days < 2:
        raise ValueError("the window must span at least two days")
    items = tuple(items) if items is not None else item_keys(prices)
    panels = _log_panels(prices, by, items, weight_key if weights is not None else None, window_days)
    earlier = _published_by_group(published, by, since)
    parts = []
    for key, all_days, all_logs, item_key in panels:
        days, logs = _covered_days(all_days, all_logs, item_key, weights, min_weight_share)
        if len(days) == 0:
            continue
        movements, linked = bilateral_jevons(logs, item_key, weights)
        values = np.full(len(days), np.nan)
        begin = 0
        if since is not None:
            begin = int(np.searchsorted(days, np.datetime64(pd.Timestamp(since), "ns"), side="left"))
            known = earlier.get(key)
            if known is not None:
                values[:begin] = known.reindex(pd.DatetimeIndex(days[:begin])).to_numpy(dtype="float64")
        values = _spliced_series(
            days,
            movements,
            linked,
            np.log(values / base) if begin else values,
            begin,
            window_days=window_days,
            splice=splice,
            base_log=0.0,
        )
        present = ~np.isnan(logs)
        part = pd.DataFrame(
            {
                "date": days[begin:],
                "index": base * np.exp(values[begin:]),
                "matched": _matched_counts(present, days, window_days)[begin:],
                "priced": present.sum(axis=0)[begin:],
            }
        )
        parts.append(part.assign(**dict(zip(by, key, strict=True))))
    if not parts:
        return _empty_index(by)
    return pd.concat(parts, ignore_index=True)[[*by, "date", "index", "matched", "priced"]]


def _covered_days(
    days: np.ndarray,
    logs: np.ndarray,
    item_key: np.ndarray,
    weights: Mapping[Any, float] | None,
    min_weight_share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The days on which the priced keys carry at least ``min_weight_share`` of the total weight."""
    if weights is None or min_weight_share <= 0:
        return days, logs
    total = float(sum(weights.values()))
    key_weight = np.array([float(weights.get(key, 0.0)) for key in item_key])
    share = np.zeros(len(days))
    present = ~np.isnan(logs)
    for key in pd.unique(item_key):
        rows = item_key == key
        share += key_weight[rows][0] * present[rows].any(axis=0)
    keep = share / total >= min_weight_share
    return days[keep], logs[:, keep]


def _published_by_group(
    published: pd.DataFrame | None, by: Sequence[str], since: pd.Timestamp | None
) -> dict[tuple[Any, ...], pd.Series]:
    if published is None or since is None or published.empty:
        return {}
    earlier = published[published["date"] < pd.Timestamp(since)]
    groups = earlier.groupby(list(by), sort=False, dropna=False) if by else [((), earlier)]
    return {
        key if isinstance(key, tuple) else (key,): rows.set_index(pd.DatetimeIndex(rows["date"]))["index"]
        for key, rows in groups
    }


def price_index_geks_full(
    prices: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    items: Sequence[str] | None = None,
    weights: Mapping[Any, float] | None = None,
    weight_key: str = "product_id",
    base: float = BASE_VALUE,
) -> pd.DataFrame:
    """One GEKS-Jevons over all days of each group (no window, no splice): the drift-free reference.

    Transitive over the whole span, so it is what a rolling-window series is held against; it is not
    publishable day by day because every new day revises every earlier value.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``date``, ``index`` [base = first day], ``matched`` (items priced that day
        and on another day) and ``priced``.
    """
    items = tuple(items) if items is not None else item_keys(prices)
    parts = []
    panels = _log_panels(prices, by, items, weight_key if weights is not None else None, WINDOW_DAYS)
    for key, days, logs, item_key in panels:
        movements, linked = bilateral_jevons(logs, item_key, weights)
        levels = geks_levels(movements[::-1, ::-1], linked[::-1, ::-1])[::-1]
        present = ~np.isnan(logs)
        part = pd.DataFrame(
            {
                "date": days,
                "index": base * np.exp(levels - levels[0]),
                "matched": (present & (present.sum(axis=1, keepdims=True) > 1)).sum(axis=0),
                "priced": present.sum(axis=0),
            }
        )
        parts.append(part.assign(**dict(zip(by, key, strict=True))))
    if not parts:
        return _empty_index(by)
    return pd.concat(parts, ignore_index=True)[[*by, "date", "index", "matched", "priced"]]
