"""Chained matched-item Jevons index and fixed-weight baskets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.baskets import BASKETS_FILE, BasketError, parse_baskets
from analysis.price_index import price_index_basket, price_index_jevons
from core.catalogue import load_catalogue


def _prices(rows: list[tuple[str, int, int, float]], region: str = "哈尔滨") -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["date", "merchant_id", "product_id", "unit_price"])
    return frame.assign(date=pd.to_datetime(frame["date"]), region=region)


def test_price_index_jevons_geometric_mean_of_relatives() -> None:
    prices = _prices(
        [
            ("2024-01-01", 1, 1, 2.0),
            ("2024-01-01", 2, 1, 4.0),
            ("2024-01-02", 1, 1, 4.0),  # x2
            ("2024-01-02", 2, 1, 2.0),  # x0.5 -> geometric mean 1
            ("2024-01-03", 1, 1, 8.0),  # x2
            ("2024-01-03", 2, 1, 4.0),  # x2
        ]
    )
    result = price_index_jevons(prices)
    np.testing.assert_allclose(result["index"], [100.0, 100.0, 200.0])
    assert list(result["matched"]) == [0, 2, 2]
    assert list(result["priced"]) == [2, 2, 2]


def test_price_index_jevons_does_not_impute_missing_prices() -> None:
    prices = _prices(
        [
            ("2024-01-01", 1, 1, 10.0),
            ("2024-01-01", 2, 1, 10.0),
            ("2024-01-02", 1, 1, 11.0),  # seller 2 missing: link over seller 1 only
            ("2024-01-03", 1, 1, 11.0),
            ("2024-01-03", 2, 1, 20.0),  # seller 2 back, but not matched with day 2
            ("2024-01-04", 1, 1, 11.0),
            ("2024-01-04", 2, 1, 22.0),
        ]
    )
    result = price_index_jevons(prices)
    expected = [100.0, 110.0, 110.0, 110.0 * np.sqrt(1.0 * 1.1)]
    np.testing.assert_allclose(result["index"], expected)
    assert list(result["matched"]) == [0, 1, 1, 2]


def test_price_index_jevons_day_without_matches_links_to_last_index_day() -> None:
    prices = _prices(
        [
            ("2024-01-01", 1, 1, 10.0),
            ("2024-01-02", 2, 1, 50.0),  # a new seller only: no matched item, no index value
            ("2024-01-03", 1, 1, 12.0),  # linked to 2024-01-01
        ]
    )
    result = price_index_jevons(prices)
    assert np.isnan(result["index"].iloc[1])
    assert result["index"].iloc[2] == pytest.approx(120.0)


def test_price_index_jevons_several_quotes_a_day_count_as_geometric_mean() -> None:
    prices = _prices(
        [
            ("2024-01-01 08:00", 1, 1, 1.0),
            ("2024-01-01 18:00", 1, 1, 4.0),  # geometric mean 2
            ("2024-01-02 09:00", 1, 1, 3.0),
        ]
    )
    result = price_index_jevons(prices)
    np.testing.assert_allclose(result["index"], [100.0, 150.0])


def test_price_index_jevons_per_group_and_items_per_region() -> None:
    harbin = _prices([("2024-01-01", 1, 1, 10.0), ("2024-01-02", 1, 1, 12.0)])
    daqing = _prices([("2024-01-01", 1, 1, 10.0), ("2024-01-02", 1, 1, 10.0)], region="大庆")
    prices = pd.concat([harbin, daqing], ignore_index=True).assign(category="vegetables")
    by_city = price_index_jevons(prices, by=("region",))
    assert by_city.set_index(["region", "date"])["index"].to_dict() == pytest.approx(
        {
            ("哈尔滨", pd.Timestamp("2024-01-01")): 100.0,
            ("哈尔滨", pd.Timestamp("2024-01-02")): 120.0,
            ("大庆", pd.Timestamp("2024-01-01")): 100.0,
            ("大庆", pd.Timestamp("2024-01-02")): 100.0,
        }
    )
    pooled = price_index_jevons(prices, by=("category",))
    np.testing.assert_allclose(pooled["index"], [100.0, 100.0 * np.sqrt(1.2)])


def test_price_index_jevons_empty() -> None:
    result = price_index_jevons(_prices([]).assign(category="vegetables"), by=("category",))
    assert result.empty
    assert list(result.columns) == ["category", "date", "index", "matched", "priced"]


def _components(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["component", "date", "index"])
    return frame.assign(date=pd.to_datetime(frame["date"]))


def test_price_index_basket_weighted_links() -> None:
    components = _components(
        [
            ("rice", "2024-01-01", 100.0),
            ("pork", "2024-01-01", 50.0),
            ("rice", "2024-01-02", 110.0),  # +10%
            ("pork", "2024-01-02", 60.0),  # +20%
        ]
    )
    result = price_index_basket(components, {"rice": 3, "pork": 1})
    np.testing.assert_allclose(result["index"], [100.0, 100.0 * (0.75 * 1.1 + 0.25 * 1.2)])
    np.testing.assert_allclose(result["weight_share"], [1.0, 1.0])


def test_price_index_basket_skips_days_with_too_little_weight() -> None:
    components = _components(
        [
            ("rice", "2024-01-01", 100.0),
            ("pork", "2024-01-01", 100.0),
            ("pork", "2024-01-02", 150.0),  # pork is only 1/4 of the weight
            ("rice", "2024-01-03", 120.0),
            ("pork", "2024-01-03", 100.0),
            ("milk", "2024-01-03", 100.0),  # not in the basket
        ]
    )
    result = price_index_basket(components, {"rice": 3, "pork": 1})
    assert np.isnan(result["index"].iloc[1])
    assert result["weight_share"].iloc[1] == pytest.approx(0.25)
    assert result["index"].iloc[2] == pytest.approx(100.0 * (0.75 * 1.2 + 0.25 * 1.0))


def test_price_index_basket_rejects_non_positive_weights() -> None:
    with pytest.raises(ValueError, match="positive"):
        price_index_basket(_components([]), {"rice": 0})


def test_shipped_baskets_name_catalogue_goods() -> None:
    baskets = parse_baskets(yaml.safe_load(BASKETS_FILE.read_text(encoding="utf-8")))
    codes = {product.code for category in load_catalogue() for product in category.products}
    assert {"livelihood", "vegetables"} <= set(baskets)
    for basket in baskets.values():
        assert set(basket.weights) <= codes, basket.code


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "baskets"),
        ({"baskets": [{"code": "a", "name": "甲", "weights": {"rice": -1}}]}, "positive"),
        ({"baskets": [{"code": "a", "name": "甲", "weights": {}}]}, "weights"),
        ({"baskets": [{"code": "a", "name": "甲", "weights": {"rice": 1}}] * 2}, "twice"),
    ],
)
def test_parse_baskets_rejects_bad_files(document: object, message: str) -> None:
    with pytest.raises(BasketError, match=message):
        parse_baskets(document)
