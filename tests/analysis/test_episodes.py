"""Episode grouping, severity and the chart excerpt."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.detectors import FLAG_COLUMNS
from analysis.episodes import group_episodes, series_excerpt, severity_from_breach
from analysis.rules import SeverityBands


def _flag(merchant: float, day: str, change: float, *, product: float = 1.0, region: str = "道里区") -> dict:
    return {
        "merchant_id": merchant,
        "product_id": product,
        "region": region,
        "date": pd.Timestamp(day),
        "current": 10.0 * (1 + change),
        "reference": 10.0,
        "change": change,
        "market_change": 0.0,
        "breach": change - 0.15,
    }


def test_group_episodes_bridges_one_missing_day_and_splits_on_longer_gaps() -> None:
    flags = pd.DataFrame(
        [
            _flag(1, "2024-01-01", 0.2),
            _flag(1, "2024-01-03", 0.5),
            _flag(1, "2024-01-04", 0.3),
            _flag(1, "2024-01-07", 0.2),
            _flag(2, "2024-01-02", 0.4),
        ]
    )

    episodes = group_episodes(flags, max_gap_days=1)

    expected = pd.DataFrame(
        {
            "merchant_id": [1.0, 1.0, 2.0],
            "start_date": pd.to_datetime(["2024-01-01", "2024-01-07", "2024-01-02"]),
            "end_date": pd.to_datetime(["2024-01-04", "2024-01-07", "2024-01-02"]),
            "n_days": [3, 1, 1],
            "change": [0.3, 0.2, 0.4],
            "peak_change": [0.5, 0.2, 0.4],
        }
    )
    pd.testing.assert_frame_equal(episodes[expected.columns], expected, check_dtype=False)


def test_group_episodes_keeps_market_level_flags_apart_by_product() -> None:
    flags = pd.DataFrame(
        [
            _flag(np.nan, "2024-01-01", 0.4, product=1),
            _flag(np.nan, "2024-01-02", 0.4, product=1),
            _flag(np.nan, "2024-01-02", 0.4, product=2),
        ]
    )

    episodes = group_episodes(flags)

    assert episodes["product_id"].tolist() == [1, 2]
    assert episodes["n_days"].tolist() == [2, 1]
    assert episodes["merchant_id"].isna().all()


def test_group_episodes_of_nothing_is_empty() -> None:
    assert group_episodes(pd.DataFrame(columns=FLAG_COLUMNS)).empty


def test_severity_from_breach_bands() -> None:
    breach = pd.Series([0.0, 0.099, 0.10, 0.3, 0.5, 2.0], index=list("abcdef"))

    severity = severity_from_breach(breach, SeverityBands(medium=0.10, high=0.25, critical=0.50))

    expected = pd.Series(["low", "low", "medium", "high", "critical", "critical"], index=list("abcdef"))
    pd.testing.assert_series_equal(severity, expected, check_dtype=False)


def test_series_excerpt_aligns_seller_market_and_reference() -> None:
    seller = pd.DataFrame(
        {"date": pd.date_range("2024-01-01", periods=5), "unit_price": [5.0, 5.0, 5.0, 8.0, 8.5]}
    )
    market = pd.Series([5.0, 5.1, 5.0, 5.2, 5.1], index=pd.date_range("2024-01-01", periods=5))
    reference = pd.Series([5.3, 5.2], index=pd.date_range("2024-01-04", periods=2))

    excerpt = series_excerpt(
        seller,
        market,
        reference,
        start=pd.Timestamp("2024-01-04"),
        end=pd.Timestamp("2024-01-05"),
        pad_days=1,
    )

    assert excerpt == {
        "dates": ["2024-01-03", "2024-01-04", "2024-01-05"],
        "merchant": [5.0, 8.0, 8.5],
        "market_median": [5.0, 5.2, 5.1],
        "reference": [None, 5.3, 5.2],
    }
