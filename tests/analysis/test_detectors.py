"""Detectors on small hand-made frames: what each flags, and what it leaves alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from analysis.detectors import (
    FLAG_COLUMNS,
    detect_complaint_spikes,
    detect_emergency_rises,
    detect_market_surges,
    detect_markup_violations,
    detect_peer_outliers,
    detect_supply_shortages,
    leave_one_out_median,
    market_context,
    recent_market_move,
    retail_with_market,
    wholesale_prices,
)
from core.price_reads import OBSERVATION_COLUMNS


def _observations(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=OBSERVATION_COLUMNS)
    return frame.assign(date=pd.to_datetime(frame["date"]))


def _market(prices_by_seller: dict[int, list[float]], *, first: str = "2024-01-01") -> pd.DataFrame:
    """Retail rows of one item in 道里区: one list of daily prices per seller."""
    days = pd.date_range(first, periods=len(next(iter(prices_by_seller.values()))))
    return _observations(
        [
            (day, seller, 1, "道里区", price, "retail", "in_stock")
            for seller, prices in prices_by_seller.items()
            for day, price in zip(days, prices, strict=True)
        ]
    )


def test_retail_with_market_keeps_index_and_takes_median_of_sellers() -> None:
    observations = _observations(
        [
            ("2024-01-01", 1, 1, "道里区", 4.0, "retail", "in_stock"),
            ("2024-01-01", 2, 1, "道里区", 5.0, "retail", "in_stock"),
            ("2024-01-01", 3, 1, "道里区", 100.0, "retail", "in_stock"),
            ("2024-01-01", None, 1, "", 3.0, "wholesale", None),
            ("2024-01-01", 4, 1, "道里区", 0.0, "retail", "in_stock"),
        ]
    )

    retail = retail_with_market(observations)

    assert list(retail.index) == [0, 1, 2]
    pd.testing.assert_series_equal(
        np.exp(retail["market_log_price"]), pd.Series([5.0] * 3, index=[0, 1, 2]), check_names=False
    )
    assert retail["n_sellers"].tolist() == [3, 3, 3]
    np.testing.assert_allclose(retail["wholesale_log_price"], np.log([3.0] * 3))


def test_retail_with_market_without_wholesale_prices_leaves_the_wholesale_column_empty() -> None:
    retail = retail_with_market(_market({1: [4.0, 4.2], 2: [5.0, 5.1]}))

    assert retail["wholesale_log_price"].isna().all()


def test_detect_peer_outliers_flags_only_the_seller_far_above_peers() -> None:
    prices = {1: [5.0], 2: [5.1], 3: [4.9], 4: [5.0], 5: [5.2], 6: [9.0], 7: [4.8]}
    retail = retail_with_market(_market(prices))

    flags = detect_peer_outliers(retail, threshold=3.5, min_peers=5, min_premium=0.25)

    assert list(flags.columns) == FLAG_COLUMNS
    assert flags["merchant_id"].tolist() == [6]
    pd.testing.assert_series_equal(flags["change"], pd.Series([0.8], index=[5]), check_names=False, rtol=1e-9)
    assert flags["reference"].iloc[0] == pytest.approx(5.0)


def test_detect_peer_outliers_needs_enough_peers() -> None:
    retail = retail_with_market(_market({1: [5.0], 2: [5.1], 3: [9.0]}))

    assert detect_peer_outliers(retail, min_peers=5).empty


def _random_walk(
    days: int, seed: int, *, sigma: float = 0.08, jump_day: int | None = None, jump: float = 1.0
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    walk = 3.0 * np.exp(np.cumsum(rng.normal(0, sigma, days)))
    if jump_day is not None:
        walk[jump_day:] *= jump
    return walk


def test_detect_market_surges_ignores_a_market_wide_jump() -> None:
    wholesale = _random_walk(50, seed=1, jump_day=35, jump=1.7)
    rng = np.random.default_rng(2)
    sellers = {
        seller: list(wholesale * markup * np.exp(rng.normal(0, 0.01, 50)))
        for seller, markup in enumerate([1.3, 1.35, 1.4, 1.45, 1.5], start=1)
    }

    flags = detect_market_surges(retail_with_market(_market(sellers)), window=28, threshold=0.15)

    assert flags.empty


def test_detect_market_surges_without_wholesale_allows_for_a_seller_a_day_late_to_follow_a_fall() -> None:
    wholesale = _random_walk(40, seed=5, sigma=0.02, jump_day=35, jump=0.6)
    sellers = {seller: list(wholesale * 1.3) for seller in range(1, 6)}
    sellers[1][35] = sellers[1][34] * 1.01
    retail = retail_with_market(_market(sellers))

    strict = detect_market_surges(retail, window=28, threshold=0.15, move_allowance=0.0)
    allowing = detect_market_surges(retail, window=28, threshold=0.15, move_allowance=1.0)

    assert strict["merchant_id"].tolist() == [1]
    assert allowing.empty


def test_detect_market_surges_judges_a_kept_price_at_the_market_level_it_was_set_at() -> None:
    wholesale = _random_walk(40, seed=5, sigma=0.02, jump_day=35, jump=0.6)
    sellers = {seller: list(wholesale * 1.3) for seller in range(1, 6)}
    sellers[1][35:38] = [sellers[1][34]] * 3
    sellers[2][35:38] = [sellers[2][34] * 1.01] * 3
    retail = retail_with_market(_market(sellers))

    flags = detect_market_surges(retail, window=28, threshold=0.15, move_allowance=0.0)

    assert flags["merchant_id"].unique().tolist() == [2]


def test_detect_market_surges_flags_the_seller_rising_above_the_market() -> None:
    wholesale = _random_walk(50, seed=3, sigma=0.02)
    rng = np.random.default_rng(4)
    sellers = {
        seller: wholesale * markup * np.exp(rng.normal(0, 0.01, 50))
        for seller, markup in enumerate([1.3, 1.35, 1.4, 1.45, 1.5], start=1)
    }
    sellers[2][40:43] *= 1.3
    observations = _market({seller: list(prices) for seller, prices in sellers.items()})

    flags = detect_market_surges(retail_with_market(observations), window=28, threshold=0.15)

    assert flags["merchant_id"].unique().tolist() == [2]
    assert flags["date"].tolist() == list(pd.date_range("2024-02-10", periods=3))
    assert flags["change"].between(0.22, 0.38).all()
    assert (flags["reference"] < flags["current"] / 1.15).all()


def _late_followers(*, days: int = 50, gouge: float = 1.0) -> pd.DataFrame:
    """Six sellers of one item and its wholesale price, which falls 40% on day 33 and doubles for day 36.

    Sellers 1-3 reprice the same day, 4-6 a day late; seller 6 also keeps its shelf price on days 34
    and 35. Seller 2 multiplies its price by ``gouge`` on days 44-46.
    """
    wholesale = _random_walk(days, seed=7, sigma=0.02)
    wholesale[33:] *= 0.6
    wholesale[36] *= 2.0
    rng = np.random.default_rng(8)
    sellers = {}
    for seller, markup in enumerate([1.3, 1.35, 1.4, 1.45, 1.5, 1.55], start=1):
        followed = wholesale if seller <= 3 else np.r_[wholesale[:1], wholesale[:-1]]
        sellers[seller] = followed * markup * np.exp(rng.normal(0, 0.01, days))
    sellers[6][34:36] = sellers[6][33]
    sellers[2][44:47] *= gouge
    dates = pd.date_range("2024-01-01", periods=days)
    wholesale_rows = _observations(
        [
            (day, None, 1, "", float(price), "wholesale", None)
            for day, price in zip(dates, wholesale, strict=True)
        ]
    )
    retail = _market({seller: list(prices) for seller, prices in sellers.items()})
    return pd.concat([retail, wholesale_rows], ignore_index=True)


def test_market_context_grosses_up_wholesale_and_keeps_the_highest_earlier_level() -> None:
    retail_prices = (("2024-01-01", 6.0), ("2024-01-02", 6.0), ("2024-01-03", 3.0))
    observations = _observations(
        [
            (day, seller, 1, "道里区", price, "retail", "in_stock")
            for day, price in retail_prices
            for seller in (1, 2)
        ]
        + [
            ("2024-01-01", None, 1, "", 4.0, "wholesale", None),
            ("2024-01-02", None, 1, "", 4.0, "wholesale", None),
            ("2024-01-03", None, 1, "", 1.0, "wholesale", None),
        ]
    )
    retail = retail_with_market(observations)

    context = market_context(retail, lag_days=1)

    first_seller = context.loc[retail["merchant_id"] == 1]
    margin = np.log(6.0 / 4.0)
    np.testing.assert_allclose(first_seller["cost_level"], np.log([4.0, 4.0, 1.0]) + margin)
    np.testing.assert_allclose(first_seller["earlier_level"], [np.nan, np.log(6.0), np.log(6.0)])
    assert first_seller["wholesale_known"].all()


def test_detect_market_surges_leaves_sellers_that_follow_a_market_move_late() -> None:
    retail = retail_with_market(_late_followers())

    tolerant = detect_market_surges(retail, window=28, threshold=0.12, min_z=3.0, lag_days=2)
    same_day_only = detect_market_surges(retail, window=28, threshold=0.12, min_z=3.0, lag_days=0)

    assert tolerant.empty
    assert set(same_day_only["merchant_id"]) == {4, 5, 6}


def test_detect_market_surges_with_lag_tolerance_still_flags_a_surge() -> None:
    retail = retail_with_market(_late_followers(gouge=1.3))

    flags = detect_market_surges(retail, window=28, threshold=0.12, min_z=3.0, lag_days=2)

    assert flags["merchant_id"].tolist() == [2, 2, 2]
    assert flags["date"].tolist() == list(pd.date_range("2024-02-14", periods=3))
    assert flags["change"].between(0.2, 0.4).all()


def test_detect_peer_outliers_leaves_sellers_that_follow_a_market_move_late() -> None:
    retail = retail_with_market(_late_followers())

    assert detect_peer_outliers(retail, lag_days=2).empty
    assert set(detect_peer_outliers(retail, lag_days=0)["merchant_id"]) == {6}


def test_detect_peer_outliers_with_lag_tolerance_still_flags_a_gouging_seller() -> None:
    retail = retail_with_market(_late_followers(gouge=1.8))

    flags = detect_peer_outliers(retail, lag_days=2)

    assert flags["merchant_id"].tolist() == [2, 2, 2]
    assert flags["date"].tolist() == list(pd.date_range("2024-02-14", periods=3))


def test_detect_market_surges_waits_for_a_full_window_of_history() -> None:
    sellers = {seller: [3.0] * 10 + [6.0] for seller in range(1, 4)}
    sellers[1][-1] = 12.0

    assert detect_market_surges(retail_with_market(_market(sellers)), window=28).empty


def _emergency_market() -> pd.DataFrame:
    """Three sellers, a 2020-01-25 emergency; everyone's cost rises 20%, seller 3 asks +60%."""
    prices = {1: [10.0] * 5 + [12.0] * 5, 2: [10.0] * 5 + [12.0] * 5, 3: [10.0] * 5 + [16.0] * 5}
    return _market(prices, first="2020-01-20")


