"""GEKS-Jevons: index-number properties, a reference written from the definitions, and the splice."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis.price_index import price_index_geks, price_index_geks_full, price_index_jevons


def _panel(prices: dict[tuple[int, int], float], first: str = "2024-01-01") -> pd.DataFrame:
    """Observations from ``{(day, item): price}``; each item a good at one seller."""
    start = pd.Timestamp(first)
    rows = [
        (start + pd.Timedelta(days=day), 1, item, "哈尔滨", price) for (day, item), price in prices.items()
    ]
    return pd.DataFrame(rows, columns=["date", "merchant_id", "product_id", "region", "unit_price"])


def _random_panel(days: int, items: int, seed: int, presence: float = 0.7) -> dict[tuple[int, int], float]:
    rng = np.random.default_rng(seed)
    level = np.exp(np.cumsum(rng.normal(0, 0.05, (days, items)), axis=0)) * rng.uniform(1, 20, items)
    return {
        (day, item): float(level[day, item])
        for day in range(days)
        for item in range(items)
        if rng.random() < presence or item == 0
    }


def _values(result: pd.DataFrame) -> np.ndarray:
    return result["index"].to_numpy()


def reference_geks(prices: dict[tuple[int, int], float], days: list[int]) -> dict[int, float]:
    """GEKS-Jevons straight from its definition: P(0,t) = Π_k (J(0,k) J(k,t))^(1/T), J over matched items."""

    def jevons(a: int, b: int) -> float:
        common = [item for (day, item) in prices if day == a and (b, item) in prices]
        return float(np.prod([prices[(b, item)] / prices[(a, item)] for item in common]) ** (1 / len(common)))

    first = days[0]
    return {
        t: 100 * float(np.prod([jevons(first, k) * jevons(k, t) for k in days]) ** (1 / len(days)))
        for t in days
    }


def reference_spliced(prices: dict[tuple[int, int], float], window: int) -> dict[int, float]:
    """Rolling-window GEKS with a mean splice on the published values, from the definitions."""
    days = sorted({day for day, _ in prices})
    published: dict[int, float] = {}
    for t in days:
        in_window = [day for day in days if t - window < day <= t]
        if not published:
            published[t] = 100.0
            continue
        geks = reference_geks(prices, in_window)
        anchors = [day for day in in_window if day != t]
        published[t] = float(
            np.prod([published[k] * geks[t] / geks[k] for k in anchors]) ** (1 / len(anchors))
        )
    return published


def reference_mean_splice(prices: dict[tuple[int, int], float], window: int) -> dict[int, float]:
    """Rolling-window GEKS with the mean splice (Diewert & Fox): day t's value is day t-1's times the
    geometric mean, over the days k both windows share, of the new window's index from k to t over the
    previous window's index from k to t-1."""
    days = sorted({day for day, _ in prices})
    published = {days[0]: 100.0}
    for before, t in itertools.pairwise(days):
        new_days = [day for day in days if t - window < day <= t]
        old_days = [day for day in days if before - window < day <= before]
        new, old = reference_geks(prices, new_days), reference_geks(prices, old_days)
        shared = [day for day in new_days if day in old]
        links = [(new[t] / new[k]) / (old[before] / old[k]) for k in shared]
        published[t] = published[before] * float(np.prod(links) ** (1 / len(links)))
    return published


def test_identity_same_prices_every_day() -> None:
    prices = {(day, item): 2.0 + item for day in range(10) for item in range(4) if (day + item) % 3}
    result = price_index_geks(_panel(prices), window_days=5)
    np.testing.assert_allclose(_values(result), 100.0)


def test_proportionality_all_prices_times_lambda() -> None:
    base = _random_panel(12, 6, seed=1, presence=1.0)
    scaled = {**base, **{(11, item): 1.7 * base[(0, item)] for item in range(6)}}
    for result in (price_index_geks(_panel(scaled), window_days=6), price_index_geks_full(_panel(scaled))):
        assert _values(result)[-1] == pytest.approx(170.0)


def test_time_reversal_full_window() -> None:
    prices = _random_panel(15, 8, seed=2)
    forward = price_index_geks_full(_panel(prices))
    backward = price_index_geks_full(
        _panel({(14 - day, item): price for (day, item), price in prices.items()})
    )
    assert _values(backward)[-1] == pytest.approx(100 * 100 / _values(forward)[-1])


