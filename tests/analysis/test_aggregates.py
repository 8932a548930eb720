"""Price aggregates: low/avg/high/median/count per group and period."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.aggregates import period_start, price_aggregates


def _observations(rows: list[tuple[str, int, int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["date", "merchant_id", "product_id", "region", "unit_price"]).assign(
        date=lambda f: pd.to_datetime(f["date"])
    )


def test_price_aggregates_daily_per_seller() -> None:
    observations = _observations(
        [
            ("2024-03-01", 1, 7, "哈尔滨", 2.0),
            ("2024-03-01", 1, 7, "哈尔滨", 4.0),
            ("2024-03-01", 2, 7, "哈尔滨", 3.0),
            ("2024-03-02", 1, 7, "哈尔滨", 5.0),
        ]
    )
    result = price_aggregates(observations)
    expected = pd.DataFrame(
        {
            "product_id": [7, 7, 7],
            "region": ["哈尔滨"] * 3,
            "merchant_id": [1, 1, 2],
            "period": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-01"]),
            "low": [2.0, 5.0, 3.0],
            "avg": [3.0, 5.0, 3.0],
            "high": [4.0, 5.0, 3.0],
            "median": [3.0, 5.0, 3.0],
            "count": [2, 1, 1],
        }
    )
    pd.testing.assert_frame_equal(result, expected, check_dtype=False)


def test_price_aggregates_market_median_over_sellers() -> None:
    observations = _observations(
        [("2024-03-01", merchant, 7, "哈尔滨", price) for merchant, price in enumerate([1.0, 2.0, 10.0, 3.0])]
    )
    result = price_aggregates(observations, by=("product_id", "region"))
    row = result.iloc[0]
    assert (row["low"], row["high"], row["count"]) == (1.0, 10.0, 4)
    assert row["avg"] == pytest.approx(4.0)
    assert row["median"] == pytest.approx(2.5)


def test_price_aggregates_week_and_month_periods() -> None:
    observations = _observations(
        [
            ("2024-02-26", 1, 7, "", 1.0),  # Monday
            ("2024-03-03", 1, 7, "", 3.0),  # Sunday of the same ISO week
            ("2024-03-04", 1, 7, "", 8.0),  # next Monday
        ]
    )
    weekly = price_aggregates(observations, by=(), frequency="week")
    assert list(weekly["period"]) == list(pd.to_datetime(["2024-02-26", "2024-03-04"]))
    assert list(weekly["avg"]) == [2.0, 8.0]
    monthly = price_aggregates(observations, by=(), frequency="month")
    assert list(monthly["period"]) == list(pd.to_datetime(["2024-02-01", "2024-03-01"]))
    assert list(monthly["count"]) == [1, 2]
    assert list(monthly["high"]) == [1.0, 8.0]


def test_price_aggregates_ignores_non_prices() -> None:
    observations = _observations(
        [("2024-03-01", 1, 7, "", 0.0), ("2024-03-01", 1, 7, "", float("nan")), ("2024-03-01", 2, 7, "", 2.0)]
    )
    result = price_aggregates(observations, by=("product_id",))
    assert list(result["count"]) == [1]
    assert list(result["low"]) == [2.0]


def test_price_aggregates_empty() -> None:
    result = price_aggregates(_observations([]), by=("product_id",), frequency="month")
    assert result.empty
    assert list(result.columns) == ["product_id", "period", "low", "avg", "high", "median", "count"]


def test_period_start_rejects_unknown_frequency() -> None:
    with pytest.raises(ValueError, match="frequency"):
        period_start(pd.Series(pd.to_datetime(["2024-01-01"])), "year")  # type: ignore[arg-type]