def test_detect_emergency_rises_nets_out_the_market_rise() -> None:
    retail = retail_with_market(_emergency_market())

    flags = detect_emergency_rises(
        retail, start=dt.date(2020, 1, 25), end=None, threshold=0.10, reference_days=30, reference="last"
    )

    assert flags["merchant_id"].unique().tolist() == [3]
    assert flags["change"].tolist() == pytest.approx([0.6] * 5)
    assert flags["market_change"].tolist() == pytest.approx([0.2] * 5)


def test_detect_emergency_rises_any_rise_without_netting_flags_everyone() -> None:
    retail = retail_with_market(_emergency_market())

    flags = detect_emergency_rises(
        retail,
        start=dt.date(2020, 1, 25),
        end=dt.date(2020, 1, 26),
        threshold=0.0,
        reference_days=30,
        net_of_market=False,
    )

    assert sorted(flags["merchant_id"].unique()) == [1, 2, 3]
    assert flags["date"].max() == pd.Timestamp("2020-01-26")


def test_detect_emergency_rises_average_reference_is_inclusive() -> None:
    prices = {1: [9.0, 11.0, 10.0, 10.0, 10.0, 12.0], 2: [10.0] * 6, 3: [10.0] * 6}
    retail = retail_with_market(_market(prices, first="2020-01-20"))

    flags = detect_emergency_rises(
        retail,
        start=dt.date(2020, 1, 25),
        end=None,
        threshold=0.20,
        reference_days=7,
        reference="mean",
        inclusive=True,
    )

    assert flags["merchant_id"].tolist() == [1]
    assert flags["reference"].iloc[0] == pytest.approx(10.0)