def test_transitivity_prices_back_to_start_means_back_to_100() -> None:
    """Circularity: churn in between, the same prices on the last day as on the first → 100 again.

    The chained Jevons fails this test (it drifts); GEKS passes it.
    """
    prices = {(0, 0): 1.0, (0, 1): 4.0, (0, 2): 9.0}
    for day, (a, b) in enumerate([(2.0, 5.0), (3.0, 4.5), (2.5, 6.0)], start=1):
        prices |= {(day, 0): a, (day, 1): b}  # item 2 is not priced while 0 and 1 move
    prices |= {(4, 0): 1.0, (4, 1): 4.0, (4, 2): 9.0}
    prices |= {(3, 2): 20.0}  # item 2 comes back dear on day 3 only
    geks = price_index_geks_full(_panel(prices))
    assert _values(geks)[-1] == pytest.approx(100.0)
    chained = price_index_jevons(_panel(prices))
    assert abs(_values(chained)[-1] - 100.0) > 1.0


def test_duplicated_quotes_of_an_item_priced_every_day_change_nothing() -> None:
    prices = _random_panel(20, 6, seed=3)
    frame = _panel(prices)
    doubled = pd.concat([frame, frame[frame["product_id"] == 0]], ignore_index=True)
    np.testing.assert_allclose(
        _values(price_index_geks(doubled, window_days=8)), _values(price_index_geks(frame, window_days=8))
    )
    np.testing.assert_allclose(_values(price_index_geks_full(doubled)), _values(price_index_geks_full(frame)))


def test_full_window_matches_reference_from_the_definition() -> None:
    prices = _random_panel(12, 7, seed=4)
    result = price_index_geks_full(_panel(prices))
    expected = reference_geks(prices, sorted({day for day, _ in prices}))
    np.testing.assert_allclose(_values(result), [expected[day] for day in sorted(expected)], rtol=1e-9)


def test_mean_splice_matches_reference_from_the_definition() -> None:
    prices = _random_panel(25, 6, seed=5)
    result = price_index_geks(_panel(prices), window_days=7)
    expected = reference_mean_splice(prices, window=7)
    np.testing.assert_allclose(_values(result), [expected[day] for day in sorted(expected)], rtol=1e-9)


def test_mean_splice_on_published_values_matches_reference_from_the_definition() -> None:
    prices = _random_panel(25, 6, seed=5)
    result = price_index_geks(_panel(prices), window_days=7, splice="mean_published")
    expected = reference_spliced(prices, window=7)
    np.testing.assert_allclose(_values(result), [expected[day] for day in sorted(expected)], rtol=1e-9)


def test_days_computed_as_they_arrive_equal_all_at_once() -> None:
    frame = _panel(_random_panel(40, 9, seed=6, presence=0.6))
    frame = frame.assign(category=np.where(frame["product_id"] % 2, "蔬菜", "水果"))
    whole = price_index_geks(frame, by=("category",), window_days=10)
    since = pd.Timestamp("2024-01-25")
    earlier = price_index_geks(frame[frame["date"] < since], by=("category",), window_days=10)
    later = price_index_geks(
        frame[frame["date"] >= since - pd.Timedelta(days=20)],
        by=("category",),
        window_days=10,
        published=earlier,
        since=since,
    )
    joined = pd.concat([earlier, later], ignore_index=True).sort_values(
        ["category", "date"], ignore_index=True
    )
    pd.testing.assert_frame_equal(joined, whole.sort_values(["category", "date"], ignore_index=True))


def test_matched_counts_items_priced_on_another_day_of_the_window() -> None:
    prices = {(0, 0): 1.0, (0, 1): 1.0, (1, 0): 1.1, (2, 0): 1.2, (2, 2): 3.0}
    result = price_index_geks(_panel(prices), window_days=2)
    assert list(result["priced"]) == [2, 1, 2]
    assert list(result["matched"]) == [0, 1, 1]  # day 2's window is days 1..2: only item 0 repeats


def test_half_splice_and_weights() -> None:
    prices = _random_panel(30, 6, seed=7, presence=1.0)
    frame = _panel(prices)
    half = price_index_geks(frame, window_days=8, splice="half")
    assert half["index"].notna().all() and half["index"].iloc[0] == 100.0
    weighted = price_index_geks(frame, window_days=8, weights={0: 1.0})  # only good 0 counts
    expected = 100 * np.array([prices[(day, 0)] / prices[(0, 0)] for day in range(30)])
    np.testing.assert_allclose(_values(weighted), expected, rtol=1e-9)
    with pytest.raises(ValueError, match="splice"):
        price_index_geks(frame, splice="chain")  # type: ignore[arg-type]


def test_a_slip_in_one_quote_is_left_out() -> None:
    prices = {(day, item): 2.0 + item for day in range(10) for item in range(3)}
    prices[(6, 1)] = 0.03  # 3.00 typed as 0.03
    result = price_index_geks(_panel(prices), window_days=5)
    np.testing.assert_allclose(_values(result), 100.0)
    assert result["priced"].iloc[6] == 2
