"""Detectors follow each variant of a good (origin, spec) as its own series."""

from __future__ import annotations

import pandas as pd

from analysis.detectors import detect_market_surges, retail_with_market
from analysis.variants import observation_variant, series_by_variant, split_variant_region, variant_label
from core.price_reads import OBSERVATION_COLUMNS

DAYS = pd.date_range("2024-03-01", periods=40)
SELLERS = range(1, 10)
CHEAP, DEAR = ("鲁辽", "袋\\箱", 2.0), ("冀", "鲜干花", 4.0)


def _rows(seller_one: dict[pd.Timestamp, list[tuple[str, str, float]]]) -> pd.DataFrame:
    """Sellers 2-6 quote both variants each day at stable prices, 7-9 only the cheap one (so the cheap one
    is the market's median whatever seller 1 does); seller 1 quotes what it is given."""
    rows = []
    for day in DAYS:
        for seller in SELLERS:
            quotes = seller_one.get(day, []) if seller == 1 else [CHEAP, DEAR] if seller < 7 else [CHEAP]
            for origin, spec, price in quotes:
                wobble = 1 + 0.01 * ((seller + day.day) % 3 - 1)
                rows.append((day, seller, 7, "道里区", price * wobble, "retail", "in_stock", origin, spec))
    return pd.DataFrame(rows, columns=[*OBSERVATION_COLUMNS, "origin", "spec"])


def _flagged_days(observations: pd.DataFrame) -> set[pd.Timestamp]:
    flags = detect_market_surges(retail_with_market(observations), window=10)
    return set(flags.loc[flags["merchant_id"] == 1, "date"])


def test_a_seller_switching_between_stable_variants_raises_nothing() -> None:
    # seller 1 sells the cheap variant for 25 days, then the dear one: no price of either ever moved
    switching = _rows({day: [CHEAP] if index < 25 else [DEAR] for index, day in enumerate(DAYS)})
    assert _flagged_days(switching)  # as one series, the switch looks like a 100 % surge
    assert _flagged_days(series_by_variant(switching)) == set()


def test_a_jump_within_one_variant_is_flagged() -> None:
    jump = {day: [CHEAP, DEAR] for day in DAYS}
    for day in DAYS[30:]:
        jump[day] = [("鲁辽", "袋\\箱", 3.0), DEAR]  # +50 % on the cheap variant only
    flagged = _flagged_days(series_by_variant(_rows(jump)))
    assert DAYS[30] in flagged


def test_rows_without_a_variant_keep_their_region() -> None:
    frame = pd.DataFrame(
        {
            "region": ["道里区", "道里区", "", "道里区"],
            "origin": ["", "冀", "鲁辽", ""],
            "spec": [None, "鲜干花", "", "5L/桶"],  # a pack size is normalised away: no variant
        }
    )
    assert list(variant_label(frame)) == ["", "冀 · 鲜干花", "鲁辽", ""]
    assert observation_variant("冀", "鲜干花", "") == "冀 · 鲜干花"
    assert observation_variant("", "5L/桶", "2桶") == ""
    folded = list(series_by_variant(frame)["region"])
    assert folded == ["道里区", "道里区 · 冀 · 鲜干花", " · 鲁辽", "道里区"]
    split = [split_variant_region(key) for key in folded]
    assert split == [("道里区", ""), ("道里区", "冀 · 鲜干花"), ("", "鲁辽"), ("道里区", "")]