def test_detect_emergency_rises_leaves_a_seller_a_day_late_to_pass_on_a_fall() -> None:
    late = {1: [10.0] * 5 + [13.0] * 3 + [10.5] * 2, 3: [10.0] * 5 + [13.0] * 4 + [10.5]}
    retail = retail_with_market(_market({**late, 2: late[1]}, first="2020-01-20"))

    def flagged(lag_days: int) -> pd.DataFrame:
        return detect_emergency_rises(
            retail,
            start=dt.date(2020, 1, 25),
            end=None,
            threshold=0.10,
            reference_days=30,
            lag_days=lag_days,
        )

    assert flagged(0)[["merchant_id", "date"]].values.tolist() == [[3, pd.Timestamp("2020-01-28")]]
    assert flagged(1).empty


def test_detect_markup_violations_allow_stock_bought_before_a_wholesale_fall() -> None:
    observations = _observations(
        [
            ("2020-01-24", None, 1, "", 10.0, "wholesale", None),
            ("2020-01-25", None, 1, "", 8.0, "wholesale", None),
            ("2020-01-25", 1, 1, "道里区", 13.0, "retail", "in_stock"),
        ]
    )

    def flagged(lag_days: int) -> pd.DataFrame:
        return detect_markup_violations(
            observations, start=dt.date(2020, 1, 25), end=None, threshold=0.35, lag_days=lag_days
        )

    assert flagged(0)["change"].tolist() == pytest.approx([13.0 / 8.0 - 1])
    assert flagged(1).empty


def test_wholesale_prices_prefer_the_same_region() -> None:
    observations = _observations(
        [
            ("2024-01-01", 1, 1, "道里区", 5.0, "retail", "in_stock"),
            ("2024-01-01", 2, 1, "南岗区", 5.0, "retail", "in_stock"),
            ("2024-01-02", 1, 1, "道里区", 5.0, "retail", "in_stock"),
            ("2024-01-01", None, 1, "道里区", 3.0, "wholesale", None),
            ("2024-01-01", None, 1, "北京", 4.0, "wholesale", None),
        ]
    )
    retail = observations[observations["price_type"] == "retail"]

    pd.testing.assert_series_equal(
        wholesale_prices(observations, retail),
        pd.Series([3.0, 3.5, np.nan], index=[0, 1, 2], name="wholesale_price"),
    )


def test_detect_markup_violations_over_same_day_wholesale() -> None:
    observations = _observations(
        [
            ("2020-01-24", 1, 1, "道里区", 14.0, "retail", "in_stock"),
            ("2020-01-25", 1, 1, "道里区", 14.0, "retail", "in_stock"),
            ("2020-01-25", 2, 1, "道里区", 13.0, "retail", "in_stock"),
            ("2020-01-24", None, 1, "", 10.0, "wholesale", None),
            ("2020-01-25", None, 1, "", 10.0, "wholesale", None),
        ]
    )

    flags = detect_markup_violations(observations, start=dt.date(2020, 1, 25), end=None, threshold=0.35)

    assert flags.index.tolist() == [1]
    assert flags["change"].iloc[0] == pytest.approx(0.4)
    assert flags["breach"].iloc[0] == pytest.approx(0.05)


def test_detect_markup_violations_over_own_pre_event_ratio() -> None:
    observations = _observations(
        [
            ("2020-01-20", 1, 1, "道里区", 15.0, "retail", "in_stock"),
            ("2020-01-25", 1, 1, "道里区", 16.0, "retail", "in_stock"),
            ("2020-01-20", 2, 1, "道里区", 11.0, "retail", "in_stock"),
            ("2020-01-25", 2, 1, "道里区", 14.0, "retail", "in_stock"),
            ("2020-01-20", None, 1, "", 10.0, "wholesale", None),
            ("2020-01-25", None, 1, "", 10.0, "wholesale", None),
        ]
    )

    flags = detect_markup_violations(
        observations, start=dt.date(2020, 1, 25), end=None, threshold=0.15, reference="own_pre_event"
    )

    assert flags["merchant_id"].tolist() == [2]
    assert flags["breach"].iloc[0] == pytest.approx(0.3 - 0.15)


def test_detect_complaint_spikes_against_own_baseline() -> None:
    dates = ["2024-01-05", "2024-02-20"] + ["2024-03-01"] * 4 + ["2024-03-01"]
    complaints = pd.DataFrame(
        {
            "date": pd.to_datetime(dates),
            "merchant_id": [7, 7, 7, 7, 7, 7, 8],
            "product_id": [np.nan] * 7,
        }
    )

    flags = detect_complaint_spikes(
        complaints, by="merchant_id", start=dt.date(2023, 12, 1), end=dt.date(2024, 3, 2), min_count=3
    )

    assert flags["merchant_id"].unique().tolist() == [7]
    assert flags["date"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-02")]
    assert flags["current"].tolist() == [4, 4]
    assert flags["reference"].iloc[0] == pytest.approx(2 / 56 * 7)


def test_detect_complaint_spikes_ignores_a_usually_busy_merchant() -> None:
    days = pd.date_range("2024-01-01", "2024-04-01")
    complaints = pd.DataFrame({"date": days, "merchant_id": 7, "product_id": np.nan})

    flags = detect_complaint_spikes(
        complaints, by="merchant_id", start=dt.date(2024, 1, 1), end=dt.date(2024, 4, 1)
    )

    assert flags.empty


def test_detect_complaint_spikes_does_not_judge_before_a_full_baseline() -> None:
    complaints = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-02"] * 5), "merchant_id": 7, "product_id": np.nan}
    )

    flags = detect_complaint_spikes(
        complaints, by="merchant_id", start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 9)
    )

    assert flags.empty


def test_detect_supply_shortages_against_own_baseline() -> None:
    days = pd.date_range("2024-01-01", periods=30)
    rows = [
        (
            day,
            seller,
            1,
            "道里区",
            5.0,
            "retail",
            "out_of_stock" if index >= 28 and seller <= 4 else "in_stock",
        )
        for index, day in enumerate(days)
        for seller in range(1, 7)
    ]

    flags = detect_supply_shortages(_observations(rows), baseline_days=14, threshold=0.3)

    assert flags["date"].tolist() == list(days[28:])
    assert flags["current"].tolist() == pytest.approx([4 / 6, 4 / 6])
    assert flags["merchant_id"].isna().all()


def test_leave_one_out_median_excludes_each_element_itself() -> None:
    values = np.array([5.0, 1.0, 3.0, 2.0, 9.0, 7.0, 4.0])
    groups = np.array([0, 0, 0, 0, 1, 1, 2])

    result = leave_one_out_median(values, groups)

    np.testing.assert_allclose(result, [2.0, 3.0, 2.0, 3.0, 7.0, 9.0, np.nan])


def test_recent_market_move_is_the_largest_daily_move_of_the_last_two_days() -> None:
    prices = {seller: [4.0, 4.0, 6.0, 6.0, 6.0] for seller in (1, 2, 3)}
    retail = retail_with_market(_market(prices))

    moves = recent_market_move(retail)

    expected = pd.Series(
        [0.0, 0.0, np.log(1.5), np.log(1.5), 0.0] * 3, index=retail.index, name="recent_move"
    )
    pd.testing.assert_series_equal(moves, expected)
